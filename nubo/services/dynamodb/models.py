"""DynamoDB tables: definitions, validation of CreateTable/UpdateTable with AWS's messages,
the DescribeTable view, listing, tags and time-to-live settings.

Items live in items.py; both share ``Table`` (a table record with its key schemas).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import uuid
from datetime import datetime, timezone
from dataclasses import dataclass
from typing import Any

from nubo.core.clock import Clock
from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.services.dynamodb import schema
from nubo.services.dynamodb.values import INVALID, key_bytes, validation
from nubo.store import Store

MAX_LIST_TABLES = 100
MAX_GSIS = 20
MAX_LSIS = 5
MAX_TAGS = 50
TTL_CHANGE_INTERVAL = 3600  # seconds between two UpdateTimeToLive changes of a table
LIMITS = {"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
          "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000}


def not_found(message: str = "Requested resource not found") -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


def in_use(message: str) -> ServiceError:
    return ServiceError("ResourceInUseException", message)


@dataclass(frozen=True)
class KeySchema:
    """The key of a table or an index: names and scalar types of its HASH and RANGE parts."""

    hash_name: str
    hash_type: str
    range_name: str | None = None
    range_type: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.hash_name,) if self.range_name is None else (self.hash_name,
                                                                  self.range_name)

    def partition(self, hash_value: dict) -> bytes:
        """The position prefix of one partition: a 4-byte hash (the Scan order and the
        parallel-Scan segments), then the partition key itself."""
        encoded = key_bytes(hash_value)
        return hashlib.md5(encoded).digest()[:4] + encoded

    def position(self, item: dict) -> bytes:
        prefix = self.partition(item[self.hash_name])
        if self.range_name is None:
            return prefix
        return prefix + key_bytes(item[self.range_name])

    def key_of(self, item: dict) -> dict:
        return {name: item[name] for name in self.names}

    def covers(self, item: dict) -> bool:
        """Whether the item has this key's attributes with the right types (sparse indexes)."""
        for name, kind in ((self.hash_name, self.hash_type), (self.range_name, self.range_type)):
            if name is not None:
                value = item.get(name)
                if value is None or kind not in value:
                    return False
        return True


def key_schema_of(elements: list[dict], types: dict[str, str]) -> KeySchema:
    hash_name = elements[0]["AttributeName"]
    range_name = elements[1]["AttributeName"] if len(elements) > 1 else None
    return KeySchema(hash_name, types[hash_name], range_name,
                     types[range_name] if range_name else None)


@dataclass
class Index:
    name: str
    id: int
    kind: str  # "global" | "local"
    key: KeySchema
    projection: dict  # {"ProjectionType": ..., "NonKeyAttributes": [...]}
    # A GSI added by UpdateTable is CREATING while the background backfill indexes the table's
    # items; positions below the cursor are indexed, writes above it are left to the backfill.
    backfill: bytes | None = None

    def project(self, item: dict, table_key: KeySchema) -> dict:
        kind = self.projection["ProjectionType"]
        if kind == "ALL":
            return item
        names = set(self.key.names) | set(table_key.names)
        if kind == "INCLUDE":
            names |= set(self.projection.get("NonKeyAttributes", ()))
        return {k: v for k, v in item.items() if k in names}


class Table:
    """A table record with its key schemas resolved."""

    __slots__ = ("record", "key", "indexes")

    def __init__(self, record: dict) -> None:
        self.record = record
        types = {d["AttributeName"]: d["AttributeType"] for d in record["AttributeDefinitions"]}
        self.key = key_schema_of(record["KeySchema"], types)
        self.indexes: dict[str, Index] = {}
        for kind, field in (("local", "LocalSecondaryIndexes"),
                            ("global", "GlobalSecondaryIndexes")):
            for index in record.get(field) or ():
                self.indexes[index["IndexName"]] = Index(
                    index["IndexName"], index["id"], kind,
                    key_schema_of(index["KeySchema"], types), index["Projection"],
                    index.get("backfill"))

    @property
    def id(self) -> int:
        return self.record["id"]

    @property
    def name(self) -> str:
        return self.record["name"]

    @property
    def arn(self) -> str:
        return self.record["TableArn"]

    @property
    def has_local_indexes(self) -> bool:
        """Whether its items form item collections (local indexes exist from creation on)."""
        return bool(self.record.get("LocalSecondaryIndexes"))

    @property
    def filling(self) -> bool:
        """CREATING while an import or a restore fills it: item operations do not find it
        yet, as on AWS."""
        return bool(self.record.get("importing") or self.record.get("restoring"))



# -- CreateTable validation -------------------------------------------------------------------

def _check_key_schema(elements: list[dict]) -> None:
    if elements[0]["KeyType"] != "HASH":
        raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(elements) > 1:
        if elements[1]["KeyType"] != "RANGE":
            raise validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE "
                             "key type")
        if elements[0]["AttributeName"] == elements[1]["AttributeName"]:
            raise validation("Both the Hash Key and the Range Key element in the KeySchema "
                             "have the same name")


