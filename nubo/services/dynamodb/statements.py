"""ExecuteStatement, BatchExecuteStatement and ExecuteTransaction: PartiQL statements
(partiql.py) run by the item, query and transaction code the other operations use."""

from __future__ import annotations

import hashlib
from typing import Any

import cbor2

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.services.dynamodb import partiql
from nubo.services.dynamodb.batches import Batches
from nubo.services.dynamodb.evaluation import evaluate, project
from nubo.services.dynamodb.items import Items, Read, over_http
from nubo.services.dynamodb.models import Table, Tables
from nubo.services.dynamodb.queries import Queries, key_range
from nubo.services.dynamodb.values import checked_item, validation

DUPLICATE_ITEM = "Duplicate primary key exists in table"
_ERROR_CODES = {"ConditionalCheckFailedException": "ConditionalCheckFailed",
                "DuplicateItemException": "DuplicateItem",
                "ValidationException": "ValidationError",
                "ResourceNotFoundException": "ResourceNotFound"}


def _exists(table: Table) -> tuple:
    return ("function", "attribute_exists", [("path", (table.key.hash_name,))])


def _missing(table: Table) -> tuple:
    return ("function", "attribute_not_exists", [("path", (table.key.hash_name,))])


def _and(first: tuple | None, second: tuple) -> tuple:
    return second if first is None else ("and", first, second)


