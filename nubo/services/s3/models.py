"""S3's domain: buckets and their configuration, object versions and their listing."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
import secrets
import time
from dataclasses import dataclass, field

from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.store import Store
from nubo.services.s3 import errors
from nubo.services.s3.blobs import BlobStore
from nubo.services.s3.schema import BUCKETS, OBJECTS, checksum_kind
from nubo.services.s3.transfer import Upload, reusable_inline, segments_of

MAX_KEY_BYTES = 1024
# What ListObjects reports of each object, read as columns (see schema.OBJECTS).
LISTED = ("key", "modified", "etag", "size", "StorageClass", "checksum_kind", "owner")
# what ListObjectVersions reports of each version (a delete marker is the version without an
# ETag), with the rank its page continues from
VERSION_LISTED = LISTED + ("rank", "version_id", "superseded")
MAX_BUCKETS_PAGE = 10_000
MAX_BUCKETS = 10_000  # general purpose buckets per account (the default quota since 2024)
DEFAULT_REGION = "us-east-1"
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


@lru_cache(maxsize=1024)
def canonical_user_id(account: str) -> str:
    """The account's canonical user id (S3's owner id): 64 hex digits, stable per account."""
    return hashlib.sha256(f"nubo-canonical-{account}".encode()).hexdigest()


def owner_of(account: str) -> dict:
    return {"ID": canonical_user_id(account), "DisplayName": "webfile"}


def successor(prefix: str) -> str:
    """The least string greater than every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def bucket_name_ok(name: str) -> bool:
    return bool(_BUCKET_NAME.fullmatch(name)) and ".." not in name and \
        not _IP_ADDRESS.fullmatch(name) and not name.startswith(_RESERVED_PREFIXES) and \
        not name.endswith(_RESERVED_SUFFIXES)


def check_bucket_name(name: str) -> None:
    if not bucket_name_ok(name):
        raise ServiceError("InvalidBucketName", "The specified bucket is not valid.", 400,
                           fields={"BucketName": name})


def check_key(key: str) -> None:
    if len(key.encode()) > MAX_KEY_BYTES:
        raise ServiceError("KeyTooLongError", "Your key is too long", 400,
                           fields={"Size": len(key.encode()), "MaxSizeAllowed": MAX_KEY_BYTES})


class Buckets:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.table = store.table(BUCKETS)
        self._cache: dict[str, dict] = {}

    def get(self, name: str) -> dict:
        """The bucket's record (cached: every object request reads it; writes evict it)."""
        bucket = self._cache.get(name)
        if bucket is None:
            bucket = self.table.get((name,))
            if bucket is None:
                raise errors.no_such_bucket(name)
            self._cache[name] = bucket
        return bucket

    def forget(self) -> None:
        self._cache.clear()

    def create(self, account: str, region: str, name: str, location: str | None,
               settings: dict) -> dict:
        check_bucket_name(name)
        target = _bucket_region(region, location)
        existing = self.table.get((name,))
        if existing is not None:
            if existing["account"] != account:
                raise ServiceError(
                    "BucketAlreadyExists", "The requested bucket name is not available. The "
                    "bucket namespace is shared by all users of the system. Please select a "
                    "different name and try again.", 409, fields={"BucketName": name})
            if existing["region"] == DEFAULT_REGION and target == DEFAULT_REGION:
                return existing  # us-east-1 answers 200 to its owner's repeated create
            raise ServiceError("BucketAlreadyOwnedByYou", "Your previous request to create the "
                               "named bucket succeeded and you already own it.", 409,
                               fields={"BucketName": name})
        if self.table.count("by_owner", (account,)) >= MAX_BUCKETS:
            raise ServiceError("TooManyBuckets", "You have attempted to create more buckets "
                               "than allowed", 400, fields={"BucketName": name})
        bucket = {"name": name, "account": account, "region": target,
                  "created": self.clock.now(), **settings}
        self._cache.pop(name, None)
        self.table.insert(bucket)
        return bucket

    def delete(self, name: str, objects: "Objects") -> None:
        self.get(name)
        if objects.any_version(name):
            raise ServiceError("BucketNotEmpty", "The bucket you tried to delete is not empty",
                               409, fields={"BucketName": name})
        self._cache.pop(name, None)
        self.table.delete((name,))

    def owned(self, account: str, prefix: str | None, after: str | None, limit: int,
              region: str | None) -> tuple[list[dict], bool]:
        """The account's buckets in name order after ``after``; and whether more follow."""
        lo = max(filter(None, (prefix, after and after + "\0")), default=None)
        hi = successor(prefix) if prefix else None
        found: list[dict] = []
        while len(found) <= limit:
            rows = self.table.find("by_owner", (account,), lo=lo, hi=hi,
                                   limit=limit + 1 - len(found))
            if not rows:
                break
            found.extend(row for row in rows if region is None or row["region"] == region)
            lo = rows[-1]["name"] + "\0"
        return found[:limit], len(found) > limit

    def update(self, name: str, changes: dict) -> dict:
        self.get(name)
        self._cache.pop(name, None)
        return self.table.update((name,), changes)


