"""KMS input rules the model cannot express: alias names, key policies, tags, deletion windows."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase

from nubo.core.errors import ServiceError

ALIAS_PREFIX = "alias/"
RESERVED_ALIAS_PREFIX = "alias/aws/"
_ALIAS_NAME = re.compile(r"^alias/[a-zA-Z0-9/_-]+$")
KEY_ID = re.compile(r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                    r"|mrk-[0-9a-f]{32})$")
MIN_PENDING_WINDOW, MAX_PENDING_WINDOW, DEFAULT_PENDING_WINDOW = 7, 30, 30
MAX_TAGS = 50
DRY_RUN_MESSAGE = "The request would have succeeded, but the DryRun option is set."


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def check_alias_name(name: str, *, creating: bool) -> None:
    if not name.startswith(ALIAS_PREFIX):
        raise validation_error('Alias must start with the prefix "alias/". Please see '
                               "https://docs.aws.amazon.com/kms/latest/developerguide/"
                               "kms-alias.html")
    if name.startswith(RESERVED_ALIAS_PREFIX) and creating:
        # AWS answers an attempt on the reserved AWS-managed namespace without a message.
        raise ServiceError("NotAuthorizedException", "", 400)
    if not _ALIAS_NAME.match(name):
        raise validation_error(f"1 validation error detected: Value '{name}' at 'aliasName' "
                               "failed to satisfy constraint: Member must satisfy regular "
                               "expression pattern: ^[a-zA-Z0-9:/_-]+$")


def check_pending_window(days: int | None) -> int:
    if days is None:
        return DEFAULT_PENDING_WINDOW
    if not MIN_PENDING_WINDOW <= days <= MAX_PENDING_WINDOW:
        bound, relation = (MIN_PENDING_WINDOW, "greater") if days < MIN_PENDING_WINDOW \
            else (MAX_PENDING_WINDOW, "less")
        raise validation_error(f"1 validation error detected: Value '{days}' at "
                               "'pendingWindowInDays' failed to satisfy constraint: Member "
                               f"must have value {relation} than or equal to {bound}")
    return days


def check_policy(text: str, bypass_lockout_check: bool) -> None:
    """A key policy must be a JSON policy document whose statements have an effect, a principal
    and actions; and unless the caller bypasses the check, someone must still be allowed to
    change it (the lockout safety check)."""
    try:
        document = json.loads(text)
    except ValueError:
        raise _malformed("The policy is not valid JSON.") from None
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise _malformed("Policy contains a statement with no Statement element.")
    can_update = False
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            raise _malformed("Policy contains a statement with an invalid Effect.")
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise _malformed("Policy contains a statement with no principal.")
        actions = statement.get("Action", statement.get("NotAction"))
        if actions is None:
            raise _malformed("Policy contains a statement with no Action element.")
        actions = [actions] if isinstance(actions, str) else actions
        if statement["Effect"] == "Allow" and "Action" in statement and any(
                isinstance(a, str) and fnmatchcase("kms:putkeypolicy", a.lower())
                for a in actions):
            can_update = True
    if not can_update and not bypass_lockout_check:
        raise _malformed("The new key policy will not allow you to update the key policy in "
                         "the future.")


def _malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocumentException", message)


def check_tags(tags: list[dict]) -> None:
    for tag in tags:
        if tag["TagKey"].startswith("aws:"):
            raise ServiceError("TagException", "Tags beginning with aws: are reserved.")
    if len({tag["TagKey"] for tag in tags}) != len(tags):
        raise ServiceError("TagException", "Duplicate tag keys")


def page_size(limit: int | None, default: int, maximum: int) -> int:
    """A list operation's Limit: its default when absent, at most the operation's maximum
    (the model allows up to 1000 for every list operation; AWS's limits are lower)."""
    if limit is None:
        return default
    if limit > maximum:
        raise validation_error(f"1 validation error detected: Value '{limit}' at 'limit' failed "
                               "to satisfy constraint: Member must have value less than or "
                               f"equal to {maximum}")
    return limit


def dry_run() -> ServiceError:
    return ServiceError("DryRunOperationException", DRY_RUN_MESSAGE)
