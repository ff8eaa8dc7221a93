"""ParameterFilters (DescribeParameters, GetParametersByPath) and the older Filters of
DescribeParameters, compiled into one predicate over parameter records."""

from __future__ import annotations

from typing import Callable

from nubo.core.errors import ServiceError

Predicate = Callable[[dict], bool]

_OPTIONS = {"Name": ("Equals", "BeginsWith", "Contains"), "Path": ("OneLevel", "Recursive")}
_EQUALS_ONLY = ("Equals",)
_FIELDS = {"Type": "type", "KeyId": "key_id", "Tier": "tier", "DataType": "data_type"}
BY_PATH_KEYS = ("Type", "KeyId", "Label")


def _values_of(record: dict, key: str) -> list[str]:
    if key == "Name":
        return [record["name"]]
    if key == "Label":
        return list(record["labels"])
    if key.startswith("tag:"):
        tag = key[4:]
        return [record["tags"][tag]] if tag in record["tags"] else []
    value = record.get(_FIELDS[key])
    return [] if value is None else [value]


def _matcher(key: str, option: str, values: list[str]) -> Predicate:
    def test(record: dict) -> bool:
        found = _values_of(record, key)
        if key.startswith("tag:") and not values:
            return bool(found)  # a tag filter without values: the tag is there
        if option == "BeginsWith":
            return any(f.startswith(v) for f in found for v in values)
        if option == "Contains":
            return any(v in f for f in found for v in values)
        return any(f in values for f in found)

    return test


def compile_filters(parameter_filters: list[dict] | None, legacy: list[dict] | None = None,
                    allowed_keys: tuple[str, ...] | None = None
                    ) -> tuple[Predicate, tuple[str, bool] | None]:
    """(predicate, (path, recursive) of a Path filter or None)."""
    if parameter_filters and legacy:
        raise ServiceError("ValidationException", "You can use either Filters or "
                           "ParameterFilters in a single request.")
    tests: list[Predicate] = []
    path = None
    for flt in legacy or []:
        option = "BeginsWith" if flt["Key"] == "Name" else "Equals"
        tests.append(_matcher(flt["Key"], option, flt["Values"]))
    for flt in parameter_filters or []:
        key = flt["Key"]
        if allowed_keys is not None and key not in allowed_keys and not key.startswith("tag:"):
            raise ServiceError("InvalidFilterKey", f"The following filter key is not valid: "
                               f"{key}. Valid filter keys include: [{', '.join(allowed_keys)}].")
        options = _OPTIONS.get(key, _EQUALS_ONLY)
        option = flt.get("Option") or options[0]
        if option not in options:
            raise ServiceError("InvalidFilterOption", "The filter option is not valid. Valid "
                               f"options are: [{', '.join(options)}].")
        values = flt.get("Values") or []
        if key == "Path":
            if len(values) != 1:
                raise ServiceError("InvalidFilterValue", "The Path filter takes one value.")
            path = (values[0], option == "Recursive")
            continue
        if not values and not key.startswith("tag:"):
            raise ServiceError("InvalidFilterValue", f"The filter {key} needs values.")
        tests.append(_matcher(key, option, values))
    return (lambda record: all(test(record) for test in tests)), path
