"""The single-item operations as AWS defines their requests: expression or legacy parameters,
validation in AWS's order (the request's own syntax first, then the table), ReturnValues and
ReturnConsumedCapacity. Each returns the operation's output shape."""

from __future__ import annotations

from typing import Any

from nubo.core.context import RequestContext
from nubo.services.dynamodb import legacy
from nubo.services.dynamodb.evaluation import project
from nubo.services.dynamodb.items import (Items, Read, condition_of, expressions_for,
                                          over_http)
from nubo.services.dynamodb.models import Tables
from nubo.services.dynamodb.values import checked_item, validation

_PUT_RETURNS = ("NONE", "ALL_OLD")


def _compact(output: dict) -> dict:
    return {k: v for k, v in output.items() if v is not None}


def check_return_values(value: str | None, allowed: tuple[str, ...]) -> str:
    value = value or "NONE"
    if value not in allowed:
        raise validation("Return values set to invalid value")
    return value


def projection_of(expressions, source: str | None, attributes: list[str] | None):
    if source is not None:
        return [path[1] for path in expressions.projection(source)]
    return legacy.attributes_to_get(attributes)


class ItemRequests:
    def __init__(self, tables: Tables, items: Items) -> None:
        self.tables = tables
        self.items = items

    def get_item(self, ctx: RequestContext, TableName: str, Key: dict,
                 AttributesToGet: list[str] | None = None, ConsistentRead: bool | None = None,
                 ReturnConsumedCapacity: str | None = None,
                 ProjectionExpression: str | None = None,
                 ExpressionAttributeNames: dict | None = None) -> dict:
        legacy.check_exclusive({"ProjectionExpression": ProjectionExpression},
                               {"AttributesToGet": AttributesToGet})
        expressions = expressions_for(ExpressionAttributeNames, None,
                                      ProjectionExpression is not None)
        projection = projection_of(expressions, ProjectionExpression, AttributesToGet)
        expressions.check_unused()
        table = self.tables.get(ctx, TableName)
        item, units = self.items.get_item(table, Key, Read(projection, bool(ConsistentRead),
                                                           over_http(ctx)))
        capacity = None
        if ReturnConsumedCapacity in ("TOTAL", "INDEXES"):
            capacity = {"TableName": table.name, "CapacityUnits": units,
                        "ReadCapacityUnits": units}
            if ReturnConsumedCapacity == "INDEXES":
                capacity["Table"] = {"CapacityUnits": units, "ReadCapacityUnits": units}
        return _compact({"Item": item, "ConsumedCapacity": capacity})

    def put_item(self, ctx: RequestContext, TableName: str, Item: dict,
                 Expected: dict | None = None, ReturnValues: str | None = None,
                 ReturnConsumedCapacity: str | None = None,
                 ReturnItemCollectionMetrics: str | None = None,
                 ConditionalOperator: str | None = None, ConditionExpression: str | None = None,
                 ExpressionAttributeNames: dict | None = None,
                 ExpressionAttributeValues: dict | None = None,
                 ReturnValuesOnConditionCheckFailure: str | None = None) -> dict:
        returns = check_return_values(ReturnValues, _PUT_RETURNS)
        condition = self._condition(ConditionExpression, Expected, ConditionalOperator,
                                    ExpressionAttributeNames, ExpressionAttributeValues)
        item, size = checked_item(Item)
        table = self.tables.get(ctx, TableName)
        old, capacity = self.items.put_item(table, item, condition,
                                            ReturnValuesOnConditionCheckFailure == "ALL_OLD",
                                            size)
        return self._output(table, old if returns == "ALL_OLD" else None, capacity,
                            ReturnConsumedCapacity, item, ReturnItemCollectionMetrics)

    def delete_item(self, ctx: RequestContext, TableName: str, Key: dict,
                    Expected: dict | None = None, ConditionalOperator: str | None = None,
                    ReturnValues: str | None = None, ReturnConsumedCapacity: str | None = None,
                    ReturnItemCollectionMetrics: str | None = None,
                    ConditionExpression: str | None = None,
                    ExpressionAttributeNames: dict | None = None,
                    ExpressionAttributeValues: dict | None = None,
                    ReturnValuesOnConditionCheckFailure: str | None = None) -> dict:
        returns = check_return_values(ReturnValues, _PUT_RETURNS)
        condition = self._condition(ConditionExpression, Expected, ConditionalOperator,
                                    ExpressionAttributeNames, ExpressionAttributeValues)
        table = self.tables.get(ctx, TableName)
        old, capacity = self.items.delete_item(table, Key, condition,
                                               ReturnValuesOnConditionCheckFailure == "ALL_OLD")
        return self._output(table, old if returns == "ALL_OLD" else None, capacity,
                            ReturnConsumedCapacity, Key, ReturnItemCollectionMetrics)

    def update_item(self, ctx: RequestContext, TableName: str, Key: dict,
                    AttributeUpdates: dict | None = None, Expected: dict | None = None,
                    ConditionalOperator: str | None = None, ReturnValues: str | None = None,
                    ReturnConsumedCapacity: str | None = None,
                    ReturnItemCollectionMetrics: str | None = None,
                    UpdateExpression: str | None = None, ConditionExpression: str | None = None,
                    ExpressionAttributeNames: dict | None = None,
                    ExpressionAttributeValues: dict | None = None,
                    ReturnValuesOnConditionCheckFailure: str | None = None) -> dict:
        returns = check_return_values(ReturnValues, ("NONE", "ALL_OLD", "UPDATED_OLD",
                                                     "ALL_NEW", "UPDATED_NEW"))
        legacy.check_exclusive(
            {"UpdateExpression": UpdateExpression, "ConditionExpression": ConditionExpression},
            {"AttributeUpdates": AttributeUpdates, "Expected": Expected})
        expressions = expressions_for(ExpressionAttributeNames, ExpressionAttributeValues,
                                      UpdateExpression is not None or
                                      ConditionExpression is not None)
        clauses = (expressions.update(UpdateExpression) if UpdateExpression is not None
                   else legacy.attribute_updates(AttributeUpdates) if AttributeUpdates
                   else None)
        condition = (condition_of(expressions, ConditionExpression, "ConditionExpression")
                     if ConditionExpression is not None
                     else legacy.condition(Expected, ConditionalOperator))
        expressions.check_unused()
        table = self.tables.get(ctx, TableName)
        old, new, paths, capacity = self.items.update_item(
            table, Key, clauses, condition, ReturnValuesOnConditionCheckFailure == "ALL_OLD")
        attributes = {"NONE": None, "ALL_OLD": old, "ALL_NEW": new,
                      "UPDATED_OLD": project(old, paths) if old else None,
                      "UPDATED_NEW": project(new, paths)}[returns]
        return self._output(table, attributes or None, capacity, ReturnConsumedCapacity, new,
                            ReturnItemCollectionMetrics)

    # -- shared ---------------------------------------------------------------------------

    @staticmethod
    def _condition(source: str | None, expected: dict | None, operator: str | None,
                   names: dict | None, values: dict | None) -> tuple | None:
        legacy.check_exclusive({"ConditionExpression": source},
                               {"Expected": expected, "ConditionalOperator": operator})
        expressions = expressions_for(names, values, source is not None)
        if source is not None:
            condition = condition_of(expressions, source, "ConditionExpression")
        else:
            condition = legacy.condition(expected, operator)
        expressions.check_unused()
        return condition

    def _output(self, table, attributes: dict | None, capacity, capacity_mode: str | None,
                item: dict, metrics_mode: str | None) -> dict[str, Any]:
        """A write's output."""
        output = _compact({"Attributes": attributes,
                           "ConsumedCapacity": capacity.view(capacity_mode)})
        metrics = self.items.collection_metrics(table, item) if metrics_mode == "SIZE" else None
        if metrics is not None:
            output["ItemCollectionMetrics"] = metrics
        return output