def _check_projection(projection: dict, index_name: str) -> None:
    kind = projection.get("ProjectionType")
    extra = projection.get("NonKeyAttributes")
    if kind is None:
        raise validation(INVALID + "Unknown ProjectionType: null")
    if kind == "INCLUDE" and not extra:
        raise validation(INVALID + "ProjectionType is INCLUDE, but NonKeyAttributes is not "
                         "specified")
    if kind != "INCLUDE" and extra:
        raise validation(INVALID + f"ProjectionType is {kind}, but NonKeyAttributes is "
                         "specified")


def _check_throughput(billing: str, throughput: dict | None, index: str | None = None,
                      updating: bool = False) -> None:
    """AWS's texts differ between CreateTable and UpdateTable, tables and indexes."""
    if billing == "PAY_PER_REQUEST" and throughput:
        if index:
            raise validation(INVALID + f"ProvisionedThroughput should not be specified for index: "
                             f"{index} when BillingMode is PAY_PER_REQUEST")
        raise validation(INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be "
                         "specified when BillingMode is PAY_PER_REQUEST")
    if billing == "PROVISIONED" and not throughput:
        if index:
            raise validation(INVALID + ("ProvisionedThroughput must be specified for index: "
                                        if updating else
                                        "ProvisionedThroughput is not specified for index: ")
                             + index)
        if updating:
            raise validation(INVALID + "ProvisionedThroughput must be specified when "
                             "BillingMode is PROVISIONED")
        raise validation(INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be "
                         "specified when BillingMode is PROVISIONED")


def validate_definition(KeySchema: list[dict], AttributeDefinitions: list[dict],
                        BillingMode: str, ProvisionedThroughput: dict | None,
                        LocalSecondaryIndexes: list[dict] | None,
                        GlobalSecondaryIndexes: list[dict] | None) -> None:
    """CreateTable's rules, in the order AWS checks them."""
    _check_key_schema(KeySchema)
    defined: dict[str, str] = {}
    for definition in AttributeDefinitions:
        name = definition["AttributeName"]
        if name in defined:
            raise validation(f"Attribute Name is duplicated: {name}")
        defined[name] = definition["AttributeType"]
    used = [e["AttributeName"] for e in KeySchema]
    for index in (LocalSecondaryIndexes or []) + (GlobalSecondaryIndexes or []):
        used += [e["AttributeName"] for e in index["KeySchema"]]
    missing = [name for name in dict.fromkeys(used) if name not in defined]
    if missing:
        raise validation(INVALID + "Some index key attributes are not defined in "
                         f"AttributeDefinitions. Keys: [{', '.join(missing)}], "
                         f"AttributeDefinitions: [{', '.join(defined)}]")
    if len(set(used)) != len(defined):
        if LocalSecondaryIndexes or GlobalSecondaryIndexes:
            raise validation(INVALID + "Some AttributeDefinitions are not used. "
                             f"AttributeDefinitions: [{', '.join(defined)}], keys used: "
                             f"[{', '.join(dict.fromkeys(used))}]")
        raise validation(INVALID + "Number of attributes in KeySchema does not exactly match "
                         "number of attributes defined in AttributeDefinitions")
    _check_throughput(BillingMode, ProvisionedThroughput)
    names: set[str] = set()
    table_hash = KeySchema[0]["AttributeName"]
    if LocalSecondaryIndexes is not None:
        if not LocalSecondaryIndexes:
            raise validation(INVALID + "List of LocalSecondaryIndexes is empty")
        if len(LocalSecondaryIndexes) > MAX_LSIS:
            raise validation(INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit "
                             f"of {MAX_LSIS}")
        if len(KeySchema) < 2:
            raise validation(INVALID + "Table KeySchema does not have a range key, which is "
                             "required when specifying a LocalSecondaryIndex")
    for index in LocalSecondaryIndexes or ():
        name = index["IndexName"]
        _check_index_name(name, names)
        _check_key_schema(index["KeySchema"])
        if len(index["KeySchema"]) < 2:
            raise validation(INVALID + f"Index KeySchema does not have a range key for index: "
                             f"{name}")
        if index["KeySchema"][0]["AttributeName"] != table_hash:
            raise validation(INVALID + "Index KeySchema does not have the same leading hash "
                             f"key as table KeySchema for index: {name}. index hash key: "
                             f"{index['KeySchema'][0]['AttributeName']}, table hash key: "
                             f"{table_hash}")
        _check_projection(index["Projection"], name)
    if GlobalSecondaryIndexes is not None:
        if not GlobalSecondaryIndexes:
            raise validation(INVALID + "List of GlobalSecondaryIndexes is empty")
        if len(GlobalSecondaryIndexes) > MAX_GSIS:
            raise validation(INVALID + "GlobalSecondaryIndex count exceeds the per-table limit "
                             f"of {MAX_GSIS}")
    for index in GlobalSecondaryIndexes or ():
        check_global_index(index, names, BillingMode)


def _check_index_name(name: str, names: set[str]) -> None:
    if name in names:
        raise validation(INVALID + f"Duplicate index name: {name}")
    names.add(name)


