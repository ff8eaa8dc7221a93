"""Input validation against the model: required members, enums, length and range limits, and
patterns where the service enforces them.

Types are the parsers' business (a wrong type never reaches here); this module checks the
constraints of values already parsed. Checks are compiled once per shape into closures that
report ``Issue``s; how issues become an AWS error is the service's *style* (patches.py ``nubo``
block): Coral's ``ValidationException`` listing every issue, or the EC2-era query services'
``MissingParameter`` / ``InvalidParameterValue`` for the first one, or Organizations'
``InvalidInputException`` with a ``Reason``. Unknown members are ignored,
as AWS does. Patterns (patterns.py) are checked only for services whose ``nubo`` block sets
``validatePatterns``: AWS enforces them per service, and some services word the failure
themselves (IAM's names).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from botocore.model import OperationModel, ServiceModel

from nubo.core.errors import ServiceError
from nubo.protocols.models import nubo_settings, operation_plan, plan_cache
from nubo.protocols.patterns import java_pattern

Check = Callable[[Any, tuple, list], None]  # (value, path, issues)
_NOTHING = object()  # an operation whose input has nothing to check


@dataclass(slots=True)
class Issue:
    path: tuple  # member names, list indices (int) and map keys (1-tuples), from the root
    value: Any
    constraint: str  # Coral's wording: "Member must not be null", ...
    member: str  # the member's own name, for the parameter style
    kind: str = ""  # required, min/max_length, min/max_value, enum, pattern: the reason style


def validate(operation: OperationModel, params: dict, service_model: ServiceModel,
             protocol: str) -> None:
    shape = operation.input_shape
    if shape is None:
        return
    settings = nubo_settings(service_model)
    check = operation_plan(operation, "validate", lambda: _compile(shape, _Rules(
        settings.get("validateEnums", True), settings.get("validatePatterns", False))) or _NOTHING)
    if check is _NOTHING:
        return
    issues: list[Issue] = []
    check(params, (), issues)
    if issues:
        raise _error(issues, settings.get("validation", "coral"), protocol)


@dataclass(frozen=True)
class _Rules:
    enums: bool  # False where the service answers unknown enum values itself
    patterns: bool


def _compile(shape, rules: _Rules) -> Check | None:
    cache = plan_cache(shape._shape_resolver, f"validate-{rules.enums}-{rules.patterns}")
    return _check(shape, cache, rules)


def _check(shape, cache: dict, rules: _Rules) -> Check | None:
    kind = shape.type_name
    if kind == "structure":
        if shape.name in cache:
            return cache[shape.name]
        plan: list = []
        cache[shape.name] = check = _struct_check(plan)
        required = set(shape.required_members)
        for name, member in shape.members.items():
            if member.serialization.get("location") == "uri":
                required.discard(name)  # a URI label is always present when the route matched
            member_check = _check(member, cache, rules)
            if member_check is not None or name in required:
                plan.append((name, name in required, member_check))
        if not plan:
            cache[shape.name] = None
            return None
        return check
    limits = None
    if kind in ("string", "blob", "list", "map"):
        limits = _limits_check(shape, "length", len)
    elif kind in ("integer", "long", "float", "double", "byte", "short"):
        limits = _limits_check(shape, "value", None)
    checks = [limits]
    if kind == "string":
        checks.append(_enum_check(shape) if rules.enums else None)
        checks.append(_pattern_check(shape) if rules.patterns else None)
    checks = [check for check in checks if check is not None]
    if kind == "list":
        item = _check(shape.member, cache, rules)
        if item is not None:
            checks.append(_items_check(item))
    elif kind == "map":
        key = _check(shape.key, cache, rules)
        value = _check(shape.value, cache, rules)
        if key is not None or value is not None:
            checks.append(_entries_check(key, value))
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]

    def check_all(value, path, issues):
        for one in checks:
            one(value, path, issues)
    return check_all


def _struct_check(plan: list) -> Check:
    def check_struct(value, path, issues):
        for name, required, check in plan:
            item = value.get(name)
            if item is None:
                if required:
                    issues.append(Issue(path + (name,), None, "Member must not be null", name,
                                        "required"))
            elif check is not None:
                check(item, path + (name,), issues)
    return check_struct


def _limits_check(shape, measured: str, size: Callable[[Any], Any] | None) -> Check | None:
    """The model's min/max: of ``size(value)`` (lengths) or, without ``size``, of the value."""
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is None and high is None:
        return None
    too_small = f"Member must have {measured} greater than or equal to {low}"
    too_large = f"Member must have {measured} less than or equal to {high}"

    def check_limits(value, path, issues):
        amount = value if size is None else size(value)
        if low is not None and amount < low:
            issues.append(Issue(path, value, too_small, _member(path), f"min_{measured}"))
        elif high is not None and amount > high:
            issues.append(Issue(path, value, too_large, _member(path), f"max_{measured}"))
    return check_limits


