"""The DynamoDB tables in nubo's store.

Items are rows keyed by (table id, position): the position is the item's primary key encoded so
that byte order is DynamoDB's order (values.key_bytes) behind a 4-byte hash of the partition
key. A partition is one contiguous range of positions sorted by sort key, so GetItem/PutItem are
one B-tree lookup, Query a range scan, and a parallel Scan segment a range of hash prefixes.
Secondary indexes keep their own rows the same way, keyed by (index id, position).
"""

from nubo.services.dynamodb.values import dump_item
from nubo.store import TableSpec

# One row per table: its definition (key schema, indexes, billing, streams, tags, ...).
TABLES = TableSpec(
    name="dynamodb_tables",
    key=("account", "region", "name"),
    columns={"account": "text", "region": "text", "name": "text", "id": "int"},
    indexes={"by_id": ("id",)},
)

# Item count and size per table, updated with each write (DescribeTable's ItemCount and
# TableSizeBytes, and the same for each secondary index).
STATS = TableSpec(
    name="dynamodb_stats",
    key=("owner",),
    columns={"owner": "int", "items": "int", "bytes": "int"},
)


def _item_as_json(record: dict) -> dict:
    # version 1 kept the item in the row's CBOR document
    return dict(record, item=dump_item(record["item"]))


def _positioned_items(name: str, owner: str) -> TableSpec:
    """Items by (owner id, position): `item` is the item in its wire form as JSON
    (values.dump_item), `size` its AWS size in bytes."""
    return TableSpec(name=name, key=(owner, "position"),
                     columns={owner: "int", "position": "blob", "item": "blob", "size": "int"},
                     version=2, migrations={1: _item_as_json})


# Items of every table (and of every on-demand backup, under the backup's id).
ITEMS = _positioned_items("dynamodb_items", "table")

# Entries of every secondary index: the projected item, positioned by the index key then the
# table key (two items may share an index key).
INDEX_ITEMS = _positioned_items("dynamodb_index_items", "index")

# The size of each item collection (a partition key's items and their local index entries) of
# the tables with local secondary indexes: AWS's 10 GB limit and ItemCollectionMetrics.
COLLECTIONS = TableSpec(
    name="dynamodb_collections",
    key=("table", "partition"),
    columns={"table": "int", "partition": "blob", "bytes": "int"},
)

# ClientRequestTokens of TransactWriteItems in the last 10 minutes.
TRANSACTION_TOKENS = TableSpec(
    name="dynamodb_transaction_tokens",
    key=("account", "region", "token"),
    columns={"account": "text", "region": "text", "token": "text", "expires": "real"},
    indexes={"by_expiry": ("expires",)},
)

# When each item of a table with TTL enabled expires (its TTL attribute, epoch seconds): the
# sweeper reads the front of by_expiry, so it costs what expired, not the table's size.
EXPIRIES = TableSpec(
    name="dynamodb_expiries",
    key=("table", "position"),
    columns={"table": "int", "position": "blob", "expires": "real"},
    indexes={"by_expiry": ("expires",)},
)

# DynamoDB Streams records, in sequence order per stream, kept 24 hours; a stream's shards are
# the 4-hour windows of its records' creation times (by_stream_created finds their bounds).
STREAM_RECORDS = TableSpec(
    name="dynamodb_stream_records",
    key=("stream", "sequence"),
    columns={"stream": "text", "sequence": "int", "created": "real"},
    indexes={"by_created": ("created",), "by_stream_created": ("stream", "created")},
)

# On-demand backups: the table's definition as it was, and its items copied into ITEMS under
# the backup's own id (so a restore is one range read).
BACKUPS = TableSpec(
    name="dynamodb_backups",
    key=("account", "region", "arn"),
    columns={"account": "text", "region": "text", "arn": "text", "table_name": "text",
             "created": "real"},
    indexes={"by_table": ("account", "region", "table_name", "created")},
)

# Rows of deleted tables, indexes and backups, removed in the background a chunk at a time
# (DeleteTable answers at once, as AWS's DELETING does). kind: items | index | expiries |
# history | changes (an incremental export's) | collections.
DROPPED = TableSpec(
    name="dynamodb_dropped",
    key=("owner", "kind"),
    columns={"owner": "int", "kind": "text"},
)

# Work that reads a whole table, done in the background a chunk per pass: backfilling a new
# GSI (kind "gsi", owner: the index), indexing expiries after TTL is enabled (kind "ttl",
# owner: the table), copying a table into a backup (kind "backup", owner: the backup; its
# cursor in the backup's record) and filling a restored table (kind "restore", owner: the new
# table). The other jobs' cursors live in the table's record.
JOBS = TableSpec(
    name="dynamodb_jobs",
    key=("kind", "owner"),
    columns={"kind": "text", "owner": "int", "table": "int"},
)

# Point-in-time recovery: for tables with PITR enabled, every write records the item as it was
# before (None: it did not exist). A restore to time T copies the table and undoes, newest
# first, the writes made after T. Kept 35 days.
HISTORY = TableSpec(
    name="dynamodb_history",
    key=("table", "sequence"),
    columns={"table": "int", "sequence": "int", "time": "real"},
    indexes={"by_table_time": ("table", "time"), "by_time": ("time",)},
)

# Exports to S3 (ExportTableToPointInTime) and imports from S3 (ImportTable): one record each,
# worked through by the background loop while IN_PROGRESS (transfers.py). An export reads a
# snapshot of the table taken when it was asked for, kept in ITEMS under the export's own id.
def _transfer_jobs(name: str) -> TableSpec:
    return TableSpec(
        name=name,
        key=("account", "region", "arn"),
        columns={"account": "text", "region": "text", "arn": "text", "table_arn": "text",
                 "status": "text", "token": "text"},
        indexes={"by_table": ("account", "region", "table_arn", "arn"),
                 "by_status": ("status",), "by_token": ("account", "region", "token")},
    )


EXPORTS = _transfer_jobs("dynamodb_exports")
IMPORTS = _transfer_jobs("dynamodb_imports")

# The items an incremental export found changed in its window, by (export's snapshot id,
# position): the item as it was at ExportFromTime (`old`, from the point-in-time history), as it
# was at ExportToTime once known (`new`, `resolved`), and when it was last written in the window.
EXPORT_CHANGES = TableSpec(
    name="dynamodb_export_changes",
    key=("export", "position"),
    columns={"export": "int", "position": "blob"},
)