class Statements:
    def __init__(self, tables: Tables, items: Items, queries: Queries, batches: Batches) -> None:
        self.tables = tables
        self.items = items
        self.queries = queries
        self.batches = batches

    # -- ExecuteStatement -----------------------------------------------------------------

    def execute(self, ctx: RequestContext, Statement: str, Parameters: list | None = None,
                ConsistentRead: bool | None = None, NextToken: str | None = None,
                ReturnConsumedCapacity: str | None = None, Limit: int | None = None,
                ReturnValuesOnConditionCheckFailure: str | None = None) -> dict:
        statement = partiql.parse(Statement, Parameters)
        table = self.tables.get(ctx, statement.table)
        if statement.kind == "select":
            return self._select(table, statement, bool(ConsistentRead), NextToken, Limit,
                                ReturnConsumedCapacity, over_http(ctx))
        if statement.kind == "exists":
            raise validation("EXISTS is only supported in ExecuteTransaction")
        attributes = self._write(table, statement,
                                 ReturnValuesOnConditionCheckFailure == "ALL_OLD")
        return {"Items": [attributes] if attributes else []}

    def _select(self, table: Table, statement: partiql.Statement, consistent: bool,
                token: str | None, limit: int | None, capacity_mode: str | None,
                wire: bool) -> dict:
        """A SELECT: a Query of the partition its WHERE fixes (that equality then needs no
        evaluating: every item read satisfies it), else a Scan."""
        index = self.queries._index(table, statement.index, consistent)
        key = index.key if index else table.key
        fixed = partiql.equalities(statement.where)
        hash_value = fixed.get(key.hash_name)
        lo = hi = None
        condition = statement.where
        if hash_value is not None and key.hash_type in hash_value:
            lo, hi = key_range(key, hash_value, None)
            condition = partiql.residual(statement.where, {key.hash_name: hash_value})
        if token is not None:
            start = self.queries._start_position(table, index, partiql.decode_token(token)) + \
                b"\x00"
            lo = start if lo is None else max(lo, start)
        page = self.queries._page(table, index, lo, hi, True, limit, condition,
                                  statement.projection, None, consistent, capacity_mode, wire)
        output: dict[str, Any] = {"Items": page["Items"]}
        if "LastEvaluatedKey" in page:
            output["NextToken"] = partiql.encode_token(page["LastEvaluatedKey"])
            output["LastEvaluatedKey"] = page["LastEvaluatedKey"]
        if "ConsumedCapacity" in page:
            output["ConsumedCapacity"] = page["ConsumedCapacity"]
        return output

    def _write(self, table: Table, statement: partiql.Statement,
               return_old: bool) -> dict | None:
        if statement.kind == "insert":
            item, _ = checked_item(statement.item)
            try:
                self.items.put_item(table, item, _missing(table), False)
            except ServiceError as error:
                if error.code == "ConditionalCheckFailedException":
                    raise ServiceError("DuplicateItemException", DUPLICATE_ITEM) from None
                raise
            return None
        key = partiql.key_of(statement.where, table.key.names)
        if statement.kind == "update":
            old, new, paths, _ = self.items.update_item(
                table, key, statement.clauses, _and(statement.where, _exists(table)),
                return_old)
            return {"ALL_OLD": old, "ALL_NEW": new, "UPDATED_OLD": project(old, paths),
                    "UPDATED_NEW": project(new, paths), None: None}[statement.returning]
        extra = len(partiql.conjuncts(statement.where)) > len(key)
        old, _ = self.items.delete_item(table, key, statement.where if extra else None,
                                        return_old)
        return old if statement.returning == "ALL_OLD" else None

    # -- BatchExecuteStatement ------------------------------------------------------------

    def batch(self, ctx: RequestContext, Statements: list[dict],
              ReturnConsumedCapacity: str | None = None) -> dict:
        parsed = [partiql.parse(s["Statement"], s.get("Parameters")) for s in Statements]
        kinds = {"read" if p.kind == "select" else "write" for p in parsed}
        if len(kinds) > 1:
            raise validation("Unsupported operation: A batch must contain either only reads "
                             "or only writes")
        responses = []
        for request, statement in zip(Statements, parsed):
            response: dict[str, Any] = {"TableName": statement.table}
            try:
                table = self.tables.get(ctx, statement.table)
                if statement.kind == "select":
                    item = self._read(ctx, table, statement)
                    if item is not None:
                        response["Item"] = item
                else:
                    self._write(table, statement, request.get(
                        "ReturnValuesOnConditionCheckFailure") == "ALL_OLD")
            except ServiceError as error:
                response["Error"] = {"Code": _ERROR_CODES.get(error.code, error.code),
                                     "Message": error.message}
                if "Item" in error.fields:
                    response["Error"]["Item"] = error.fields["Item"]
            responses.append(response)
        return {"Responses": responses}

    def _read(self, ctx: RequestContext, table: Table, statement: partiql.Statement) -> Any:
        """The item a SELECT of one key answers (None: none, or the rest of its WHERE is
        false), read as GetItem reads it when the key is all the WHERE says."""
        key = partiql.key_of(statement.where, table.key.names)
        position, _ = self.items.key_position(table, key)
        condition = partiql.residual(statement.where, key)
        if condition is None:
            item, _ = self.items.read_at(table, position, Read(statement.projection,
                                                               True, over_http(ctx)))
            return item
        item = self.items.load(table, position)
        if item is None or not evaluate(condition, item):
            return None
        return project(item, statement.projection) if statement.projection else item

    # -- ExecuteTransaction ---------------------------------------------------------------

    def transaction(self, ctx: RequestContext, TransactStatements: list[dict],
                    ClientRequestToken: str | None = None,
                    ReturnConsumedCapacity: str | None = None) -> dict:
        parsed = [partiql.parse(s["Statement"], s.get("Parameters")) for s in TransactStatements]
        if all(p.kind == "select" for p in parsed):
            return {"Responses": [self._transact_read(ctx, p) for p in parsed]}
        if any(p.kind == "select" for p in parsed):
            raise validation("Transactions must contain either only reads or only writes")
        fingerprint = hashlib.sha256(cbor2.dumps(TransactStatements,
                                                 canonical=True)).hexdigest()
        remembered = self.batches.remembered(ctx, ClientRequestToken, fingerprint)
        if remembered is not None:
            return remembered
        plans = [self._plan(ctx, p) for p in parsed]
        self.batches.run(ctx, plans, ReturnConsumedCapacity, ClientRequestToken, fingerprint)
        return {}

    def _transact_read(self, ctx: RequestContext, statement: partiql.Statement) -> dict:
        item = self._read(ctx, self.tables.get(ctx, statement.table), statement)
        return {} if item is None else {"Item": item}

    def _plan(self, ctx: RequestContext, statement: partiql.Statement) -> dict:
        table = self.tables.get(ctx, statement.table)
        plan: dict[str, Any] = {"table": table, "item": None, "clauses": None,
                                "return_old": False}
        if statement.kind == "insert":
            item, _ = checked_item(statement.item)
            self.items.check_item_keys(table, item)
            plan.update(kind="Put", item=item, position=table.key.position(item),
                        key=table.key.key_of(item), condition=_missing(table),
                        failure="DuplicateItem", failure_message=DUPLICATE_ITEM)
            return plan
        key = partiql.key_of(statement.where, table.key.names)
        position, key = self.items.key_position(table, key)
        plan.update(position=position, key=key)
        if statement.kind == "update":
            plan.update(kind="Update", clauses=statement.clauses,
                        condition=_and(statement.where, _exists(table)))
        elif statement.kind == "delete":
            extra = len(partiql.conjuncts(statement.where)) > len(key)
            plan.update(kind="Delete", condition=statement.where if extra else None)
        else:
            plan.update(kind="ConditionCheck", condition=statement.where)
        return plan
