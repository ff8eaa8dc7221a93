"""On-demand backups: CreateBackup copies a table's definition and items (CREATING while the
background copies the rows, AVAILABLE once done), RestoreTableFromBackup
makes a new table from them (indexes rebuilt; streams, TTL and tags are not restored, as on
AWS), DescribeBackup, ListBackups and DeleteBackup. RestoreTableToPointInTime copies the table
and undoes the writes made after the restore time (items.py keeps their before-images while
point-in-time recovery is enabled). A restored table is CREATING while the background loop
copies the rows a chunk at a time (api.py's jobs), as AWS's restores take their time."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from nubo.core.clock import Clock
from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.services.dynamodb import schema
from nubo.services.dynamodb.items import READ_BATCH, Items
from nubo.services.dynamodb.models import Table, Tables, definition_of
from nubo.services.dynamodb.values import validation
from nubo.store import Store

MAX_LIST = 100


class Backups:
    def __init__(self, store: Store, clock: Clock, tables: Tables, items: Items) -> None:
        self.store = store
        self.clock = clock
        self.tables = tables
        self.items = items
        self.backups = store.table(schema.BACKUPS)

    def _get(self, ctx: RequestContext, arn: str) -> dict:
        parts = arn.split(":", 5)
        record = self.backups.get((parts[4], parts[3], arn)) if len(parts) == 6 else None
        if record is None:
            raise ServiceError("BackupNotFoundException",
                               f"Backup not found for the given BackupARN: {arn}")
        return record

    def _available(self, ctx: RequestContext, arn: str) -> dict:
        record = self._get(ctx, arn)
        if record.get("status") == "CREATING":
            raise ServiceError("BackupInUseException",
                               "There is another ongoing conflicting backup control plane "
                               "operation on the table. The backup is either being created, "
                               "deleted or restored to a table.")
        return record

    def create(self, ctx: RequestContext, table: Table, name: str) -> dict:
        now = self.clock.now()
        backup_id = self.store.sequence("dynamodb_table")
        suffix = hashlib.sha256(f"{table.arn}{backup_id}".encode()).hexdigest()[:8]
        arn = f"{table.arn}/backup/{int(now * 1000):014d}-{suffix}"
        items, size = self.tables.counts(table.id)
        record = {"account": ctx.account_id, "region": ctx.region, "arn": arn,
                  "table_name": table.name, "created": now, "id": backup_id, "name": name,
                  "table": copy.deepcopy(table.record), "items": items, "bytes": size,
                  "description": self.tables.describe(table), "status": "CREATING",
                  "cursor": b""}
        self.backups.put(record)
        # The background copies the rows a chunk per pass; the table keeps the before-image
        # of each write meanwhile, so that the copy is undone back to this moment.
        self.tables.change(table, capturing=sorted({*table.record.get("capturing", ()),
                                                    backup_id}))
        self.tables.jobs.put({"kind": "backup", "owner": backup_id, "table": table.id})
        return _details(record)

    def copy_chunk(self, table: Table, backup_id: int, limit: int = READ_BATCH) -> None:
        """The next ``limit`` rows of a backup in progress; once every row is copied, the
        writes made since the backup began are undone in the copy and it is AVAILABLE."""
        found = [r for r in self.backups.find(index="by_table", eq=(
            table.record["account"], table.record["region"], table.name)) if r["id"] == backup_id]
        record = found[0] if found else None
        if record is not None and record.get("status") == "CREATING":
            cursor = self.items.copy_rows(table.id, backup_id, record["cursor"], limit)
            if cursor is not None:
                self.backups.put(dict(record, cursor=cursor))
                return
            self.items.rewind_rows(table.id, backup_id, record["created"])
            self.backups.put({k: v for k, v in record.items() if k != "cursor"} |
                             {"status": "AVAILABLE"})
        self.tables.change(table, capturing=[b for b in table.record.get("capturing", ())
                                             if b != backup_id])
        self.tables.jobs.delete(("backup", backup_id))

    def describe(self, ctx: RequestContext, arn: str) -> dict:
        record = self._get(ctx, arn)
        table = record["description"]
        source = {key: table[key] for key in ("TableName", "TableId", "TableArn", "KeySchema",
                                              "ProvisionedThroughput") if key in table}
        source.update({"TableSizeBytes": record["bytes"], "ItemCount": record["items"],
                       "TableCreationDateTime": table["CreationDateTime"],
                       "BillingMode": record["table"]["BillingMode"]})
        features = {key: table[key] for key in ("LocalSecondaryIndexes",
                                                "GlobalSecondaryIndexes", "SSEDescription")
                    if key in table}
        if "StreamSpecification" in table:
            features["StreamDescription"] = table["StreamSpecification"]
        return {"BackupDetails": _details(record), "SourceTableDetails": source,
                "SourceTableFeatureDetails": features}

    def list(self, ctx: RequestContext, table_name: str | None, limit: int | None,
             start: str | None, lower: float | None = None, upper: float | None = None,
             backup_type: str | None = None) -> dict:
        """ListBackups: the account's backups (of one table), created in [lower, upper) when
        bounded; nubo's backups are all USER ones."""
        if lower is not None and upper is not None and lower > upper:
            raise validation("One or more parameter values were invalid: Time range lower bound "
                             "must be less than or equal to upper bound")
        if (backup_type or "USER") not in ("USER", "ALL"):
            return {"BackupSummaries": []}
        eq = (ctx.account_id, ctx.region) + ((table_name,) if table_name else ())
        records = [r for r in self.backups.find(index="by_table", eq=eq)
                   if (lower is None or r["created"] >= lower) and
                   (upper is None or r["created"] < upper)]
        if start is not None:
            arns = [r["arn"] for r in records]
            records = records[arns.index(start) + 1:] if start in arns else []
        limit = limit or MAX_LIST
        output: dict[str, Any] = {"BackupSummaries": [_summary(r) for r in records[:limit]]}
        if len(records) > limit:
            output["LastEvaluatedBackupArn"] = records[limit - 1]["arn"]
        return output

    def delete(self, ctx: RequestContext, arn: str) -> dict:
        description = self.describe(ctx, arn)
        record = self._available(ctx, arn)
        self.tables.drop(record["id"], "items")
        self.backups.delete((record["account"], record["region"], arn))
        description["BackupDetails"]["BackupStatus"] = "DELETED"
        return description

    def restore(self, ctx: RequestContext, arn: str, target: str,
                overrides: dict[str, Any]) -> Table:
        record = self._available(ctx, arn)
        return self._restore_into(ctx, record["table"], record["id"], target, overrides,
                                  {"SourceBackupArn": arn})

    def restore_to_time(self, ctx: RequestContext, source: Table, target: str,
                        moment: float | None, overrides: dict[str, Any]) -> Table:
        """RestoreTableToPointInTime: the table copied, then the writes after ``moment``
        undone (None: the latest restorable time, the table as it is)."""
        pitr = source.record.get("pitr")
        if not pitr:
            raise ServiceError("PointInTimeRecoveryUnavailableException",
                               f"Point in time recovery is not enabled for table '{source.name}'")
        now = self.clock.now()
        earliest = max(pitr["since"], now - pitr["days"] * 86400)
        if moment is not None and not earliest <= moment <= now:
            raise ServiceError("InvalidRestoreTimeException",
                               "An invalid restore time was specified. RestoreDateTime must be "
                               "between EarliestRestorableDateTime and LatestRestorableDateTime.")
        # the copy is made a chunk at a time while the source changes: undoing every write
        # after the restore time (the request's, for the latest) makes it one moment's state
        return self._restore_into(ctx, source.record, source.id, target, overrides, {},
                                  now if moment is None else moment)

    def _restore_into(self, ctx: RequestContext, source: dict, owner: int, target: str,
                      overrides: dict[str, Any], summary: dict,
                      since: float | None = None) -> Table:
        """A new table with the source's keys and indexes, CREATING while the background
        fills it from ``owner``'s rows (then undoes the writes after ``since``)."""
        if self.tables.find(ctx.account_id, ctx.region, target) is not None:
            raise ServiceError("TableAlreadyExistsException", f"Table already exists: {target}")
        billing = overrides.get("BillingModeOverride") or source["BillingMode"]
        if billing != source["BillingMode"] and billing == "PROVISIONED" and \
                not overrides.get("ProvisionedThroughputOverride"):
            raise validation("Invalid Request: Must override ProvisionedThroughput if "
                             "BillingMode is overridden to PROVISIONED")
        table = self.tables.create(ctx, TableName=target, **definition_of(
            source, billing, overrides.get("ProvisionedThroughputOverride")))
        table.record["RestoreSummary"] = {**summary, "SourceTableArn": source["TableArn"],
                                          "RestoreDateTime": self.clock.now(),
                                          "RestoreInProgress": True}
        table.record["restoring"] = {"rows": owner, "cursor": b"", "since": since}
        self.tables.save(table)
        self.tables.jobs.put({"kind": "restore", "owner": table.id, "table": table.id})
        return table


def _details(record: dict) -> dict:
    return {"BackupArn": record["arn"], "BackupName": record["name"],
            "BackupSizeBytes": record["bytes"],
            "BackupStatus": record.get("status", "AVAILABLE"),
            "BackupType": "USER", "BackupCreationDateTime": record["created"]}


def _summary(record: dict) -> dict:
    table = record["table"]
    return {"TableName": table["name"], "TableId": table["TableId"],
            "TableArn": table["TableArn"], "BackupArn": record["arn"],
            "BackupName": record["name"], "BackupCreationDateTime": record["created"],
            "BackupStatus": record.get("status", "AVAILABLE"), "BackupType": "USER",
            "BackupSizeBytes": record["bytes"]}
