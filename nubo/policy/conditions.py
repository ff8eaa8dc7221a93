"""The Condition element: every operator of the IAM policy language, with IfExists and the
ForAllValues/ForAnyValue set qualifiers.

Semantics (IAM user guide, "Condition element" and "Multivalued context keys"): all operators of
a block must hold, all keys of an operator must hold, and a key holds if the request's value
matches any of the policy's values. A negated operator (StringNotEquals, ...) holds when no value
matches, also when the key is absent. ``...IfExists`` holds when the key is absent.
``ForAnyValue``: some request value matches; ``ForAllValues``: every request value matches (an
absent or empty key holds).
"""

from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from nubo.policy.variables import has_variables, substitute, template_regex

__all__ = ["Condition", "compile_conditions", "KNOWN_OPERATORS"]


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None


def _date(text: str) -> float | None:
    try:
        return float(text)  # epoch seconds are accepted too
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _compare(convert: Callable[[str], Any], test: Callable[[Any, Any], bool]):
    def match(actual: str, expected: str, context: dict) -> bool:
        a, e = convert(actual), convert(expected)
        return a is not None and e is not None and test(a, e)
    return match


def _string_like(actual: str, expected: str, context: dict) -> bool:
    pattern = template_regex(expected, context, ignore_case=False)
    return pattern is not None and pattern.fullmatch(actual) is not None


def _arn_like(actual: str, expected: str, context: dict) -> bool:
    # ARNs compare segment by segment: a wildcard never crosses the first five colons.
    actual_parts, expected_parts = actual.split(":", 5), expected.split(":", 5)
    if len(actual_parts) != 6 or len(expected_parts) != 6:
        return False
    return all(_string_like(a, e, context) for a, e in zip(actual_parts, expected_parts))


def _ip(actual: str, expected: str, context: dict) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(expected, strict=False)
    except ValueError:
        return False


def _binary(actual: str, expected: str, context: dict) -> bool:
    try:
        return base64.b64decode(actual) == base64.b64decode(expected)
    except ValueError:
        return False


def _bool(actual: str, expected: str, context: dict) -> bool:
    return str(actual).lower() == str(expected).lower()


_POSITIVE: dict[str, Callable[[str, str, dict], bool]] = {
    "stringequals": lambda a, e, c: a == e,
    "stringequalsignorecase": lambda a, e, c: a.lower() == e.lower(),
    "stringlike": _string_like,
    "numericequals": _compare(_number, lambda a, e: a == e),
    "numericlessthan": _compare(_number, lambda a, e: a < e),
    "numericlessthanequals": _compare(_number, lambda a, e: a <= e),
    "numericgreaterthan": _compare(_number, lambda a, e: a > e),
    "numericgreaterthanequals": _compare(_number, lambda a, e: a >= e),
    "dateequals": _compare(_date, lambda a, e: a == e),
    "datelessthan": _compare(_date, lambda a, e: a < e),
    "datelessthanequals": _compare(_date, lambda a, e: a <= e),
    "dategreaterthan": _compare(_date, lambda a, e: a > e),
    "dategreaterthanequals": _compare(_date, lambda a, e: a >= e),
    "bool": _bool,
    "binaryequals": _binary,
    "ipaddress": _ip,
    "arnequals": _arn_like,
    "arnlike": _arn_like,
}
# Negated operators: the positive test, inverted over the whole value list.
_NEGATED = {"stringnotequals": "stringequals", "stringnotequalsignorecase": "stringequalsignorecase",
            "stringnotlike": "stringlike", "numericnotequals": "numericequals",
            "datenotequals": "dateequals", "notipaddress": "ipaddress",
            "arnnotequals": "arnequals", "arnnotlike": "arnlike"}
KNOWN_OPERATORS = frozenset(_POSITIVE) | frozenset(_NEGATED) | {"null"}


@dataclass(frozen=True)
class Condition:
    """One operator applied to one key, e.g. StringEquals aws:username ["a", "b"]."""

    operator: str  # lower-case base operator, e.g. "stringequals"
    key: str  # lower-case context key
    values: tuple[str, ...]
    negated: bool
    if_exists: bool
    qualifier: str  # "", "forallvalues" or "foranyvalue"
    known: bool  # False for an operator IAM does not have: it never holds

    def holds(self, context: dict) -> bool:
        if not self.known:
            return False
        actual = context.get(self.key)
        if self.operator == "null":
            absent = actual is None or actual == [] or actual == ()
            return any(str(v).lower() == ("true" if absent else "false") for v in self.values)
        if actual is None:
            if self.qualifier == "forallvalues":
                return True
            if self.qualifier == "foranyvalue":
                return False
            return self.if_exists or self.negated
        actual_values = [str(v) for v in actual] if isinstance(actual, (list, tuple)) \
            else [actual if isinstance(actual, str) else _text(actual)]
        expected = self._expected(context)

        def matches(value: str) -> bool:
            test = _POSITIVE[self.operator]
            hit = any(test(value, e, context) for e in expected)
            return not hit if self.negated else hit

        if self.qualifier == "forallvalues":
            return all(matches(v) for v in actual_values)
        if self.qualifier == "foranyvalue":
            return any(matches(v) for v in actual_values)
        if self.negated:
            return all(matches(v) for v in actual_values)
        return any(matches(v) for v in actual_values)

    def _expected(self, context: dict) -> list[str]:
        if self.operator in ("stringlike", "arnlike", "arnequals"):
            return list(self.values)  # variables are resolved inside the pattern match
        out = []
        for value in self.values:
            resolved = substitute(value, context) if has_variables(value) else value
            if resolved is not None:
                out.append(resolved)
        return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_OPERATOR = re.compile(r"^(?:(ForAllValues|ForAnyValue):)?(.+?)(IfExists)?$", re.IGNORECASE)


def compile_conditions(block: Any) -> tuple[Condition, ...]:
    if not isinstance(block, dict):
        return ()
    out = []
    for operator_text, keys in block.items():
        match = _OPERATOR.match(operator_text)
        qualifier, name, if_exists = match.group(1), match.group(2).lower(), match.group(3)
        negated = name in _NEGATED
        base = _NEGATED.get(name, name)
        known = base in _POSITIVE or base == "null"
        if not isinstance(keys, dict):
            out.append(Condition(base, "", (), negated, False, "", known=False))
            continue
        for key, values in keys.items():
            listed = values if isinstance(values, list) else [values]
            out.append(Condition(operator=base, key=str(key).lower(),
                                 values=tuple(_text(v) for v in listed), negated=negated,
                                 if_exists=bool(if_exists),
                                 qualifier=(qualifier or "").lower(), known=known))
    return tuple(out)
