"""S3 event notifications: a bucket's configuration checked as S3 checks it (event names,
key filters, overlapping configurations, destinations S3 can reach), and events delivered to
SQS queues in-process, sent by the S3 service principal for the bucket (aws:SourceArn,
aws:SourceAccount) so the queue's policy decides, as on AWS. SNS and Lambda destinations fail
validation (nubo has neither service yet); an EventBridge configuration is kept."""

from __future__ import annotations

import base64
import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from urllib.parse import quote_plus

import orjson

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.protocols.rest import host_id
from nubo.services.s3 import errors

log = logging.getLogger("nubo.s3")

SERVICE_PRINCIPAL = "s3.amazonaws.com"
MAX_FILTER_VALUE_BYTES = 1024
# Every event S3 publishes; a configuration may also name a family with ":*".
EVENTS = frozenset({
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
    "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleTransition", "s3:IntelligentTiering",
    "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
    "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectAcl:Put",
})
_FAMILIES = {event.rsplit(":", 1)[0] + ":*" for event in EVENTS if event.count(":") == 2}
# Events of the 2.3 message version (they carry extra, operation-specific data).
_VERSION_2_3 = ("LifecycleExpiration:", "LifecycleTransition", "IntelligentTiering",
                "ObjectTagging:", "ObjectAcl:", "ObjectRestore:Delete")
# The configuration lists of each destination kind: (list member, ARN member, kind).
_KINDS = (("QueueConfigurations", "QueueArn", "queue"),
          ("TopicConfigurations", "TopicArn", "topic"),
          ("LambdaFunctionConfigurations", "LambdaFunctionArn", "function"))


@dataclass(frozen=True)
class Destination:
    kind: str  # queue | topic | function
    arn: str
    id: str
    events: frozenset[str]  # concrete event names, wildcards expanded
    prefix: str
    suffix: str

    def wants(self, event: str, key: str) -> bool:
        return event in self.events and key.startswith(self.prefix) and \
            key.endswith(self.suffix)


def _expand(event: str) -> frozenset[str]:
    if event in EVENTS:
        return frozenset({event})
    if event in _FAMILIES:
        return frozenset(e for e in EVENTS if e.startswith(event[:-1]))
    raise errors.invalid_argument("The event is not supported for notifications", "Event",
                                  event)


