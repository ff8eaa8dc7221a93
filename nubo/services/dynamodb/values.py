"""DynamoDB attribute values: validation with AWS's messages, numbers, sizes, ordering.

Values stay in their wire form (``{"S": "x"}``, ``{"N": "1.5"}``, ``{"B": b"..."}``, ...) from
request to store to response; numbers are stored canonical (trimmed, no exponent), as DynamoDB
returns them. Sizes follow AWS's item-size rules; key encodings are byte strings whose memcmp
order is DynamoDB's order, so the store's ordered index answers Query ranges directly.
"""

from __future__ import annotations

import base64
import decimal
import re
from binascii import a2b_base64
from decimal import Decimal
from typing import Any, Iterable

import orjson

from nubo.core.errors import ServiceError

MAX_ITEM_SIZE = 400 * 1024
MAX_HASH_KEY_SIZE = 2048
MAX_RANGE_KEY_SIZE = 1024
MAX_DIGITS = 38
MAX_NESTING = 32  # lists and maps inside one another
TYPES = ("S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS")
SET_TYPES = ("SS", "NS", "BS")

_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_CONTEXT = decimal.Context(prec=200, Emin=-999999, Emax=999999)
INVALID = "One or more parameter values were invalid: "


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


# -- numbers ----------------------------------------------------------------------------------

def parse_number(text: str) -> Decimal:
    """A DynamoDB number: at most 38 significant digits, magnitude in [1e-130, 1e126)."""
    if not isinstance(text, str) or not _NUMBER.match(text):
        suffix = f": {text}" if text else ""
        raise validation(f"The parameter cannot be converted to a numeric value{suffix}")
    value = _CONTEXT.create_decimal(text.strip())
    if not value:
        return Decimal(0)
    value = value.normalize(_CONTEXT)
    digits = value.as_tuple().digits
    if len(digits) > MAX_DIGITS:
        raise validation("Attempting to store more than 38 significant digits in a Number")
    magnitude = value.adjusted()
    if magnitude >= 126:
        raise validation("Number overflow. Attempting to store a number with magnitude larger "
                         "than supported range")
    if magnitude < -130:
        raise validation("Number underflow. Attempting to store a number with magnitude "
                         "smaller than supported range")
    return value


def number_text(value: Decimal) -> str:
    """Canonical text: no exponent, no trailing zeros (DynamoDB's own rendering)."""
    if not value:
        return "0"
    return format(value.normalize(_CONTEXT), "f")


# Already canonical and within every limit (38 digits at most, no exponent, no trailing zero):
# most numbers clients send, answered without building a Decimal.
_CANONICAL = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?$")


def canonical_number(text: str) -> str:
    if len(text) <= MAX_DIGITS and text != "-0" and _CANONICAL.match(text):
        return text
    return number_text(parse_number(text))


def arithmetic(op: str, left: Decimal, right: Decimal) -> Decimal:
    """+ or - with DynamoDB's limits on the result."""
    result = _CONTEXT.add(left, right) if op == "+" else _CONTEXT.subtract(left, right)
    return parse_number(number_text(result))


def number_size(text: str) -> int:
    """Bytes of a canonical number: one per two digits, aligned on the decimal point, plus
    one (worked out on the text: this runs for every number of every item written)."""
    whole, _, fraction = text.lstrip("-").partition(".")
    if whole == "0":
        if not fraction:
            return 1
        high = -(len(fraction) - len(fraction.lstrip("0"))) - 1
    else:
        high = len(whole) - 1
    low = -len(fraction) if fraction else len(whole) - len(whole.rstrip("0"))
    return high // 2 - low // 2 + 2


# -- validation -------------------------------------------------------------------------------

def value_type(value: Any) -> str:
    """The single type tag of an AttributeValue, with AWS's errors for none or several."""
    if not isinstance(value, dict) or not value:
        raise validation("Supplied AttributeValue is empty, must contain exactly one of the "
                         "supported datatypes")
    if len(value) > 1:
        raise validation("Supplied AttributeValue has more than one datatypes set, must contain "
                         "exactly one of the supported datatypes")
    (kind,) = value
    if kind not in TYPES:
        raise validation("Supplied AttributeValue is empty, must contain exactly one of the "
                         "supported datatypes")
    return kind


