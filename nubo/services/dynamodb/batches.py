"""BatchGetItem, BatchWriteItem, TransactGetItems and TransactWriteItems.

Batches run every request (nothing is left unprocessed: nubo has no throughput limit to hit).
A transaction checks every condition before writing anything and writes inside one store
transaction, so it is all-or-nothing and no other request sees part of it (requests run one at
a time on the event loop). ClientRequestTokens are remembered for 10 minutes.
"""

from __future__ import annotations

import hashlib
from typing import Any

import cbor2

from nubo.core.clock import Clock
from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.services.dynamodb import schema
from nubo.services.dynamodb.evaluation import apply_update, check_update_paths, evaluate
from nubo.services.dynamodb.items import (MAX_BATCH_GET, MAX_BATCH_WRITE,
                                          TOKEN_LIFETIME, Capacity, Items,
                                          Read, condition_of, expressions_for, over_http,
                                          read_units, write_units)
from nubo.services.dynamodb.models import Tables
from nubo.services.dynamodb.requests import ItemRequests, projection_of
from nubo.services.dynamodb.values import (check_item_size, checked_item, item_size,
                                           validation)
from nubo.store import Store

DUPLICATE_KEYS = "Provided list of item keys contains duplicates"
MAX_BATCH_GET_BYTES = 16 * 1024 * 1024  # BatchGetItem returns at most 16 MB
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024  # the aggregate size of a transaction's items
TOO_LARGE = "Transaction request cannot be larger than 4 MB"


def cancelled(reasons: list[dict]) -> ServiceError:
    codes = ", ".join(r["Code"] for r in reasons)
    return ServiceError("TransactionCanceledException", "Transaction cancelled, please refer "
                        f"cancellation reasons for specific reasons [{codes}]",
                        fields={"CancellationReasons": reasons})


