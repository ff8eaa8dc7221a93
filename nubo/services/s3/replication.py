"""Bucket replication: the configuration checked as S3 checks it (versioning on both sides,
the V2 schema's priorities and delete-marker setting), which rule, if any, replicates a new
version or delete marker to which destination bucket (SSE-KMS versions only when selected,
the replica's owner and KMS key as the rule says), and where a change of a version's metadata
goes (its replicas; back to the source under replica modification sync). The copying itself
is the provider's (it streams bytes as CopyObject does)."""

from __future__ import annotations

from dataclasses import dataclass

from nubo.core.errors import ServiceError
from nubo.services.s3 import errors
from nubo.services.s3.models import Buckets

MAX_RULES = 1000
# Attributes of a version its replica keeps (the bytes are copied; the version id is kept).
REPLICATED = ("key", "modified", "owner", "content_type", "metadata", "tags", "etag", "size",
              "checksum", "parts", "CacheControl", "ContentDisposition", "ContentEncoding",
              "ContentLanguage", "Expires", "WebsiteRedirectLocation", "StorageClass",
              "ServerSideEncryption", "SSEKMSKeyId", "BucketKeyEnabled", "ObjectLockMode",
              "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus", "ACL")


@dataclass(frozen=True)
class Target:
    bucket: str  # the destination bucket's name
    storage_class: str | None
    delete_markers: bool
    rule_id: str
    kms_key: str | None = None  # the replica's key for SSE-KMS versions (ReplicaKmsKeyID)
    owned_by_destination: bool = False  # AccessControlTranslation Owner=Destination


def _destination_name(rule: dict) -> str:
    arn = (rule.get("Destination") or {}).get("Bucket") or ""
    if not arn.startswith("arn:") or ":::" not in arn:
        raise errors.invalid_argument("Invalid bucket ARN", "Bucket", arn)
    return arn.split(":::", 1)[1]


def check_replication(configuration: dict, source: dict, buckets: Buckets) -> None:
    if source.get("versioning") != "Enabled":
        raise errors.invalid_request("Versioning must be 'Enabled' on the bucket to apply a "
                                     "replication configuration")
    rules = configuration.get("Rules") or []
    if not rules or len(rules) > MAX_RULES or not configuration.get("Role"):
        raise errors.malformed_xml()
    ids, priorities = set(), set()
    for rule in rules:
        if rule.get("Status") not in ("Enabled", "Disabled"):
            raise errors.malformed_xml()
        if rule.get("ID"):
            if rule["ID"] in ids:
                raise errors.invalid_argument("Rule Id must be unique", "ID", rule["ID"])
            ids.add(rule["ID"])
        if "Filter" in rule:  # the V2 schema
            if rule.get("DeleteMarkerReplication") is None:
                raise errors.invalid_request("DeleteMarkerReplication must be specified for "
                                             "this version of Cross Region Replication "
                                             "configuration schema.")
            if len(rules) > 1 and rule.get("Priority") is None:
                raise errors.invalid_request("Priority must be specified for this version of "
                                             "Cross Region Replication configuration schema.")
            if rule.get("Priority") is not None:
                if rule["Priority"] in priorities:
                    raise errors.invalid_request("Found duplicate priority "
                                                 f"{rule['Priority']}.")
                priorities.add(rule["Priority"])
        name = _destination_name(rule)
        if name == source["name"]:
            raise errors.invalid_request("Destination bucket cannot be the same as the source "
                                         "bucket.")
        try:
            destination = buckets.get(name)
        except ServiceError:
            raise errors.invalid_request("Destination bucket must exist.") from None
        if destination.get("versioning") != "Enabled":
            raise errors.invalid_request("Destination bucket must have versioning enabled.")