def check_value(value: Any, depth: int = 0) -> dict:
    """A validated copy of an AttributeValue with its numbers canonical (``depth``: how many
    lists and maps hold it)."""
    return _checked(value, depth)[0]


def _checked(value: Any, depth: int) -> tuple[dict, int]:
    """``check_value`` and the value's size (``value_size``) in one walk: every item written
    is checked and sized."""
    kind = value_type(value)
    inner = value[kind]
    if kind == "S":
        return value, len(inner.encode())
    if kind == "N":
        text = canonical_number(inner)
        return {"N": text}, number_size(text)
    if kind == "B":
        return value, len(inner)
    if kind == "BOOL":
        return value, 1
    if kind == "NULL":
        if inner is not True:
            raise validation(INVALID + "Null attribute value types must have the value of true")
        return value, 1
    if kind == "SS":
        if not inner:
            raise validation(INVALID + "An string set  may not be empty")
        if len(set(inner)) != len(inner):
            raise validation(INVALID + f"Input collection [{', '.join(inner)}] contains "
                             "duplicates.")
        return value, sum(len(s.encode()) for s in inner)
    if kind == "NS":
        if not inner:
            raise validation(INVALID + "An number set  may not be empty")
        numbers = [canonical_number(n) for n in inner]
        if len(set(numbers)) != len(numbers):
            raise validation("Input collection contains duplicates")
        return {"NS": numbers}, sum(number_size(n) for n in numbers)
    if kind == "BS":
        if not inner:
            raise validation(INVALID + "Binary sets should not be empty")
        if len(set(inner)) != len(inner):
            shown = ", ".join(base64.b64encode(b).decode() for b in inner)
            raise validation(INVALID + f"Input collection [{shown}]of type BS contains "
                             "duplicates.")
        return value, sum(len(b) for b in inner)
    if depth >= MAX_NESTING:  # L or M
        raise validation("Nesting Levels have exceeded supported limits: Attributes in the "
                         "item have nested levels beyond supported limit")
    size = 3
    if kind == "L":
        elements = []
        for element in inner:
            checked, element_size = _checked(element, depth + 1)
            elements.append(checked)
            size += 1 + element_size
        return {"L": elements}, size
    members = {}
    for name, member in inner.items():
        checked, member_size = _checked(member, depth + 1)
        members[name] = checked
        size += 1 + len(name.encode()) + member_size
    return {"M": members}, size


def check_item(item: dict) -> dict:
    return {name: check_value(value) for name, value in item.items()}


def checked_item(item: dict) -> tuple[dict, int]:
    """A validated copy of an item written whole (numbers canonical) and its size; over 400 KB
    is AWS's error."""
    checked, size = {}, 0
    for name, value in item.items():
        checked[name], value_bytes = _checked(value, 0)
        size += len(name.encode()) + value_bytes
    _check_size(size, updated=False)
    return checked, size


# -- sizes ------------------------------------------------------------------------------------

def value_size(value: dict) -> int:
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in inner.items())


def item_size(item: dict) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def check_item_size(item: dict, updated: bool = False) -> int:
    """The item's size; over 400 KB is AWS's error (worded apart for updates)."""
    size = item_size(item)
    _check_size(size, updated)
    return size


def _check_size(size: int, updated: bool) -> None:
    if size > MAX_ITEM_SIZE:
        raise validation("Item size to update has exceeded the maximum allowed size" if updated
                         else "Item size has exceeded the maximum allowed size")


# -- comparison -------------------------------------------------------------------------------

def scalar(value: dict) -> Any:
    """The Python value of a scalar for comparisons (Decimal for N)."""
    (kind, inner), = value.items()
    return Decimal(inner) if kind == "N" else inner


def values_equal(left: dict, right: dict) -> bool:
    (lk, lv), = left.items()
    (rk, rv), = right.items()
    if lk != rk:
        return False
    if lk == "N":
        return Decimal(lv) == Decimal(rv)
    if lk in SET_TYPES:
        if lk == "NS":
            return {Decimal(n) for n in lv} == {Decimal(n) for n in rv}
        return set(lv) == set(rv)
    if lk == "L":
        return len(lv) == len(rv) and all(values_equal(a, b) for a, b in zip(lv, rv))
    if lk == "M":
        return lv.keys() == rv.keys() and all(values_equal(lv[k], rv[k]) for k in lv)
    return lv == rv


