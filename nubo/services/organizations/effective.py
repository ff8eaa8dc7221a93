"""Effective management policies (tag, backup, AI services opt-out, ...): the policies attached
from the root down to an account, merged with the inheritance operators, then collapsed to plain
values as DescribeEffectivePolicy shows them.

Operators: ``@@assign`` replaces the inherited value, ``@@append`` adds to it and ``@@remove``
takes from it; ``@@operators_allowed_for_child_policies`` on a node limits which of them the
policies below may use there (``@@all``, ``@@none`` or a list), a change they may not make is
ignored.
"""

from __future__ import annotations

from typing import Any

ASSIGN, APPEND, REMOVE = "@@assign", "@@append", "@@remove"
CHILD_OPERATORS = "@@operators_allowed_for_child_policies"
_VALUE_OPERATORS = (ASSIGN, APPEND, REMOVE)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _permits(allowed: Any, operator: str) -> bool:
    allowed = _as_list(allowed)
    return "@@all" in allowed or operator in allowed


def merge(parent: dict, child: dict) -> dict:
    """``child`` (a policy lower in the tree) applied to the inherited ``parent``."""
    result = dict(parent)
    allowed = parent.get(CHILD_OPERATORS, "@@all")
    for key, value in child.items():
        if key in _VALUE_OPERATORS:
            if not _permits(allowed, key):
                continue
            current = _as_list(result.get(ASSIGN))
            if key == ASSIGN:
                result[ASSIGN] = value
            elif key == APPEND:
                result[ASSIGN] = current + [v for v in _as_list(value) if v not in current]
            else:
                removed = _as_list(value)
                result[ASSIGN] = [v for v in current if v not in removed]
        elif key == CHILD_OPERATORS:
            result[key] = value
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            if _permits(allowed, ASSIGN) or not key.startswith("@@"):
                result[key] = merge(result[key], value)
        elif key not in result or _permits(allowed, ASSIGN):
            result[key] = value
    return result


def collapse(node: Any) -> Any:
    """The merged policy without operators: ``{"@@assign": x}`` becomes ``x``."""
    if isinstance(node, dict):
        if ASSIGN in node:
            return collapse(node[ASSIGN])
        return {key: collapse(value) for key, value in node.items() if not key.startswith("@@")}
    if isinstance(node, list):
        return [collapse(item) for item in node]
    return node


def effective(documents: list[dict]) -> dict:
    """The effective policy of ``documents``, given from the root down."""
    merged: dict = {}
    for document in documents:
        merged = merge(merged, document)
    return collapse(merged)
