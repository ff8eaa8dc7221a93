"""Evaluating parsed expressions (expressions.py) against items: conditions and filters,
projections, and update actions with AWS's runtime errors."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from nubo.core.errors import ServiceError
from nubo.services.dynamodb.expressions import check_overlaps
from nubo.services.dynamodb.values import (arithmetic, check_value, number_text, scalar,
                                           validation, values_equal)

_ORDERED = ("S", "N", "B")


# -- reading paths ------------------------------------------------------------------------

def resolve_path(item: dict | None, path: tuple) -> dict | None:
    """The value at ``path`` in ``item``, or None."""
    if item is None:
        return None
    value = item.get(path[0])
    for element in path[1:]:
        if value is None:
            return None
        if isinstance(element, int):
            items = value.get("L")
            value = items[element] if items is not None and element < len(items) else None
        else:
            members = value.get("M")
            value = members.get(element) if members is not None else None
    return value


def operand_value(item: dict | None, node: tuple) -> dict | None:
    kind = node[0]
    if kind == "path":
        return resolve_path(item, node[1])
    if kind == "value":
        return node[1]
    if kind == "size":
        value = resolve_path(item, node[1][1])
        if value is None:
            return None
        (vkind, inner), = value.items()
        if vkind == "S":
            return {"N": str(len(inner))}
        if vkind in ("B", "SS", "NS", "BS", "L", "M"):
            return {"N": str(len(inner))}
        return None
    raise AssertionError(kind)


# -- conditions ---------------------------------------------------------------------------

def _ordered_pair(left: dict | None, right: dict | None) -> tuple[Any, Any] | None:
    if left is None or right is None:
        return None
    (lk,) = left
    (rk,) = right
    if lk != rk or lk not in _ORDERED:
        return None
    return scalar(left), scalar(right)


def compare(op: str, left: dict | None, right: dict | None) -> bool:
    if op == "=":
        return left is not None and right is not None and values_equal(left, right)
    if op == "<>":
        return left is None or right is None or not values_equal(left, right)
    pair = _ordered_pair(left, right)
    if pair is None:
        return False
    a, b = pair
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def evaluate(node: tuple, item: dict | None) -> bool:
    kind = node[0]
    if kind == "and":
        return evaluate(node[1], item) and evaluate(node[2], item)
    if kind == "or":
        return evaluate(node[1], item) or evaluate(node[2], item)
    if kind == "not":
        return not evaluate(node[1], item)
    if kind == "compare":
        return compare(node[1], operand_value(item, node[2]), operand_value(item, node[3]))
    if kind == "between":
        value = operand_value(item, node[1])
        low = _ordered_pair(value, operand_value(item, node[2]))
        high = _ordered_pair(value, operand_value(item, node[3]))
        return low is not None and high is not None and low[1] <= low[0] <= high[1]
    if kind == "in":
        value = operand_value(item, node[1])
        return value is not None and any(
            compare("=", value, operand_value(item, option)) for option in node[2])
    if kind == "function":
        return _function(node[1], node[2], item)
    raise AssertionError(kind)


def _function(name: str, args: list, item: dict | None) -> bool:
    if name == "attribute_exists":
        return resolve_path(item, args[0][1]) is not None
    if name == "attribute_not_exists":
        return resolve_path(item, args[0][1]) is None
    if name == "attribute_type":
        value = resolve_path(item, args[0][1])
        return value is not None and next(iter(value)) == args[1][1]["S"]
    value = operand_value(item, args[0])
    other = operand_value(item, args[1])
    if value is None or other is None:
        return False
    (kind, inner), = value.items()
    (other_kind, other_inner), = other.items()
    if name == "begins_with":
        return kind == other_kind and kind in ("S", "B") and inner.startswith(other_inner)
    # contains
    if kind in ("S", "B"):
        return kind == other_kind and other_inner in inner
    if kind in ("SS", "BS"):
        return other_kind == kind[0] and other_inner in inner
    if kind == "NS":
        return other_kind == "N" and Decimal(other_inner) in {Decimal(n) for n in inner}
    if kind == "L":
        return any(values_equal(element, other) for element in inner)
    return False


def check_static_between(node: tuple, label: str) -> None:
    """BETWEEN with two constant bounds in the wrong order is a validation error."""
    kind = node[0]
    if kind in ("and", "or"):
        check_static_between(node[1], label)
        check_static_between(node[2], label)
    elif kind == "not":
        check_static_between(node[1], label)
    elif kind == "between" and node[2][0] == "value" and node[3][0] == "value":
        pair = _ordered_pair(node[2][1], node[3][1])
        if pair is not None and pair[0] > pair[1]:
            raise validation(
                f"Invalid {label}: The BETWEEN operator requires upper bound to be greater than "
                f"or equal to lower bound; lower bound operand: AttributeValue: "
                f"{_shown(node[2][1])}, upper bound operand: AttributeValue: "
                f"{_shown(node[3][1])}")


def _shown(value: dict) -> str:
    (kind, inner), = value.items()
    return f"{{{kind}:{inner}}}"


def paths_of(node: Any) -> list[tuple]:
    """Every document path a tree reads."""
    if isinstance(node, list):
        return [p for part in node for p in paths_of(part)]
    if not isinstance(node, tuple) or not node:
        return []
    if node[0] == "path":
        return [node[1]]
    if node[0] == "value":
        return []
    return [p for part in node[1:] for p in paths_of(part)]


# -- projections --------------------------------------------------------------------------

def project(item: dict, paths: list[tuple]) -> dict:
    """The parts of ``item`` named by ``paths``, nested as in the item (lists keep the selected
    elements in index order)."""
    result: dict = {}
    for path in paths:
        value = resolve_path(item, path)
        if value is None:
            continue
        _merge(result, item, path, value)
    return _finish(result)


def _merge(result: dict, item: dict, path: tuple, value: dict) -> None:
    # Build a skeleton: maps as dicts, lists as {index: ...} dicts, finished in _finish.
    node = result
    source: Any = {"M": item}
    for position, element in enumerate(path):
        last = position == len(path) - 1
        container = source["M"] if isinstance(element, str) else source["L"]
        source = container[element]
        if last:
            node[element] = ("leaf", value)
            return
        child = node.get(element)
        if child is None or (isinstance(child, tuple)):
            if isinstance(child, tuple):  # a shorter path already took the whole value
                return
            child = node[element] = {"__kind": "M" if "M" in source else "L"}
        node = child


def _finish(node: dict) -> dict:
    return {key: _finish_value(child) for key, child in node.items() if key != "__kind"}


def _finish_value(child: Any) -> dict:
    if isinstance(child, tuple):
        return child[1]
    kind = child["__kind"]
    if kind == "M":
        return {"M": _finish(child)}
    return {"L": [_finish_value(child[i]) for i in sorted(k for k in child if k != "__kind")]}


# -- updates ------------------------------------------------------------------------------

def check_update_paths(clauses: dict[str, list], key_names: tuple[str, ...]) -> list[tuple]:
    """The paths an update writes; AWS rejects overlapping ones and key attributes."""
    paths = [action[0][1] for actions in clauses.values() for action in actions]
    check_overlaps(paths, "UpdateExpression")
    for path in paths:
        if path[0] in key_names:
            raise validation(f"One or more parameter values were invalid: Cannot update "
                             f"attribute {path[0]}. This attribute is part of the key")
    return paths


def _update_value(node: tuple, item: dict) -> dict:
    kind = node[0]
    if kind == "value":
        return node[1]
    if kind == "path":
        value = resolve_path(item, node[1])
        if value is None:
            raise validation("The provided expression refers to an attribute that does not "
                             "exist in the item")
        return value
    if kind == "function" and node[1] == "if_not_exists":
        existing = resolve_path(item, node[2][0][1])
        return existing if existing is not None else _update_value(node[2][1], item)
    if kind == "function" and node[1] == "list_append":
        left, right = (_update_value(arg, item) for arg in node[2])
        if "L" not in left or "L" not in right:
            raise validation("Invalid UpdateExpression: Incorrect operand type for operator or "
                             "function; operator or function: list_append, operand type: "
                             f"{_type_word(left if 'L' not in left else right)}")
        return {"L": left["L"] + right["L"]}
    if kind in ("plus", "minus"):
        left, right = _update_value(node[1], item), _update_value(node[2], item)
        if "N" not in left or "N" not in right:
            raise validation("An operand in the update expression has an incorrect data type")
        result = arithmetic("+" if kind == "plus" else "-", Decimal(left["N"]),
                            Decimal(right["N"]))
        return {"N": number_text(result)}
    raise AssertionError(kind)


_TYPE_WORDS = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL",
               "L": "LIST", "M": "MAP", "SS": "SS", "NS": "NS", "BS": "BS"}


def _type_word(value: dict) -> str:
    return _TYPE_WORDS[next(iter(value))]


def _invalid_path() -> Exception:
    return validation("The document path provided in the update expression is invalid for "
                      "update")


def _parent(item: dict, path: tuple) -> tuple[Any, Any]:
    """The container holding the last element of ``path`` (a dict of names or a list)."""
    container: Any = item
    for element in path[:-1]:
        if isinstance(element, int):
            inside = isinstance(container, list) and element < len(container)
            value = container[element] if inside else None
        else:
            value = container.get(element) if isinstance(container, dict) else None
        if value is None:
            raise _invalid_path()
        container = value["M"] if "M" in value else value.get("L")
        if container is None:
            raise _invalid_path()
    return container, path[-1]


def _set(item: dict, path: tuple, value: dict) -> None:
    container, last = _parent(item, path)
    if isinstance(last, int):
        if not isinstance(container, list):
            raise _invalid_path()
        if last < len(container):
            container[last] = value
        else:
            container.append(value)
    else:
        if not isinstance(container, dict):
            raise _invalid_path()
        container[last] = value


def _remove(item: dict, path: tuple) -> None:
    try:
        container, last = _parent(item, path)
    except ServiceError:
        return  # removing what is not there changes nothing
    if isinstance(last, int):
        if isinstance(container, list) and last < len(container):
            del container[last]
    elif isinstance(container, dict):
        container.pop(last, None)


def apply_update(clauses: dict[str, list], item: dict) -> dict:
    """The item after the update actions; every operand reads the item as it was before."""
    before = item
    after = copy.deepcopy(item)
    for target, value_node in clauses.get("SET", ()):
        _set(after, target[1], check_value(_update_value(value_node, before)))
    # List elements removed by index: highest first, so earlier indexes stay valid.
    removals = [action[0][1] for action in clauses.get("REMOVE", ())]
    for path in sorted(removals, key=lambda p: tuple((1, -e) if isinstance(e, int) else (0, e)
                                                       for e in p)):
        _remove(after, path)
    for target, value_node in clauses.get("ADD", ()):
        _add(after, before, target[1], value_node[1])
    for target, value_node in clauses.get("DELETE", ()):
        _delete(after, before, target[1], value_node[1])
    return after


def _add(after: dict, before: dict, path: tuple, value: dict) -> None:
    (kind, inner), = value.items()
    if kind not in ("N", "SS", "NS", "BS"):
        raise validation("Invalid UpdateExpression: Incorrect operand type for operator or "
                         f"function; operator: ADD, operand type: {_type_word(value)}")
    existing = resolve_path(before, path)
    if existing is None:
        _set(after, path, value)
        return
    if kind not in existing:
        raise validation("An operand in the update expression has an incorrect data type")
    if kind == "N":
        total = arithmetic("+", Decimal(existing["N"]), Decimal(inner))
        _set(after, path, {"N": number_text(total)})
    elif kind == "NS":
        known = {Decimal(n) for n in existing["NS"]}
        _set(after, path, {"NS": existing["NS"] + [n for n in inner if Decimal(n) not in known]})
    else:
        _set(after, path, {kind: existing[kind] + [v for v in inner if v not in existing[kind]]})


def _delete(after: dict, before: dict, path: tuple, value: dict) -> None:
    (kind, inner), = value.items()
    if kind not in ("SS", "NS", "BS"):
        raise validation("Invalid UpdateExpression: Incorrect operand type for operator or "
                         f"function; operator: DELETE, operand type: {_type_word(value)}")
    existing = resolve_path(before, path)
    if existing is None:
        return
    if kind not in existing:
        raise validation("An operand in the update expression has an incorrect data type")
    if kind == "NS":
        gone = {Decimal(n) for n in inner}
        remaining = [n for n in existing["NS"] if Decimal(n) not in gone]
    else:
        remaining = [v for v in existing[kind] if v not in inner]
    if remaining:
        _set(after, path, {kind: remaining})
    else:
        _remove(after, path)