class Batches:
    def __init__(self, tables: Tables, items: Items, requests: ItemRequests, store: Store,
                 clock: Clock) -> None:
        self.tables = tables
        self.items = items
        self.requests = requests
        self.store = store
        self.clock = clock
        self.tokens = store.table(schema.TRANSACTION_TOKENS)

    # -- batches ----------------------------------------------------------------------------

    def get(self, ctx: RequestContext, request_items: dict,
            capacity_mode: str | None) -> dict:
        if sum(len(spec["Keys"]) for spec in request_items.values()) > MAX_BATCH_GET:
            raise validation("Too many items requested for the BatchGetItem call")
        plans = []
        for name, spec in request_items.items():
            expressions = expressions_for(spec.get("ExpressionAttributeNames"), None,
                                          spec.get("ProjectionExpression") is not None)
            projection = projection_of(expressions, spec.get("ProjectionExpression"),
                                       spec.get("AttributesToGet"))
            expressions.check_unused()
            plans.append((name, spec, projection))
        tables = {name: self.tables.get(ctx, name) for name, _, _ in plans}
        positions: dict[str, list[bytes]] = {}
        for name, spec, _ in plans:
            found = positions[name] = []
            seen: set[bytes] = set()
            for key in spec["Keys"]:
                position, _ = self.items.key_position(tables[name], key)
                if position in seen:
                    raise validation(DUPLICATE_KEYS)
                seen.add(position)
                found.append(position)
        responses: dict[str, list] = {}
        unprocessed: dict[str, dict] = {}
        capacities = []
        total = 0
        for name, spec, projection in plans:
            table = tables[name]
            found = responses.setdefault(name, [])
            units = 0.0
            consistent = bool(spec.get("ConsistentRead"))
            read = Read(projection, consistent, over_http(ctx))
            for number, position in enumerate(positions[name]):
                if total > MAX_BATCH_GET_BYTES:  # the rest waits for the caller's next call
                    unprocessed[name] = dict(spec, Keys=spec["Keys"][number:])
                    break
                item, size = self.items.read_at(table, position, read)
                units += read_units(size, consistent)
                if item is not None:
                    found.append(item)
                    # the response's size: a projected item's own, else the stored one's
                    total += size if projection is None else item_size(item)
            capacities.append(Capacity(table, units).view(capacity_mode))
        output: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": unprocessed}
        if capacity_mode in ("TOTAL", "INDEXES"):
            output["ConsumedCapacity"] = capacities
        return output

    def write(self, ctx: RequestContext, request_items: dict,
              capacity_mode: str | None, metrics_mode: str | None = None) -> dict:
        if sum(len(requests) for requests in request_items.values()) > MAX_BATCH_WRITE:
            raise validation("Too many items requested for the BatchWriteItem call")
        plans = []
        for name, requests in request_items.items():
            table = self.tables.get(ctx, name)
            positions = set()
            for request in requests:
                if ("PutRequest" in request) == ("DeleteRequest" in request):
                    raise validation("Supplied AttributeValue has more than one datatypes set, "
                                     "must contain exactly one of the supported datatypes")
                if "PutRequest" in request:
                    item, size = checked_item(request["PutRequest"]["Item"])
                    self.items.check_item_keys(table, item)
                    position, key = table.key.position(item), item
                else:
                    item, size = None, 0
                    position, key = self.items.key_position(table,
                                                            request["DeleteRequest"]["Key"])
                if position in positions:
                    raise validation(DUPLICATE_KEYS)
                positions.add(position)
                plans.append((table, position, item, size, key))
        used: dict[str, Capacity] = {}
        for table, position, item, size, _ in plans:
            old, old_size = self.items.load_sized(table, position)
            if item is None and old is None:
                indexes = {}
            else:
                indexes = self.items.write(table, position, old, item, old_size=old_size,
                                           new_size=size)
            capacity = used.setdefault(table.name, Capacity(table, read=False))
            capacity.units += write_units(max(size, old_size))
            for index, units in indexes.items():
                capacity.indexes[index] = capacity.indexes.get(index, 0.0) + units
        output: dict[str, Any] = {"UnprocessedItems": {}}
        if capacity_mode in ("TOTAL", "INDEXES"):
            output["ConsumedCapacity"] = [c.view(capacity_mode) for c in used.values()]
        metrics = self.items.tables_collection_metrics(
            [(table, key) for table, _, _, _, key in plans]) if metrics_mode == "SIZE" else None
        if metrics:
            output["ItemCollectionMetrics"] = metrics
        return output

    # -- transactions -----------------------------------------------------------------------

    def transact_get(self, ctx: RequestContext, actions: list[dict],
                     capacity_mode: str | None) -> dict:
        plans = []
        for action in actions:
            spec = action["Get"]
            expressions = expressions_for(spec.get("ExpressionAttributeNames"), None,
                                          spec.get("ProjectionExpression") is not None)
            projection = projection_of(expressions, spec.get("ProjectionExpression"), None)
            expressions.check_unused()
            plans.append((spec, projection))
        responses = []
        used: dict[str, Capacity] = {}
        seen = set()
        total = 0
        for number, (spec, projection) in enumerate(plans):
            table = self.tables.get(ctx, spec["TableName"])
            position, _ = self.items.key_position(table, spec["Key"])
            if (table.id, position) in seen:
                raise validation("Transaction request cannot include multiple operations on "
                                 "one item")
            seen.add((table.id, position))
            item, size = self.items.read_at(table, position,
                                            Read(projection, True, over_http(ctx)))
            total += size
            if total > MAX_TRANSACTION_BYTES:  # AWS cancels, the item that crossed the limit named
                reasons = [{"Code": "None"} for _ in plans]
                reasons[number] = {"Code": "ValidationError", "Message": TOO_LARGE}
                raise cancelled(reasons)
            used.setdefault(table.name, Capacity(table)).units += read_units(
                size, True, transactional=True)
            responses.append({"Item": item} if item is not None else {})
        output: dict[str, Any] = {"Responses": responses}
        if capacity_mode in ("TOTAL", "INDEXES"):
            output["ConsumedCapacity"] = [c.view(capacity_mode) for c in used.values()]
        return output

    def transact_write(self, ctx: RequestContext, actions: list[dict],
                       capacity_mode: str | None, token: str | None,
                       metrics_mode: str | None = None) -> dict:
        fingerprint = hashlib.sha256(cbor2.dumps(actions, canonical=True)).hexdigest()
        remembered = self.remembered(ctx, token, fingerprint)
        if remembered is not None:
            return remembered
        plans = [self._plan(ctx, action) for action in actions]
        if sum(item_size(plan["item"] or plan["key"]) for plan in plans) > \
                MAX_TRANSACTION_BYTES:  # refused before any condition is looked at
            raise validation(TOO_LARGE)
        return self.run(ctx, plans, capacity_mode, token, fingerprint, metrics_mode)

    def remembered(self, ctx: RequestContext, token: str | None,
                   fingerprint: str) -> dict | None:
        """The output of the transaction this ClientRequestToken named in the last 10 minutes."""
        if token is None:
            return None
        remembered = self.tokens.get((ctx.account_id, ctx.region, token))
        if remembered is None or remembered["expires"] <= self.clock.now():
            return None
        if remembered["fingerprint"] != fingerprint:
            raise ServiceError("IdempotentParameterMismatchException",
                               "The request uses the same client token as a previous, but "
                               "non-identical request.")
        return remembered["output"]

    def run(self, ctx: RequestContext, plans: list[dict], capacity_mode: str | None,
            token: str | None, fingerprint: str, metrics_mode: str | None = None) -> dict:
        """Check every plan's condition, then write them all, or cancel with the reasons."""
        seen = set()
        for plan in plans:
            if (plan["table"].id, plan["position"]) in seen:
                raise validation("Transaction request cannot include multiple operations on "
                                 "one item")
            seen.add((plan["table"].id, plan["position"]))
        reasons = []
        failed = False
        for plan in plans:
            reason = self._prepare(plan)
            failed = failed or reason["Code"] != "None"
            reasons.append(reason)
        if failed:
            raise cancelled(reasons)
        used: dict[str, Capacity] = {}
        for plan in plans:
            table, old, new = plan["table"], plan["old"], plan["new"]
            capacity = used.setdefault(table.name, Capacity(table, read=False))
            size = max(item_size(old) if old else 0, item_size(new) if new else 0)
            capacity.units += write_units(size, transactional=True)
            if plan["kind"] != "ConditionCheck" and (old is not None or new is not None):
                for index, units in self.items.write(table, plan["position"], old,
                                                     new).items():
                    capacity.indexes[index] = capacity.indexes.get(index, 0.0) + 2 * units
        output: dict[str, Any] = {}
        if capacity_mode in ("TOTAL", "INDEXES"):
            output["ConsumedCapacity"] = [c.view(capacity_mode) for c in used.values()]
        metrics = self.items.tables_collection_metrics(
            [(plan["table"], plan["key"]) for plan in plans
             if plan["kind"] != "ConditionCheck"]) if metrics_mode == "SIZE" else None
        if metrics:
            output["ItemCollectionMetrics"] = metrics
        if token is not None:
            now = self.clock.now()
            self.tokens.delete_where(index="by_expiry", lo=None, hi=now)
            self.tokens.put({"account": ctx.account_id, "region": ctx.region, "token": token,
                             "expires": now + TOKEN_LIFETIME, "fingerprint": fingerprint,
                             "output": output})
        return output

    def _plan(self, ctx: RequestContext, action: dict) -> dict:
        """Validate one action (expressions, key, item) before anything is read."""
        if len(action) != 1:
            raise validation("TransactItems can only contain one of Check, Put, Update or "
                             "Delete")
        (kind, spec), = action.items()
        source = spec.get("ConditionExpression")
        update = spec.get("UpdateExpression")
        expressions = expressions_for(spec.get("ExpressionAttributeNames"),
                                      spec.get("ExpressionAttributeValues"),
                                      source is not None or update is not None)
        clauses = expressions.update(update) if update is not None else None
        condition = condition_of(expressions, source, "ConditionExpression")
        expressions.check_unused()
        item = None
        if kind == "Put":
            item, _ = checked_item(spec["Item"])
        table = self.tables.get(ctx, spec["TableName"])
        if kind == "Put":
            self.items.check_item_keys(table, item)
            position, key = table.key.position(item), table.key.key_of(item)
        else:
            position, key = self.items.key_position(table, spec["Key"])
        if clauses:
            check_update_paths(clauses, table.key.names)
        return {"kind": kind, "table": table, "position": position, "key": key, "item": item,
                "clauses": clauses, "condition": condition,
                "return_old": spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"}

    def _prepare(self, plan: dict) -> dict:
        """Check the action's condition and compute its new item; the cancellation reason."""
        old = self.items.load(plan["table"], plan["position"])
        plan["old"], plan["new"] = old, old
        if plan["condition"] is not None and not evaluate(plan["condition"], old):
            reason = {"Code": plan.get("failure", "ConditionalCheckFailed"),
                      "Message": plan.get("failure_message", "The conditional request failed")}
            if plan["return_old"] and old is not None:
                reason["Item"] = old
            return reason
        try:
            if plan["kind"] == "Put":
                plan["new"] = plan["item"]
            elif plan["kind"] == "Delete":
                plan["new"] = None
            elif plan["kind"] == "Update":
                base = old if old is not None else dict(plan["key"])
                new = apply_update(plan["clauses"], base) if plan["clauses"] else dict(base)
                check_item_size(new, updated=True)
                self.items.check_item_keys(plan["table"], new)
                plan["new"] = new
        except ServiceError as error:
            return {"Code": "ValidationError", "Message": error.message}
        return {"Code": "None"}
