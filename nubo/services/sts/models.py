"""Temporary credentials: issuing them (AssumeRole, GetSessionToken, GetFederationToken) and
looking them up when a request is made with them."""

from __future__ import annotations

import base64
import re
import secrets

from nubo.core.errors import ServiceError
from nubo.core.ids import access_key_id, secret_access_key
from nubo.services.sts.schema import SESSIONS
from nubo.store import Store

ROLE_CHAINING_LIMIT = 3600
ROOT_SESSION_LIMIT = 900  # AssumeRoot's default and longest session
# The AWS managed policies AssumeRoot sessions may be limited to ("root task policies").
ROOT_TASK_POLICIES = frozenset(f"arn:aws:iam::aws:policy/root-task/{name}" for name in (
    "IAMAuditRootUserCredentials", "IAMCreateRootUserPassword", "IAMDeleteRootUserCredentials",
    "S3UnlockBucketPolicy", "SQSUnlockQueuePolicy"))
# AWS's patterns are Java's, where \w is ASCII only.
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:(.*)/)?([\w+=,.@-]{1,64})$",
                       re.ASCII)
_ROOT_ARN = re.compile(r"arn:aws[\w-]*:iam::(\d{12}):root", re.ASCII)
# Sessions stay known for a day after they expired, so late requests get ExpiredToken rather
# than InvalidClientTokenId.
_FORGET_AFTER = 86400


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationError", message, 400)


def check_session_name(name: str, member: str = "roleSessionName") -> None:
    if not _SESSION_NAME.match(name):
        raise validation_error(
            f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")


def parse_role_arn(arn: str) -> tuple[str, str, str]:
    """(account, path, role name) of a role ARN."""
    match = _ROLE_ARN.match(arn)
    if not match:
        raise validation_error(f"{arn} is invalid")
    account, path, name = match.groups()
    return account, f"/{path}/" if path else "/", name


def root_target(target: str) -> str:
    """The account AssumeRoot's TargetPrincipal names: "the member account principal ARN or
    account ID" (arn:aws:iam::<account>:root, or the 12 digits)."""
    match = _ROOT_ARN.fullmatch(target)
    return match.group(1) if match else target


def check_root_task(target: str, policy_arn: str) -> str:
    """The member account of a valid AssumeRoot request."""
    account = root_target(target)
    if not (len(account) == 12 and account.isdigit()):
        raise validation_error(f"{target} is not a valid account ID.")
    parts = policy_arn.split(":", 2)  # the same policies in every partition
    if (f"arn:aws:{parts[2]}" if len(parts) == 3 else policy_arn) not in ROOT_TASK_POLICIES:
        raise validation_error(f"{policy_arn} is not a valid root task policy ARN.")
    return account


def check_duration(duration: int, maximum: int, *, chained: bool) -> None:
    if chained and duration > ROLE_CHAINING_LIMIT:
        raise validation_error("The requested DurationSeconds exceeds the 1 hour session limit "
                               "for roles assumed by role chaining.")
    if duration > maximum:
        raise validation_error("The requested DurationSeconds exceeds the MaxSessionDuration set "
                               "for this role.")


def session_token() -> str:
    # Shaped like AWS's (base64, a few hundred characters); only its equality matters.
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(270)).decode()


def packed_policy_size(policy: str | None, policy_arns: list[dict] | None,
                       tags: list[dict] | None) -> int:
    """Percent of the packed session policy/tag allowance used (AWS compresses the policies,
    ARNs and tags into a binary form; nubo approximates it by their compact length)."""
    size = len("".join((policy or "").split())) + sum(len(a.get("arn", ""))
                                                       for a in policy_arns or ())
    size += sum(len(t.get("Key", "")) + len(t.get("Value", "")) for t in tags or ())
    percent = -(-size * 100 // 2048)
    if percent > 100:
        raise ServiceError("PackedPolicyTooLarge", f"Packed size of consumed session policies and "
                           f"session tags exceeds the limit by {percent - 100}%.", 400)
    return percent


class Sessions:
    def __init__(self, store: Store) -> None:
        self.table = store.table(SESSIONS)

    def issue(self, *, account: str, now: float, duration: int, principal: dict) -> dict:
        """Store new temporary credentials for ``principal`` (kind, arn, user_id, name,
        role_arn, parent, policies, policy_arns, tags, source_identity, mfa)."""
        record = {"access_key_id": access_key_id("ASIA", account), "account": account,
                  "expires": now + duration, "secret": secret_access_key(),
                  "token": session_token(), "issued": now, **principal}
        self.table.put(record)
        return record

    def get(self, key: str) -> dict | None:
        return self.table.get((key,))

    def forget_expired(self, now: float) -> int:
        return self.table.delete_where("by_expiry", hi=now - _FORGET_AFTER)


def credentials(record: dict) -> dict:
    return {"AccessKeyId": record["access_key_id"], "SecretAccessKey": record["secret"],
            "SessionToken": record["token"], "Expiration": record["expires"]}