def _bucket_region(region: str, location: str | None) -> str:
    """The region a CreateBucket makes its bucket in, by AWS's LocationConstraint rules."""
    if location == DEFAULT_REGION or location == "":
        raise ServiceError("InvalidLocationConstraint",
                           "The specified location-constraint is not valid", 400,
                           fields={"LocationConstraint": location})
    if location == "EU":
        location = "eu-west-1"
    if region == DEFAULT_REGION:  # the global endpoint takes any constraint
        return location or DEFAULT_REGION
    if location is None:
        raise ServiceError("IllegalLocationConstraintException", "The unspecified location "
                           "constraint is incompatible for the region specific endpoint this "
                           "request was sent to.", 400)
    if location != region:
        raise ServiceError("IllegalLocationConstraintException", f"The {location} location "
                           "constraint is incompatible for the region specific endpoint this "
                           "request was sent to.", 400)
    return location


# --- objects ---------------------------------------------------------------------------------
@dataclass
class Listing:
    """One page of a listing: entries (object rows, or version rows) and common prefixes."""
    entries: list[dict] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str | None = None  # the last key or common prefix of the page
    last_version: dict | None = None


class Objects:
    def __init__(self, store: Store, clock: Clock, blobs: BlobStore) -> None:
        self.store = store
        self.clock = clock
        self.blobs = blobs
        self.table = store.table(OBJECTS)

    # -- reading --------------------------------------------------------------------------

    def latest(self, bucket: str, key: str) -> dict | None:
        rows = self.table.find(eq=(bucket, key), limit=1)
        return rows[0] if rows else None

    def version(self, bucket: str, key: str, version_id: str) -> dict | None:
        rows = self.table.find("by_version", (bucket, key, version_id), limit=1)
        return rows[0] if rows else None

    def any_version(self, bucket: str) -> bool:
        return bool(self.table.find(eq=(bucket,), limit=1))

    def resolve(self, bucket: str, key: str, version_id: str | None,
                method: str = "GET") -> dict:
        """The version a read addresses: NoSuchKey / NoSuchVersion, and delete markers as AWS
        answers them (404 for the latest, 405 when named by version id)."""
        if version_id is None:
            found = self.latest(bucket, key)
            if found is None:
                raise errors.no_such_key(key)
            if found.get("delete_marker"):
                error = errors.no_such_key(key)
                error.headers.update(marker_headers(found))
                raise error
            return found
        found = self.version(bucket, key, version_id)
        if found is None:
            if version_id != "null" and not _looks_like_version_id(version_id):
                raise errors.invalid_argument("Invalid version id specified", "versionId",
                                              version_id)
            raise errors.no_such_version(key, version_id)
        if found.get("delete_marker"):
            error = errors.method_not_allowed(method, "DeleteMarker")
            error.headers.update(marker_headers(found))
            error.headers["Last-Modified"] = _http_date(found["modified"])
            raise error
        return found

    # -- writing --------------------------------------------------------------------------

    def put(self, bucket: dict, record: dict, version_id: str | None = None,
            upload: Upload | None = None) -> tuple[dict, list[str]]:
        """Make ``record`` the key's newest version under the bucket's versioning (a replica
        keeps its source's ``version_id``); returns it and the blob files it made garbage.
        With ``upload``, its bytes become the version's segments here: a small body that
        overwrites a small null version takes the old bytes' place in the store."""
        name, key = bucket["name"], record["key"]
        versioning = bucket.get("versioning")
        garbage: list[str] = []
        replaced = None  # the null version the new one overwrites in place
        over = None  # the replaced version's inline blob, rewritten with the new bytes
        latest = self.latest(name, key)
        # newer versions rank lower: by the time, and always below the key's newest version
        rank = -time.time_ns() if latest is None else min(-time.time_ns(), latest["rank"] - 1)
        if versioning == "Enabled":
            record["version_id"] = version_id or secrets.token_urlsafe(24)
        else:
            record["version_id"] = "null"
            if latest is not None and latest["version_id"] == "null":
                rank = latest["rank"]  # replaced in place: still the newest
                if upload is not None:
                    over = reusable_inline(latest.get("segments"), upload)
                garbage = self._release(latest, keep=over)
                replaced, latest = latest, None
            elif latest is not None:  # an older null version, below versioned ones
                garbage = self._drop(name, key, "null")
        if latest is not None:  # no longer current
            latest.update(listed=0, superseded=record.get("modified") or self.clock.now())
            self.table.put(latest)
        if upload is not None:
            record["segments"] = segments_of(upload, self.blobs, over)
        record.update(bucket=name, rank=rank,
                      listed=0 if record.get("delete_marker") else 1,
                      versioned=versioning is not None, checksum_kind=checksum_kind(record))
        if replaced is None:
            self.table.put(record)
        else:
            self.table.replace(replaced, record)
        return record, garbage

    def _release(self, version: dict, keep: int | None = None) -> list[str]:
        return self.blobs.release([blob for blob, _ in version.get("segments", ())
                                   if blob != keep])

    def delete(self, bucket: dict, key: str, version_id: str | None
               ) -> tuple[dict | None, list[str]]:
        """DeleteObject: without a version id a delete marker (versioned buckets) or the
        removal of the null version; with one, that version's permanent removal. Returns the
        version removed or the marker added, and the garbage."""
        versioning = bucket.get("versioning")
        if version_id is None and versioning is not None:
            marker = {"key": key, "delete_marker": True, "modified": self.clock.now(),
                      "owner": bucket["account"]}
            return self.put(bucket, marker)
        target = self.version(bucket["name"], key, version_id or "null")
        if target is None:
            return None, []
        garbage = self._drop(bucket["name"], key, target["version_id"])
        return target, garbage

    def _drop(self, bucket: str, key: str, version_id: str) -> list[str]:
        found = self.version(bucket, key, version_id)
        if found is None:
            return []
        self.table.delete((bucket, key, found["rank"]))
        if found["listed"] or found.get("delete_marker"):
            latest = self.latest(bucket, key)
            if latest is not None and latest["rank"] > found["rank"]:  # current again
                self.table.update((bucket, key, latest["rank"]), {
                    "listed": int(not latest.get("delete_marker")), "superseded": None})
        return self._release(found)

    # -- listing --------------------------------------------------------------------------

    def list(self, bucket: dict, prefix: str, delimiter: str | None, after: str | None,
             limit: int) -> Listing:
        """Latest versions (no delete markers) in key order after ``after``, with keys that
        hold ``delimiter`` past the prefix rolled up into common prefixes."""
        # A bucket never versioned holds one version per key, the listed one: its rows are
        # read in key order from the table itself, not through the listing index (which
        # would look each row up again).
        index, eq = (None, (bucket["name"],)) if bucket.get("versioning") is None else \
            ("by_listing", (bucket["name"], 1))

        def fetch(lo: str, hi: str | None, count: int, cursor: dict | None) -> list[dict]:
            return [dict(zip(LISTED, row)) for row in self.table.find_values(
                LISTED, index, eq, lo=lo, hi=hi, limit=count)]
        return _walk(fetch, prefix, delimiter, after, limit)

    def list_versions(self, bucket: str, prefix: str, delimiter: str | None,
                      key_marker: str | None, version_marker: str | None,
                      limit: int) -> Listing:
        """Every version and delete marker, by key, newest first within a key, after the
        (key, version) markers."""
        cursor = None
        if key_marker and version_marker:
            cursor = self.version(bucket, key_marker, version_marker)
            if cursor is None:
                if version_marker != "null" and not _looks_like_version_id(version_marker):
                    raise errors.invalid_argument("Invalid version id specified",
                                                  "version-id-marker", version_marker)
                # deleted since it was listed (emptying a bucket page by page): the key's
                # remaining versions, from its newest
                cursor = {"key": key_marker, "rank": -(2 ** 63)}

        def fetch(lo: str, hi: str | None, count: int, cursor: dict | None) -> list[dict]:
            if cursor is not None:  # the rest of the cursor's key first
                rows = self.table.find_values(VERSION_LISTED, eq=(bucket, cursor["key"]),
                                              lo=cursor["rank"] + 1, limit=count)
                if rows:
                    return [dict(zip(VERSION_LISTED, row)) for row in rows]
            return [dict(zip(VERSION_LISTED, row)) for row in self.table.find_values(
                VERSION_LISTED, eq=(bucket,), lo=lo, hi=hi, limit=count)]
        return _walk(fetch, prefix, delimiter, key_marker, limit, cursor)