def check_global_index(index: dict, names: set[str], billing: str,
                       updating: bool = False) -> None:
    name = index["IndexName"]
    _check_index_name(name, names)
    _check_key_schema(index["KeySchema"])
    _check_projection(index["Projection"], name)
    _check_throughput(billing, index.get("ProvisionedThroughput"), name, updating)


# -- the tables -------------------------------------------------------------------------------

class Tables:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.tables = store.table(schema.TABLES)
        self.stats = store.table(schema.STATS)
        self.dropped = store.table(schema.DROPPED)
        self.jobs = store.table(schema.JOBS)
        self._cache: dict[tuple[str, str, str], Table] = {}

    def reset(self) -> None:
        self._cache.clear()

    # -- lookup ---------------------------------------------------------------------------

    def find(self, account: str, region: str, name: str) -> Table | None:
        if name.startswith("arn:"):  # TableName may be the table's ARN
            parts = name.split(":", 5)
            if len(parts) == 6:
                region, account = parts[3], parts[4]
            name = name_from_arn(name)
        key = (account, region, name)
        table = self._cache.get(key)
        if table is None:
            record = self.tables.get(key)
            if record is None:
                return None
            table = self._cache[key] = Table(record)
        return table

    def get(self, ctx: RequestContext, name: str, message: str | None = None) -> Table:
        """The table, or ResourceNotFoundException (item operations say only "Requested
        resource not found"; table operations name the table). A table being filled by an
        import or a restore is CREATING: item operations do not find it yet."""
        check_table_name(name)
        table = self.find(ctx.account_id, ctx.region, name)
        if table is None or (message is None and table.filling):
            raise not_found(message or "Requested resource not found")
        return table

    def by_id(self, table_id: int) -> Table | None:
        rows = self.tables.find(index="by_id", eq=(table_id,), limit=1)
        return self.find(rows[0]["account"], rows[0]["region"], rows[0]["name"]) if rows else None

    def describe_target(self, ctx: RequestContext, name: str) -> Table:
        return self.get(ctx, name, f"Requested resource not found: Table: "
                                   f"{name_from_arn(name)} not found")

    def save(self, table: Table) -> None:
        record = table.record
        self.tables.put(record)
        self._cache[(record["account"], record["region"], record["name"])] = Table(record)

    # -- create / delete / list -----------------------------------------------------------

    def create(self, ctx: RequestContext, TableName: str, KeySchema: list[dict],
               AttributeDefinitions: list[dict], BillingMode: str | None = None,
               ProvisionedThroughput: dict | None = None,
               LocalSecondaryIndexes: list[dict] | None = None,
               GlobalSecondaryIndexes: list[dict] | None = None,
               StreamSpecification: dict | None = None, SSESpecification: dict | None = None,
               Tags: list[dict] | None = None, TableClass: str | None = None,
               DeletionProtectionEnabled: bool | None = None,
               OnDemandThroughput: dict | None = None, WarmThroughput: dict | None = None,
               ResourcePolicy: str | None = None, GlobalTableSourceArn: str | None = None,
               GlobalTableSettingsReplicationMode: str | None = None) -> Table:
        billing = BillingMode or "PROVISIONED"
        check_table_name(TableName)
        validate_definition(KeySchema, AttributeDefinitions, billing, ProvisionedThroughput,
                            LocalSecondaryIndexes, GlobalSecondaryIndexes)
        _check_stream(StreamSpecification, creating=True)
        _check_sse(SSESpecification)
        if Tags is not None:
            check_tags(Tags)
        if self.find(ctx.account_id, ctx.region, TableName) is not None:
            raise in_use(f"Table already exists: {TableName}")
        now = self.clock.now()
        table_id = self.store.sequence("dynamodb_table")
        arn = ctx.arn("dynamodb", f"table/{TableName}")
        record: dict[str, Any] = {
            "account": ctx.account_id, "region": ctx.region, "name": TableName, "id": table_id,
            "TableArn": arn, "TableId": str(uuid.uuid4()), "created": now,
            "KeySchema": KeySchema, "AttributeDefinitions": AttributeDefinitions,
            "BillingMode": billing, "throughput": _throughput(ProvisionedThroughput),
            "Tags": {t["Key"]: t["Value"] for t in Tags or ()},
            "DeletionProtectionEnabled": bool(DeletionProtectionEnabled),
        }
        if billing == "PAY_PER_REQUEST":
            record["billing_switched"] = now
        if TableClass:
            record["TableClass"] = TableClass
        if SSESpecification and SSESpecification.get("Enabled"):
            record["SSESpecification"] = SSESpecification
        if GlobalTableSourceArn is not None:
            raise not_implemented("GlobalTableSourceArn")
        if OnDemandThroughput:
            record["OnDemandThroughput"] = OnDemandThroughput
        if WarmThroughput:
            record["WarmThroughput"] = WarmThroughput
        if ResourcePolicy is not None:
            check_policy(ResourcePolicy)
            record["policy"] = {"document": ResourcePolicy,
                                "revision": str(int(now * 1000000))}
        if StreamSpecification and StreamSpecification.get("StreamEnabled"):
            record["stream"] = self.new_stream(arn, StreamSpecification["StreamViewType"], now)
        if LocalSecondaryIndexes:
            record["LocalSecondaryIndexes"] = [
                self._new_index(arn, index, None) for index in LocalSecondaryIndexes]
        if GlobalSecondaryIndexes:
            record["GlobalSecondaryIndexes"] = [
                self._new_index(arn, index, billing) for index in GlobalSecondaryIndexes]
        table = Table(record)
        self.save(table)
        return table

    def _new_index(self, table_arn: str, index: dict, billing: str | None) -> dict:
        created = {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"],
                   "Projection": index["Projection"],
                   "id": self.store.sequence("dynamodb_table"),  # ids shared with tables (stats)
                   "IndexArn": f"{table_arn}/index/{index['IndexName']}"}
        if billing is not None:
            created["throughput"] = _throughput(index.get("ProvisionedThroughput"))
        return created

    @staticmethod
    def new_stream(table_arn: str, view_type: str, now: float) -> dict:
        label = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        return {"StreamViewType": view_type, "StreamLabel": label, "created": now,
                "StreamArn": f"{table_arn}/stream/{label}"}

    def delete(self, table: Table) -> None:
        if table.record.get("DeletionProtectionEnabled"):
            raise validation("Resource cannot be deleted as it is currently protected against "
                             "deletion. Disable deletion protection first.")
        record = table.record
        self.tables.delete((record["account"], record["region"], record["name"]))
        self._cache.pop((record["account"], record["region"], record["name"]), None)
        self.drop(table.id, "items")
        self.drop(table.id, "expiries")
        self.drop(table.id, "history")
        if table.has_local_indexes:
            self.drop(table.id, "collections")
        self.stats.delete((table.id,))
        for index in table.indexes.values():
            self.drop(index.id, "index")
            self.stats.delete((index.id,))

    def backfilled(self, table: Table, index_name: str, cursor: bytes | None) -> None:
        """Where the backfill of a new GSI got to; None: done, the index is ACTIVE."""
        record = copy.deepcopy(table.record)
        for index in record["GlobalSecondaryIndexes"]:
            if index["IndexName"] == index_name:
                if cursor is None:
                    index.pop("backfill", None)
                    self.jobs.delete(("gsi", index["id"]))
                else:
                    index["backfill"] = cursor
        table.record = record
        self.save(table)

    def restored(self, table: Table, cursor: bytes | None) -> None:
        """Where the copy filling a table (a restore, a new replica) got to; None: done, the
        table is ACTIVE."""
        record = dict(table.record)
        if cursor is None:
            record.pop("restoring", None)
            if "RestoreSummary" in record:  # a restore (not a new replica's first copy)
                record["RestoreSummary"] = dict(record["RestoreSummary"],
                                                RestoreInProgress=False)
            self.jobs.delete(("restore", table.id))
        else:
            record["restoring"] = dict(record["restoring"], cursor=cursor)
        table.record = record
        self.save(table)

    def drop(self, owner: int, kind: str) -> None:
        """Rows of a deleted table, index or backup go in the background (Items.sweep_dropped)."""
        self.dropped.put({"owner": owner, "kind": kind})

    def list(self, account: str, region: str, start: str | None, limit: int | None,
             everything: bool = False) -> tuple[list[str], str | None]:
        if everything:  # an account's tables in a region (settings listings)
            return [row["name"] for row in self.tables.find(eq=(account, region))], None
        limit = limit or MAX_LIST_TABLES
        rows = self.tables.find(eq=(account, region), lo=start, limit=limit + 2)
        names = [row["name"] for row in rows if row["name"] != start][:limit + 1]
        if len(names) > limit:
            return names[:limit], names[limit - 1]
        return names, None

    # -- describe ---------------------------------------------------------------------------

    def counts(self, owner: int) -> tuple[int, int]:
        row = self.stats.get((owner,))
        return (row["items"], row["bytes"]) if row else (0, 0)

    def describe(self, table: Table, status: str = "ACTIVE",
                 creating: tuple[str, ...] = ()) -> dict:
        """DescribeTable's view; ``status`` and the global indexes named in ``creating`` show
        the transition the request started (nubo completes it at once)."""
        record = table.record
        items, size = self.counts(table.id)
        described: dict[str, Any] = {
            "AttributeDefinitions": record["AttributeDefinitions"],
            "TableName": record["name"],
            "KeySchema": record["KeySchema"],
            "TableStatus": "CREATING" if table.filling else status,
            "CreationDateTime": record["created"],
            "ProvisionedThroughput": _throughput_view(record["throughput"]),
            "TableSizeBytes": size,
            "ItemCount": items,
            "TableArn": record["TableArn"],
            "TableId": record["TableId"],
            "DeletionProtectionEnabled": record.get("DeletionProtectionEnabled", False),
        }
        if "billing_switched" in record:
            described["BillingModeSummary"] = {
                "BillingMode": record["BillingMode"],
                "LastUpdateToPayPerRequestDateTime": record["billing_switched"]}
        if record.get("OnDemandThroughput"):
            described["OnDemandThroughput"] = record["OnDemandThroughput"]
        if record.get("WarmThroughput"):
            described["WarmThroughput"] = dict(record["WarmThroughput"], Status="ACTIVE")
        for field in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
            indexes = record.get(field)
            if indexes:
                described[field] = [self._describe_index(index, field, creating)
                                    for index in indexes]
        stream = record.get("stream")
        if stream is not None:  # a disabled stream's ARN and label stay, its spec goes
            if stream.get("enabled", True):
                described["StreamSpecification"] = {"StreamEnabled": True,
                                                    "StreamViewType": stream["StreamViewType"]}
            described["LatestStreamLabel"] = stream["StreamLabel"]
            described["LatestStreamArn"] = stream["StreamArn"]
        regions = record.get("replicas")
        if regions:  # a global table: the other replicas
            described["GlobalTableVersion"] = "2019.11.21"
            described["Replicas"] = []
            for region in regions:
                if region != record["region"]:
                    other = self.find(record["account"], region, record["name"])
                    filling = other is not None and other.filling
                    described["Replicas"].append({"RegionName": region, "ReplicaStatus":
                                                  "CREATING" if filling else "ACTIVE"})
        if record.get("RestoreSummary"):
            described["RestoreSummary"] = record["RestoreSummary"]
        if record.get("TableClass"):
            described["TableClassSummary"] = {"TableClass": record["TableClass"]}
        if record.get("SSESpecification"):
            sse = record["SSESpecification"]
            described["SSEDescription"] = {
                "Status": "ENABLED", "SSEType": sse.get("SSEType", "KMS"),
                "KMSMasterKeyArn": sse.get("KMSMasterKeyId") or
                f"arn:aws:kms:{record['region']}:{record['account']}:key/"
                f"{uuid.uuid5(uuid.NAMESPACE_URL, record['TableArn'])}"}
        return described

    def _describe_index(self, index: dict, field: str, creating: tuple[str, ...]) -> dict:
        items, size = self.counts(index["id"])
        described = {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"],
                     "Projection": index["Projection"], "IndexSizeBytes": size,
                     "ItemCount": items, "IndexArn": index["IndexArn"]}
        if field == "GlobalSecondaryIndexes":
            backfilling = "backfill" in index
            described["IndexStatus"] = ("CREATING" if backfilling or index["IndexName"] in
                                        creating else "ACTIVE")
            if backfilling:
                described["Backfilling"] = True
            described["ProvisionedThroughput"] = _throughput_view(index.get("throughput"))
        return described

    # -- update -----------------------------------------------------------------------------

    def update(self, table: Table, AttributeDefinitions: list[dict] | None = None,
               BillingMode: str | None = None, ProvisionedThroughput: dict | None = None,
               GlobalSecondaryIndexUpdates: list[dict] | None = None,
               StreamSpecification: dict | None = None, TableClass: str | None = None,
               DeletionProtectionEnabled: bool | None = None,
               OnDemandThroughput: dict | None = None, SSESpecification: dict | None = None,
               WarmThroughput: dict | None = None,
               MultiRegionConsistency: str | None = None,
               GlobalTableWitnessUpdates: list | None = None,
               GlobalTableSettingsReplicationMode: str | None = None) -> None:
        """Applies the changes; global indexes it creates are backfilled in the background."""
        _check_update_combination(
            {"ProvisionedThroughput": ProvisionedThroughput, "BillingMode": BillingMode,
             "GlobalSecondaryIndexUpdates": GlobalSecondaryIndexUpdates,
             "StreamSpecification": StreamSpecification, "TableClass": TableClass,
             "DeletionProtectionEnabled": DeletionProtectionEnabled,
             "OnDemandThroughput": OnDemandThroughput, "SSESpecification": SSESpecification,
             "WarmThroughput": WarmThroughput})
        _check_sse(SSESpecification)
        record = copy.deepcopy(table.record)  # the cached record stays intact on errors
        changed = False
        billing = BillingMode or record["BillingMode"]
        if BillingMode is not None and BillingMode != record["BillingMode"]:
            _check_throughput(BillingMode, ProvisionedThroughput, updating=True)
            record["BillingMode"] = BillingMode
            record["billing_switched"] = self.clock.now()
            record["throughput"] = _throughput(ProvisionedThroughput)
            for index in record.get("GlobalSecondaryIndexes") or ():
                index["throughput"] = _throughput(None)
            changed = True
        elif ProvisionedThroughput is not None:
            if billing == "PAY_PER_REQUEST":
                _check_throughput(billing, ProvisionedThroughput, updating=True)
            current = record["throughput"]
            if (current["ReadCapacityUnits"], current["WriteCapacityUnits"]) == (
                    ProvisionedThroughput["ReadCapacityUnits"],
                    ProvisionedThroughput["WriteCapacityUnits"]):
                raise validation("The provisioned throughput for the table will not change. The "
                                 "requested value equals the current value. Current "
                                 f"ReadCapacityUnits provisioned for the table: "
                                 f"{current['ReadCapacityUnits']}. Requested "
                                 f"ReadCapacityUnits: "
                                 f"{ProvisionedThroughput['ReadCapacityUnits']}. Current "
                                 f"WriteCapacityUnits provisioned for the table: "
                                 f"{current['WriteCapacityUnits']}. Requested "
                                 f"WriteCapacityUnits: "
                                 f"{ProvisionedThroughput['WriteCapacityUnits']}. Refer to the "
                                 "Amazon DynamoDB Developer Guide for current limits and how "
                                 "to request higher limits.")
            record["throughput"] = _throughput(ProvisionedThroughput)
            changed = True
        if AttributeDefinitions:
            known = {d["AttributeName"]: d for d in record["AttributeDefinitions"]}
            for definition in AttributeDefinitions:
                known.setdefault(definition["AttributeName"], definition)
            record["AttributeDefinitions"] = list(known.values())
        if GlobalSecondaryIndexUpdates:
            changed = True
            self._update_indexes(record, GlobalSecondaryIndexUpdates, billing)
        if StreamSpecification is not None:
            _check_stream(StreamSpecification, creating=False)
            stream = record.get("stream")
            enabled = StreamSpecification.get("StreamEnabled")
            if enabled and stream is not None and stream.get("enabled", True):
                raise validation(f"Table already has an enabled stream: TableName: "
                                 f"{record['name']}")
            if not enabled and (stream is None or not stream.get("enabled", True)):
                raise validation(f"Table has no stream to disable: TableName: {record['name']}")
            if enabled:
                record["stream"] = self.new_stream(record["TableArn"],
                                                    StreamSpecification["StreamViewType"],
                                                    self.clock.now())
            else:
                record["stream"] = dict(stream, enabled=False, disabled=self.clock.now())
            changed = True
        for name, value in (("TableClass", TableClass),
                            ("DeletionProtectionEnabled", DeletionProtectionEnabled),
                            ("WarmThroughput", WarmThroughput),
                            ("OnDemandThroughput", OnDemandThroughput)):
            if value is not None:
                record[name] = value
                changed = True
        for name, value in (("MultiRegionConsistency", MultiRegionConsistency),
                            ("GlobalTableWitnessUpdates", GlobalTableWitnessUpdates)):
            if value is not None:
                raise not_implemented(name)
        if SSESpecification is not None:
            if SSESpecification.get("Enabled"):
                record["SSESpecification"] = SSESpecification
            elif "SSESpecification" not in record:  # an AWS owned key already
                raise validation(INVALID + "Table is already encrypted by default")
            else:
                record.pop("SSESpecification", None)
            changed = True
        if not changed:
            raise validation("At least one of ProvisionedThroughput, BillingMode, "
                             "UpdateStreamEnabled, GlobalSecondaryIndexUpdates, "
                             "SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, "
                             "ReplicaTransitRoleArn, MultiRegionConsistency, "
                             "DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or "
                             "TableClass is required")
        table.record = record
        self.save(table)

    def _update_indexes(self, record: dict, updates: list[dict], billing: str) -> None:
        indexes = [dict(i) for i in record.get("GlobalSecondaryIndexes") or ()]
        names = {i["IndexName"] for i in indexes} | {
            i["IndexName"] for i in record.get("LocalSecondaryIndexes") or ()}
        types = {d["AttributeName"]: d["AttributeType"] for d in record["AttributeDefinitions"]}
        local = {i["IndexName"] for i in record.get("LocalSecondaryIndexes") or ()}
        _check_index_updates(updates, local)
        for update in updates:
            if "Create" in update:
                spec = update["Create"]
                if spec["IndexName"] in names:
                    raise validation("Attempting to create an index which already exists")
                check_global_index(spec, set(names), billing, updating=True)
                missing = [e["AttributeName"] for e in spec["KeySchema"]
                           if e["AttributeName"] not in types]
                if missing:
                    raise validation(INVALID + "Some index key attributes are not defined in "
                                     f"AttributeDefinitions. Keys: [{', '.join(missing)}], "
                                     f"AttributeDefinitions: [{', '.join(types)}]")
                if len(indexes) >= MAX_GSIS:
                    raise ServiceError("LimitExceededException",
                                       "Subscriber limit exceeded: Number of global "
                                       "secondary indexes exceeds the per-table limit of 20")
                index = self._new_index(record["TableArn"], spec, billing)
                index["backfill"] = b""
                indexes.append(index)
                names.add(spec["IndexName"])
                self.jobs.put({"kind": "gsi", "owner": index["id"], "table": record["id"]})
            elif "Delete" in update:
                name = update["Delete"]["IndexName"]
                found = [i for i in indexes if i["IndexName"] == name]
                if not found:
                    raise not_found(f"Requested resource not found: Index: {name} not found")
                indexes.remove(found[0])
                self.drop(found[0]["id"], "index")
                self.jobs.delete(("gsi", found[0]["id"]))
                self.stats.delete((found[0]["id"],))
            elif "Update" in update:
                name = update["Update"]["IndexName"]
                found = [i for i in indexes if i["IndexName"] == name]
                if not found:
                    raise not_found(f"Requested resource not found: Index: {name} not found")
                if "ProvisionedThroughput" in update["Update"]:
                    found[0]["throughput"] = _throughput(update["Update"]["ProvisionedThroughput"])
        record["GlobalSecondaryIndexes"] = indexes
        if not indexes:
            del record["GlobalSecondaryIndexes"]

    # -- tags and settings ------------------------------------------------------------------

    def by_arn(self, ctx: RequestContext, arn: str) -> Table:
        """The table a tag or policy operation's ResourceArn names (the table's, or one of its
        streams'), in the caller's region."""
        if not arn.startswith("arn:"):
            raise validation(INVALID + f"ARNs must start with 'arn:': {arn}")
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "dynamodb":
            raise validation(INVALID + f"Provided Arn is not a DynamoDB resource arn: {arn}")
        name, _, rest = parts[5].removeprefix("table/").partition("/")
        if not parts[5].startswith("table/") or (rest and not rest.startswith("stream/")):
            raise validation(INVALID + "Invalid resource arn provided, only table or stream is "
                             f"accepted. Provided resource arn: {arn}")
        if parts[3] != ctx.region:
            raise validation(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
        table = self.find(parts[4], parts[3], name)
        if table is None:
            raise not_found(f"Requested resource not found: ResourcArn: {arn} not found")
        return table

    def tag(self, table: Table, tags: list[dict]) -> None:
        if not tags:
            raise validation("Atleast one Tag needs to be provided as Input.")
        for tag in tags:
            if tag["Key"].startswith("aws:"):
                raise validation(f"Tag Key cannot be prefixed with aws:, Key: {tag['Key']}")
        keys = [tag["Key"] for tag in tags]
        duplicate = next((key for key in keys if keys.count(key) > 1), None)
        if duplicate is not None:
            raise validation("Duplicate Tag Keys provided as input: Duplicate Tag Key found "
                             f"{duplicate}")
        merged = dict(table.record["Tags"])
        merged.update({t["Key"]: t["Value"] for t in tags})
        check_tags([{"Key": k, "Value": v} for k, v in merged.items()])
        self.change(table, Tags=merged)

    def untag(self, table: Table, keys: list[str]) -> None:
        if not keys:
            raise validation("Atleast one Tag Key needs to be provided as Input.")
        self.change(table, Tags={k: v for k, v in table.record["Tags"].items()
                                  if k not in keys})

    def set_ttl(self, table: Table, spec: dict) -> None:
        """Enabling starts a background scan that indexes every item's expiry; disabling
        forgets them. AWS allows one change per table an hour."""
        current = table.record.get("ttl")
        enabled = spec["Enabled"]
        if current and current["enabled"] and current["attribute"] != spec["AttributeName"]:
            raise validation("TimeToLive is active on a different AttributeName: current "
                             f"AttributeName is {current['attribute']}")
        if current and current["enabled"] == enabled:
            raise validation("TimeToLive is already " + ("enabled" if enabled else "disabled"))
        if not enabled and current is None:
            raise validation("TimeToLive is already disabled")
        now = self.clock.now()
        if current and now - current.get("changed", 0) < TTL_CHANGE_INTERVAL:
            raise validation("Time to live has been modified multiple times within a fixed "
                             "interval")
        ttl = {"enabled": enabled, "attribute": spec["AttributeName"], "changed": now}
        if enabled:
            ttl["scan"] = b""
            self.jobs.put({"kind": "ttl", "owner": table.id, "table": table.id})
        else:
            self.jobs.delete(("ttl", table.id))
            self.drop(table.id, "expiries")
        self.change(table, ttl=ttl)

    def ttl_scanned(self, table: Table, cursor: bytes | None) -> None:
        """Where the expiry scan after enabling TTL got to; None: done."""
        ttl = dict(table.record["ttl"])
        if cursor is None:
            ttl.pop("scan", None)
            self.jobs.delete(("ttl", table.id))
        else:
            ttl["scan"] = cursor
        self.change(table, ttl=ttl)

    def change(self, table: Table, **fields: Any) -> None:
        """Replace some fields of the table's record."""
        table.record = dict(table.record, **fields)
        self.save(table)


def definition_of(record: dict, billing: str, throughput: dict | None) -> dict:
    """CreateTable's parameters for a copy of a table (a restore, a replica): its keys and
    indexes; ``throughput`` overrides the table's (GSIs keep their own when they had one)."""
    definition = {key: copy.deepcopy(record[key])
                  for key in ("KeySchema", "AttributeDefinitions", "LocalSecondaryIndexes",
                              "GlobalSecondaryIndexes") if record.get(key)}
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for index in definition.get(kind, ()):
            own = index.pop("throughput", None)
            for private in ("id", "IndexArn", "backfill"):
                index.pop(private, None)
            if billing == "PROVISIONED" and kind == "GlobalSecondaryIndexes":
                provisioned = own and own["ReadCapacityUnits"]  # 0: the source was on-demand
                index["ProvisionedThroughput"] = own if provisioned else (
                    throughput or record["throughput"])
    definition["BillingMode"] = billing
    definition["ProvisionedThroughput"] = (throughput or record["throughput"]
                                           if billing == "PROVISIONED" else None)
    return definition


def not_implemented(parameter: str) -> ServiceError:
    """Multi-Region (global table) parameters: refused by name, never ignored."""
    return ServiceError("NotImplemented", f"The DynamoDB parameter {parameter} is not "
                        "implemented by nubo yet.", 501, sender_fault=False)


def policy_of(table: Table, arn: str) -> dict | None:
    """The resource-based policy of the table, or of its stream that ``arn`` names."""
    if "/stream/" in arn:
        return (table.record.get("stream_policies") or {}).get(arn)
    return table.record.get("policy")


def check_policy(policy: str) -> None:
    try:
        if not isinstance(json.loads(policy), dict):
            raise ValueError(policy)
    except ValueError:
        raise validation(INVALID + "Invalid policy document: This policy contains invalid "
                         "Json") from None


def check_tags(tags: list[dict]) -> None:
    if len(tags) > MAX_TAGS:
        raise validation("Number of Tags exceed the current limit for the provided "
                         "ResourceArn")


def _check_stream(spec: dict | None, creating: bool) -> None:
    if spec and spec.get("StreamEnabled") and not spec.get("StreamViewType"):
        raise validation(INVALID + ("Table is being created with a stream enabled, "
                                    "UpdateViewType is required" if creating else
                                    "If stream is being enabled then UpdateViewType is required"))
    if spec and not spec.get("StreamEnabled") and spec.get("StreamViewType"):
        raise validation(INVALID + ("Table is being created with a stream disabled, "
                                    "UpdateViewType should not be specified" if creating else
                                    "If stream is being disabled, then UpdateViewType must not "
                                    "be specified"))


def _check_index_updates(updates: list[dict], local: set[str]) -> None:
    """GlobalSecondaryIndexUpdates' shape: one action each, one per index, none on a local
    index."""
    named = set()
    for update in updates:
        actions = [action for action in ("Create", "Update", "Delete") if action in update]
        if not actions:
            raise validation(INVALID + "One of GlobalSecondaryIndexUpdate.Update, "
                             "GlobalSecondaryIndexUpdate.Create, "
                             "GlobalSecondaryIndexUpdate.Delete must not be null")
        if len(actions) > 1:
            raise validation(INVALID + "Only one global secondary index action is allowed per "
                             "GlobalSecondaryIndexUpdate object")
        name = update[actions[0]]["IndexName"]
        if name in named:
            raise validation(INVALID + "Only one global secondary index update per index is "
                             f"allowed simultaneously. Index: {name}")
        named.add(name)
        if actions[0] != "Create" and name in local:
            raise validation(f"Cannot {actions[0].lower()} an index that is not a "
                             f"GlobalSecondaryIndex: {name}")


def _check_sse(spec: dict | None) -> None:
    """An SSESpecification's own rules (Enabled false or absent: an AWS owned key)."""
    if spec is None:
        return
    if not spec.get("Enabled"):
        for name in ("SSEType", "KMSMasterKeyId"):
            if name in spec:
                raise validation(INVALID + f"{name} can not be specified if Enabled is false")
    elif spec.get("SSEType") == "AES256":
        raise validation(INVALID + "SSEType AES256 is not supported")


def _check_update_combination(changes: dict[str, Any]) -> None:
    """UpdateTable's changes AWS refuses to make together."""
    given = {name for name, value in changes.items() if value is not None}
    for name, label in (("SSESpecification", "Server-Side Encryption"),
                        ("TableClass", "TableClass"),
                        ("DeletionProtectionEnabled", "DeletionProtection")):
        if name in given and len(given) > 1:
            raise validation(INVALID + f"{label} modification must be the only operation in the "
                             "request")
    creates_or_deletes = any("Create" in update or "Delete" in update
                             for update in changes["GlobalSecondaryIndexUpdates"] or ())
    if "StreamSpecification" in given and "ProvisionedThroughput" in given:
        raise validation(INVALID + "You cannot modify stream status while updating table IOPS")
    if creates_or_deletes and "ProvisionedThroughput" in given:
        raise validation(INVALID + "You cannot create or delete index while updating table IOPS")
    if creates_or_deletes and "StreamSpecification" in given:
        raise validation(INVALID + "You cannot create or delete index while changing stream "
                         "status")


def _throughput(spec: dict | None) -> dict:
    if not spec:
        return {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    return {"ReadCapacityUnits": spec["ReadCapacityUnits"],
            "WriteCapacityUnits": spec["WriteCapacityUnits"]}


def _throughput_view(throughput: dict | None) -> dict:
    return {"NumberOfDecreasesToday": 0, **(throughput or _throughput(None))}


_TABLE_NAME = re.compile(r"^[a-zA-Z0-9_.-]+$")


def check_table_name(name: str) -> None:
    if name.startswith("arn:"):
        return
    if not 3 <= len(name) <= 255:
        raise validation("TableName must be at least 3 characters long and at most 255 "
                         "characters long")
    if not _TABLE_NAME.match(name):
        raise validation("TableName must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")


def name_from_arn(name: str) -> str:
    """TableName may be the table's ARN (AWS accepts both)."""
    if name.startswith("arn:") and ":table/" in name:
        return name.split(":table/", 1)[1].split("/")[0]
    return name
