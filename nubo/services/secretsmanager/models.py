"""Secrets: names and ARNs, versions and staging labels, values encrypted through KMS, deletion
with a recovery window, tags, resource policies, rotation schedules and replication."""

from __future__ import annotations

import base64
import re
import secrets
import string
import uuid
from dataclasses import dataclass, replace
from functools import partial
from typing import Callable

from nubo.core.clock import Clock
from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.services.kms import envelope
from nubo.services.secretsmanager import schema
from nubo.services.secretsmanager.validation import (MAX_STAGES_PER_VERSION, MAX_TAGS,
                                                     check_name, check_policy,
                                                     invalid_parameter, invalid_request,
                                                     matches_filters)
from nubo.store import Store

DAY = 86400.0
CURRENT, PREVIOUS, PENDING = "AWSCURRENT", "AWSPREVIOUS", "AWSPENDING"
DEFAULT_KMS_KEY = "alias/aws/secretsmanager"
MAX_VERSIONS = 100  # beyond this, the oldest versions without labels are removed
DEFAULT_MAX_RESULTS = 100
_SUFFIX_ALPHABET = string.ascii_letters + string.digits
_RATE = re.compile(r"^rate\((\d+) days?\)$")

KmsCall = Callable[[RequestContext, str, dict], dict]


def not_found() -> ServiceError:
    return ServiceError("ResourceNotFoundException",
                        "Secrets Manager can't find the specified secret.")


def marked_for_deletion() -> ServiceError:
    return invalid_request("You can't perform this operation on the secret because it was "
                           "marked for deletion.")


@dataclass(frozen=True)
class Secret:
    """A secret as seen from one region: ``record`` holds the data (the primary's row),
    ``home`` is the row in the region asked (the same row unless it is a replica)."""

    record: dict
    home: dict

    @property
    def arn(self) -> str:
        return self.home["arn"]

    @property
    def name(self) -> str:
        return self.record["name"]

    @property
    def is_replica(self) -> bool:
        return self.home is not self.record

    @property
    def deleted(self) -> bool:
        return self.record.get("deleted") is not None

    def version_of(self, label: str) -> str | None:
        return self.record["stages"].get(label)

    def labels_of(self, version_id: str) -> list[str]:
        return [label for label, vid in self.record["stages"].items() if vid == version_id]


