"""GetRandomPassword: a password from the character classes the caller keeps, drawn with the
operating system's CSPRNG."""

from __future__ import annotations

import secrets
import string

from nubo.core.errors import ServiceError

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
DEFAULT_LENGTH = 32


def random_password(length: int | None, exclude: str = "", *, exclude_numbers: bool = False,
                    exclude_punctuation: bool = False, exclude_uppercase: bool = False,
                    exclude_lowercase: bool = False, include_space: bool = False,
                    require_each_type: bool = True) -> str:
    length = DEFAULT_LENGTH if length is None else length
    classes = [chars for chars, excluded in (
        (string.ascii_lowercase, exclude_lowercase), (string.ascii_uppercase, exclude_uppercase),
        (string.digits, exclude_numbers), (PUNCTUATION, exclude_punctuation)) if not excluded]
    classes = [kept for kept in ("".join(c for c in chars if c not in exclude)
                                 for chars in classes) if kept]
    alphabet = "".join(classes) + (" " if include_space and " " not in exclude else "")
    if not alphabet:
        raise ServiceError("InvalidParameterException",
                           "The password can't be generated because every character type is "
                           "excluded.")
    if require_each_type and length < len(classes):
        raise ServiceError("InvalidParameterException",
                           f"The password length {length} is too short to include every "
                           "required character type.")
    # One character of each required class, the rest from the whole alphabet, then shuffled.
    chosen = [secrets.choice(chars) for chars in classes] if require_each_type else []
    chosen += [secrets.choice(alphabet) for _ in range(length - len(chosen))]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen)
