"""Policy variables: ``${aws:username}`` in a Resource or a condition value takes its value from
the request context; ``${key, 'default'}`` gives a default; ``${*}``, ``${?}`` and ``${$}`` are the
literal characters. A variable with no value and no default makes the element match nothing."""

from __future__ import annotations

import re

__all__ = ["has_variables", "substitute", "template_regex", "Wildcard"]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_LITERALS = {"*": "*", "?": "?", "$": "$"}


def has_variables(text: str) -> bool:
    return "${" in text


def _value(expression: str, context: dict) -> str | None:
    name, _, default = expression.partition(",")
    name = name.strip()
    if name in _LITERALS:
        return _LITERALS[name]
    value = context.get(name.lower())
    if isinstance(value, (list, tuple)):  # multi-valued keys cannot be substituted
        value = None
    if value is None and default:
        value = default.strip().strip("'")
    return None if value is None else str(value)


def substitute(text: str, context: dict) -> str | None:
    """``text`` with its variables replaced, or None if one has no value."""
    parts, end = [], 0
    for match in _VARIABLE.finditer(text):
        value = _value(match.group(1), context)
        if value is None:
            return None
        parts += [text[end:match.start()], value]
        end = match.end()
    return "".join(parts) + text[end:]


class Wildcard:
    """A wildcard pattern (``*`` any run of characters, ``?`` any one): ``fullmatch(text)``
    answers a match object or None, as a regex's would, but never backtracks: the pattern is cut
    at each ``*`` into pieces of fixed length, the first matched at the start, the last at the
    end and each other at its leftmost place after the one before. A regex of ``.*`` runs
    backtracks exponentially on a text that does not match (nine ``*`` against 50 characters:
    seconds), stalling the server for any request a crafted policy is evaluated against."""

    __slots__ = ("pieces", "sizes", "whole")

    def __init__(self, pieces: list[list[str]], flags: int) -> None:
        # pieces: one per run between ``*``s, each a list of one-character regexes (an escaped
        # literal or ``.``)
        self.pieces = [re.compile("".join(piece), flags) for piece in pieces]
        self.sizes = [len(piece) for piece in pieces]
        self.whole = len(pieces) == 1

    def fullmatch(self, text: str) -> re.Match | None:
        pieces, sizes = self.pieces, self.sizes
        if self.whole:
            return pieces[0].fullmatch(text)
        end = len(text) - sizes[-1]
        first = pieces[0].match(text)
        if first is None or end < sizes[0] or pieces[-1].fullmatch(text, end) is None:
            return None
        position = sizes[0]
        for piece in pieces[1:-1]:
            found = piece.search(text, position, end)
            if found is None:
                return None
            position = found.end()
        return first if position <= end else None


def template_regex(template: str, context: dict, *, ignore_case: bool) -> Wildcard | None:
    """A wildcard pattern with variables, compiled: the template's own ``*``/``?`` are
    wildcards, the substituted values (``${*}`` included) are literal. None when a variable has
    no value."""
    pieces, piece, end = [], [], 0

    def glob(text: str) -> None:
        for char in text:
            if char == "*":
                pieces.append(piece.copy())
                piece.clear()
            else:
                piece.append("." if char == "?" else re.escape(char))

    for match in _VARIABLE.finditer(template):
        value = _value(match.group(1), context)
        if value is None:
            return None
        glob(template[end:match.start()])
        piece.extend(re.escape(char) for char in value)
        end = match.end()
    glob(template[end:])
    pieces.append(piece)
    return Wildcard(pieces, re.DOTALL | (re.IGNORECASE if ignore_case else 0))