class Secrets:
    def __init__(self, store: Store, clock: Clock, kms: KmsCall) -> None:
        self.clock = clock
        self.kms = kms
        self.secrets = store.table(schema.SECRETS)
        self.versions = store.table(schema.VERSIONS)

    # -- lookup ---------------------------------------------------------------------------

    def resolve(self, ctx: RequestContext, secret_id: str) -> Secret:
        """A secret by name, full ARN or partial ARN (without the 6-character suffix)."""
        home = None
        if secret_id.startswith("arn:"):
            parts = secret_id.split(":", 6)
            if len(parts) == 7 and parts[2] == "secretsmanager" and parts[5] == "secret" and \
                    (parts[3], parts[4]) == (ctx.region, ctx.account_id):
                found = self.secrets.find("by_arn", eq=(secret_id,), limit=1)
                home = found[0] if found else self.secrets.get(
                    (ctx.account_id, ctx.region, parts[6]))
        else:
            home = self.secrets.get((ctx.account_id, ctx.region, secret_id))
        if home is None:
            raise not_found()
        return self._view(home)

    def _view(self, home: dict) -> Secret:
        if home.get("primary_region") is None:
            return Secret(home, home)
        primary = self.secrets.get((home["account"], home["primary_region"], home["name"]))
        if primary is None:  # the primary is gone: the replica stands alone
            home = {**home, "primary_region": None}
            self.secrets.put(home)
            return Secret(home, home)
        return Secret(primary, home)

    @staticmethod
    def require_primary(secret: Secret) -> None:
        if secret.is_replica:
            raise invalid_request("Operation not permitted on a replica secret. Call must be "
                                  "made in primary secret's region.")

    def require_writable(self, secret: Secret) -> None:
        self.require_primary(secret)
        if secret.deleted:
            raise marked_for_deletion()

    def save(self, secret: Secret, **changes) -> Secret:
        record = {**secret.record, **changes}
        self.secrets.put(record)
        return Secret(record, secret.home if secret.is_replica else record)

    # -- creation and values --------------------------------------------------------------

    def create(self, ctx: RequestContext, name: str, token: str | None, description: str | None,
               kms_key_id: str | None, string_value: str | None, binary: bytes | None,
               tags: list[dict], secret_type: str | None) -> tuple[Secret, str | None]:
        check_name(name)
        _one_value(string_value, binary, required=False)
        existing = self.secrets.get((ctx.account_id, ctx.region, name))
        if existing is not None and token is not None and self._same_request(
                ctx, existing, token, string_value, binary):
            return self._view(existing), token  # a retried request: nothing more to do
        if existing is not None:
            if existing.get("deleted") is not None:
                raise invalid_request("You can't create this secret because a secret with this "
                                      "name is already scheduled for deletion.")
            raise ServiceError("ResourceExistsException",
                               f"The operation failed because the secret {name} already exists.")
        _check_tag_count(tags)
        suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(6))
        now = self.clock.now()
        record = {"account": ctx.account_id, "region": ctx.region, "name": name,
                  "arn": ctx.arn("secretsmanager", f"secret:{name}-{suffix}"),
                  "created": now, "deletion_due": None, "uid": uuid.uuid4().hex,
                  "description": description, "kms_key_id": kms_key_id, "type": secret_type,
                  "tags": [{"Key": t["Key"], "Value": t["Value"]} for t in tags],
                  "stages": {}, "policy": None, "rotation": None, "deleted": None,
                  "changed": now, "accessed": None, "replicas": {}, "primary_region": None}
        self.secrets.put(record)
        secret = Secret(record, record)
        version_id = None
        if string_value is not None or binary is not None:
            version_id, _ = self.put_value(ctx, secret, token, string_value, binary, None)
        return self.resolve(ctx, name), version_id

    def _same_request(self, ctx: RequestContext, home: dict, token: str,
                      string_value: str | None, binary: bytes | None) -> bool:
        secret = self._view(home)
        version = self.versions.get((secret.record["uid"], token))
        value = string_value.encode() if string_value is not None else binary
        return version is not None and value is not None and \
            self.decrypt(ctx, secret, version) == value

    def put_value(self, ctx: RequestContext, secret: Secret, token: str | None,
                  string_value: str | None, binary: bytes | None,
                  stages: list[str] | None) -> tuple[str, list[str]]:
        """A new version (or the same one again, for a repeated request token)."""
        self.require_writable(secret)
        _one_value(string_value, binary, required=True)
        version_id = token or str(uuid.uuid4())
        stages = [CURRENT] if stages is None else stages
        if len(stages) > MAX_STAGES_PER_VERSION:
            raise ServiceError("LimitExceededException", "A version can have at most "
                               f"{MAX_STAGES_PER_VERSION} staging labels.")
        value = string_value.encode() if string_value is not None else binary
        existing = self.versions.get((secret.record["uid"], version_id))
        if existing is not None:
            if self.decrypt(ctx, secret, existing) != value or \
                    existing["binary"] != (binary is not None):
                raise ServiceError("ResourceExistsException", "You can't modify an existing "
                                   "version, you can only create a new version.")
            return version_id, secret.labels_of(version_id)
        now = self.clock.now()
        key_id = secret.record["kms_key_id"] or DEFAULT_KMS_KEY
        self.versions.put({"secret": secret.record["uid"], "version_id": version_id,
                           "created": now, "binary": binary is not None,
                           "blob": self.encrypt(ctx, secret, version_id, key_id, value),
                           "kms_key_ids": [secret.record["kms_key_id"] or
                                           "DefaultEncryptionKey"], "kms_region": ctx.region})
        labels = dict(secret.record["stages"])
        for label in stages:
            self._attach(labels, label, version_id)
        secret = self.save(secret, stages=labels, changed=now)
        self._drop_old_versions(secret)
        return version_id, stages

    @staticmethod
    def _attach(labels: dict[str, str], label: str, version_id: str) -> None:
        """Point ``label`` at a version; moving AWSCURRENT leaves AWSPREVIOUS on the old one."""
        previous = labels.get(label)
        labels[label] = version_id
        if label == CURRENT and previous is not None and previous != version_id:
            labels[PREVIOUS] = previous

    def _drop_old_versions(self, secret: Secret) -> None:
        uid = secret.record["uid"]
        excess = self.versions.count(eq=(uid,)) - MAX_VERSIONS
        if excess <= 0:
            return
        labelled = set(secret.record["stages"].values())
        for version in self.versions.find("by_created", eq=(uid,), limit=excess + len(labelled)):
            if excess and version["version_id"] not in labelled:
                self.versions.delete((uid, version["version_id"]))
                excess -= 1

    def encrypt(self, ctx: RequestContext, secret: Secret, version_id: str, key_id: str,
                 value: bytes) -> bytes:
        """Envelope encryption, as Secrets Manager does: a KMS data key bound to the secret and
        version (encryption context), the value sealed under it."""
        try:
            return envelope.seal(partial(self.kms, ctx), key_id, _context(secret, version_id),
                                 value)
        except ServiceError as error:
            _kms_access(error)
            raise ServiceError("EncryptionFailure", "Secrets Manager can't encrypt the "
                               "protected secret text using the provided KMS key. Check that "
                               "the KMS key is available, enabled, and not in an invalid "
                               "state.") from None

    def decrypt(self, ctx: RequestContext, secret: Secret, version: dict) -> bytes:
        try:
            return envelope.open_sealed(partial(self.kms, replace(ctx, region=version[
                "kms_region"])), _context(secret, version["version_id"]), version["blob"])
        except ServiceError as error:
            _kms_access(error)
            raise ServiceError("DecryptionFailure", "Secrets Manager can't decrypt the "
                               "protected secret text using the provided KMS key.") from None

    def get_value(self, ctx: RequestContext, secret: Secret, version_id: str | None,
                  stage: str | None) -> dict:
        if secret.deleted:
            raise marked_for_deletion()
        version = self._version(secret, version_id, stage)
        value = self.decrypt(ctx, secret, version)
        self._accessed(secret)
        answer = {"ARN": secret.arn, "Name": secret.name, "VersionId": version["version_id"],
                  "VersionStages": secret.labels_of(version["version_id"]),
                  "CreatedDate": version["created"]}
        answer["SecretBinary" if version["binary"] else "SecretString"] = \
            value if version["binary"] else value.decode()
        return answer

    def _version(self, secret: Secret, version_id: str | None, stage: str | None) -> dict:
        if version_id is not None:
            if stage is not None and secret.version_of(stage) != version_id:
                raise invalid_parameter("You provided a VersionStage that is not associated to "
                                        "the provided VersionId.")
            version = self.versions.get((secret.record["uid"], version_id))
            if version is None:
                raise ServiceError("ResourceNotFoundException", "Secrets Manager can't find the "
                                   f"specified secret value for VersionId: {version_id}")
            return version
        stage = stage or CURRENT
        found = secret.version_of(stage)
        version = None if found is None else self.versions.get((secret.record["uid"], found))
        if version is None:
            raise ServiceError("ResourceNotFoundException", "Secrets Manager can't find the "
                               f"specified secret value for staging label: {stage}")
        return version

    def _accessed(self, secret: Secret) -> None:
        # AWS keeps the date (not the time) of the last access: one write a day at most.
        today = self.clock.now() // DAY * DAY
        if secret.record.get("accessed") != today:
            self.save(secret, accessed=today)

    def update(self, ctx: RequestContext, secret: Secret, token: str | None,
               description: str | None, kms_key_id: str | None, string_value: str | None,
               binary: bytes | None, secret_type: str | None) -> str | None:
        self.require_writable(secret)
        changes = {"changed": self.clock.now()}
        if description is not None:
            changes["description"] = description
        if kms_key_id is not None:
            changes["kms_key_id"] = kms_key_id
        if secret_type is not None:
            changes["type"] = secret_type
        secret = self.save(secret, **changes)
        if string_value is None and binary is None:
            return None
        return self.put_value(ctx, secret, token, string_value, binary, None)[0]

    def update_stage(self, secret: Secret, label: str, remove_from: str | None,
                     move_to: str | None) -> None:
        self.require_writable(secret)
        labels = dict(secret.record["stages"])
        current = labels.get(label)
        if move_to is not None and self.versions.get((secret.record["uid"], move_to)) is None:
            raise ServiceError("ResourceNotFoundException", "Secrets Manager can't find the "
                               f"specified secret value for VersionId: {move_to}")
        if current is not None and current != move_to and remove_from != current:
            if remove_from is None:
                raise invalid_parameter(f"The parameter RemoveFromVersionId can't be empty. "
                                        f"Staging label {label} is currently attached to "
                                        f"version {current}, so you must explicitly reference "
                                        "that version in RemoveFromVersionId.")
            raise invalid_parameter(f"The parameter RemoveFromVersionId doesn't match the "
                                    f"version {current} that staging label {label} is "
                                    "attached to.")
        if move_to is None:
            if label == CURRENT:
                raise invalid_parameter("You can only move staging label AWSCURRENT to a "
                                        "different secret version. It can't be completely "
                                        "removed.")
            labels.pop(label, None)
        else:
            if len(secret.labels_of(move_to)) >= MAX_STAGES_PER_VERSION:
                raise ServiceError("LimitExceededException", "A version can have at most "
                                   f"{MAX_STAGES_PER_VERSION} staging labels.")
            self._attach(labels, label, move_to)
        self.save(secret, stages=labels, changed=self.clock.now())

    def list_versions(self, secret: Secret, include_deprecated: bool) -> list[dict]:
        versions = self.versions.find("by_created", eq=(secret.record["uid"],), reverse=True)
        entries = []
        for version in versions:
            labels = secret.labels_of(version["version_id"])
            if labels or include_deprecated:
                entry = {"VersionId": version["version_id"], "CreatedDate": version["created"],
                         "KmsKeyIds": version["kms_key_ids"]}
                if labels:
                    entry["VersionStages"] = labels
                if secret.record.get("accessed"):
                    entry["LastAccessedDate"] = secret.record["accessed"]
                entries.append(entry)
        return entries

    # -- description and listing ----------------------------------------------------------

    def describe(self, secret: Secret, *, listing: bool = False) -> dict:
        record = secret.record
        entry = {"ARN": secret.arn, "Name": secret.name, "CreatedDate": record["created"],
                 "LastChangedDate": record["changed"],
                 "PrimaryRegion": secret.home.get("primary_region") or record["region"]}
        optional = {"Description": record["description"], "Type": record["type"],
                    "LastAccessedDate": record.get("accessed"), "DeletedDate": record["deleted"],
                    "KmsKeyId": (secret.home if secret.is_replica else record).get("kms_key_id"),
                    "Tags": record["tags"] or None}
        entry.update({k: v for k, v in optional.items() if v is not None})
        rotation = record["rotation"]
        entry["RotationEnabled"] = bool(rotation and rotation["enabled"])
        if rotation:
            entry["RotationLambdaARN"] = rotation["lambda"]
            entry["RotationRules"] = rotation["rules"]
            for member, field in (("NextRotationDate", "next"),
                                  ("LastRotatedDate", "last")):
                if rotation.get(field) and rotation["enabled"]:
                    entry[member] = rotation[field]
        stages: dict[str, list[str]] = {}
        for label, version_id in record["stages"].items():
            stages.setdefault(version_id, []).append(label)
        entry["SecretVersionsToStages" if listing else "VersionIdsToStages"] = stages
        if record["replicas"] and not secret.is_replica:
            entry["ReplicationStatus"] = replication_status(record)
        return entry

    def list(self, ctx: RequestContext, filters: list[dict], include_deleted: bool,
             sort_by: str | None, descending: bool) -> list[dict]:
        entries = []
        for home in self.secrets.find("by_created", eq=(ctx.account_id, ctx.region)):
            secret = self._view(home)
            if secret.deleted and not include_deleted:
                continue
            entry = self.describe(secret, listing=True)
            if matches_filters(entry, filters):
                entries.append(entry)
        field = {"name": "Name", "last-changed-date": "LastChangedDate",
                 "last-accessed-date": "LastAccessedDate"}.get(sort_by or "", "CreatedDate")
        entries.sort(key=lambda e: (e.get(field) is not None, e.get(field) or 0),
                     reverse=descending)
        return entries

    # -- deletion -------------------------------------------------------------------------

    def delete(self, secret: Secret, window_days: int | None) -> float:
        self.require_primary(secret)
        if secret.record["replicas"]:
            raise invalid_request("You can't delete secret " + secret.name + " because it "
                                  "has replicas. Remove the replica regions first.")
        now = self.clock.now()
        if window_days is None:
            self.delete_now(secret.record)
            return now
        if secret.deleted:
            raise marked_for_deletion()
        due = now + window_days * DAY
        self.save(secret, deleted=now, deletion_due=due)
        return due

    def restore(self, secret: Secret) -> None:
        self.require_primary(secret)
        self.save(secret, deleted=None, deletion_due=None)

    def delete_now(self, record: dict) -> None:
        self.versions.delete_where(eq=(record["uid"],))
        self.secrets.delete((record["account"], record["region"], record["name"]))

    def sweep(self) -> int:
        due = self.secrets.find("by_deletion", hi=self.clock.now())
        for record in due:
            self.delete_now(record)
        return len(due)

    # -- tags and resource policies -------------------------------------------------------

    def tag(self, secret: Secret, tags: list[dict]) -> None:
        self.require_writable(secret)
        merged = {t["Key"]: t["Value"] for t in secret.record["tags"]}
        merged.update({t["Key"]: t["Value"] for t in tags})
        _check_tag_count(merged)
        self.save(secret, tags=[{"Key": k, "Value": v} for k, v in merged.items()])

    def untag(self, secret: Secret, keys: list[str]) -> None:
        self.require_writable(secret)
        self.save(secret, tags=[t for t in secret.record["tags"] if t["Key"] not in keys])

    def put_policy(self, secret: Secret, policy: str, block_public: bool) -> None:
        self.require_writable(secret)
        check_policy(policy, block_public)
        self.save(secret, policy=policy)

    def delete_policy(self, secret: Secret) -> None:
        self.require_writable(secret)
        self.save(secret, policy=None)

    # -- rotation -------------------------------------------------------------------------

    def schedule_rotation(self, secret: Secret, lambda_arn: str | None, rules: dict | None,
                          immediately: bool) -> None:
        """Store the rotation configuration. Running a rotation invokes the rotation function
        (createSecret, setSecret, testSecret, finishSecret) through Lambda: that seam is
        ``run_rotation``, which needs the Lambda service."""
        self.require_writable(secret)
        previous = secret.record["rotation"] or {}
        lambda_arn = lambda_arn or previous.get("lambda")
        if not lambda_arn:
            raise invalid_request("No Lambda rotation function ARN is associated with this "
                                  "secret.")
        rules = rules or previous.get("rules") or {}
        if rules.get("AutomaticallyAfterDays") and rules.get("ScheduleExpression"):
            raise invalid_parameter("You can't specify both AutomaticallyAfterDays and "
                                    "ScheduleExpression.")
        if immediately:
            run_rotation(secret)
        self.save(secret, rotation={"enabled": True, "lambda": lambda_arn, "rules": rules,
                                     "last": previous.get("last"),
                                     "next": self._next_rotation(rules, previous.get("last"))})

    def _next_rotation(self, rules: dict, last: float | None) -> float | None:
        days = rules.get("AutomaticallyAfterDays")
        rate = _RATE.match(rules.get("ScheduleExpression") or "")
        if rate:
            days = int(rate.group(1))
        if not days:
            return None  # cron() schedules are stored; their next date needs a cron engine
        return (last or self.clock.now()) + days * DAY

    def cancel_rotation(self, secret: Secret) -> str | None:
        self.require_writable(secret)
        rotation = secret.record["rotation"]
        if rotation:
            self.save(secret, rotation={**rotation, "enabled": False, "next": None})
        return secret.version_of(PENDING)

