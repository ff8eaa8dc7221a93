"""Global tables (version 2019.11.21) within one nubo: UpdateTable's ReplicaUpdates creates the
table in other regions of the account, and every write to any replica is applied to all of
them in the same store transaction (replication is instant here, last writer wins as on AWS).
Each replica has its own stream; adding a replica turns on NEW_AND_OLD_IMAGES streams."""

from __future__ import annotations

from dataclasses import replace

from nubo.core.context import RequestContext
from nubo.services.dynamodb.items import Items
from nubo.services.dynamodb.models import Table, Tables, definition_of, not_implemented
from nubo.services.dynamodb.values import validation

class Replicas:
    def __init__(self, tables: Tables, items: Items) -> None:
        self.tables = tables
        self.items = items
        items.replicas_of = self.others

    def members(self, table: Table) -> list[str]:
        return list(table.record.get("replicas") or [table.record["region"]])

    def others(self, table: Table) -> list[Table]:
        """The other replicas of a global table (none for a regional table)."""
        record = table.record
        found = []
        for region in record.get("replicas") or ():
            if region != record["region"]:
                other = self.tables.find(record["account"], region, record["name"])
                if other is not None:
                    found.append(other)
        return found

    def update(self, ctx: RequestContext, table: Table, updates: list[dict]) -> None:
        if not updates:
            raise validation("There are no actions specified in the Replica Update Action of "
                             "the request.")
        if len(updates) > 1:
            raise validation("Update table operation with more than one create or delete "
                             "replica actions not allowed")
        (action, spec), = updates[0].items()
        region = spec["RegionName"]
        if region == table.record["region"]:
            raise validation("Cannot add or delete the local region through ReplicaUpdates.")
        if action == "Create":
            self._create(ctx, table, region)
        elif action == "Delete":
            self._delete(ctx, table, region)
        else:
            raise not_implemented(f"ReplicaUpdates {action}")

    def _create(self, ctx: RequestContext, table: Table, region: str) -> None:
        record = table.record
        members = self.members(table)
        if region in members or self.tables.find(ctx.account_id, region, record["name"]):
            raise validation(f"Failed to create a the new replica of table with name: "
                             f"‘{record['name']}’ because one or more replicas already existed "
                             "as tables.")
        stream = record.get("stream")
        if stream is None or not stream.get("enabled", True):
            self.tables.change(table, stream=self.tables.new_stream(
                record["TableArn"], "NEW_AND_OLD_IMAGES", self.tables.clock.now()))
        self.tables.create(
            replace(ctx, region=region), TableName=record["name"],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            **definition_of(record, record["BillingMode"], None))
        members.append(region)
        for member in [self.tables.find(ctx.account_id, r, record["name"]) for r in members]:
            self.tables.change(member, replicas=sorted(members))
        # CREATING while the background copies the items a chunk per pass; writes meanwhile
        # reach it as they reach every replica, and the copy reads each row as it is then.
        replica = self.tables.find(ctx.account_id, region, record["name"])
        self.tables.change(replica, restoring={"rows": table.id, "cursor": b"", "since": None})
        self.tables.jobs.put({"kind": "restore", "owner": replica.id, "table": replica.id})

    def _delete(self, ctx: RequestContext, table: Table, region: str) -> None:
        members = self.members(table)
        replica = self.tables.find(ctx.account_id, region, table.record["name"])
        if region not in members or replica is None:
            raise validation("Update global table operation failed because one or more replicas "
                             f"were not part of the global table. Please retry the request "
                             f"without these replicas: [{region}].")
        self.forget(replica)
        self.tables.delete(replica)

    def forget(self, table: Table) -> None:
        """A replica leaves its global table (DeleteTable of a replica, or a Delete action)."""
        members = [r for r in self.members(table) if r != table.record["region"]]
        for other in self.others(table):
            self.tables.change(other, replicas=members if len(members) > 1 else None)
