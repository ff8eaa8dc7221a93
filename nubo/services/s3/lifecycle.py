"""Lifecycle rules applied: a sweeper expires current versions (a delete marker in versioned
buckets), removes noncurrent versions and expired delete markers, and aborts incomplete
multipart uploads, by nubo's clock. Each pass reads the buckets that have rules, and for each
rule the versions or uploads old enough, by index, a bounded batch at a time."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from nubo.core.clock import Clock
from nubo.services.s3.models import Buckets, Objects
from nubo.services.s3.multipart import Uploads
from nubo.services.s3.notifications import Notifier, s3_context, transition_data
from nubo.services.s3.schema import RESTORES
from nubo.services.s3.transfer import http_date

DAY = 86_400
BATCH = 1000
# Storage classes from warmest to coldest: a transition only ever moves a version colder.
COLDNESS = {"STANDARD": 0, "REDUCED_REDUNDANCY": 0, "INTELLIGENT_TIERING": 1, "STANDARD_IA": 2,
            "ONEZONE_IA": 3, "GLACIER_IR": 4, "GLACIER": 5, "DEEP_ARCHIVE": 6}
# Below this S3 transitions nothing by default (TransitionDefaultMinimumObjectSize
# all_storage_classes_128K), unless the rule filters by size itself.
MIN_TRANSITION_SIZE = 128 * 1024
_ANY_SIZE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")  # under varies_by_storage_class


def _filter_of(rule: dict) -> tuple[str, dict[str, str], int | None, int | None]:
    """(prefix, tags, size above, size below) a rule applies to."""
    found = rule.get("Filter") or {}
    both = found.get("And") or {}
    prefix = found.get("Prefix") or both.get("Prefix") or rule.get("Prefix") or ""
    tags = {t["Key"]: t["Value"] for t in both.get("Tags") or []}
    if found.get("Tag"):
        tags[found["Tag"]["Key"]] = found["Tag"]["Value"]
    above = found.get("ObjectSizeGreaterThan", both.get("ObjectSizeGreaterThan"))
    below = found.get("ObjectSizeLessThan", both.get("ObjectSizeLessThan"))
    return prefix, tags, above, below


def _applies(rule: dict, version: dict) -> bool:
    prefix, tags, above, below = _filter_of(rule)
    size = version.get("size") or 0
    return version["key"].startswith(prefix) and \
        all((version.get("tags") or {}).get(k) == v for k, v in tags.items()) and \
        (above is None or size > above) and (below is None or size < below)


def _midnight_after(moment: float) -> float:
    """S3 rounds a rule's due time up to the next midnight UTC."""
    return -(-moment // DAY) * DAY


def _cutoff(action: dict, now: float, days_field: str = "Days") -> float | None:
    """Versions last modified before this are due (None: the action sets no age)."""
    if action.get(days_field) is not None:
        return now // DAY * DAY - action[days_field] * DAY
    date = action.get("Date")
    if date is not None:
        moment = date.timestamp() if hasattr(date, "timestamp") else float(date)
        return float("inf") if moment <= now else None
    return None


def expiration_header(bucket: dict, version: dict) -> str | None:
    """``x-amz-expiration`` of a current version: when an Expiration rule will remove it."""
    due = None
    for rule in _enabled_rules(bucket):
        expiration = rule.get("Expiration") or {}
        if not _applies(rule, version):
            continue
        if expiration.get("Days") is not None:
            when = _midnight_after(version["modified"] + expiration["Days"] * DAY)
        elif expiration.get("Date") is not None:
            date = expiration["Date"]
            when = date.timestamp() if hasattr(date, "timestamp") else float(date)
        else:
            continue
        if due is None or when < due[0]:
            due = (when, rule.get("ID") or "")
    if due is None:
        return None
    return f'expiry-date="{http_date(due[0])}", rule-id="{due[1]}"'


def abort_date(bucket: dict, key: str, initiated: float) -> tuple[float, str] | None:
    """When an AbortIncompleteMultipartUpload rule will abort an upload of ``key``."""
    for rule in _enabled_rules(bucket):
        days = (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")
        if days is not None and key.startswith(_filter_of(rule)[0]):
            return _midnight_after(initiated + days * DAY), rule.get("ID") or ""
    return None


def _transitions_size(bucket: dict, rule: dict, version: dict, target: str) -> bool:
    """Whether a version's size lets it transition: a rule filtering by size decides alone;
    else S3's default minimum applies (GLACIER and DEEP_ARCHIVE take any size under
    varies_by_storage_class)."""
    _, _, above, below = _filter_of(rule)
    if above is not None or below is not None or (version.get("size") or 0) >= \
            MIN_TRANSITION_SIZE:
        return True
    return bucket.get("transition_minimum") == "varies_by_storage_class" and \
        target in _ANY_SIZE_CLASSES


def _cursor_name(rule: dict, action: dict, current: bool) -> str:
    """An action's cursor, named by its rule's content: a changed rule starts over."""
    text = orjson.dumps([rule, action, current], option=orjson.OPT_SORT_KEYS,
                        default=str)
    return hashlib.sha1(text).hexdigest()[:16]


def _enabled_rules(bucket: dict) -> list[dict]:
    return [rule for rule in (bucket.get("lifecycle") or {}).get("Rules") or []
            if rule.get("Status") == "Enabled"]


class Sweeper:
    def __init__(self, clock: Clock, buckets: Buckets, objects: Objects,
                 uploads: Uploads, notifier: Notifier) -> None:
        self.clock = clock
        self.buckets = buckets
        self.objects = objects
        self.uploads = uploads
        self.notifier = notifier
        self.restores = objects.store.table(RESTORES)
        self.more = False  # a pass left due versions for the next (it read a full batch)

    def sweep(self) -> list[str]:
        """One pass (inside a transaction); returns the blob files it made garbage."""
        now = self.clock.now()
        garbage: list[str] = []
        self.more = False
        for bucket in self.buckets.table.find("by_lifecycle", (1,)):
            for rule in _enabled_rules(bucket):
                garbage += self._apply(bucket, rule, now)
        self._end_restores(now)
        return garbage

    def restored(self, bucket: str, version: dict, until: float) -> None:
        """A restored copy of ``version`` that expires at ``until`` (RestoreObject)."""
        self.restores.put({"bucket": bucket, "key": version["key"],
                           "version_id": version["version_id"], "until": until})

    def _end_restores(self, now: float) -> None:
        """Restored copies past their days: gone, with their ObjectRestore:Delete events."""
        for row in self.restores.find("by_until", lo=0.0, hi=now, limit=BATCH):
            self.restores.delete((row["bucket"], row["key"], row["version_id"]))
            version = self.objects.version(row["bucket"], row["key"], row["version_id"])
            if version is None or (version.get("restore_until") or 0) > now:
                continue  # deleted since, or restored again for longer
            self.objects.table.update((row["bucket"], row["key"], version["rank"]),
                                      {"restore_until": None})
            bucket = self.buckets.table.get((row["bucket"],))
            if bucket is not None:
                self.notifier.publish(s3_context(bucket), bucket,
                                      "ObjectRestore:Delete", row["key"], version, by_s3=True)

    def _apply(self, bucket: dict, rule: dict, now: float) -> list[str]:
        name, garbage = bucket["name"], []
        expiration = rule.get("Expiration") or {}
        cutoff = _cutoff(expiration, now)
        if cutoff is not None:
            for version in self._due(bucket, rule, expiration, True, min(cutoff, now)):
                if _applies(rule, version):
                    garbage += self._expire(bucket, version)
        noncurrent = rule.get("NoncurrentVersionExpiration") or {}
        if noncurrent.get("NoncurrentDays") is not None:
            cutoff = _cutoff({"Days": noncurrent["NoncurrentDays"]}, now)
            kept = noncurrent.get("NewerNoncurrentVersions")
            for version in self._due(bucket, rule, noncurrent, False, cutoff):
                if not _applies(rule, version):
                    continue
                if kept is None:
                    garbage += self._remove(bucket, version["key"], version["version_id"])
                else:
                    garbage += self._beyond_newest(bucket, version["key"], kept, cutoff)
        if expiration.get("ExpiredObjectDeleteMarker"):
            garbage += self._expired_markers(bucket, rule)
        for current, member in ((True, "Transitions"), (False, "NoncurrentVersionTransitions")):
            # the coldest due transition first: an object due for several goes there at once
            for transition in sorted(rule.get(member) or [], reverse=True,
                                     key=lambda t: COLDNESS.get(t.get("StorageClass"), 0)):
                self._transition(bucket, rule, transition, current, now)
        abort = rule.get("AbortIncompleteMultipartUpload") or {}
        if abort.get("DaysAfterInitiation") is not None:
            for upload in self.uploads.uploads.find(
                    "by_initiated", (name,), lo=0.0,
                    hi=_cutoff({"Days": abort["DaysAfterInitiation"]}, now), limit=BATCH):
                if upload["key"].startswith(_filter_of(rule)[0]):
                    garbage += self.uploads.abort(upload)
        return garbage

    def _beyond_newest(self, bucket: dict, key: str, kept: int, cutoff: float) -> list[str]:
        """NewerNoncurrentVersions: a key's due noncurrent versions beyond its ``kept`` newest
        noncurrent ones (all of the key's versions are weighed whenever one is due, so one kept
        earlier goes once enough newer versions exist)."""
        garbage: list[str] = []
        noncurrent = [v for v in self.objects.table.find(eq=(bucket["name"], key),
                                                         limit=BATCH)
                      if v.get("superseded") is not None]  # newest first
        for version in noncurrent[kept:]:
            if version["superseded"] < cutoff:
                garbage += self._remove(bucket, key, version["version_id"])
        return garbage

    def _expire(self, bucket: dict, version: dict) -> list[str]:
        """Expiring a current version: gone in an unversioned bucket, behind a delete marker in
        a versioned one."""
        return self._remove(bucket, version["key"], None)

    def _due(self, bucket: dict, rule: dict, action: dict, current: bool,
             cutoff: float) -> list[dict]:
        """A batch of the versions an action may be due for: current ones by age, noncurrent
        ones by when they stopped being current, read from a cursor kept per rule and action
        (versions it passed were acted on or are not the rule's), so a pass never rereads a
        batch of versions the rule leaves alone."""
        cursors = self.buckets.get(bucket["name"]).get("lifecycle_cursors") or {}
        cursor = _cursor_name(rule, action, current)
        start = cursors.get(cursor, 0.0)
        if current:
            column = "modified"
            rows = self.objects.table.find("by_age", (bucket["name"], 1), lo=start,
                                           hi=cutoff, limit=BATCH)
        else:
            column = "superseded"
            rows = self.objects.table.find("by_superseded", (bucket["name"],), lo=start,
                                           hi=cutoff, limit=BATCH)
        if rows and rows[-1][column] != start:
            self.buckets.update(bucket["name"], {"lifecycle_cursors": {
                **cursors, cursor: rows[-1][column]}})
        self.more = self.more or (len(rows) == BATCH and rows[-1][column] != start)
        return rows

    def _transition(self, bucket: dict, rule: dict, transition: dict, current: bool,
                    now: float) -> None:
        """Move the versions a transition is due for to its storage class (with their
        LifecycleTransition events)."""
        target = transition.get("StorageClass") or "GLACIER"
        cutoff = _cutoff(transition, now, "Days" if current else "NoncurrentDays")
        if cutoff is None:
            return
        for version in self._due(bucket, rule, transition, current,
                                 min(cutoff, now) if current else cutoff):
            if version.get("delete_marker") or not _applies(rule, version) or \
                    COLDNESS.get(version.get("StorageClass") or "STANDARD", 0) >= \
                    COLDNESS.get(target, 0) or not _transitions_size(bucket, rule, version,
                                                                      target):
                continue
            self.objects.table.update((bucket["name"], version["key"], version["rank"]),
                                      {"StorageClass": target})
            self.notifier.publish(s3_context(bucket), bucket, "LifecycleTransition",
                                  version["key"], version, transition_data(target),
                                  by_s3=True)

    def _remove(self, bucket: dict, key: str, version_id: str | None) -> list[str]:
        """DeleteObject by S3 itself, with its LifecycleExpiration event."""
        found, garbage = self.objects.delete(bucket, key, version_id)
        if found is not None:
            self.notifier.publish(s3_context(bucket), bucket,
                                  "LifecycleExpiration:DeleteMarkerCreated"
                                  if version_id is None and found.get("delete_marker")
                                  else "LifecycleExpiration:Delete", key, found, by_s3=True)
        return garbage

    def _expired_markers(self, bucket: dict, rule: dict) -> list[str]:
        """Delete markers that are the only version left of their key."""
        garbage: list[Any] = []
        for marker in self.objects.table.find("by_age", (bucket["name"], 0), lo=0.0,
                                              limit=BATCH):
            if marker.get("delete_marker") and marker["superseded"] is None and \
                    _applies(rule, marker) and \
                    len(self.objects.table.find(eq=(bucket["name"], marker["key"]),
                                                limit=2)) == 1:
                garbage += self._remove(bucket, marker["key"], marker["version_id"])
        return garbage