def replication_status(record: dict) -> list[dict]:
    entries = []
    for region, status in record["replicas"].items():
        entry = {"Region": region, "Status": status["status"],
                 "StatusMessage": status["message"]}
        if status.get("kms_key_id"):
            entry["KmsKeyId"] = status["kms_key_id"]
        entries.append(entry)
    return entries


def run_rotation(secret: Secret) -> None:
    """The rotation seam: a rotation invokes the secret's rotation function once per step
    (createSecret, setSecret, testSecret, finishSecret) with the pending version's token. Lambda
    is not part of nubo yet, so a rotation that must run now is answered 501, never faked."""
    raise ServiceError("NotImplemented", "Rotating a secret invokes its rotation Lambda "
                       "function, which nubo does not run yet. Use RotateImmediately=false to "
                       "store the rotation schedule.", 501, sender_fault=False)


def _context(secret: Secret, version_id: str) -> dict:
    return {"SecretARN": secret.record["arn"], "SecretVersionId": version_id}


def _one_value(string_value: str | None, binary: bytes | None, *, required: bool) -> None:
    if string_value is not None and binary is not None:
        raise invalid_parameter("You can't specify both a binary secret value and a string "
                                "secret value in the same secret.")
    if required and string_value is None and binary is None:
        raise invalid_parameter("You must provide either SecretString or SecretBinary.")


def _check_tag_count(tags) -> None:
    if len(tags) > MAX_TAGS:
        raise ServiceError("LimitExceededException",
                           f"You can attach a maximum of {MAX_TAGS} tags to a secret.")


def page_token(entries: list, max_results: int | None, token: str | None) -> tuple[list,
                                                                                     str | None]:
    """Offset pagination over a listed page of entries; tokens are opaque to clients."""
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise ServiceError("InvalidNextTokenException",
                               "The NextToken value is invalid.") from None
    end = start + (max_results or DEFAULT_MAX_RESULTS)
    following = base64.urlsafe_b64encode(str(end).encode()).decode() \
        if end < len(entries) else None
    return entries[start:end], following


def _kms_access(error: Exception) -> None:
    """A caller without permission on the secret's KMS key gets Secrets Manager's own words."""
    if isinstance(error, ServiceError) and error.code == "AccessDeniedException":
        raise ServiceError("AccessDeniedException", "Access to KMS is not allowed") from None
