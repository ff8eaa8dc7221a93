"""SQS queues: names and URLs, attributes, tags, permissions and dead-letter configuration.

Messages live in messages.py, message move tasks in move_tasks.py.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.services.sqs import schema
from nubo.services.sqs.validation import (MAX_DELAY_SECONDS, MAX_MESSAGE_SIZE,
                                          MAX_VISIBILITY_TIMEOUT, MAX_WAIT_TIME_SECONDS,
                                          check_queue_name, invalid_parameter, invalid_value)
from nubo.store import Store

NAME_REUSE_DELAY = 60  # seconds before a deleted queue's name can be used again
MAX_LIST_RESULTS = 1000
MAX_TAGS = 50

STANDARD_DEFAULTS = {
    "VisibilityTimeout": "30",
    "MaximumMessageSize": str(MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "ReceiveMessageWaitTimeSeconds": "0",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
INTEGER_RANGES = {
    "VisibilityTimeout": (0, MAX_VISIBILITY_TIMEOUT),
    "MaximumMessageSize": (1024, MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": (60, 1_209_600),
    "DelaySeconds": (0, MAX_DELAY_SECONDS),
    "ReceiveMessageWaitTimeSeconds": (0, MAX_WAIT_TIME_SECONDS),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
BOOLEANS = {"SqsManagedSseEnabled", "FifoQueue", "ContentBasedDeduplication"}
CHOICES = {"DeduplicationScope": ("messageGroup", "queue"),
           "FifoThroughputLimit": ("perQueue", "perMessageGroupId")}
FIFO_ONLY = set(FIFO_DEFAULTS)
JSON_DOCUMENTS = {"Policy", "RedrivePolicy", "RedriveAllowPolicy"}
SETTABLE = set(INTEGER_RANGES) | BOOLEANS | set(CHOICES) | JSON_DOCUMENTS | {"KmsMasterKeyId"}
COUNTS = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
          "ApproximateNumberOfMessagesDelayed")
READ_ONLY = set(COUNTS) | {"CreatedTimestamp", "LastModifiedTimestamp", "QueueArn"}
# GetQueueAttributes All: this order, then whatever else is set (Policy, KMS, redrive).
ALL_ORDER = ("QueueArn", *COUNTS, "CreatedTimestamp", "LastModifiedTimestamp",
             *STANDARD_DEFAULTS, *FIFO_DEFAULTS)
REDRIVE_PERMISSIONS = ("allowAll", "denyAll", "byQueue")
MAX_REDRIVE_SOURCES = 10
MAX_ACTIONS_PER_STATEMENT = 7


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class QueueRef:
    """Where a queue lives, as named by a URL or an ARN."""

    account: str
    region: str
    name: str


def parse_queue_url(url: str, default_account: str, region: str) -> QueueRef:
    """Any form clients send: AWS's, path style on any host, LocalStack's, or just the path."""
    path = urlsplit(url).path if "://" in url else url
    parts = [part for part in path.split("/") if part]
    if not parts:
        raise ServiceError("InvalidAddress", f"The address {url} is not valid for this endpoint.")
    account = parts[-2] if len(parts) >= 2 else default_account
    return QueueRef(account, region, parts[-1])


def parse_queue_arn(arn: str) -> QueueRef | None:
    parts = arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not parts[5]:
        return None
    return QueueRef(parts[4], parts[3], parts[5])


def queue_url(scheme: str, host: str, ref: QueueRef) -> str:
    """AWS's URL form on the local host, keeping the port the client reached us on."""
    port = ""
    if not host.endswith("]") and host.rpartition(":")[2].isdigit():
        port = ":" + host.rpartition(":")[2]
    return f"{scheme}://sqs.{ref.region}.localhost{port}/{ref.account}/{ref.name}"