def _walk(fetch, prefix: str, delimiter: str | None, after: str | None, limit: int,
          cursor: dict | None = None) -> Listing:
    """A listing page by index range scans: each fetch reads a batch from ``lo`` (or after the
    ``cursor`` row); a common prefix skips all its keys with one jump."""
    page = Listing()
    if limit <= 0:
        return page
    hi = successor(prefix) if prefix else None
    lo = prefix
    if after is not None and after >= prefix:
        lo = after + "\0"
        if delimiter and after.endswith(delimiter) and delimiter in after[len(prefix):]:
            lo = successor(after)  # the marker is a common prefix: skip all its keys
    count = 0
    while True:
        rows = fetch(lo, hi, limit - count + 1, cursor)
        if not rows:
            return page
        for row in rows:
            key = row["key"]
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            if count == limit:
                page.truncated = True
                return page
            count += 1
            if cut >= 0:
                common = key[:cut + len(delimiter)]
                page.prefixes.append(common)
                page.last, page.last_version = common, None
                lo, cursor = successor(common), None
                break
            page.entries.append(row)
            page.last, page.last_version = key, row
        else:
            lo, cursor = rows[-1]["key"] + "\0", rows[-1]


def marker_headers(record: dict) -> dict[str, str]:
    return {"x-amz-delete-marker": "true", "x-amz-version-id": record["version_id"]}


def _looks_like_version_id(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9._-]{1,1024}", value))


def _http_date(epoch: float) -> str:
    from email.utils import formatdate
    return formatdate(epoch, usegmt=True)

