"""IAM's input rules: the model's name and path patterns, ARNs, unique ids, tags, paging."""

from __future__ import annotations

import base64
import secrets
from functools import lru_cache
from typing import Any, Iterable

from botocore.model import OperationModel

from nubo.core.errors import ServiceError
from nubo.protocols.patterns import java_pattern
from nubo.protocols.validation import Issue, coral_message

MAX_TAGS = 50
DEFAULT_MAX_ITEMS = 100
NAME_PATTERN = r"[\w+=,.@-]+"  # the model's pattern of user, group, role, policy names
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# Unique-id prefixes, as AWS assigns them.
USER_ID, GROUP_ID, ROLE_ID = "AIDA", "AGPA", "AROA"
POLICY_ID, INSTANCE_PROFILE_ID, SERVER_CERTIFICATE_ID = "ANPA", "AIPA", "ASCA"


def unique_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def validation_error(issues: list[Issue]) -> ServiceError:
    return ServiceError("ValidationError", coral_message(issues), 400)


@lru_cache(maxsize=None)
def _pattern_checks(operation: OperationModel) -> tuple[tuple[str, str, Any], ...]:
    """(member, model pattern, compiled) for the operation's top-level string members (the
    protocol engine checks lengths and ranges; IAM enforces its name and path patterns, in its
    own words). Java semantics: ``\\w`` is ASCII-only, as IAM's names are."""
    shape = operation.input_shape
    if shape is None:
        return ()
    checks = []
    for name, member in shape.members.items():
        pattern = member.metadata.get("pattern")
        compiled = java_pattern(pattern) if member.type_name == "string" and pattern else None
        if compiled is not None:
            checks.append((name, pattern, compiled))
    return tuple(checks)


def check_patterns(operation: OperationModel, params: dict[str, Any]) -> None:
    for name, pattern, compiled in _pattern_checks(operation):
        value = params.get(name)
        if isinstance(value, str) and not compiled.fullmatch(value):
            raise _pattern_error(name, value, pattern)


def _pattern_error(member: str, value: str, pattern: str) -> ServiceError:
    """IAM words its name and path errors itself; other patterns get Coral's message."""
    wire = member[0].lower() + member[1:]
    if pattern == NAME_PATTERN:
        return ServiceError("ValidationError", f"The specified value for {wire} is invalid. It "
                            "must contain only alphanumeric characters and/or the following: "
                            "+=,.@_-", 400)
    if member in ("Path", "NewPath", "PathPrefix"):
        return invalid_path(wire)
    return validation_error([Issue((member,), value, "Member must satisfy regular expression "
                                   f"pattern: {pattern}", member)])


def invalid_path(member: str) -> ServiceError:
    return ServiceError("ValidationError", f"The specified value for {member} is invalid. It "
                        "must begin and end with / and contain only alphanumeric characters "
                        "and/or / characters.", 400)


def check_path(path: str | None, member: str = "path") -> str:
    path = "/" if path is None else path
    if not (path.startswith("/") and path.endswith("/")):
        raise invalid_path(member)
    return path


# -- ARNs ----------------------------------------------------------------------------------------

def iam_arn(partition: str, account: str, kind: str, path: str, name: str) -> str:
    return f"arn:{partition}:iam::{account}:{kind}{path}{name}"


def check_policy_arn(arn: str) -> None:
    """A managed policy ARN must be one: arn:<partition>:iam::<account|aws>:policy/..."""
    parts = arn.split(":", 5)
    if (len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or parts[3]
            or not parts[5].startswith("policy/") or not parts[5].rstrip("/")[7:]):
        raise ServiceError("InvalidInput", f"ARN {arn} is not valid.", 400)


# -- tags ----------------------------------------------------------------------------------------

def merge_tags(existing: list[dict], new: list[dict] | None) -> list[dict]:
    """Tags after TagX: new keys appended, existing keys' values replaced. IAM tag keys are
    case-insensitive (the last spelling wins); at most 50 tags."""
    if not new:
        return existing
    keys = [tag["Key"].lower() for tag in new]
    if len(set(keys)) != len(keys):
        raise ServiceError("InvalidInput", "Duplicate tag keys found. Please note that Tag keys "
                           "are case insensitive.", 400)
    merged = {tag["Key"].lower(): tag for tag in existing}
    for tag in new:
        merged[tag["Key"].lower()] = {"Key": tag["Key"], "Value": tag.get("Value", "")}
    if len(merged) > MAX_TAGS:
        raise ServiceError("LimitExceeded", f"The number of tags has reached the maximum limit "
                           f"of {MAX_TAGS}.", 409)
    return list(merged.values())


def remove_tags(existing: list[dict], keys: Iterable[str]) -> list[dict]:
    gone = {key.lower() for key in keys}
    return [tag for tag in existing if tag["Key"].lower() not in gone]


# -- paging --------------------------------------------------------------------------------------

def encode_marker(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def decode_marker(marker: str | None) -> str | None:
    if marker is None:
        return None
    try:
        return base64.urlsafe_b64decode(marker.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise ServiceError("ValidationError", "Invalid Marker.", 400) from None


def page(items: list, marker: str | None, max_items: int | None) -> tuple[list, dict]:
    """A page of a short list (bounded by a quota: keys, groups of a user, versions, ...):
    the marker is the position of the next item."""
    position = decode_marker(marker) if marker else "0"
    if not position.isdigit():
        raise ServiceError("ValidationError", "Invalid Marker.", 400)
    start = int(position)
    limit = max_items or DEFAULT_MAX_ITEMS
    chunk = items[start:start + limit]
    if start + limit < len(items):
        return chunk, {"IsTruncated": True, "Marker": encode_marker(str(start + limit))}
    return chunk, {"IsTruncated": False}


def prefix_range(prefix: str | None) -> tuple[str | None, str | None]:
    """Index bounds [lo, hi) of the text values that start with ``prefix``."""
    if not prefix:
        return None, None
    return prefix, prefix + "\U0010ffff"