class Queue:
    """A queue record with its effective attributes (defaults merged in)."""

    __slots__ = ("record", "attributes")

    def __init__(self, record: dict) -> None:
        self.record = record
        defaults = FIFO_DEFAULTS | STANDARD_DEFAULTS if record["fifo"] else STANDARD_DEFAULTS
        self.attributes: dict[str, str] = defaults | record["attributes"]

    @property
    def id(self) -> int:
        return self.record["id"]

    @property
    def ref(self) -> QueueRef:
        return QueueRef(self.record["account"], self.record["region"], self.record["name"])

    @property
    def name(self) -> str:
        return self.record["name"]

    @property
    def fifo(self) -> bool:
        return self.record["fifo"]

    @property
    def arn(self) -> str:
        return queue_arn(self.ref)

    def number(self, attribute: str) -> int:
        return int(self.attributes[attribute])

    @property
    def content_based_deduplication(self) -> bool:
        return self.attributes.get("ContentBasedDeduplication") == "true"

    @property
    def deduplication_per_group(self) -> bool:
        return self.attributes.get("DeduplicationScope") == "messageGroup"

    @property
    def redrive_policy(self) -> dict | None:
        policy = self.attributes.get("RedrivePolicy")
        return json.loads(policy) if policy else None


def queue_arn(ref: QueueRef) -> str:
    return f"arn:{partition_of(ref.region)}:sqs:{ref.region}:{ref.account}:{ref.name}"


