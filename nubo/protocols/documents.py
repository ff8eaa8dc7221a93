"""Shapes as JSON-like documents: the bodies of json, rest-json and smithy-rpc-v2-cbor.

JSON and CBOR carry the same tree of maps, lists and scalars; they differ only in how blobs
(base64 text vs. byte strings) and timestamps (epoch numbers vs. CBOR tag 1) travel, which the
``DocumentCodec`` states. Readers check the decoded value's type (a wrong type is a
``BadValue``) and convert it; writers turn Python values into encodable ones. Both are compiled
once per shape into closures and cached per model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from nubo.protocols.models import plan_cache
from nubo.protocols.values import (TEXT_TYPES, BadValue, b64decode, b64encode,
                                   float_from_text, float_text, parse_timestamp,
                                   timestamp_writer)

Reader = Callable[[Any], Any]
Writer = Callable[[Any], Any]


@dataclass(frozen=True)
class DocumentCodec:
    name: str
    binary: bool  # blobs travel as byte strings (CBOR) rather than base64 text (JSON)


JSON = DocumentCodec("json", binary=False)
CBOR = DocumentCodec("cbor", binary=True)


def wire_name(member_shape, member_name: str) -> str:
    return member_shape.serialization.get("name", member_name)


# --- readers ---------------------------------------------------------------------------------
def _expect(kind: type | tuple, label: str) -> Reader:
    def read(value):
        if isinstance(value, kind) and not isinstance(value, bool):
            return value
        raise BadValue(f"expected {label}, got {type(value).__name__}")
    return read


def _read_bool(value):
    if value is True or value is False:
        return value
    raise BadValue(f"expected boolean, got {type(value).__name__}")


def _read_int(value):
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    raise BadValue(f"expected integer, got {type(value).__name__}")


def _read_float(value):
    if type(value) in (int, float):
        return float(value)
    if type(value) is str:  # NaN and the infinities travel as strings
        return float_from_text(value)
    raise BadValue(f"expected number, got {type(value).__name__}")


def _read_json_blob(value):
    if type(value) is str:
        return b64decode(value)
    raise BadValue(f"expected base64 string, got {type(value).__name__}")


def _read_cbor_blob(value):
    if type(value) is bytes:
        return value
    if type(value) is str:
        return b64decode(value)
    raise BadValue(f"expected byte string, got {type(value).__name__}")


def _read_timestamp(value):
    if isinstance(value, bool) or not isinstance(value, (int, float, str, datetime)):
        raise BadValue(f"expected timestamp, got {type(value).__name__}")
    return parse_timestamp(value)


def _read_document(value):
    return value


def _scalar_reader(shape, codec: DocumentCodec) -> Reader:
    kind = shape.type_name
    if kind in TEXT_TYPES:
        return _expect(str, "string")
    if kind in ("integer", "long", "byte", "short"):
        return _read_int
    if kind in ("float", "double"):
        return _read_float
    if kind == "boolean":
        return _read_bool
    if kind == "blob":
        return _read_cbor_blob if codec.binary else _read_json_blob
    if kind == "timestamp":
        return _read_timestamp
    raise ValueError(f"unsupported shape type {kind} ({shape.name})")


def compile_reader(shape, codec: DocumentCodec) -> Reader:
    cache = plan_cache(_model_of(shape), f"{codec.name}-reader")
    return _reader(shape, codec, cache)


def _reader(shape, codec: DocumentCodec, cache: dict) -> Reader:
    kind = shape.type_name
    if shape.metadata.get("document"):
        return _read_document
    if kind == "structure":
        found = cache.get(shape.name)
        if found is None:
            members: list = []
            found = cache[shape.name] = _struct_reader(members)
            members.extend((wire_name(member, name), name, _reader(member, codec, cache))
                           for name, member in shape.members.items())
        return found
    if kind == "list":
        item = _reader(shape.member, codec, cache)

        def read_list(value):
            if type(value) is not list:
                raise BadValue(f"expected list, got {type(value).__name__}")
            return [item(element) for element in value if element is not None]
        return read_list
    if kind == "map":
        read_key = _reader(shape.key, codec, cache)
        read_value = _reader(shape.value, codec, cache)

        def read_map(value):
            if type(value) is not dict:
                raise BadValue(f"expected map, got {type(value).__name__}")
            return {read_key(k): read_value(v) for k, v in value.items() if v is not None}
        return read_map
    return _scalar_reader(shape, codec)


def struct_reader_for(members: list[tuple[str, str, Any]], codec: DocumentCodec) -> Reader:
    """A reader of a structure made of some members only (the body members of a REST input)."""
    cache = plan_cache(_model_of(members[0][2]), f"{codec.name}-reader") if members else {}
    return _struct_reader([(wire, name, _reader(shape, codec, cache))
                           for wire, name, shape in members])


def _struct_reader(members: list) -> Reader:
    def read_struct(value):
        if type(value) is not dict:
            raise BadValue(f"expected object, got {type(value).__name__}")
        out = {}
        for wire, name, read in members:
            raw = value.get(wire)
            if raw is not None:
                try:
                    out[name] = read(raw)
                except BadValue as error:
                    error.member = error.member or name
                    raise
        return out
    return read_struct


# --- writers ---------------------------------------------------------------------------------
def _identity(value):
    return value


def _write_float(value):
    value = float(value)
    return value if math.isfinite(value) else float_text(value)


def _write_cbor_float(value):
    return float(value)


def _write_cbor_blob(value):
    return value.encode() if isinstance(value, str) else bytes(value)


def _scalar_writer(shape, codec: DocumentCodec) -> Writer:
    kind = shape.type_name
    if kind in ("boolean", "integer", "long", "byte", "short") or kind in TEXT_TYPES:
        return _identity
    if kind in ("float", "double"):
        return _write_cbor_float if codec.binary else _write_float
    if kind == "blob":
        return _write_cbor_blob if codec.binary else b64encode
    if kind == "timestamp":
        if codec.binary:  # cbor2 writes aware datetimes as tag 1 (epoch) with datetime_as_timestamp
            return lambda value: parse_timestamp(value)
        return timestamp_writer(shape, "unixtimestamp")
    raise ValueError(f"unsupported shape type {kind} ({shape.name})")


def compile_writer(shape, codec: DocumentCodec) -> Writer:
    cache = plan_cache(_model_of(shape), f"{codec.name}-writer")
    return _writer(shape, codec, cache)


def _writer(shape, codec: DocumentCodec, cache: dict) -> Writer:
    kind = shape.type_name
    if shape.metadata.get("document"):
        return _identity
    if kind == "structure":
        found = cache.get(shape.name)
        if found is None:
            members: list = []
            found = cache[shape.name] = struct_writer(members)
            members.extend((name, wire_name(member, name), _writer(member, codec, cache))
                           for name, member in shape.members.items())
        return found
    if kind == "list":
        item = _writer(shape.member, codec, cache)
        if item is _identity:
            return list
        return lambda value: [None if element is None else item(element) for element in value]
    if kind == "map":
        write_value = _writer(shape.value, codec, cache)
        if write_value is _identity:
            return dict
        return lambda value: {k: write_value(v) for k, v in value.items()}
    return _scalar_writer(shape, codec)


def struct_writer_for(members: list[tuple[str, str, Any]], codec: DocumentCodec) -> Writer:
    """A writer of a structure made of some members only (the body members of a REST output)."""
    cache = plan_cache(_model_of(members[0][2]), f"{codec.name}-writer") if members else {}
    return struct_writer([(name, wire, _writer(shape, codec, cache))
                          for wire, name, shape in members])


def struct_writer(members: list) -> Writer:
    def write_struct(value):
        out = {}
        for name, wire, write in members:
            item = value.get(name)
            if item is not None:
                out[wire] = write(item)
        return out
    return write_struct


def _model_of(shape):
    # Shapes keep their resolver, whose shape map identifies the model (view) they belong to.
    return shape._shape_resolver
