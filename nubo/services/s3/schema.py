"""The S3 tables. Object bytes live in files (blobs.py) or, when small, in ``INLINE_BLOBS``; these
rows hold what describes them. Every request reads a handful of rows by key or index range:
listing a bucket is a range scan of ``by_listing`` from the page's first key."""

from nubo.store import TableSpec

# Bucket names are global (one namespace for all accounts and regions). The document holds the
# bucket's configuration: versioning, tagging, CORS, policy, lifecycle, encryption, ...
# `has_lifecycle` (0/1) lets the lifecycle sweeper visit only buckets with rules.
BUCKETS = TableSpec(
    name="s3_buckets",
    key=("name",),
    columns={"name": "text", "account": "text", "region": "text", "created": "real",
             "has_lifecycle": "int"},
    indexes={"by_owner": ("account", "name"), "by_lifecycle": ("has_lifecycle", "name")},
    version=2,
    migrations={1: lambda bucket: {**bucket, "has_lifecycle": int(bool(bucket.get("lifecycle")))}},
)

# Every version of every object, delete markers included. `rank` is minus the time of the
# write (and below the key's previous versions), so a key's versions sort newest first;
# `listed` is 1 on a key's latest version unless it is a delete marker: ListObjects reads
# (bucket, 1, key >= start) in key order. Lifecycle rules read
# current versions by age (`modified`) and noncurrent ones by when they stopped being current
# (`superseded`, NULL while current). What a listing reports (etag, size, storage class, owner,
# `checksum_kind`: "<algorithm> <type>") are columns too, so a page reads them without
# decoding each row's document.
def _with_checksum_kind(version: dict) -> dict:
    return {**version, "checksum_kind": checksum_kind(version)}


def checksum_kind(version: dict) -> str | None:
    checksum = version.get("checksum")
    return f"{checksum[0]} {checksum[2]}" if checksum else None


OBJECTS = TableSpec(
    name="s3_objects",
    key=("bucket", "key", "rank"),
    columns={"bucket": "text", "key": "text", "rank": "int", "version_id": "text",
             "listed": "int", "modified": "real", "superseded": "real", "etag": "text",
             "size": "int", "StorageClass": "text", "owner": "text", "checksum_kind": "text"},
    indexes={"by_listing": ("bucket", "listed", "key"),
             "by_version": ("bucket", "key", "version_id"),
             "by_age": ("bucket", "listed", "modified"),
             "by_superseded": ("bucket", "superseded")},
    version=3,
    # the new columns come from the documents
    migrations={1: lambda version: version, 2: _with_checksum_kind},
)

# Restored copies of archived versions, by when they expire (the lifecycle sweeper removes
# them then, with their ObjectRestore:Delete event); written only by RestoreObject.
RESTORES = TableSpec(
    name="s3_restores",
    key=("bucket", "key", "version_id"),
    columns={"bucket": "text", "key": "text", "version_id": "text", "until": "real"},
    indexes={"by_until": ("until",)},
)

# Versions committed but not yet copied to their replication destinations: written with the
# version (PENDING), removed when its replication ends; what a crash left is retried.
PENDING_REPLICATIONS = TableSpec(
    name="s3_pending_replications",
    key=("bucket", "key", "version_id"),
    columns={"bucket": "text", "key": "text", "version_id": "text"},
)

# Account-level settings (S3 Control): the account's public access block, applied to every
# bucket of the account together with the bucket's own.
ACCOUNT_SETTINGS = TableSpec(
    name="s3_account_settings",
    key=("account",),
    columns={"account": "text"},
)

# Small objects' bytes (and small parts'), so they cost no file. The store chooses the integer
# key, so the table is SQLite's rowid B-tree, whose leaf pages hold rows of a few KiB whole: each
# small PUT writes a slot at its end and frees one, no overflow pages.
INLINE_BLOBS = TableSpec(
    name="s3_inline_blobs",
    key=("blob",),
    columns={"blob": "int", "data": "blob"},
)

# Where data directories written before INLINE_BLOBS keep their small objects' bytes (text
# ids); read and released, never written.
EARLIER_INLINE_BLOBS = TableSpec(
    name="s3_inline_data",
    key=("blob",),
    columns={"blob": "text", "data": "blob"},
)

# Multipart uploads in progress, listed by key then initiation.
UPLOADS = TableSpec(
    name="s3_uploads",
    key=("upload_id",),
    columns={"upload_id": "text", "bucket": "text", "key": "text", "initiated": "real"},
    indexes={"by_bucket": ("bucket", "key", "initiated"),
             "by_initiated": ("bucket", "initiated")},
)

PARTS = TableSpec(
    name="s3_parts",
    key=("upload_id", "number"),
    columns={"upload_id": "text", "number": "int"},
)

# Blob files no committed row refers to: uploads being written (registered, and durable, before
# the file is created) and blobs replaced or deleted (removed once that commit is durable). At
# startup every file named here is removed: nothing an interrupted upload wrote survives it.
LOOSE_BLOBS = TableSpec(
    name="s3_loose_blobs",
    key=("blob",),
    columns={"blob": "text"},
)

# The configurations a bucket holds many of, each by its Id: inventory, metrics, analytics and
# Intelligent-Tiering (`kind`), up to 1,000 of each, listed in Id order.
BUCKET_CONFIGURATIONS = TableSpec(
    name="s3_bucket_configurations",
    key=("bucket", "kind", "id"),
    columns={"bucket": "text", "kind": "text", "id": "text"},
)
