"""Secrets Manager input rules the model cannot express: names, recovery windows, resource
policies, list filters."""

from __future__ import annotations

import json
import re

from nubo.core.errors import ServiceError

_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]+$")
MIN_RECOVERY_DAYS, MAX_RECOVERY_DAYS, DEFAULT_RECOVERY_DAYS = 7, 30, 30
MAX_TAGS = 50
MAX_STAGES_PER_VERSION = 20


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequestException", message)


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ServiceError("ValidationException", "Invalid name. Must be a valid name containing "
                           "alphanumeric characters, or any of the following: -/_+=.@!")


def recovery_window(days: int | None, force: bool | None) -> int | None:
    """The waiting period before deletion, None to delete now."""
    if force and days is not None:
        raise invalid_parameter("You can't use ForceDeleteWithoutRecovery in conjunction with "
                                "RecoveryWindowInDays.")
    if force:
        return None
    if days is None:
        return DEFAULT_RECOVERY_DAYS
    if not MIN_RECOVERY_DAYS <= days <= MAX_RECOVERY_DAYS:
        raise invalid_parameter("The RecoveryWindowInDays value must be between 7 and 30 days "
                                "(inclusive).")
    return days


def policy_problems(text: str) -> list[dict]:
    """ValidateResourcePolicy's findings: an empty list for a well-formed policy document."""
    try:
        document = json.loads(text)
    except ValueError:
        return [{"CheckName": "JSON_SYNTAX", "ErrorMessage": "The policy is not valid JSON."}]
    statements = document.get("Statement") if isinstance(document, dict) else None
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not statements:
        return [{"CheckName": "POLICY_STRUCTURE",
                 "ErrorMessage": "The policy must contain a Statement element."}]
    problems = []
    for number, statement in enumerate(statements, 1):
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            problems.append({"CheckName": "POLICY_STRUCTURE", "ErrorMessage":
                             f"Statement {number} must have an Effect of Allow or Deny."})
        elif "Principal" not in statement and "NotPrincipal" not in statement:
            problems.append({"CheckName": "POLICY_STRUCTURE", "ErrorMessage":
                             f"Statement {number} must have a Principal."})
        elif "Action" not in statement and "NotAction" not in statement:
            problems.append({"CheckName": "POLICY_STRUCTURE", "ErrorMessage":
                             f"Statement {number} must have an Action."})
    return problems


def grants_public_access(text: str) -> bool:
    """Whether the policy allows anyone (Principal "*") without a condition narrowing it."""
    statements = json.loads(text)["Statement"]
    for statement in [statements] if isinstance(statements, dict) else statements:
        principal = statement.get("Principal")
        everyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") in
                                        ("*", ["*"]))
        if statement.get("Effect") == "Allow" and everyone and not statement.get("Condition"):
            return True
    return False


def check_policy(text: str, block_public: bool) -> None:
    problems = policy_problems(text)
    if problems:
        raise ServiceError("MalformedPolicyDocumentException", problems[0]["ErrorMessage"])
    if block_public and grants_public_access(text):
        raise ServiceError("PublicPolicyException", "BlockPublicPolicy parameter is set to "
                           "true and the resource policy did not prevent broad access to the "
                           "secret.")


FILTER_FIELDS = {"description", "name", "tag-key", "tag-value", "primary-region",
                 "owning-service", "all"}


def matches_filters(entry: dict, filters: list[dict]) -> bool:
    """ListSecrets filters: every filter must match; a filter matches when one of its values
    is a prefix of the field (a value starting with ! negates)."""
    for flt in filters:
        fields = _filter_fields(entry, flt["Key"])
        hit = False
        for value in flt.get("Values", []):
            negate = value.startswith("!")
            word = value[1:] if negate else value
            found = any(field.startswith(word) for field in fields)
            if found != negate:
                hit = True
                break
        if not hit:
            return False
    return True


def _filter_fields(entry: dict, key: str) -> list[str]:
    tags = entry.get("Tags", [])
    fields = {"description": [entry.get("Description") or ""], "name": [entry["Name"]],
              "tag-key": [t["Key"] for t in tags], "tag-value": [t["Value"] for t in tags],
              "primary-region": [entry.get("PrimaryRegion") or ""],
              "owning-service": [entry.get("OwningService") or ""]}
    if key == "all":
        return [v for k in ("description", "name", "tag-key", "tag-value") for v in fields[k]]
    return fields[key]