def encode_token(value: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": value}).encode()).decode()


def decode_token(token: str) -> str:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
    except (ValueError, KeyError, TypeError):
        raise invalid_parameter("Invalid NextToken value.") from None


class Queues:
    """The queue catalog of every account and region."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.table = store.table(schema.QUEUES)
        self.deleted = store.table(schema.DELETED_QUEUES)
        # Queues by ref, read on every request. A write drops the entry (the next read loads
        # it again), so the cache never holds what the store does not.
        self._cache: dict[QueueRef, Queue] = {}

    def reset(self) -> None:
        self._cache.clear()

    # -- lookup ---------------------------------------------------------------------------

    def find(self, ref: QueueRef) -> Queue | None:
        queue = self._cache.get(ref)
        if queue is None:
            record = self.table.get((ref.account, ref.region, ref.name))
            if record is None:
                return None
            queue = self._cache[ref] = Queue(record)
        return queue

    def get(self, ref: QueueRef, protocol: str = "json") -> Queue:
        queue = self.find(ref)
        if queue is None:
            # The query protocol's answer still carries its WSDL-era wording.
            raise ServiceError("QueueDoesNotExist", "The specified queue does not exist."
                               if protocol != "query" else
                               "The specified queue does not exist for this wsdl version.")
        return queue

    def find_by_arn(self, arn: str) -> Queue | None:
        ref = parse_queue_arn(arn)
        return None if ref is None else self.find(ref)

    def after(self, queue_id: int, limit: int) -> list[Queue]:
        """Queues by id from `queue_id` on (for background sweeps)."""
        return [Queue(r) for r in self.table.find("by_id", lo=queue_id, limit=limit)]

    def has_dead_letter_sources(self, queue: Queue) -> bool:
        return bool(self.table.find("by_dead_letter_arn", eq=(queue.arn,), limit=1))

    # -- lifecycle ------------------------------------------------------------------------

    def create(self, ref: QueueRef, attributes: dict[str, str] | None,
               tags: dict[str, str] | None, new_id: Callable[[], int]) -> Queue:
        requested = dict(attributes or {})
        fifo = _boolean("FifoQueue", requested.get("FifoQueue", "false")) == "true"
        check_queue_name(ref.name, fifo)
        attributes = self._validated(requested, fifo, creating=True)
        existing = self.find(ref)
        if existing is not None:
            self._check_same_attributes(existing, attributes)
            return existing
        recently = self.deleted.get((ref.account, ref.region, ref.name))
        if recently is not None and self.clock.now() - recently["deleted"] < NAME_REUSE_DELAY:
            raise ServiceError("QueueDeletedRecently",
                               "You must wait 60 seconds after deleting a queue before you can "
                               "create another with the same name.")
        _check_throughput(FIFO_DEFAULTS | attributes if fifo else attributes)
        self._check_redrive(ref, fifo, attributes, requested.get("RedrivePolicy"))
        self._check_tags(ref.name, tags or {})
        now = self.clock.now()
        record = {"account": ref.account, "region": ref.region, "name": ref.name, "id": new_id(),
                  "fifo": fifo, "attributes": attributes, "tags": dict(tags or {}),
                  "created": now, "modified": now, "purged": None}
        record["dead_letter_arn"] = _dead_letter_arn(attributes)
        self.table.put(record)
        self._cache.pop(ref, None)
        return Queue(record)

    def _check_same_attributes(self, queue: Queue, attributes: dict[str, str]) -> None:
        for name, value in attributes.items():
            if name == "FifoQueue" and value == "false" and not queue.fifo:
                continue
            if queue.attributes.get(name, "") != value:
                raise ServiceError("QueueNameExists", "A queue already exists with the same name "
                                                      f"and a different value for attribute {name}")

    def delete(self, queue: Queue) -> None:
        ref = queue.ref
        self.table.delete((ref.account, ref.region, ref.name))
        self._cache.pop(ref, None)
        self.deleted.put({"account": ref.account, "region": ref.region, "name": ref.name,
                          "deleted": self.clock.now()})

    def forget_deleted_names(self) -> None:
        self.deleted.delete_where("by_deleted", hi=self.clock.now() - NAME_REUSE_DELAY)

    def list(self, account: str, region: str, prefix: str | None, max_results: int | None,
             next_token: str | None) -> tuple[list[QueueRef], str | None]:
        _check_max_results(max_results)
        prefix = prefix or ""
        low = prefix if next_token is None else max(prefix, decode_token(next_token) + "\0")
        # Queue names are ASCII below '~', so prefix + '~' bounds every name with the prefix.
        limit = max_results or MAX_LIST_RESULTS
        records = self.table.find(eq=(account, region), lo=low, hi=prefix + "~" if prefix else
                                  None, limit=limit + 1)
        return _page(records, limit, max_results)

    def dead_letter_sources(self, queue: Queue, max_results: int | None,
                            next_token: str | None) -> tuple[list[QueueRef], str | None]:
        _check_max_results(max_results)
        low = "" if next_token is None else decode_token(next_token) + "\0"
        limit = max_results or MAX_LIST_RESULTS
        records = self.table.find("by_dead_letter_arn", eq=(queue.arn,), lo=low, limit=limit + 1)
        return _page(records, limit, max_results)

    def mark_purged(self, queue: Queue) -> None:
        """PurgeQueue is allowed once per 60 seconds."""
        now = self.clock.now()
        purged = queue.record.get("purged")
        if purged is not None and now - purged < 60:
            raise ServiceError("PurgeQueueInProgress", f"Only one PurgeQueue operation on "
                                                       f"{queue.name} is allowed every 60 seconds.")
        self._save(queue, purged=now)

    def _save(self, queue: Queue, **changes) -> None:
        self.table.put(dict(queue.record, **changes))
        self._cache.pop(queue.ref, None)

    # -- attributes -----------------------------------------------------------------------

    def set_attributes(self, queue: Queue, attributes: dict[str, str]) -> None:
        if "FifoQueue" in attributes:
            raise ServiceError("InvalidAttributeValue", "Invalid value for the parameter "
                                                        "FifoQueue. Reason: Modifying queue type "
                                                        "is not supported.")
        changes = self._validated(dict(attributes), queue.fifo, creating=False)
        _check_throughput(queue.attributes | changes)
        self._check_redrive(queue.ref, queue.fifo, changes, attributes.get("RedrivePolicy"))
        merged = {**queue.record["attributes"], **changes}
        # An empty string removes an optional document (Policy, RedrivePolicy, ...).
        merged = {name: value for name, value in merged.items() if value != ""}
        if merged.get("KmsMasterKeyId") and "SqsManagedSseEnabled" not in changes:
            merged["SqsManagedSseEnabled"] = "false"
        if changes.get("SqsManagedSseEnabled") == "true" and "KmsMasterKeyId" not in changes:
            merged.pop("KmsMasterKeyId", None)
        self._save(queue, attributes=merged, modified=self.clock.now(),
                   dead_letter_arn=_dead_letter_arn(merged))

    def get_attributes(self, queue: Queue, names: list[str] | None,
                       counts: Callable[[Queue], dict[str, int]]) -> dict[str, str]:
        wanted = list(dict.fromkeys(names or ()))
        for name in wanted:
            if name != "All" and name not in SETTABLE | READ_ONLY:
                raise ServiceError("InvalidAttributeName", f"Unknown Attribute {name}.")
        if not wanted:
            return {}
        values = self._readable_attributes(queue)
        if any(name in COUNTS or name == "All" for name in wanted):
            values.update({name: str(count) for name, count in counts(queue).items()})
        if "All" in wanted:
            ordered = [name for name in ALL_ORDER if name in values]
            return {name: values[name] for name in ordered + sorted(set(values) - set(ordered))}
        return {name: values[name] for name in wanted if name in values}

    def _readable_attributes(self, queue: Queue) -> dict[str, str]:
        values = dict(queue.attributes)
        if values.get("KmsMasterKeyId"):
            values.setdefault("KmsDataKeyReusePeriodSeconds", "300")
        values["QueueArn"] = queue.arn
        values["CreatedTimestamp"] = str(int(queue.record["created"]))
        values["LastModifiedTimestamp"] = str(int(queue.record["modified"]))
        return values

    def _validated(self, attributes: dict[str, str], fifo: bool, creating: bool) -> dict:
        """The attributes in canonical form; raises AWS's error for the first bad one."""
        result = {}
        for name, value in attributes.items():
            if name not in SETTABLE or (name in FIFO_ONLY and not fifo and
                                        not (name == "FifoQueue" and creating)):
                raise ServiceError("InvalidAttributeName", f"Unknown Attribute {name}.")
            result[name] = _canonical(name, value)
        if not fifo:
            result.pop("FifoQueue", None)
        if result.get("SqsManagedSseEnabled") == "true" and result.get("KmsMasterKeyId"):
            raise ServiceError("InvalidAttributeValue", "Invalid value for the parameter "
                                                        "SqsManagedSseEnabled. Reason: You can use "
                                                        "one type of server-side encryption (SSE) "
                                                        "at one time. You can either enable KMS "
                                                        "SSE or SQS SSE.")
        if result.get("KmsMasterKeyId"):
            result.setdefault("SqsManagedSseEnabled", "false")
        return result

    def _check_redrive(self, ref: QueueRef, fifo: bool, attributes: dict[str, str],
                       text: str | None) -> None:
        """The dead-letter target must exist, be of the same type and accept this source.
        `text` is the policy as sent, which AWS quotes in its errors."""
        if not attributes.get("RedrivePolicy"):
            return
        policy = json.loads(attributes["RedrivePolicy"])
        target = self.find_by_arn(policy["deadLetterTargetArn"])
        if target is None or target.ref.account != ref.account or \
                target.ref.region != ref.region:
            raise invalid_value("RedrivePolicy", text, "Dead letter target does not exist.")
        if target.fifo != fifo:
            raise invalid_value("RedrivePolicy", text, "Dead-letter queue must be same type of "
                                                       "queue as the source.")
        allow = target.attributes.get("RedriveAllowPolicy")
        if allow:
            allow_policy = json.loads(allow)
            permission = allow_policy["redrivePermission"]
            if permission == "denyAll" or (permission == "byQueue" and queue_arn(ref) not in
                                           allow_policy.get("sourceQueueArns", ())):
                raise invalid_value("RedrivePolicy", text, "Queue "
                                    f"{queue_arn(ref)} doesn't have permission to use "
                                    f"{target.arn} as a dead-letter queue.")

    # -- tags and permissions -------------------------------------------------------------

    def tag(self, queue: Queue, tags: dict[str, str]) -> None:
        merged = {**queue.record["tags"], **tags}
        self._check_tags(queue.name, merged)
        self._save(queue, tags=merged)

    def untag(self, queue: Queue, keys: list[str]) -> None:
        self._save(queue, tags={k: v for k, v in queue.record["tags"].items() if k not in keys})

    @staticmethod
    def _check_tags(name: str, tags: dict[str, str]) -> None:
        if len(tags) > MAX_TAGS:
            raise invalid_parameter(f"Too many tags added for queue {name}.")

    def add_permission(self, queue: Queue, label: str, accounts: list[str],
                       actions: list[str], valid_actions: list[str]) -> None:
        if len(actions) > MAX_ACTIONS_PER_STATEMENT:
            raise ServiceError("OverLimit", f"{len(actions)} Actions were found, maximum allowed "
                                            f"is {MAX_ACTIONS_PER_STATEMENT}.")
        for action in actions:
            if action != "*" and action not in valid_actions:
                raise invalid_value("ActionName", f"SQS:{action}", "Please refer to the "
                                    "appropriate WSDL for a list of valid actions. ")
        policy = self._policy(queue)
        if any(statement.get("Sid") == label for statement in policy["Statement"]):
            raise invalid_value("Label", label, "Already exists.")
        principals = [f"arn:{partition_of(queue.ref.region)}:iam::{account}:root"
                      for account in accounts]
        sqs_actions = [f"SQS:{action}" for action in actions]
        policy["Statement"].append({
            "Sid": label, "Effect": "Allow",
            "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
            "Action": sqs_actions[0] if len(sqs_actions) == 1 else sqs_actions,
            "Resource": queue.arn,
        })
        self._save_policy(queue, policy)

    def remove_permission(self, queue: Queue, label: str) -> None:
        policy = self._policy(queue)
        kept = [s for s in policy["Statement"] if s.get("Sid") != label]
        if len(kept) == len(policy["Statement"]):
            raise invalid_value("Label", label, "can't find label on existing policy.")
        policy["Statement"] = kept
        self._save_policy(queue, policy if kept else None)

    def _policy(self, queue: Queue) -> dict:
        text = queue.attributes.get("Policy")
        if text:
            policy = json.loads(text)
            policy.setdefault("Statement", [])
            if isinstance(policy["Statement"], dict):
                policy["Statement"] = [policy["Statement"]]
            return policy
        return {"Version": "2012-10-17", "Id": f"{queue.arn}/SQSDefaultPolicy", "Statement": []}

    def _save_policy(self, queue: Queue, policy: dict | None) -> None:
        attributes = dict(queue.record["attributes"])
        if policy is None:
            attributes.pop("Policy", None)
        else:
            attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
        self._save(queue, attributes=attributes, modified=self.clock.now())


def _page(records: list[dict], limit: int,
          max_results: int | None) -> tuple[list[QueueRef], str | None]:
    refs = [QueueRef(r["account"], r["region"], r["name"]) for r in records[:limit]]
    # Like AWS, a NextToken only when the caller asked for pages (MaxResults).
    more = len(records) > limit and max_results is not None
    return refs, encode_token(refs[-1].name) if more else None


def _check_max_results(max_results: int | None) -> None:
    if max_results is not None and not 1 <= max_results <= MAX_LIST_RESULTS:
        raise invalid_value("MaxResults", max_results,
                            f"MaxResults must be an integer between 1 and {MAX_LIST_RESULTS}.")


def _check_throughput(attributes: dict[str, str]) -> None:
    if attributes.get("FifoThroughputLimit") == "perMessageGroupId" and \
            attributes.get("DeduplicationScope") == "queue":
        raise _attribute_error("FifoThroughputLimit", "perMessageGroupId is allowed only when "
                                                      "DeduplicationScope is messageGroup.")


def _dead_letter_arn(attributes: dict[str, str]) -> str | None:
    text = attributes.get("RedrivePolicy")
    return json.loads(text)["deadLetterTargetArn"] if text else None


def _attribute_error(name: str, reason: str = "") -> ServiceError:
    return ServiceError("InvalidAttributeValue", f"Invalid value for the parameter {name}."
                        + (f" Reason: {reason}" if reason else ""))


def _boolean(name: str, value: str) -> str:
    if str(value).lower() not in ("true", "false"):
        raise _attribute_error(name)
    return str(value).lower()


def _canonical(name: str, value: str) -> str:
    value = str(value)
    if name in INTEGER_RANGES:
        low, high = INTEGER_RANGES[name]
        if not value.strip().lstrip("-").isdigit() or not low <= int(value) <= high:
            raise _attribute_error(name)
        return str(int(value))
    if name in BOOLEANS:
        return _boolean(name, value)
    if name in CHOICES:
        if value not in CHOICES[name]:
            raise _attribute_error(name)
        return value
    if name in JSON_DOCUMENTS and value != "":
        return _CANONICAL_DOCUMENTS[name](value)
    return value


def _json_map(name: str, value: str) -> dict:
    try:
        document = json.loads(value)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise _attribute_error(name, f"{'Redrive' if name == 'RedrivePolicy' else name} policy "
                                     "is not a valid JSON map." if name != "Policy" else "")
    return document


def _canonical_policy(value: str) -> str:
    _json_map("Policy", value)
    return value


def _canonical_redrive_policy(value: str) -> str:
    policy = _json_map("RedrivePolicy", value)
    for required in ("deadLetterTargetArn", "maxReceiveCount"):
        if required not in policy:
            raise invalid_value("RedrivePolicy", value, "Redrive policy does not contain "
                                                        f"mandatory attribute: {required}.")
    try:
        count = int(policy["maxReceiveCount"])
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= 1000:
        raise invalid_value("RedrivePolicy", value, "Invalid value for maxReceiveCount: "
                            f"{policy['maxReceiveCount']}, valid values are from 1 to 1000 both "
                            "inclusive.")
    if parse_queue_arn(str(policy["deadLetterTargetArn"])) is None:
        raise invalid_value("RedrivePolicy", value, "Invalid value for deadLetterTargetArn.")
    return json.dumps({"deadLetterTargetArn": policy["deadLetterTargetArn"],
                       "maxReceiveCount": count}, separators=(",", ":"))


def _canonical_redrive_allow_policy(value: str) -> str:
    policy = _json_map("RedriveAllowPolicy", value)
    permission = policy.get("redrivePermission")
    sources = policy.get("sourceQueueArns")
    if permission not in REDRIVE_PERMISSIONS:
        raise _attribute_error("RedriveAllowPolicy", "Invalid value for redrivePermission. "
                                                     "Valid values are allowAll, denyAll and "
                                                     "byQueue.")
    if permission == "byQueue":
        if not isinstance(sources, list) or not 1 <= len(sources) <= MAX_REDRIVE_SOURCES:
            raise _attribute_error("RedriveAllowPolicy", "You must specify 1 to "
                                   f"{MAX_REDRIVE_SOURCES} sourceQueueArns when "
                                   "redrivePermission is byQueue.")
    elif sources is not None:
        raise _attribute_error("RedriveAllowPolicy", "sourceQueueArns can be specified only "
                                                     "when redrivePermission is byQueue.")
    return json.dumps(policy, separators=(",", ":"))


_CANONICAL_DOCUMENTS = {"Policy": _canonical_policy, "RedrivePolicy": _canonical_redrive_policy,
                        "RedriveAllowPolicy": _canonical_redrive_allow_policy}
