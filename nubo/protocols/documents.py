"""Shapes as JSON-like documents: the bodies of json, rest-json and smithy-rpc-v2-cbor.

JSON and CBOR carry the same tree of maps, lists and scalars; they differ only in how blobs
(base64 text vs. byte strings) and timestamps (epoch numbers vs. CBOR tag 1) travel, which the
``DocumentCodec`` states. Readers check the decoded value's type (a wrong type is a
``BadValue``) and convert it; writers turn Python values into encodable ones. One walk of the
shape compiles either (a ``_Direction`` says what each kind of shape becomes) into closures,
cached per model.

Large documents stay cheap (a DynamoDB Scan answers thousands of items of ten attributes, each
a structure of ten members): structure readers look up only the members a value holds, and a
shape patches.py marks ``nuboWireValue`` (DynamoDB's AttributeValue, kept by its service as
``{"S": "x"}``) is written as it is. Blobs inside such values stay bytes: byte strings in CBOR,
base64 text from the JSON encoder (``dump_json``).
"""

from __future__ import annotations

import binascii
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import cbor2
import orjson

from nubo.protocols.models import keeps_wire_value, plan_cache, structure_plan
from nubo.protocols.values import (BadValue, b64decode, b64encode, float_from_text, float_text,
                                   integer_check, parse_timestamp, scalar_kind,
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


def _identity(value):
    return value


def _type_error(expected: str, value) -> BadValue:
    return BadValue(f"expected {expected}, got {type(value).__name__}")


# --- readers ---------------------------------------------------------------------------------
def _read_text(value):
    if type(value) is str:
        return value
    raise _type_error("string", value)


def _read_bool(value):
    if value is True or value is False:
        return value
    raise _type_error("boolean", value)


def _read_int(value):
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    raise _type_error("integer", value)


def _read_float(value):
    if type(value) in (int, float):
        return float(value)
    if type(value) is str:  # NaN and the infinities travel as strings
        return float_from_text(value)
    raise _type_error("number", value)


def _read_json_blob(value):
    if type(value) is str:
        return b64decode(value)
    raise _type_error("base64 string", value)


def _read_cbor_blob(value):
    if type(value) is bytes:
        return value
    if type(value) is str:
        return b64decode(value)
    raise _type_error("byte string", value)


def _read_timestamp(value):
    if isinstance(value, bool) or not isinstance(value, (int, float, str, datetime)):
        raise _type_error("timestamp", value)
    return parse_timestamp(value)


_SCALAR_READERS = {"text": _read_text, "float": _read_float,
                   "boolean": _read_bool, "timestamp": _read_timestamp}


def _scalar_reader(shape, codec: DocumentCodec) -> Reader:
    kind = scalar_kind(shape)
    if kind == "blob":
        return _read_cbor_blob if codec.binary else _read_json_blob
    if kind == "integer":
        in_range = integer_check(shape)
        return lambda value: in_range(_read_int(value))
    return _SCALAR_READERS[kind]


def _struct_reader(members: list) -> Reader:
    # wire name -> (name, reader), built at the first read: ``members`` is filled after this
    # reader exists, so that a recursive shape can refer to itself.
    by_wire: dict[str, tuple[str, Reader]] = {}

    def read_struct(value):
        if type(value) is not dict:
            raise _type_error("object", value)
        if len(by_wire) != len(members):
            by_wire.update((wire, (name, read)) for name, wire, read in members)
        out = {}
        for wire, raw in value.items():  # unknown members are ignored, as AWS does
            member = by_wire.get(wire)
            if member is not None and raw is not None:
                name, read = member
                try:
                    out[name] = read(raw)
                except BadValue as error:
                    raise error.within(name)
        return out
    return read_struct


def _list_reader(item: Reader) -> Reader:
    def read_list(value):
        if type(value) is not list:
            raise _type_error("list", value)
        return [item(element) for element in value if element is not None]
    return read_list


def _map_reader(read_key: Reader, read_value: Reader) -> Reader:
    def read_map(value):
        if type(value) is not dict:
            raise _type_error("map", value)
        return {read_key(k): read_value(v) for k, v in value.items() if v is not None}
    return read_map


# --- writers ---------------------------------------------------------------------------------
def _write_float(value):
    value = float(value)
    return value if math.isfinite(value) else float_text(value)


def _blob_text(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return binascii.b2a_base64(value, newline=False).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dump_json(document) -> bytes:
    """A JSON document's bytes; blobs still bytes (inside wire values) become base64 text."""
    return orjson.dumps(document, default=_blob_text)


def dump(codec: DocumentCodec, document) -> bytes:
    """A document's bytes in ``codec``'s format."""
    if codec is JSON:
        return dump_json(document)
    return cbor2.dumps(document, datetime_as_timestamp=True, timezone=timezone.utc)


def _write_cbor_blob(value):
    return value.encode() if isinstance(value, str) else bytes(value)


def _scalar_writer(shape, codec: DocumentCodec) -> Writer:
    kind = scalar_kind(shape)
    if kind == "float":
        return float if codec.binary else _write_float
    if kind == "blob":
        return _write_cbor_blob if codec.binary else b64encode
    if kind == "timestamp":
        if codec.binary:  # cbor2 writes aware datetimes as tag 1 (epoch) with datetime_as_timestamp
            return parse_timestamp
        return timestamp_writer(shape, "unixtimestamp")
    return _identity


def _struct_writer(members: list) -> Writer:
    def write_struct(value):
        out = {}
        for name, wire, write in members:
            item = value.get(name)
            if item is not None:
                out[wire] = write(item)
        return out
    return write_struct


def _list_writer(item: Writer) -> Writer:
    if item is _identity:
        return list
    return lambda value: [None if element is None else item(element) for element in value]


def _map_writer(write_key: Writer, write_value: Writer) -> Writer:
    if write_value is _identity:
        return dict
    return lambda value: {k: write_value(v) for k, v in value.items()}


# --- compiling -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Direction:
    """What each kind of shape compiles to, reading or writing."""
    name: str
    structure: Callable[[list], Callable]  # from (name, wire, plan) member entries
    list: Callable[[Callable], Callable]
    map: Callable[[Callable, Callable], Callable]
    scalar: Callable[[Any, DocumentCodec], Callable]


_READ = _Direction("reader", _struct_reader, _list_reader, _map_reader, _scalar_reader)
_WRITE = _Direction("writer", _struct_writer, _list_writer, _map_writer, _scalar_writer)


def _cache(shape, codec: DocumentCodec, direction: _Direction) -> dict:
    # Shapes keep their resolver, whose shape map identifies the model (view) they belong to.
    return plan_cache(shape._shape_resolver, f"{codec.name}-{direction.name}")


def _compile(shape, codec: DocumentCodec, direction: _Direction, cache: dict) -> Callable:
    if shape.metadata.get("document"):  # any JSON value, as it is
        return _identity
    if direction is _WRITE and keeps_wire_value(shape):
        _check_wire_value(shape, set())
        return _identity
    kind = shape.type_name
    if kind == "structure":
        return structure_plan(shape, cache, direction.structure, lambda: [
            (name, wire_name(member, name), _compile(member, codec, direction, cache))
            for name, member in shape.members.items()])
    if kind == "list":
        return direction.list(_compile(shape.member, codec, direction, cache))
    if kind == "map":
        return direction.map(_compile(shape.key, codec, direction, cache),
                             _compile(shape.value, codec, direction, cache))
    return direction.scalar(shape, codec)


# Scalars whose Python value is their wire value in JSON and CBOR (blobs: see dump_json).
_WIRE_VALUE_SCALARS = ("text", "boolean", "integer", "blob")


def _check_wire_value(shape, seen: set) -> None:
    """Refuse a ``nuboWireValue`` patch on a shape whose wire form is not its Python value."""
    if shape.name in seen:
        return
    seen.add(shape.name)
    kind = shape.type_name
    if kind == "structure":
        for name, member in shape.members.items():
            if wire_name(member, name) != name:
                raise ValueError(f"{shape.name}.{name} is renamed on the wire")
            _check_wire_value(member, seen)
    elif kind == "list":
        _check_wire_value(shape.member, seen)
    elif kind == "map":
        _check_wire_value(shape.key, seen)
        _check_wire_value(shape.value, seen)
    elif scalar_kind(shape) not in _WIRE_VALUE_SCALARS:
        raise ValueError(f"{shape.name} ({kind}) does not travel as its Python value")


def _compile_members(members: list[tuple[str, str, Any]], codec: DocumentCodec,
                     direction: _Direction) -> Callable:
    cache = _cache(members[0][2], codec, direction) if members else {}
    return direction.structure([(name, wire, _compile(shape, codec, direction, cache))
                                for wire, name, shape in members])


def compile_reader(shape, codec: DocumentCodec) -> Reader:
    return _compile(shape, codec, _READ, _cache(shape, codec, _READ))


def compile_writer(shape, codec: DocumentCodec) -> Writer:
    return _compile(shape, codec, _WRITE, _cache(shape, codec, _WRITE))


def struct_reader_for(members: list[tuple[str, str, Any]], codec: DocumentCodec) -> Reader:
    """A reader of a structure made of some members only, (wire, name, shape) each: the body
    members of a REST input."""
    return _compile_members(members, codec, _READ)


def struct_writer_for(members: list[tuple[str, str, Any]], codec: DocumentCodec) -> Writer:
    """A writer of a structure made of some members only: the body members of a REST output."""
    return _compile_members(members, codec, _WRITE)
