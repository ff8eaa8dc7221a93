"""The legacy (pre-expression) parameters, translated onto the expression trees of
expressions.py so one evaluator serves both: Expected, KeyConditions, QueryFilter, ScanFilter
(with ConditionalOperator), AttributeUpdates and AttributesToGet."""

from __future__ import annotations

from typing import Any

from nubo.services.dynamodb.values import INVALID, check_value, validation

_ARITY = {"EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "CONTAINS": 1,
          "NOT_CONTAINS": 1, "BEGINS_WITH": 1, "BETWEEN": 2, "NULL": 0, "NOT_NULL": 0}
_COMPARATORS = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}


def check_exclusive(expression_params: dict[str, Any], legacy_params: dict[str, Any]) -> None:
    """AWS refuses a request mixing expression and legacy parameters."""
    expressions = [k for k, v in expression_params.items() if v is not None]
    legacy = [k for k, v in legacy_params.items() if v is not None]
    if expressions and legacy:
        raise validation("Can not use both expression and non-expression parameters in the same "
                         f"request: Non-expression parameters: {{{', '.join(legacy)}}} "
                         f"Expression parameters: {{{', '.join(expressions)}}}")


def condition(conditions: dict[str, dict] | None, operator: str | None) -> tuple | None:
    """A condition tree from Expected / QueryFilter / ScanFilter / KeyConditions."""
    if not conditions:
        if operator is not None:
            raise validation("ConditionalOperator can only be used when Filter or Expected has "
                             "two or more elements")
        return None
    if operator is not None and len(conditions) < 2:
        raise validation("ConditionalOperator can only be used when Filter or Expected has two "
                         "or more elements")
    tree: tuple | None = None
    for name, spec in conditions.items():
        node = _one(name, spec)
        if tree is None:
            tree = node
        else:
            tree = ("or" if operator == "OR" else "and", tree, node)
    return tree


def _one(name: str, spec: dict) -> tuple:
    path = ("path", (name,))
    operator = spec.get("ComparisonOperator")
    if operator is None:  # Expected's Value / Exists form
        exists = spec.get("Exists", True)
        if "Value" in spec:
            if not exists:
                raise validation(INVALID + "Value cannot be used when Exists is false")
            return ("compare", "=", path, ("value", check_value(spec["Value"])))
        if exists:
            raise validation(INVALID + "Value must be provided when Exists is true")
        return ("function", "attribute_not_exists", [path])
    values = [check_value(v) for v in spec.get("AttributeValueList") or ()]
    arity = _ARITY.get(operator)
    if operator == "IN":
        if not values:
            raise validation(INVALID + "Invalid number of argument(s) for the IN "
                             "ComparisonOperator")
    elif arity is None or len(values) != arity:
        raise validation(INVALID + f"Invalid number of argument(s) for the {operator} "
                         "ComparisonOperator")
    operands = [("value", v) for v in values]
    if operator in _COMPARATORS:
        return ("compare", _COMPARATORS[operator], path, operands[0])
    if operator == "NULL":
        return ("function", "attribute_not_exists", [path])
    if operator == "NOT_NULL":
        return ("function", "attribute_exists", [path])
    if operator == "CONTAINS":
        return ("function", "contains", [path, operands[0]])
    if operator == "NOT_CONTAINS":
        return ("and", ("function", "attribute_exists", [path]),
                ("not", ("function", "contains", [path, operands[0]])))
    if operator == "BEGINS_WITH":
        return ("function", "begins_with", [path, operands[0]])
    if operator == "IN":
        return ("in", path, operands)
    return ("between", path, operands[0], operands[1])


def attribute_updates(updates: dict[str, dict]) -> dict[str, list]:
    """AttributeUpdates as update-expression clauses."""
    clauses: dict[str, list] = {}
    for name, spec in updates.items():
        action = spec.get("Action", "PUT")
        path = ("path", (name,))
        value = spec.get("Value")
        if value is not None:
            value = check_value(value)
        if action == "PUT":
            if value is None:
                raise validation(INVALID + "Only DELETE action is allowed when no attribute "
                                 "value is specified")
            clauses.setdefault("SET", []).append((path, ("value", value)))
        elif action == "DELETE":
            if value is None:
                clauses.setdefault("REMOVE", []).append((path,))
            else:
                clauses.setdefault("DELETE", []).append((path, ("value", value)))
        else:
            if value is None:
                raise validation(INVALID + "Only DELETE action is allowed when no attribute "
                                 "value is specified")
            if "L" in value:  # the legacy ADD appends to lists, which ADD expressions cannot
                existing = ("function", "if_not_exists", [path, ("value", {"L": []})])
                clauses.setdefault("SET", []).append(
                    (path, ("function", "list_append", [existing, ("value", value)])))
            else:
                clauses.setdefault("ADD", []).append((path, ("value", value)))
    return clauses


def attributes_to_get(names: list[str] | None) -> list[tuple] | None:
    if names is None:
        return None
    if len(set(names)) != len(names):
        raise validation(INVALID + "Duplicate value in attribute name: "
                         f"{next(n for n in names if names.count(n) > 1)}")
    return [(name,) for name in names]