# -- order-preserving key encoding ------------------------------------------------------------
# A sort key is encoded so that bytes compare (memcmp) as DynamoDB orders the values: S by
# UTF-8 bytes, B by bytes, N numerically. Encodings are self-delimiting (an index entry appends
# the table key after the index sort key), so 0x00 inside S/B is escaped as 0x00 0xFF and the
# value ends with 0x00 0x00.

def _escaped(data: bytes) -> bytes:
    return data.replace(b"\x00", b"\x00\xff")


def _number_key(text: str) -> bytes:
    # value = 0.d1d2... x 10^point; point in [-129, 126] for DynamoDB's range
    if _CANONICAL.match(text):  # the usual case: digits and point read off the text
        sign = text.startswith("-")
        whole, _, fraction = text.lstrip("-").partition(".")
        if whole == "0":
            if not fraction:
                return b"\x02"
            digits = fraction.lstrip("0")
            point = len(digits) - len(fraction)
        else:
            digits = (whole + fraction).rstrip("0")
            point = len(whole)
        mantissa = digits.encode()
    else:
        value = Decimal(text)
        if not value:
            return b"\x02"
        sign, digit_tuple, exponent = value.normalize(_CONTEXT).as_tuple()
        point = len(digit_tuple) + exponent
        mantissa = bytes(0x30 + d for d in digit_tuple)
    if not sign:
        return b"\x03" + (point + 1000).to_bytes(2, "big") + mantissa + b"\x00"
    inverted = bytes(0x69 - b for b in mantissa)  # 0x30..0x39 -> 0x39..0x30
    return b"\x01" + (0xFFFF - point - 1000).to_bytes(2, "big") + inverted + b"\xff"


def key_bytes(value: dict) -> bytes:
    """The self-delimiting, order-preserving encoding of a key value (S, N or B)."""
    (kind, inner), = value.items()
    if kind == "N":
        return _number_key(inner)
    data = inner.encode() if kind == "S" else inner
    return _escaped(data) + b"\x00\x00"


def prefix_bytes(value: dict) -> bytes:
    """The encoding every S or B value starting with ``value`` starts with (begins_with)."""
    (kind, inner), = value.items()
    return _escaped(inner.encode() if kind == "S" else inner)


def successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix``."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


def key_value_size(value: dict) -> int:
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "B":
        return len(inner)
    return number_size(inner)


# -- stored form --------------------------------------------------------------------------------
# Items are stored as their wire JSON (binary values as base64 text, numbers canonical), so a
# read that neither filters nor projects answers the stored bytes as they are (wire_item):
# nothing is decoded, and a Scan page of thousands of items costs a copy.

def _binary_text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


def dump_item(item: dict) -> bytes:
    return orjson.dumps(item, default=_binary_text)


def wire_item(stored: bytes) -> orjson.Fragment:
    """A stored item in a response, as it is (the protocol layer writes AttributeMaps as given,
    patches.py). Only for requests over HTTP: an in-process caller gets dicts (load_item)."""
    return orjson.Fragment(stored)


def load_item(stored: bytes) -> dict:
    item = orjson.loads(stored)
    if b'"B":' in stored or b'"BS":' in stored:
        _restore_binary(item.values())
    return item


def _restore_binary(values: Iterable[dict]) -> None:
    """Binary values among these (and inside their lists and maps) back to bytes, in place;
    only values that can hold one are looked into (a large Query loads every item it returns).
    The stored base64 is our own: binascii's decoder, without base64's checks, is enough."""
    for value in values:
        if "B" in value:
            value["B"] = a2b_base64(value["B"])
        elif "BS" in value:
            value["BS"] = [a2b_base64(b) for b in value["BS"]]
        elif "M" in value:
            _restore_binary(value["M"].values())
        elif "L" in value:
            _restore_binary(value["L"])
