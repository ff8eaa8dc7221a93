"""The S3 tables. Object bytes live in files (blobs.py) or, when small, in ``INLINE_DATA``; these
rows hold what describes them. Every request reads a handful of rows by key or index range:
listing a bucket is a range scan of ``by_listing`` from the page's first key."""

from nubo.store import TableSpec

# Bucket names are global (one namespace for all accounts and regions). The document holds the
# bucket's configuration: versioning, tagging, CORS, policy, lifecycle, encryption, ...
BUCKETS = TableSpec(
    name="s3_buckets",
    key=("name",),
    columns={"name": "text", "account": "text", "region": "text", "created": "real"},
    indexes={"by_owner": ("account", "name")},
)

# Every version of every object, delete markers included. `rank` is minus a global sequence,
# so a key's versions sort newest first; `listed` is 1 on a key's latest version unless it is a
# delete marker: ListObjects reads (bucket, 1, key >= start) in key order.
OBJECTS = TableSpec(
    name="s3_objects",
    key=("bucket", "key", "rank"),
    columns={"bucket": "text", "key": "text", "rank": "int", "version_id": "text",
             "listed": "int"},
    indexes={"by_listing": ("bucket", "listed", "key"),
             "by_version": ("bucket", "key", "version_id")},
)

# Small objects' bytes (and small parts'), so they cost no file.
INLINE_DATA = TableSpec(
    name="s3_inline_data",
    key=("blob",),
    columns={"blob": "text", "data": "blob"},
)

# Multipart uploads in progress, listed by key then initiation.
UPLOADS = TableSpec(
    name="s3_uploads",
    key=("upload_id",),
    columns={"upload_id": "text", "bucket": "text", "key": "text", "initiated": "real"},
    indexes={"by_bucket": ("bucket", "key", "initiated")},
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