def _enum_check(shape) -> Check | None:
    allowed = shape.enum
    if not allowed:
        return None
    members = frozenset(allowed)
    wording = f"Member must satisfy enum value set: [{', '.join(allowed)}]"

    def check_enum(value, path, issues):
        if value not in members:
            issues.append(Issue(path, value, wording, _member(path), "enum"))
    return check_enum


def _pattern_check(shape) -> Check | None:
    pattern = shape.metadata.get("pattern")
    compiled = java_pattern(pattern) if pattern else None
    if compiled is None:
        return None
    matches = compiled.fullmatch
    wording = f"Member must satisfy regular expression pattern: {pattern}"

    def check_pattern(value, path, issues):
        if matches(value) is None:
            issues.append(Issue(path, value, wording, _member(path), "pattern"))
    return check_pattern


def _items_check(item: Check) -> Check:
    def check_items(value, path, issues):
        for index, element in enumerate(value, 1):
            item(element, path + (index,), issues)
    return check_items


def _entries_check(key: Check | None, value: Check | None) -> Check:
    def check_entries(mapping, path, issues):
        for k, v in mapping.items():
            if key is not None:
                key(k, path + ((k,),), issues)
            if value is not None and v is not None:
                value(v, path + ((k,),), issues)
    return check_entries


# --- issues to errors ------------------------------------------------------------------------
def _coral_path(path: tuple) -> str:
    parts = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"{part}.member")
        elif isinstance(part, tuple):  # a map key
            parts.append(str(part[0]))
        else:
            parts.append(part[:1].lower() + part[1:])
    return ".".join(parts)


def _member(path: tuple) -> str:
    return next((part for part in reversed(path) if isinstance(part, str)), "")


def _java_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_java_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def coral_message(issues: list[Issue]) -> str:
    details = []
    for issue in issues:
        shown = "null" if issue.value is None else f"'{_java_text(issue.value)}'"
        details.append(f"Value {shown} at '{_coral_path(issue.path)}' failed to satisfy "
                       f"constraint: {issue.constraint}")
    count = len(issues)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(details)


# Organizations' InvalidInputException reasons, as its API reference lists them.
_REASONS = {
    "required": ("INPUT_REQUIRED", "You must include a value for all required parameters."),
    "min_length": ("MIN_LENGTH_EXCEEDED",
                   "You provided a string parameter that is shorter than allowed."),
    "max_length": ("MAX_LENGTH_EXCEEDED",
                   "You provided a string parameter that is longer than allowed."),
    "min_value": ("MIN_VALUE_EXCEEDED",
                  "You provided a numeric parameter that has a smaller value than allowed."),
    "max_value": ("MAX_VALUE_EXCEEDED",
                  "You provided a numeric parameter that has a larger value than allowed."),
    "enum": ("INVALID_ENUM", "You specified an invalid value."),
    "pattern": ("INVALID_PATTERN", "You provided a value that does not match the required "
                "pattern."),
}


def _error(issues: list[Issue], style: str, protocol: str) -> ServiceError:
    if style == "reason":
        reason, message = _REASONS[issues[0].kind]
        return ServiceError("InvalidInputException", message, 400, fields={"Reason": reason})
    if style == "parameter":
        issue = issues[0]
        member = str(issue.member)
        if issue.value is None:
            return ServiceError("MissingParameter",
                                f"The request must contain the parameter {member}.", 400)
        return ServiceError("InvalidParameterValue",
                            f"Value {_java_text(issue.value)} for parameter {member} is invalid. "
                            f"{issue.constraint.replace('Member', 'It')}.", 400)
    if style == "xml" and issues[0].kind == "required":  # S3: a document missing an element
        return ServiceError("MalformedXML", "The XML you provided was not well-formed or did "
                            "not validate against our published schema", 400)
    code = "ValidationError" if protocol in ("query", "ec2", "rest-xml") else "ValidationException"
    return ServiceError(code, coral_message(issues), 400)
