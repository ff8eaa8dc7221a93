"""Scalar values on the wire: timestamps, blobs, numbers and booleans, shared by all protocols."""

from __future__ import annotations

import base64
import binascii
import math
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime

UTC = timezone.utc
TEXT_TYPES = ("string", "character")  # "character": a single-character string, old models
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadValue(Exception):
    """A wire value that does not fit its shape; each protocol turns it into its AWS error."""

    def __init__(self, message: str, member: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.member = member


# --- timestamps ------------------------------------------------------------------------------
def from_epoch(seconds: float) -> datetime:
    if not math.isfinite(seconds):
        raise BadValue(f"invalid timestamp {seconds}")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadValue(f"timestamp out of range: {seconds}") from None


def parse_timestamp(value: object) -> datetime:
    """Any form AWS accepts: epoch seconds (number or string), ISO 8601, RFC 822 (HTTP date)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return from_epoch(value)
    if not isinstance(value, str) or not value:
        raise BadValue(f"invalid timestamp {value!r}")
    text = value.strip()
    try:
        return from_epoch(float(text))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise BadValue(f"invalid timestamp {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _aware(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return parse_timestamp(value)


def iso8601(value: object) -> str:
    moment = _aware(value).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch_seconds(value: object) -> float | int:
    moment = _aware(value)
    seconds = round((moment - EPOCH).total_seconds(), 3)
    return int(seconds) if seconds.is_integer() else seconds


def rfc822(value: object) -> str:
    return format_datetime(_aware(value).astimezone(UTC).replace(microsecond=0), usegmt=True)


TIMESTAMP_WRITERS = {"iso8601": iso8601, "unixtimestamp": epoch_seconds, "rfc822": rfc822}


def timestamp_writer(shape, default: str):
    fmt = (shape.serialization.get("timestampFormat") or default).lower()
    return TIMESTAMP_WRITERS[fmt]


# --- blobs, numbers, booleans ----------------------------------------------------------------
def b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadValue("invalid base64 value") from None


def b64encode(value: bytes | str) -> str:
    if isinstance(value, str):
        value = value.encode()
    return base64.b64encode(value).decode()


_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def float_from_text(text: str) -> float:
    special = _SPECIAL_FLOATS.get(text)
    if special is not None:
        return special
    try:
        number = float(text)
    except ValueError:
        raise BadValue(f"invalid number {text!r}") from None
    if not math.isfinite(number):  # "inf"/"nan" spellings are not AWS's
        raise BadValue(f"invalid number {text!r}")
    return number


def float_text(value: float) -> str:
    """AWS's spelling of a float: NaN/Infinity/-Infinity for the special values."""
    value = float(value)
    if math.isfinite(value):
        return repr(value)
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def int_from_text(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise BadValue(f"invalid integer {text!r}") from None


def bool_from_text(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise BadValue(f"invalid boolean {text!r}")


def bool_text(value: bool) -> str:
    return "true" if value else "false"


def scalar_from_text(shape):
    """A converter from wire text to the Python value of a scalar shape (query, XML, headers)."""
    kind = shape.type_name
    if kind in TEXT_TYPES:
        return str
    if kind in ("integer", "long", "byte", "short"):
        return int_from_text
    if kind in ("float", "double"):
        return float_from_text
    if kind == "boolean":
        return bool_from_text
    if kind == "blob":
        return b64decode
    if kind == "timestamp":
        return parse_timestamp
    raise ValueError(f"not a scalar shape: {shape.name} ({kind})")


def scalar_to_text(shape, default_timestamp: str = "iso8601"):
    """A converter from a Python value to wire text for a scalar shape (query, XML, headers)."""
    kind = shape.type_name
    if kind in TEXT_TYPES:
        return str
    if kind in ("integer", "long", "byte", "short"):
        return lambda value: str(int(value))
    if kind in ("float", "double"):
        return float_text
    if kind == "boolean":
        return bool_text
    if kind == "blob":
        return b64encode
    if kind == "timestamp":
        writer = timestamp_writer(shape, default_timestamp)
        return lambda value: str(writer(value))
    raise ValueError(f"not a scalar shape: {shape.name} ({kind})")