def _key_filter(configuration: dict) -> tuple[str, str]:
    """(prefix, suffix) of a configuration's filter; rule names are normalized as S3 stores
    them (Prefix, Suffix)."""
    found: dict[str, str] = {}
    rules = ((configuration.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    for rule in rules:
        name, value = (rule.get("Name") or "").lower(), rule.get("Value") or ""
        if name not in ("prefix", "suffix"):
            raise errors.invalid_argument("filter rule name must be either prefix or suffix",
                                          "FilterRule.Name", rule.get("Name") or "")
        if name in found:
            raise errors.invalid_argument(f"Cannot specify more than one {name} rule in a "
                                          "filter.", "FilterRule.Name", rule.get("Name"))
        if len(value.encode()) > MAX_FILTER_VALUE_BYTES:
            raise errors.invalid_argument("Size of filter rule value cannot exceed 1024 bytes "
                                          "in UTF-8 representation", "FilterRule.Value", value)
        rule["Name"] = name.capitalize()
        found[name] = value
    return found.get("prefix", ""), found.get("suffix", "")


def destinations(configuration: dict | None) -> list[Destination]:
    found = []
    for member, arn_member, kind in _KINDS:
        for entry in (configuration or {}).get(member) or []:
            events = frozenset().union(*(_expand(e) for e in entry.get("Events") or []))
            found.append(Destination(kind, entry.get(arn_member) or "", entry.get("Id") or "",
                                     events, *_key_filter(entry)))
    return found


def check_configuration(configuration: dict) -> list[Destination]:
    """Validate (and complete: a configuration without Id gets one, as S3 gives it) a
    NotificationConfiguration; its destinations."""
    for member, arn_member, _ in _KINDS:
        for entry in configuration.get(member) or []:
            if not entry.get("Events") or not entry.get(arn_member):
                raise errors.malformed_xml()
            if not entry.get("Id"):
                entry["Id"] = str(uuid.uuid4())
    found = destinations(configuration)
    for index, first in enumerate(found):
        for second in found[index + 1:]:
            if first.events & second.events and _overlap(first, second):
                raise errors.invalid_argument("Configurations overlap. Configurations on the "
                                              "same bucket cannot share a common event type.",
                                              "Event", min(first.events & second.events))
    return found


def _overlap(first: Destination, second: Destination) -> bool:
    """Two key filters some key passes both of."""
    return (first.prefix.startswith(second.prefix) or second.prefix.startswith(first.prefix)) \
        and (first.suffix.endswith(second.suffix) or second.suffix.endswith(first.suffix))


def iso_time(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def event_key(key: str) -> str:
    """An object key as S3 writes it in events: form-URL-encoded (a space is '+')."""
    return quote_plus(key, safe="/*").replace("~", "%7E")


def customer_id(account: str) -> str:
    """The Amazon customer id events name an account by (stable per account)."""
    digest = hashlib.sha256(f"nubo-customer-{account}".encode()).digest()
    return "A" + base64.b32encode(digest).decode()[:13]


def s3_context(bucket: dict) -> RequestContext:
    """The context of S3's own work on a bucket (lifecycle, replication retried): its events
    are sent in the bucket owner's name, by S3."""
    return RequestContext(request_id=uuid.uuid4().hex[:16].upper(), service="s3",
                          operation="Lifecycle", account_id=bucket["account"],
                          region=bucket["region"], access_key_id="", protocol="rest-xml",
                          host="")


def restore_data(version: dict, until: float) -> dict:
    """The glacierEventData of an ObjectRestore:Completed event."""
    return {"glacierEventData": {"restoreEventData": {
        "lifecycleRestorationExpiryTime": iso_time(until),
        "lifecycleRestoreStorageClass": version.get("StorageClass") or "STANDARD"}}}


def replication_failure_data(rule_id: str, destination: str, requested: float,
                             reason: str) -> dict:
    """The replicationEventData of a Replication:OperationFailedReplication event."""
    return {"replicationEventData": {
        "replicationRuleId": rule_id, "destinationBucket": f"arn:aws:s3:::{destination}",
        "s3Operation": "OBJECT_PUT", "requestTime": iso_time(requested),
        "failureReason": reason}}


def transition_data(storage_class: str) -> dict:
    """The lifecycleEventData of a LifecycleTransition event."""
    return {"lifecycleEventData": {"transitionEventData": {
        "destinationStorageClass": storage_class}}}


@dataclass(frozen=True)
class Event:
    """One occurrence to publish: the event name (without "s3:"), the object it is about and
    who caused it."""
    name: str
    key: str
    version: dict | None = None  # the version written, removed or changed
    principal_id: str = SERVICE_PRINCIPAL
    source_ip: str = SERVICE_PRINCIPAL
    extra: dict | None = None  # glacierEventData, lifecycleEventData
    request_id: str = ""  # the request's (a lifecycle action has its own)


class Notifier:
    def __init__(self, runtime) -> None:
        self.runtime = runtime
        self._last_sequence = 0

    # -- who caused an event -----------------------------------------------------------------

    def principal_of(self, ctx: RequestContext) -> str:
        if not ctx.access_key_id:
            return "Anonymous"
        authorizer = getattr(self.runtime, "authorizer", None)
        if authorizer is None:
            return customer_id(ctx.account_id)
        principal = authorizer.caller(ctx.access_key_id, ctx.account_id).principal
        if principal.kind == "root" or not principal.user_id:
            return customer_id(principal.account_id or ctx.account_id)
        return f"AWS:{principal.user_id}"

    # -- validation ----------------------------------------------------------------------------

    def validate(self, ctx: RequestContext, bucket: dict, found: list[Destination]) -> None:
        """Each destination must accept S3's messages: the s3:TestEvent is sent to every
        queue; the ones refused are named in S3's InvalidArgument."""
        failures: dict[str, str] = {}
        for destination in found:
            if destination.arn in failures:
                continue
            reason = self._refusal(ctx, bucket, destination)
            if reason is not None:
                failures[destination.arn] = reason
        if failures:
            fields: dict[str, str] = {}
            for number, (arn, reason) in enumerate(failures.items(), 1):
                fields[f"ArgumentName{number}"] = arn
                fields[f"ArgumentValue{number}"] = reason
            raise ServiceError("InvalidArgument", "Unable to validate the following destination "
                               "configurations", 400, fields=fields)

    def _refusal(self, ctx: RequestContext, bucket: dict, destination: Destination
                 ) -> str | None:
        parts = destination.arn.split(":")
        if destination.kind == "topic":
            return "The destination topic does not exist"
        if destination.kind == "function":  # S3 is refused as it is for a missing function
            return f"Not authorized to invoke function [{destination.arn}]"
        if len(parts) != 6 or parts[2] != "sqs":
            return "The destination queue does not exist"
        if parts[3] != bucket["region"]:
            return "The notification destination service region is not valid for the bucket " \
                   "location constraint"
        test = {"Service": "Amazon S3", "Event": "s3:TestEvent",
                "Time": iso_time(self.runtime.clock.now()), "Bucket": bucket["name"],
                "RequestId": ctx.request_id, "HostId": host_id(ctx.request_id)}
        try:
            self._send(ctx, bucket, destination.arn, test)
        except ServiceError as error:
            if "NonExistentQueue" in error.code or error.code == "QueueDoesNotExist":
                return "The destination queue does not exist"
            return "Permissions on the destination queue do not allow S3 to publish " \
                   "notifications from this bucket"
        return None

    # -- delivery ------------------------------------------------------------------------------

    def publish(self, ctx: RequestContext, bucket: dict, name: str, key: str,
                version: dict | None = None, extra: dict | None = None,
                by_s3: bool = False) -> None:
        """Send event ``name`` (e.g. "ObjectCreated:Put") about ``key`` to every queue of the
        bucket's configuration that wants it; ``by_s3``: caused by S3 itself (lifecycle), not
        by the request's caller. A queue that refuses (deleted, policy changed) loses the
        event; the request is not failed."""
        configuration = bucket.get("notification")
        if not configuration or not configuration.get("QueueConfigurations"):
            return
        event = Event(name, key, version, extra=extra) if by_s3 else \
            Event(name, key, version, self.principal_of(ctx), ctx.client_ip, extra,
                  ctx.request_id)
        full_name = "s3:" + event.name
        for destination in destinations(configuration):
            if destination.kind != "queue" or not destination.wants(full_name, event.key):
                continue
            message = {"Records": [self._record(bucket, event, destination.id)]}
            try:
                with self.runtime.store.transaction():
                    self._send(ctx, bucket, destination.arn, message)
            except ServiceError as error:
                log.warning("S3 event %s of %s not delivered to %s: %s %s", event.name,
                            bucket["name"], destination.arn, error.code, error.message)

    def _send(self, ctx: RequestContext, bucket: dict, queue_arn: str, message: dict) -> None:
        _, _, _, region, account, name = queue_arn.split(":")
        # S3 sends as the bucket's owner's service, in the bucket's region
        inner = replace(ctx, account_id=bucket["account"], region=region)
        self.runtime.services.call(
            inner, "sqs", "SendMessage",
            {"QueueUrl": f"http://sqs.{region}.localhost/{account}/{name}",
             "MessageBody": orjson.dumps(message).decode()},
            service_principal=SERVICE_PRINCIPAL,
            source_arn=f"arn:{ctx.partition}:s3:::{bucket['name']}")

    def _record(self, bucket: dict, event: Event, configuration_id: str) -> dict:
        request_id = event.request_id or uuid.uuid4().hex[:16].upper()
        obj: dict = {"key": event_key(event.key)}
        version = event.version or {}
        if event.name.startswith(("ObjectCreated", "ObjectRestore", "LifecycleTransition",
                                  "ObjectTagging", "ObjectAcl")) and \
                version.get("size") is not None:
            obj.update(size=version["size"], eTag=version["etag"].strip('"'))
        if version.get("versioned"):
            obj["versionId"] = version["version_id"]
        obj["sequencer"] = self._sequencer()
        record = {
            "eventVersion": "2.3" if event.name.startswith(_VERSION_2_3) else
            "2.2" if event.name.startswith("Replication:") else "2.1",
            "eventSource": "aws:s3", "awsRegion": bucket["region"],
            "eventTime": iso_time(self.runtime.clock.now()), "eventName": event.name,
            "userIdentity": {"principalId": event.principal_id},
            "requestParameters": {"sourceIPAddress": event.source_ip},
            "responseElements": {"x-amz-request-id": request_id,
                                 "x-amz-id-2": host_id(request_id)},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": configuration_id,
                   "bucket": {"name": bucket["name"],
                              "ownerIdentity": {"principalId": customer_id(bucket["account"])},
                              "arn": f"arn:aws:s3:::{bucket['name']}"},
                   "object": obj}}
        if event.extra:
            record.update(event.extra)
        return record

    def _sequencer(self) -> str:
        """Increasing hex strings: later events of a key sort after earlier ones."""
        self._last_sequence = max(self._last_sequence + 1, time.time_ns())
        return f"{self._last_sequence:018X}"
