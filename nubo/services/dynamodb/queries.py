"""Query and Scan: a key condition becomes one range of positions in the table's (or index's)
ordered rows; a Scan segment is a range of partition-hash prefixes. Limit and the 1 MB page
apply to the items read, the filter after them, as on AWS."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nubo.core.context import RequestContext
from nubo.services.dynamodb import legacy
from nubo.services.dynamodb.evaluation import evaluate, paths_of, project
from nubo.services.dynamodb.items import (Capacity, Items, condition_of, expressions_for,
                                          over_http)
from nubo.services.dynamodb.models import Index, KeySchema, Table, Tables
from nubo.services.dynamodb.requests import projection_of
from nubo.services.dynamodb.values import (INVALID, check_value, key_bytes, load_item,
                                           prefix_bytes, successor, validation, wire_item)

_KEY_OPERATORS = ("=", "<", "<=", ">", ">=")
HASH_SPACE = 1 << 32


def _key_error(message: str) -> Exception:
    return validation(f"Invalid KeyConditionExpression: {message}")


def split_key_condition(tree: tuple, key: KeySchema) -> tuple[dict, tuple | None]:
    """(partition key value, sort key condition) of a key condition tree."""
    conditions = _conjuncts(tree)
    if len(conditions) > 2:
        raise _key_error("Conditions can be of length 1 or 2 only")
    hash_value = None
    range_condition = None
    for condition in conditions:
        name = _condition_attribute(condition)
        if name == key.hash_name:
            if hash_value is not None:
                raise _key_error("KeyConditionExpressions must only contain one condition per "
                                 "key")
            if condition[0] != "compare" or condition[1] != "=":
                raise validation("Query key condition not supported")
            hash_value = condition[3][1]
            if key.hash_type not in hash_value:
                raise validation(INVALID + "Condition parameter type does not match schema "
                                 "type")
        elif name == key.range_name:
            if range_condition is not None:
                raise _key_error("KeyConditionExpressions must only contain one condition per "
                                 "key")
            range_condition = condition
            for operand in _operands(condition):
                if key.range_type not in operand:
                    raise validation(INVALID + "Condition parameter type does not match "
                                     "schema type")
        else:
            missing = key.hash_name if hash_value is None and name != key.hash_name else (
                key.range_name or key.hash_name)
            raise validation(f"Query condition missed key schema element: {missing}")
    if hash_value is None:
        raise validation(f"Query condition missed key schema element: {key.hash_name}")
    if range_condition is not None and range_condition[0] == "function" and \
            key.range_type == "N":
        raise _key_error("Incorrect operand type for operator or function; operator or "
                         "function: begins_with, operand type: N")
    return hash_value, range_condition


def _conjuncts(tree: tuple) -> list[tuple]:
    kind = tree[0]
    if kind == "and":
        return _conjuncts(tree[1]) + _conjuncts(tree[2])
    if kind in ("or", "not"):
        raise _key_error(f"Invalid operator used in KeyConditionExpression: {kind.upper()}")
    if kind == "in":
        raise _key_error("Invalid operator used in KeyConditionExpression: IN")
    if kind == "compare" and tree[1] not in _KEY_OPERATORS:
        raise _key_error(f"Invalid operator used in KeyConditionExpression: {tree[1]}")
    if kind == "function" and tree[1] != "begins_with":
        raise _key_error(f"Invalid operator used in KeyConditionExpression: {tree[1]}")
    return [tree]


def _condition_attribute(condition: tuple) -> str:
    kind = condition[0]
    subject = condition[2][0] if kind == "function" else condition[2] if kind == "compare" \
        else condition[1]
    others = condition[2][1:] if kind == "function" else [condition[3]] if kind == "compare" \
        else [condition[2], condition[3]]
    if subject[0] != "path" or any(o[0] != "value" for o in others):
        raise _key_error("KeyConditionExpressions must only contain one condition per key" if
                         subject[0] == "value" else "Invalid condition in KeyConditionExpression")
    if len(subject[1]) != 1:
        raise _key_error("KeyConditionExpressions cannot have conditions on nested attributes")
    return subject[1][0]


def _operands(condition: tuple) -> list[dict]:
    kind = condition[0]
    if kind == "function":
        return [condition[2][1][1]]
    if kind == "compare":
        return [condition[3][1]]
    return [condition[2][1], condition[3][1]]


def key_range(key: KeySchema, hash_value: dict,
              condition: tuple | None) -> tuple[bytes, bytes | None]:
    """[lo, hi) of the positions the key condition selects."""
    prefix = key.partition(hash_value)
    end = successor(prefix)
    if condition is None:
        return prefix, end
    kind = condition[0]
    if kind == "function":  # begins_with
        start = prefix + prefix_bytes(condition[2][1][1])
        return start, successor(start)
    if kind == "between":
        return (prefix + key_bytes(condition[2][1]),
                successor(prefix + key_bytes(condition[3][1])))
    op, encoded = condition[1], prefix + key_bytes(condition[3][1])
    if op == "=":
        return encoded, successor(encoded)
    if op == "<":
        return prefix, encoded
    if op == "<=":
        return prefix, successor(encoded)
    if op == ">":
        return successor(encoded), end
    return encoded, end


def _filter_and_projection(expressions, filter_source: str | None, legacy_filter: dict | None,
                           operator: str | None, projection_source: str | None,
                           attributes: list[str] | None) -> tuple[tuple | None, list | None]:
    """The read's filter and projection, from expressions or their legacy parameters; every
    expression of the request is parsed by now, so unused placeholders are reported."""
    filter_tree = (condition_of(expressions, filter_source, "FilterExpression")
                   if filter_source is not None else legacy.condition(legacy_filter, operator))
    projection = projection_of(expressions, projection_source, attributes)
    expressions.check_unused()
    return filter_tree, projection


@dataclass(frozen=True)
class ItemFilter:
    """Which items an export takes (its FilterSpecification, compiled): the positions
    [lo, hi) of its key condition, its filter, and its projection."""

    lo: bytes | None
    hi: bytes | None
    condition: tuple | None
    projection: list | None

    def apply(self, item: dict) -> dict | None:
        """The item as exported, or None when the filter leaves it out."""
        if self.condition is not None and not evaluate(self.condition, item):
            return None
        return item if self.projection is None else project(item, self.projection)


def item_filter(key: KeySchema, spec: dict) -> ItemFilter:
    """A FilterSpecification checked as Query checks its expressions."""
    expressions = expressions_for(spec.get("ExpressionAttributeNames"),
                                  spec.get("ExpressionAttributeValues"), True)
    lo = hi = None
    key_source = spec.get("KeyConditionExpression")
    if key_source is not None:
        hash_value, range_condition = split_key_condition(
            condition_of(expressions, key_source, "KeyConditionExpression"), key)
        lo, hi = key_range(key, hash_value, range_condition)
    filter_tree, projection = _filter_and_projection(
        expressions, spec.get("FilterExpression"), None, None,
        spec.get("ProjectionExpression"), None)
    if filter_tree is not None and key_source is not None:
        _check_filter_keys(filter_tree, key)
    return ItemFilter(lo, hi, filter_tree, projection)


def _check_filter_keys(filter_tree: tuple, key: KeySchema) -> None:
    for path in paths_of(filter_tree):
        if path[0] in key.names:
            raise validation("Filter Expression can only contain non-primary key "
                             f"attributes: Primary key attribute: {path[0]}")


class Queries:
    def __init__(self, tables: Tables, items: Items) -> None:
        self.tables = tables
        self.items = items

    # -- requests ---------------------------------------------------------------------------

    def query(self, ctx: RequestContext, TableName: str, IndexName: str | None = None,
              Select: str | None = None, AttributesToGet: list[str] | None = None,
              Limit: int | None = None, ConsistentRead: bool | None = None,
              KeyConditions: dict | None = None, QueryFilter: dict | None = None,
              ConditionalOperator: str | None = None, ScanIndexForward: bool | None = None,
              ExclusiveStartKey: dict | None = None, ReturnConsumedCapacity: str | None = None,
              ProjectionExpression: str | None = None, FilterExpression: str | None = None,
              KeyConditionExpression: str | None = None,
              ExpressionAttributeNames: dict | None = None,
              ExpressionAttributeValues: dict | None = None) -> dict:
        legacy.check_exclusive(
            {"ProjectionExpression": ProjectionExpression, "FilterExpression": FilterExpression,
             "KeyConditionExpression": KeyConditionExpression},
            {"AttributesToGet": AttributesToGet, "QueryFilter": QueryFilter,
             "ConditionalOperator": ConditionalOperator, "KeyConditions": KeyConditions})
        expressions = expressions_for(
            ExpressionAttributeNames, ExpressionAttributeValues,
            any(e is not None for e in (ProjectionExpression, FilterExpression,
                                        KeyConditionExpression)))
        if KeyConditionExpression is not None:
            key_tree = condition_of(expressions, KeyConditionExpression,
                                    "KeyConditionExpression")
        elif KeyConditions:
            key_tree = legacy.condition(KeyConditions, None)
        else:
            raise validation("Either the KeyConditions or KeyConditionExpression parameter must "
                             "be specified in the request.")
        filter_tree, projection = _filter_and_projection(
            expressions, FilterExpression, QueryFilter, ConditionalOperator, ProjectionExpression,
            AttributesToGet)
        table = self.tables.get(ctx, TableName)
        index = self._index(table, IndexName, ConsistentRead)
        key = index.key if index else table.key
        hash_value, range_condition = split_key_condition(key_tree, key)
        if filter_tree is not None:
            _check_filter_keys(filter_tree, key)
        lo, hi = key_range(key, hash_value, range_condition)
        forward = ScanIndexForward is not False
        if ExclusiveStartKey is not None:
            start = self._start_position(table, index, ExclusiveStartKey)
            if not lo <= start < (hi or b"\xff" * 8):
                raise validation("The provided starting key is outside query boundaries based "
                                 "on provided conditions")
            if forward:
                lo = start + b"\x00"
            else:
                hi = start
        return self._page(table, index, lo, hi, forward, Limit, filter_tree, projection,
                          Select, bool(ConsistentRead), ReturnConsumedCapacity, over_http(ctx))

    def scan(self, ctx: RequestContext, TableName: str, IndexName: str | None = None,
             AttributesToGet: list[str] | None = None, Limit: int | None = None,
             Select: str | None = None, ScanFilter: dict | None = None,
             ConditionalOperator: str | None = None, ExclusiveStartKey: dict | None = None,
             ReturnConsumedCapacity: str | None = None, TotalSegments: int | None = None,
             Segment: int | None = None, ProjectionExpression: str | None = None,
             FilterExpression: str | None = None, ExpressionAttributeNames: dict | None = None,
             ExpressionAttributeValues: dict | None = None,
             ConsistentRead: bool | None = None) -> dict:
        legacy.check_exclusive(
            {"ProjectionExpression": ProjectionExpression, "FilterExpression": FilterExpression},
            {"AttributesToGet": AttributesToGet, "ScanFilter": ScanFilter,
             "ConditionalOperator": ConditionalOperator})
        if TotalSegments is not None and Segment is None:
            raise validation("The Segment parameter is required but was not present in the "
                             "request when parameter TotalSegments is present")
        if Segment is not None and TotalSegments is None:
            raise validation("The TotalSegments parameter is required but was not present in "
                             "the request when Segment parameter is present")
        if Segment is not None and Segment >= TotalSegments:
            raise validation("The Segment parameter is zero-based and must be less than "
                             f"parameter TotalSegments: Segment: {Segment} is not less than "
                             f"TotalSegments: {TotalSegments}")
        expressions = expressions_for(
            ExpressionAttributeNames, ExpressionAttributeValues,
            ProjectionExpression is not None or FilterExpression is not None)
        filter_tree, projection = _filter_and_projection(
            expressions, FilterExpression, ScanFilter, ConditionalOperator, ProjectionExpression,
            AttributesToGet)
        table = self.tables.get(ctx, TableName)
        index = self._index(table, IndexName, ConsistentRead)
        lo: bytes | None = None
        hi: bytes | None = None
        if TotalSegments is not None:
            first = Segment * HASH_SPACE // TotalSegments
            last = (Segment + 1) * HASH_SPACE // TotalSegments
            lo = first.to_bytes(4, "big") if first else None
            hi = last.to_bytes(4, "big") if last < HASH_SPACE else None
        if ExclusiveStartKey is not None:
            start = self._start_position(table, index, ExclusiveStartKey)
            lo = start + b"\x00"
        return self._page(table, index, lo, hi, True, Limit, filter_tree, projection, Select,
                          bool(ConsistentRead), ReturnConsumedCapacity, over_http(ctx))

    # -- shared -----------------------------------------------------------------------------

    @staticmethod
    def _index(table: Table, name: str | None, consistent: bool | None) -> Index | None:
        if name is None:
            return None
        index = table.indexes.get(name)
        if index is None:
            raise validation(f"The table does not have the specified index: {name}")
        if consistent and index.kind == "global":
            raise validation("Consistent reads are not supported on global secondary indexes")
        if index.backfill is not None:
            raise validation(f"Cannot read from backfilling global secondary index: {name}")
        return index

    def _start_position(self, table: Table, index: Index | None, start: dict) -> bytes:
        message = "The provided starting key is invalid: The provided key element does not " \
                  "match the schema"
        names = set(table.key.names) | (set(index.key.names) if index else set())
        if set(start) != names:
            raise validation(message)
        position, _ = self.items.key_position(table, {n: start[n] for n in table.key.names},
                                              message)
        if index is None:
            return position
        canonical = {}
        for name, kind in ((index.key.hash_name, index.key.hash_type),
                           (index.key.range_name, index.key.range_type)):
            if name is not None:
                value = start[name]
                if kind not in value:
                    raise validation(message)
                canonical[name] = check_value(value)
        return index.key.position(canonical) + position

    def _page(self, table: Table, index: Index | None, lo: bytes | None, hi: bytes | None,
              forward: bool, limit: int | None, filter_tree: tuple | None,
              projection: list[tuple] | None, select: str | None, consistent: bool,
              capacity_mode: str | None, wire: bool = False) -> dict:
        """One page of the range [lo, hi); ``wire``: items that need no filter, projection or
        fetch from the table are answered as stored (values.wire_item), never decoded."""
        select = self._select(index, select, projection)
        rows_table = self.items.index_rows if index else self.items.rows
        owner = index.id if index else table.id
        stored, stopped, read_bytes = self.items.read_page(rows_table, owner, lo, hi,
                                                           not forward, limit)
        items: list = []
        fetch_from_table = index is not None and self._fetches(table, index, select, projection,
                                                               filter_tree)
        if filter_tree is None and projection is None and not fetch_from_table and (
                wire or select == "COUNT"):
            count = len(stored)
            if select != "COUNT":
                items = [wire_item(row) for row in stored]
        else:
            count = 0
            for row in stored:
                item = load_item(row)
                if fetch_from_table:
                    item = self.items.load(table, table.key.position(item)) or item
                if filter_tree is not None and not evaluate(filter_tree, item):
                    continue
                count += 1
                if select != "COUNT":
                    items.append(project(item, projection) if projection is not None else item)
        output: dict[str, Any] = {"Count": count, "ScannedCount": len(stored)}
        if select != "COUNT":
            output["Items"] = items
        if stopped and stored:
            last = load_item(stored[-1])
            names = table.key.names + (index.key.names if index else ())
            output["LastEvaluatedKey"] = {name: last[name] for name in dict.fromkeys(names)}
        units = float(max(1, math.ceil(read_bytes / 4096)))
        units = units if consistent else units / 2
        capacity = Capacity(table, 0.0 if index else units,
                            {index.name: units} if index else {})
        view = capacity.view(capacity_mode)
        if view is not None:
            output["ConsumedCapacity"] = view
        return output

    @staticmethod
    def _fetches(table: Table, index: Index, select: str, projection: list[tuple] | None,
                 filter_tree: tuple | None) -> bool:
        """Whether reading the index needs the table's items: a local index's reads may name
        attributes it does not project (DynamoDB fetches them from the table)."""
        if index.projection["ProjectionType"] == "ALL":
            return False
        if select == "ALL_ATTRIBUTES":
            return True
        if index.kind != "local":
            return False
        projected = set(index.key.names) | set(table.key.names) | set(
            index.projection.get("NonKeyAttributes", ()))
        wanted = (projection or []) + paths_of(filter_tree)
        return any(path[0] not in projected for path in wanted)

    @staticmethod
    def _select(index: Index | None, select: str | None,
                projection: list[tuple] | None) -> str:
        if select is None:
            if projection is not None:
                return "SPECIFIC_ATTRIBUTES"
            return "ALL_PROJECTED_ATTRIBUTES" if index else "ALL_ATTRIBUTES"
        if projection is not None and select != "SPECIFIC_ATTRIBUTES":
            raise validation(INVALID + f"Cannot specify the ProjectionExpression when choosing "
                             f"to get {select}" if select != "COUNT" else
                             "Cannot specify the ProjectionExpression when choosing to get "
                             "COUNT")
        if select == "SPECIFIC_ATTRIBUTES" and projection is None:
            raise validation(INVALID + "Must specify the AttributesToGet or "
                             "ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES")
        if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
            raise validation(INVALID + "ALL_PROJECTED_ATTRIBUTES can be used only when Querying "
                             "using an IndexName")
        if select == "ALL_ATTRIBUTES" and index is not None and index.kind == "global" and \
                index.projection["ProjectionType"] != "ALL":
            raise validation(INVALID + f"Select type ALL_ATTRIBUTES is not supported for "
                             f"global secondary index {index.name} because its projection "
                             "type is not ALL")
        return select
