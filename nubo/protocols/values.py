"""Scalar values on the wire: timestamps, blobs, numbers and booleans, shared by all protocols."""

from __future__ import annotations

import base64
import binascii
import math
import time
from datetime import datetime, timezone
from email.utils import format_datetime, formatdate, parsedate_to_datetime

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadValue(Exception):
    """A wire value that does not fit its shape; each protocol turns it into its AWS error."""

    def __init__(self, message: str, member: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.member = member

    def within(self, member: str) -> "BadValue":
        """This error, naming the member it occurred in unless an inner member is named."""
        self.member = self.member or member
        return self


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


_SECONDS: dict[float, str] = {}  # recent whole seconds as text: a listing's times share many
_MILLIS = [f".{millis:03d}Z" for millis in range(1000)]
_EPOCH_TYPES = (int, float)  # bool is an int but no time


def iso8601(value: object) -> str:
    if type(value) in _EPOCH_TYPES and value >= 0:
        # epoch seconds, the common case (listings write thousands): no datetime needed; the
        # fraction rounded to microseconds as datetime.fromtimestamp rounds it
        fraction, whole = math.modf(value)
        micros = round(fraction * 1e6)
        if micros >= 1_000_000:
            whole, micros = whole + 1, micros - 1_000_000
        second = _SECONDS.get(whole)
        if second is None:
            if len(_SECONDS) >= 4096:
                _SECONDS.clear()
            second = _SECONDS[whole] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        return second + _MILLIS[micros // 1000]
    moment = _aware(value).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch_seconds(value: object) -> float | int:
    moment = _aware(value)
    seconds = round((moment - EPOCH).total_seconds(), 3)
    return int(seconds) if seconds.is_integer() else seconds


_HTTP_DATES: dict[int, str] = {}  # recent seconds as HTTP dates (Last-Modified of hot objects)


def rfc822(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        whole = int(value)
        text = _HTTP_DATES.get(whole)
        if text is None:
            if len(_HTTP_DATES) >= 4096:
                _HTTP_DATES.clear()
            text = _HTTP_DATES[whole] = formatdate(whole, usegmt=True)
        return text
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


# --- scalar shapes ---------------------------------------------------------------------------
# The model's scalar types by how they travel: "character" is a one-character string of old
# models; the integer widths and the float precisions share one encoding each.
_SCALAR_KINDS = {"string": "text", "character": "text", "integer": "integer", "long": "integer",
                 "byte": "integer", "short": "integer", "float": "float", "double": "float",
                 "boolean": "boolean", "blob": "blob", "timestamp": "timestamp"}


def scalar_kind(shape) -> str:
    """text, integer, float, boolean, blob or timestamp."""
    kind = _SCALAR_KINDS.get(shape.type_name)
    if kind is None:
        raise ValueError(f"not a scalar shape: {shape.name} ({shape.type_name})")
    return kind


def _int_text(value) -> str:
    return str(int(value))


_FROM_TEXT = {"text": str, "integer": int_from_text, "float": float_from_text,
              "boolean": bool_from_text, "blob": b64decode, "timestamp": parse_timestamp}
_TO_TEXT = {"text": str, "integer": _int_text, "float": float_text, "boolean": bool_text,
            "blob": b64encode}


# The Java types of the models' integer shapes: a number beyond its type is no value of the
# shape, refused as a malformed value (as AWS's deserializers refuse it), never handed on.
_INTEGER_LIMITS = {"byte": 2 ** 7, "short": 2 ** 15, "integer": 2 ** 31, "long": 2 ** 63}


def integer_check(shape):
    """A function answering an int of ``shape`` as it is, or raising BadValue beyond its
    type's range."""
    type_name = shape.type_name
    limit = _INTEGER_LIMITS[type_name]

    def in_range(value: int) -> int:
        if -limit <= value < limit:
            return value
        raise BadValue(f"{value} is out of the range of a {type_name}")
    return in_range


def scalar_from_text(shape):
    """A converter from wire text to the Python value of a scalar shape (query, XML, headers)."""
    kind = scalar_kind(shape)
    if kind == "integer":
        in_range = integer_check(shape)
        return lambda text: in_range(int_from_text(text))
    return _FROM_TEXT[kind]


def scalar_to_text(shape, default_timestamp: str = "iso8601"):
    """A converter from a Python value to wire text for a scalar shape (query, XML, headers)."""
    kind = scalar_kind(shape)
    if kind == "timestamp":
        writer = timestamp_writer(shape, default_timestamp)
        if writer is epoch_seconds:
            return lambda value: str(writer(value))
        return writer  # text already
    return _TO_TEXT[kind]