def _matches(rule: dict, version: dict) -> bool:
    found = rule.get("Filter")
    if found is None:  # the V1 schema: a prefix
        return version["key"].startswith(rule.get("Prefix") or "")
    both = found.get("And") or {}
    prefix = found.get("Prefix") or both.get("Prefix") or ""
    tags = {t["Key"]: t["Value"] for t in both.get("Tags") or []}
    if found.get("Tag"):
        tags[found["Tag"]["Key"]] = found["Tag"]["Value"]
    held = version.get("tags") or {}
    return version["key"].startswith(prefix) and all(held.get(k) == v for k, v in tags.items())


def _criterion(rule: dict, name: str) -> bool:
    criteria = rule.get("SourceSelectionCriteria") or {}
    return (criteria.get(name) or {}).get("Status") == "Enabled"


def _syncs_replica_changes(rule: dict) -> bool:
    return _criterion(rule, "ReplicaModifications")


def _takes(rule: dict, version: dict) -> bool:
    """SSE-KMS (and DSSE-KMS) versions are replicated only by rules that select them."""
    return not str(version.get("ServerSideEncryption") or "").startswith("aws:kms") or \
        _criterion(rule, "SseKmsEncryptedObjects")


def targets(bucket: dict, version: dict) -> list[Target]:
    """Where a new version (or delete marker) of the bucket is replicated: per destination,
    the enabled matching rule of highest priority."""
    return _targets(bucket, version, lambda rule: True)


def metadata_targets(bucket: dict, version: dict) -> list[Target]:
    """Where a version's copy takes a change of its metadata (tags, ACL, Object Lock
    settings): its replicas' buckets; for a replica, only the buckets of rules with replica
    modification sync (which makes the metadata's replication two-way). A replica its
    destination's account owns keeps its own ACL."""
    if version.get("ReplicationStatus") == "REPLICA":
        return _targets(bucket, version, _syncs_replica_changes)
    return _targets(bucket, version, lambda rule: True)


def _targets(bucket: dict, version: dict, eligible) -> list[Target]:
    configuration = bucket.get("replication")
    if not configuration:
        return []
    chosen: dict[str, dict] = {}
    for rule in configuration.get("Rules") or []:
        if rule.get("Status") != "Enabled" or not eligible(rule) or \
                not _matches(rule, version) or not _takes(rule, version):
            continue
        name = _destination_name(rule)
        if name not in chosen or (rule.get("Priority") or 0) > (chosen[name].get("Priority")
                                                                  or 0):
            chosen[name] = rule
    found = []
    for name, rule in chosen.items():
        markers = "Filter" not in rule or \
            (rule.get("DeleteMarkerReplication") or {}).get("Status") == "Enabled"
        if version.get("delete_marker") and not markers:
            continue
        destination = rule.get("Destination") or {}
        found.append(Target(name, destination.get("StorageClass"), markers,
                            rule.get("ID") or "", (destination.get(
                                "EncryptionConfiguration") or {}).get("ReplicaKmsKeyID"),
                            (destination.get("AccessControlTranslation") or {}).get(
                                "Owner") == "Destination"))
    return found


def trusts_s3(trust: dict) -> bool:
    """Whether a role's trust policy lets S3 assume it (the replication role)."""
    for statement in _listed(trust.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = _listed(statement.get("Action"))
        principal = statement.get("Principal")
        services = _listed(principal.get("Service")) if isinstance(principal, dict) else []
        if {"sts:AssumeRole", "sts:*", "*"} & set(actions) and \
                "s3.amazonaws.com" in services:
            return True
    return False


def _listed(value) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def replica_of(version: dict, target: Target, destination: dict) -> dict:
    """The destination's record of a version (its bytes' segments still to be set)."""
    replica = {name: version[name] for name in REPLICATED if name in version}
    replica["ReplicationStatus"] = "REPLICA"
    if target.owned_by_destination:  # the destination's owner owns the replica, ACL reset
        replica["owner"] = destination["account"]
        replica.pop("ACL", None)
    if target.storage_class:
        replica["StorageClass"] = target.storage_class
    if target.kms_key and str(version.get("ServerSideEncryption") or "").startswith("aws:kms"):
        replica["SSEKMSKeyId"] = target.kms_key
    return replica
