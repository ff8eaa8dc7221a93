"""DynamoDB items: single-item reads and writes, Query and Scan, batches and transactions.

Every item operation resolves its key to a position (models.KeySchema.position) and reads or
writes that one row; Query reads one range of positions and Scan the range of its segment.
Secondary-index rows, the table's item count and size and, for tables with local secondary
indexes, the size of the written item's collection follow each write in the same store
transaction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from nubo.core.clock import Clock
from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.services.dynamodb import schema
from nubo.services.dynamodb.evaluation import (apply_update, check_static_between,
                                               check_update_paths, evaluate, project)
from nubo.services.dynamodb.expressions import Expressions
from nubo.services.dynamodb.models import Index, Table
from nubo.services.dynamodb.streams import StreamWriter
from nubo.services.dynamodb.values import (INVALID, MAX_HASH_KEY_SIZE, MAX_RANGE_KEY_SIZE,
                                           check_item_size, check_value, dump_item, item_size,
                                           key_value_size, load_item, validation, wire_item)
from nubo.store import Store

PAGE_BYTES = 1024 * 1024  # Query and Scan stop after reading 1 MB
READ_BATCH = 256  # rows fetched per store call while paging through a range
FIRST_READ, MAX_READ = 64, 4096  # rows of a Query/Scan page's first and largest store reads
MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25
MAX_ITEM_COLLECTION = 10 * 1024 ** 3  # bytes of one item collection (tables with local indexes)
TOKEN_LIFETIME = 600  # seconds a ClientRequestToken is remembered
TTL_HORIZON = 5 * 365 * 86400  # TTL values older than five years are ignored
KEY_MISMATCH = "The provided key element does not match the schema"


def conditional_failed(item: dict | None = None) -> ServiceError:
    fields = {"Item": item} if item is not None else None
    return ServiceError("ConditionalCheckFailedException", "The conditional request failed",
                        fields=fields)


# -- capacity ---------------------------------------------------------------------------------

def read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    units = float(max(1, math.ceil(size / 4096)))
    if transactional:
        return units * 2
    return units if consistent else units / 2


def write_units(size: int, transactional: bool = False) -> float:
    units = float(max(1, math.ceil(size / 1024)))
    return units * 2 if transactional else units


@dataclass
class Capacity:
    """Capacity consumed by one request on one table and its indexes."""

    table: Table
    units: float = 0.0
    indexes: dict[str, float] = field(default_factory=dict)
    read: bool = True

    def view(self, mode: str | None) -> dict | None:
        if mode not in ("TOTAL", "INDEXES"):
            return None
        total = self.units + sum(self.indexes.values())
        kind = "ReadCapacityUnits" if self.read else "WriteCapacityUnits"
        view: dict[str, Any] = {"TableName": self.table.name, "CapacityUnits": total,
                                kind: total}
        if mode == "INDEXES":
            view["Table"] = {"CapacityUnits": self.units, kind: self.units}
            for name, units in self.indexes.items():
                group = ("GlobalSecondaryIndexes" if self.table.indexes[name].kind == "global"
                         else "LocalSecondaryIndexes")
                view.setdefault(group, {})[name] = {"CapacityUnits": units, kind: units}
        return view


# -- request-level expression handling ----------------------------------------------------------

def expressions_for(names: dict | None, values: dict | None, used: bool) -> Expressions:
    if not used:
        if names is not None:
            raise validation("ExpressionAttributeNames can only be specified when using "
                             "expressions")
        if values is not None:
            raise validation("ExpressionAttributeValues can only be specified when using "
                             "expressions")
    return Expressions(names, values)


def condition_of(expressions: Expressions, source: str | None, label: str) -> tuple | None:
    if source is None:
        return None
    tree = expressions.condition(source, label)
    check_static_between(tree, label)
    return tree


def over_http(ctx: RequestContext) -> bool:
    """Whether the request came over HTTP, so that its response may hold stored items as they
    are (values.wire_item), rather than from another service in-process
    (ServiceRegistry.call), which gets dicts."""
    return "called_by" not in ctx.extras


@dataclass
class Read:
    """What a read asks for: which attributes, whether strongly consistent, and whether the
    item may be answered in its stored form (over_http)."""

    projection: list[tuple] | None = None
    consistent: bool = False
    wire: bool = False


class Items:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.clock = clock
        self.streams = StreamWriter(store, clock)
        self.expiries = store.table(schema.EXPIRIES)
        self.dropped = store.table(schema.DROPPED)
        self.history = store.table(schema.HISTORY)
        self.export_changes = store.table(schema.EXPORT_CHANGES)
        self.collections = store.table(schema.COLLECTIONS)
        self.store = store
        self.rows = store.table(schema.ITEMS)
        # the other replicas of a global table (set by replicas.Replicas)
        self.replicas_of: Callable[[Table], list[Table]] = lambda table: []
        self.index_rows = store.table(schema.INDEX_ITEMS)
        self.stats = store.table(schema.STATS)
        self._counts: dict[int, list[int]] = {}

    def reset(self) -> None:
        self._counts.clear()

    # -- keys -------------------------------------------------------------------------------

    @staticmethod
    def key_position(table: Table, key: dict, message: str = KEY_MISMATCH) -> tuple[bytes, dict]:
        """The position of ``key`` (exactly the table's key attributes) and the key with its
        numbers canonical."""
        schema_key = table.key
        if len(key) != len(schema_key.names):
            raise validation(message)
        canonical = {}
        for name, kind in ((schema_key.hash_name, schema_key.hash_type),
                           (schema_key.range_name, schema_key.range_type)):
            if name is None:
                continue
            value = key.get(name)
            if value is None or kind not in value or len(value) != 1:
                raise validation(message)
            canonical[name] = value = check_value(value)
            _check_key_value(name, value, name == schema_key.hash_name)
        return schema_key.position(canonical), canonical

    @staticmethod
    def check_item_keys(table: Table, item: dict) -> None:
        """PutItem's rules for the key attributes of the table and of its indexes."""
        for name, kind in ((table.key.hash_name, table.key.hash_type),
                           (table.key.range_name, table.key.range_type)):
            if name is None:
                continue
            value = item.get(name)
            if value is None:
                raise validation(INVALID + f"Missing the key {name} in the item")
            actual = next(iter(value))
            if actual != kind:
                raise validation(INVALID + f"Type mismatch for key {name} expected: {kind} "
                                 f"actual: {actual}")
            _check_key_value(name, value, name == table.key.hash_name)
        for index in table.indexes.values():
            for name, kind in ((index.key.hash_name, index.key.hash_type),
                               (index.key.range_name, index.key.range_type)):
                value = item.get(name) if name is not None else None
                if value is None:
                    continue
                actual = next(iter(value))
                if actual != kind:
                    raise validation(INVALID + f"Type mismatch for Index Key {name} Expected: "
                                     f"{kind} Actual: {actual} IndexName: {index.name}")
                if value[actual] in ("", b""):
                    raise validation(
                        "One or more parameter values are not valid. A value specified for a "
                        "secondary index key is not supported. The AttributeValue for a key "
                        f"attribute cannot contain an empty {_empty_word(actual)} value. "
                        f"IndexName: {index.name}, IndexKey: {name}")

    # -- rows -------------------------------------------------------------------------------

    def load(self, table: Table, position: bytes) -> dict | None:
        return self.load_sized(table, position)[0]

    def load_sized(self, table: Table, position: bytes) -> tuple[dict | None, int]:
        """The item at ``position`` and its size (0 if there is none)."""
        row = self.rows.get((table.id, position))
        return (None, 0) if row is None else (load_item(row["item"]), row["size"])

    def _count(self, owner: int) -> list[int]:
        counts = self._counts.get(owner)
        if counts is None:
            row = self.stats.get((owner,))
            counts = self._counts[owner] = [row["items"], row["bytes"]] if row else [0, 0]
        return counts

    def _adjust(self, owner: int, items: int, size: int) -> None:
        counts = self._count(owner)
        counts[0] += items
        counts[1] += size
        self.stats.put({"owner": owner, "items": counts[0], "bytes": counts[1]})

    def write(self, table: Table, position: bytes, old: dict | None, new: dict | None,
              by_service: bool = False, old_size: int | None = None,
              new_size: int | None = None, replicate: bool = True) -> dict[str, float]:
        """Replace the item at ``position`` (None deletes it), its index entries, expiry, stream
        record and the table's counts; returns the write units consumed per index. Sizes are
        computed unless the caller knows them. ``by_service``: a deletion by DynamoDB itself
        (TTL), as its stream record says. A global table's write goes to every replica."""
        if old_size is None:
            old_size = item_size(old) if old is not None else 0
        if new_size is None:
            new_size = item_size(new) if new is not None else 0
        if table.has_local_indexes:  # before anything is written: it may refuse the write
            self._grow_collection(table, old, new, new_size - old_size)
        if new is None:
            if old is not None:
                self.rows.delete((table.id, position))
        else:
            self.rows.put({"table": table.id, "position": position, "item": dump_item(new),
                           "size": new_size})
        if (old is None) != (new is None) or old_size != new_size:
            self._adjust(table.id, (new is not None) - (old is not None), new_size - old_size)
        index_units: dict[str, float] = {}
        for index in table.indexes.values():
            if index.backfill is not None and position >= index.backfill:
                continue  # the backfill will index this row as it is when it gets there
            units = self._write_index(table, index, position, old, new)
            if units:
                index_units[index.name] = units
        self._track_expiry(table, position, old, new)
        self.streams.record(table, old, new, by_service)
        if table.record.get("pitr") or table.record.get("capturing"):  # PITR, or a backup
            self.history.put({"table": table.id, "time": self.clock.now(),
                              "sequence": self.store.sequence("dynamodb_history"),
                              "position": position,
                              "before": None if old is None else dump_item(old)})
        if replicate and table.record.get("replicas"):
            for other in self.replicas_of(table):
                current, size = self.load_sized(other, position)
                if current != new:
                    self.write(other, position, current, new, by_service, old_size=size,
                               new_size=new_size, replicate=False)
        return index_units

    # -- item collections (tables with local secondary indexes) ------------------------------

    def _grow_collection(self, table: Table, old: dict | None, new: dict | None,
                         delta: int) -> None:
        """Follow the size of the written item's collection: the items of its partition key
        and their local index entries, at most 10 GB."""
        for index in table.indexes.values():
            if index.kind == "local":
                delta += _projected_size(table, index, new) - _projected_size(table, index, old)
        if not delta:
            return
        key = (table.id, table.key.partition((new or old)[table.key.hash_name]))
        row = self.collections.get(key)
        size = (row["bytes"] if row else 0) + delta
        if delta > 0 and size > MAX_ITEM_COLLECTION:
            raise ServiceError("ItemCollectionSizeLimitExceededException",
                               "Collection size exceeded.")
        if size > 0:
            self.collections.put({"table": table.id, "partition": key[1], "bytes": size})
        elif row is not None:
            self.collections.delete(key)

    def collection_metrics(self, table: Table, key: dict) -> dict | None:
        """A write's ItemCollectionMetrics (tables with local secondary indexes only): the
        collection's estimated size as AWS gives it, a range of whole gigabytes."""
        if not table.has_local_indexes:
            return None
        hash_name = table.key.hash_name
        row = self.collections.get((table.id, table.key.partition(key[hash_name])))
        lower = float((row["bytes"] if row else 0) // 1024 ** 3)
        return {"ItemCollectionKey": {hash_name: key[hash_name]},
                "SizeEstimateRangeGB": [lower, lower + 1.0]}

    def tables_collection_metrics(self, written: list[tuple[Table, dict]]
                                  ) -> dict[str, list[dict]]:
        """ItemCollectionMetrics of a batch or transaction: per table, one per item collection
        written."""
        metrics: dict[str, list[dict]] = {}
        for table, key in written:
            entry = self.collection_metrics(table, key)
            if entry is not None and entry not in metrics.get(table.name, ()):
                metrics.setdefault(table.name, []).append(entry)
        return metrics

    def undo_since(self, source: int, target: Table, since: float) -> None:
        """Undo in ``target`` (a copy of table ``source``) the writes ``source`` saw after
        ``since``, newest first: ``target`` becomes ``source`` as it was at that time."""
        for entry in self.history.find(index="by_table_time", eq=(source,),
                                       lo=math.nextafter(since, math.inf), reverse=True):
            current, size = self.load_sized(target, entry["position"])
            before = None if entry["before"] is None else load_item(entry["before"])
            if current is not None or before is not None:
                self.write(target, entry["position"], current, before, old_size=size)

    def rewind_rows(self, source: int, owner: int, since: float) -> None:
        """Undo in ``owner``'s rows (a raw copy of table ``source``'s: an export's snapshot)
        the writes ``source`` saw after ``since``, newest first."""
        for entry in self.history.find(index="by_table_time", eq=(source,),
                                       lo=math.nextafter(since, math.inf), reverse=True):
            before = entry["before"]
            if before is None:
                self.rows.delete((owner, entry["position"]))
            else:
                self.rows.put({"table": owner, "position": entry["position"], "item": before,
                               "size": item_size(load_item(before))})

    def forget_history(self, retention: float) -> int:
        return self.history.delete_where(index="by_time", hi=self.clock.now() - retention)

    # -- time to live -------------------------------------------------------------------------

    def _expiry(self, table: Table, item: dict | None) -> float | None:
        """When the item expires: its TTL attribute if that is a number of epoch seconds no
        older than five years (AWS ignores older ones)."""
        ttl = table.record.get("ttl")
        if item is None or not ttl or not ttl["enabled"]:
            return None
        value = item.get(ttl["attribute"])
        if value is None or "N" not in value:
            return None
        expires = float(value["N"])
        return expires if expires > self.clock.now() - TTL_HORIZON else None

    def _track_expiry(self, table: Table, position: bytes, old: dict | None,
                      new: dict | None) -> None:
        scan = (table.record.get("ttl") or {}).get("scan")
        if scan is not None and position >= scan:
            return  # the expiry scan will see this row as it is when it gets there
        before, after = self._expiry(table, old), self._expiry(table, new)
        if before == after:
            return
        if after is None:
            self.expiries.delete((table.id, position))
        else:
            self.expiries.put({"table": table.id, "position": position, "expires": after})

    def track_expiries(self, table: Table, limit: int = READ_BATCH) -> bytes | None:
        """After TTL was enabled: index the expiry of the next ``limit`` items; the new
        cursor, or None when every item is tracked."""
        rows = self.rows.find(eq=(table.id,), lo=table.record["ttl"]["scan"], limit=limit)
        unscanned = dict(table.record, ttl={k: v for k, v in table.record["ttl"].items()
                                            if k != "scan"})
        scanned = Table(unscanned)
        for row in rows:
            self._track_expiry(scanned, row["position"], None, load_item(row["item"]))
        return rows[-1]["position"] + b"\x00" if len(rows) == limit else None

    def sweep_dropped(self, limit: int = READ_BATCH) -> int:
        """Remove up to ``limit`` rows of deleted tables, indexes and backups."""
        removed = 0
        for drop in self.dropped.find(limit=4):
            rows = {"items": self.rows, "index": self.index_rows, "expiries": self.expiries,
                    "history": self.history, "changes": self.export_changes,
                    "collections": self.collections}[drop["kind"]]
            batch = rows.find(eq=(drop["owner"],), limit=limit)
            if batch:
                last = batch[-1][rows.spec.key[1]]  # position (bytes) or sequence (int)
                after = last + b"\x00" if isinstance(last, bytes) else last + 1
                removed += rows.delete_where(eq=(drop["owner"],), hi=after)
            if len(batch) < limit:
                self.dropped.delete((drop["owner"], drop["kind"]))
        return removed

    def sweep_expired(self, table_by_id, limit: int = 500) -> int:
        """Delete items whose TTL has passed, as DynamoDB's own background deletions."""
        rows = self.expiries.find(index="by_expiry", hi=self.clock.now(), limit=limit)
        for row in rows:
            table = table_by_id(row["table"])
            item = self.load(table, row["position"]) if table is not None else None
            if item is None:
                self.expiries.delete((row["table"], row["position"]))
            else:
                self.write(table, row["position"], item, None, by_service=True)
        return len(rows)

    def _write_index(self, table: Table, index: Index, table_position: bytes,
                     old: dict | None, new: dict | None) -> float:
        old_position = (index.key.position(old) + table_position
                        if old is not None and index.key.covers(old) else None)
        new_position = (index.key.position(new) + table_position
                        if new is not None and index.key.covers(new) else None)
        units = 0.0
        old_size = 0
        if old_position is not None:
            old_size = item_size(index.project(old, table.key))
        if old_position is not None and old_position != new_position:
            self.index_rows.delete((index.id, old_position))
            self._adjust(index.id, -1, -old_size)
            units += write_units(old_size)
        if new_position is not None:
            projected = index.project(new, table.key)
            size = item_size(projected)
            if old_position == new_position and projected == index.project(old, table.key):
                return units
            self.index_rows.put({"index": index.id, "position": new_position,
                                 "item": dump_item(projected), "size": size})
            if old_position == new_position:
                self._adjust(index.id, 0, size - old_size)
            else:
                self._adjust(index.id, 1, size)
            units += write_units(size)
        return units

    def copy_rows(self, source: int, target: int, start: bytes | None,
                  limit: int = READ_BATCH) -> bytes | None:
        """A raw copy of the next ``limit`` item rows of ``source`` from ``start`` on, under
        another owner id (a backup, an export's snapshot); where to go on, None at the end."""
        rows = self.rows.find(eq=(source,), lo=start, limit=limit)
        for row in rows:
            self.rows.put(dict(row, table=target))
        return rows[-1]["position"] + b"\x00" if len(rows) == limit else None

    def restore_chunk(self, table: Table, limit: int = READ_BATCH) -> bytes | None:
        """Copy the next ``limit`` rows filling ``table`` (a restore, a new replica of a global
        table) into it, its indexes and counts following; the new cursor, or None once every
        row is copied and, for a point-in-time restore, every write the source saw after the
        restore time undone."""
        state = table.record["restoring"]
        rows = self.rows.find(eq=(state["rows"],), lo=state["cursor"], limit=limit)
        for row in rows:
            current, size = self.load_sized(table, row["position"])
            self.write(table, row["position"], current, load_item(row["item"]), old_size=size,
                       replicate=False)
        if len(rows) == limit:
            return rows[-1]["position"] + b"\x00"
        if state.get("since") is not None:
            self.undo_since(state["rows"], table, state["since"])
        return None

    def backfill(self, table: Table, index: Index,
                 limit: int = READ_BATCH) -> bytes | None:
        """Index the next ``limit`` items of a table for a GSI created by UpdateTable; the new
        cursor, or None when every item is indexed."""
        rows = self.rows.find(eq=(table.id,), lo=index.backfill, limit=limit)
        for row in rows:
            self._write_index(table, index, row["position"], None, load_item(row["item"]))
        return rows[-1]["position"] + b"\x00" if len(rows) == limit else None

    # -- single items ---------------------------------------------------------------------

    def get_item(self, table: Table, key: dict, read: Read) -> tuple[dict | None, float]:
        position, _ = self.key_position(table, key)
        item, size = self.read_at(table, position, read)
        return item, read_units(size, read.consistent)

    def read_at(self, table: Table, position: bytes, read: Read) -> tuple[Any, int]:
        """The item at ``position`` as ``read`` asks for it (None if there is none) and its
        stored size; decoded only when it is projected or not answered over HTTP."""
        row = self.rows.get((table.id, position))
        if row is None:
            return None, 0
        if read.projection is not None:
            return project(load_item(row["item"]), read.projection), row["size"]
        return (wire_item(row["item"]) if read.wire else load_item(row["item"])), row["size"]

    def put_item(self, table: Table, item: dict, condition: tuple | None,
                 return_old_on_failure: bool, size: int | None = None
                 ) -> tuple[dict | None, Capacity]:
        self.check_item_keys(table, item)
        position = table.key.position(item)
        old, old_size = self.load_sized(table, position)
        self._check_condition(condition, old, return_old_on_failure)
        size = item_size(item) if size is None else size
        indexes = self.write(table, position, old, item, old_size=old_size, new_size=size)
        return old, Capacity(table, write_units(max(size, old_size)), indexes, read=False)

    def delete_item(self, table: Table, key: dict, condition: tuple | None,
                    return_old_on_failure: bool) -> tuple[dict | None, Capacity]:
        position, _ = self.key_position(table, key)
        old, old_size = self.load_sized(table, position)
        self._check_condition(condition, old, return_old_on_failure)
        indexes = (self.write(table, position, old, None, old_size=old_size, new_size=0)
                   if old is not None else {})
        return old, Capacity(table, write_units(old_size), indexes, read=False)

    def update_item(self, table: Table, key: dict, clauses: dict[str, list] | None,
                    condition: tuple | None,
                    return_old_on_failure: bool) -> tuple[dict | None, dict, list, Capacity]:
        """Returns (old item, new item, written paths, capacity)."""
        position, canonical = self.key_position(table, key)
        paths = check_update_paths(clauses, table.key.names) if clauses else []
        old, old_size = self.load_sized(table, position)
        self._check_condition(condition, old, return_old_on_failure)
        base = old if old is not None else dict(canonical)
        new = apply_update(clauses, base) if clauses else dict(base)
        size = check_item_size(new, updated=True)
        self.check_item_keys(table, new)
        indexes = self.write(table, position, old, new, old_size=old_size, new_size=size)
        return old, new, paths, Capacity(table, write_units(max(size, old_size)), indexes,
                                         read=False)

    @staticmethod
    def _check_condition(condition: tuple | None, item: dict | None,
                         return_item: bool) -> None:
        if condition is not None and not evaluate(condition, item):
            raise conditional_failed(item if return_item else None)

    # -- ranges -----------------------------------------------------------------------------

    @staticmethod
    def scan_rows(rows, owner: int, lo: bytes | None, hi: bytes | None,
               reverse: bool) -> Iterator[dict]:
        """Rows of ``owner`` with lo <= position < hi, in order, fetched a batch at a time."""
        while True:
            batch = rows.find(eq=(owner,), lo=lo, hi=hi, limit=READ_BATCH, reverse=reverse)
            yield from batch
            if len(batch) < READ_BATCH:
                return
            last = batch[-1]["position"]
            if reverse:
                hi = last
            else:
                lo = last + b"\x00"

    def read_page(self, owner_rows, owner: int, lo: bytes | None, hi: bytes | None,
                  reverse: bool, limit: int | None) -> tuple[list[bytes], bool, int]:
        """Up to ``limit`` items or 1 MB from the range, as stored; (items, stopped early,
        bytes read). Each store read asks for about as many rows as the rest of the page holds
        at the sizes seen so far, so a page takes few reads and memory stays near 1 MB."""
        items: list[bytes] = []
        total = 0
        wanted = FIRST_READ
        while True:
            if limit is not None:
                wanted = min(wanted, limit - len(items))
            batch = owner_rows.find_values(("position", "item", "size"), eq=(owner,), lo=lo,
                                           hi=hi, limit=wanted, reverse=reverse)
            for _, item, size in batch:
                items.append(item)
                total += size
                if (limit is not None and len(items) >= limit) or total >= PAGE_BYTES:
                    return items, True, total
            if len(batch) < wanted:
                return items, False, total
            if reverse:
                hi = batch[-1][0]
            else:
                lo = batch[-1][0] + b"\x00"
            average = total // len(items) + 1
            wanted = max(FIRST_READ, min(MAX_READ, (PAGE_BYTES - total) // average + 1))


def _projected_size(table: Table, index: Index, item: dict | None) -> int:
    """The size of ``item``'s entry in ``index`` (0: it has none)."""
    if item is None or not index.key.covers(item):
        return 0
    return item_size(index.project(item, table.key))


def _check_key_value(name: str, value: dict, is_hash: bool) -> None:
    kind = next(iter(value))
    if value[kind] in ("", b""):
        raise validation("One or more parameter values are not valid. The AttributeValue for a "
                         f"key attribute cannot contain an empty {_empty_word(kind)} value. "
                         f"Key: {name}")
    if kind == "N" or len(value[kind]) * 4 <= MAX_RANGE_KEY_SIZE:
        return  # within both limits whatever its bytes (a number has 21 at most)
    size = key_value_size(value)
    if is_hash and size > MAX_HASH_KEY_SIZE:
        raise validation(INVALID + "Size of hashkey has exceeded the maximum size limit "
                         f"of{MAX_HASH_KEY_SIZE} bytes")
    if not is_hash and size > MAX_RANGE_KEY_SIZE:
        raise validation(INVALID + "Aggregated size of all range keys has exceeded the size "
                         f"limit of {MAX_RANGE_KEY_SIZE} bytes")


def _empty_word(kind: str) -> str:
    return "string" if kind == "S" else "binary"
