"""Event streams (``application/vnd.amazon.eventstream``): outputs that arrive as a sequence of
events (S3 SelectObjectContent, Lambda InvokeWithResponseStream, Kinesis SubscribeToShard, ...).

Each event is a binary message: a prelude (total and header lengths, CRC32), typed headers, the
payload and a CRC32 of it all. A handler returns the stream member as an iterable (or async
iterable) of ``{EventName: {members}}``; members the model marks ``eventheader`` become message
headers, the ``eventpayload`` member (or, without one, the event's other members) the payload,
written in the protocol's document format. A ``ServiceError`` raised while iterating ends the
stream with an error message, as AWS ends a failing stream.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from typing import Any, AsyncIterator, Callable, Iterable

from nubo.core.errors import ServiceError
from nubo.protocols import documents, xml
from nubo.protocols.documents import CBOR, JSON
from nubo.protocols.models import plan_cache
from nubo.protocols.values import epoch_seconds

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_PAYLOAD_TYPES = {"json": "application/json", "rest-json": "application/json",
                  "smithy-rpc-v2-cbor": "application/cbor", "rest-xml": "text/xml"}

# header value types of the framing
_TRUE, _FALSE, _BYTE, _SHORT, _INTEGER, _LONG, _BYTES, _STRING, _TIMESTAMP, _UUID = range(10)


def message(headers: dict[str, Any], payload: bytes) -> bytes:
    """One framed message. Header values: str (string), bytes (byte array), bool, int (int32),
    or a ``(type, value)`` pair for the other types."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + encoded + payload
    return body + struct.pack(">I", zlib.crc32(body))


def _header(name: str, value: Any) -> bytes:
    key = name.encode()
    head = struct.pack(">B", len(key)) + key
    kind = None
    if isinstance(value, tuple):
        kind, value = value
    if isinstance(value, bool):
        return head + struct.pack(">B", _TRUE if value else _FALSE)
    if kind == _BYTE:
        return head + struct.pack(">Bb", _BYTE, value)
    if kind == _SHORT:
        return head + struct.pack(">Bh", _SHORT, value)
    if kind == _LONG:
        return head + struct.pack(">Bq", _LONG, value)
    if kind == _TIMESTAMP:
        return head + struct.pack(">Bq", _TIMESTAMP, value)
    if kind == _UUID:
        return head + struct.pack(">B", _UUID) + uuid.UUID(str(value)).bytes
    if isinstance(value, int):
        return head + struct.pack(">Bi", _INTEGER, value)
    if isinstance(value, (bytes, bytearray)):
        return head + struct.pack(">BH", _BYTES, len(value)) + value
    data = str(value).encode()
    return head + struct.pack(">BH", _STRING, len(data)) + data


_HEADER_KINDS = {"byte": _BYTE, "short": _SHORT, "long": _LONG}


def _header_value(shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "timestamp":
        return _TIMESTAMP, int(round(epoch_seconds(value) * 1000))
    if kind == "boolean":
        return bool(value)
    if kind == "integer":
        return int(value)
    if kind in _HEADER_KINDS:
        return _HEADER_KINDS[kind], value
    if kind == "blob":
        return value.encode() if isinstance(value, str) else bytes(value)
    return str(value)


def stream_member(shape) -> str | None:
    """The member of an output structure that is an event stream, if any."""
    for name, member in (shape.members.items() if shape is not None else ()):
        if member.type_name == "structure" and member.serialization.get("eventstream"):
            return name
    return None


def document(shape, value: dict, protocol: str, root: str | None = None) -> bytes:
    """A structure as an event payload (or an RPC initial response) in ``protocol``'s format."""
    if protocol == "rest-xml":
        parts: list[str] = []
        xml.compile_writer(shape)(parts, value, root or xml.element_name(shape, shape.name),
                                  ' xmlns=""')
        return "".join(parts).encode()
    codec = CBOR if protocol == "smithy-rpc-v2-cbor" else JSON
    return documents.dump(codec, documents.compile_writer(shape, codec)(value))


class _EventPlan:
    __slots__ = ("headers", "header_names", "payload", "body_shape")

    def __init__(self, shape) -> None:
        self.headers = [(name, member) for name, member in shape.members.items()
                        if member.serialization.get("eventheader")]
        self.header_names = frozenset(name for name, _ in self.headers)
        self.payload = next(((name, member) for name, member in shape.members.items()
                             if member.serialization.get("eventpayload")), None)
        self.body_shape = shape if self.payload is None and \
            len(self.headers) < len(shape.members) else None


def _plan(shape) -> _EventPlan:
    cache = plan_cache(shape._shape_resolver, "event-plans")
    plan = cache.get(shape.name)
    if plan is None:
        plan = cache[shape.name] = _EventPlan(shape)
    return plan


def encode_event(union, protocol: str, event: dict) -> bytes:
    """One event of the stream ``union`` (``{EventName: {members}}``) as a framed message."""
    (name, value), = event.items()
    shape = union.members[name]
    value = value or {}
    if shape.metadata.get("exception"):
        return message({":message-type": "exception", ":exception-type": name,
                        ":content-type": _PAYLOAD_TYPES[protocol]},
                       document(shape, value, protocol))
    headers: dict[str, Any] = {":message-type": "event", ":event-type": name}
    plan = _plan(shape)
    payload = b""
    if plan.payload is not None:
        member_name, member = plan.payload
        item = value.get(member_name)
        if member.type_name == "blob":
            headers[":content-type"] = "application/octet-stream"
            payload = item or b""
        elif member.type_name == "string":
            headers[":content-type"] = "text/plain"
            payload = (item or "").encode()
        else:
            headers[":content-type"] = _PAYLOAD_TYPES[protocol]
            payload = document(member, item or {}, protocol)
    elif plan.body_shape is not None:
        headers[":content-type"] = _PAYLOAD_TYPES[protocol]
        payload = document(shape, {k: v for k, v in value.items() if k not in plan.header_names},
                           protocol)
    for member_name, member in plan.headers:
        if value.get(member_name) is not None:
            headers[member_name] = _header_value(member, value[member_name])
    return message(headers, payload)


def error_message(error: ServiceError) -> bytes:
    return message({":message-type": "error", ":error-code": error.code,
                    ":error-message": error.message}, b"")


async def encode_stream(union, protocol: str, events: Iterable[dict] | Any,
                        first: bytes | None = None) -> AsyncIterator[bytes]:
    """The framed messages of ``events`` (sync or async iterable), after ``first``."""
    if first is not None:
        yield first
    try:
        if hasattr(events, "__aiter__"):
            async for event in events:
                yield encode_event(union, protocol, event)
        else:
            for event in events:
                yield encode_event(union, protocol, event)
    except ServiceError as error:
        yield error_message(error)
    finally:
        close: Callable | None = getattr(events, "aclose", None)
        if close is not None:
            await close()
