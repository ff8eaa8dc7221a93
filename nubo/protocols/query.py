"""The query and ec2 protocols: form-encoded ``Action=...`` requests, XML responses.

Requests: the parameters (body and URL query string together) are split on '.' into a tree
(``Attribute.1.Name`` -> tree["Attribute"]["1"]["Name"]), which compiled per-shape readers walk.
Lists are ``Name.member.N`` (``Name.N`` when flattened, and always on ec2), maps
``Name.entry.N.key/value`` (``Name.N.key/value`` when flattened), with the model's locationName
overrides; ec2 names members by ``queryName`` or the capitalized locationName.
Responses: ``<OpResponse><OpResult>..</OpResult><ResponseMetadata>`` (query) or
``<OpResponse><requestId/>..`` (ec2); errors ``<ErrorResponse>`` / ``<Response><Errors>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable
from urllib.parse import unquote_plus

from botocore.model import OperationModel, ServiceModel

from nubo.core.http import HttpRequest, HttpResponse
from nubo.protocols import faults, xml
from nubo.protocols.faults import WireError
from nubo.protocols.models import find_operation, operation_plan, plan_cache, structure_plan
from nubo.protocols.values import BadValue, scalar_from_text

_MISSING = object()
_VALUE = None  # the tree key holding a node's own text
Reader = Callable[[dict], Any]


# --- requests --------------------------------------------------------------------------------
_unquote_short = lru_cache(maxsize=2048)(unquote_plus)


def _unquote(text: str) -> str:
    # unquote_plus costs microseconds; short values (queue URLs, names) repeat across requests
    return _unquote_short(text) if len(text) <= 256 else unquote_plus(text)


def _pairs(text: str) -> list[tuple[str, str]]:
    # parse_qsl, minus its generality: most keys and values need no unquoting at all
    pairs = []
    for field in text.split("&"):
        if not field:
            continue
        key, _, value = field.partition("=")
        if "%" in key or "+" in key:
            key = _unquote(key)
        if "%" in value or "+" in value:
            value = _unquote(value)
        pairs.append((key, value))
    return pairs


def form_params(request: HttpRequest, protocol: str) -> dict:
    """The parameter tree of the URL query string and a form-encoded body."""
    pairs = _pairs(request.query_string) if request.query_string else []
    if request.body:
        try:
            pairs += _pairs(request.body.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise faults.malformed(protocol, f"The request body is not valid UTF-8: {error}")
    tree: dict = {}
    for key, value in pairs:
        node = tree
        for part in key.split("."):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            node = child
        node[_VALUE] = value
    return tree


def action_of(tree: dict) -> str | None:
    node = tree.get("Action")
    return node.get(_VALUE) if node else None


def parse(view: ServiceModel, request: HttpRequest, protocol: str
          ) -> tuple[OperationModel, dict]:
    tree = form_params(request, protocol)
    action = action_of(tree) or ""
    operation = find_operation(view, action)
    if operation is None:
        raise faults.unknown_operation(protocol, action)
    shape = operation.input_shape
    if shape is None:
        return operation, {}
    read = operation_plan(operation, f"{protocol}-reader", lambda: compile_reader(shape, protocol))
    try:
        return operation, read(tree)
    except BadValue as error:
        raise faults.bad_value(protocol, error.member, error.message) from None


def compile_reader(shape, protocol: str) -> Reader:
    return _reader(shape, protocol == "ec2", plan_cache(shape._shape_resolver, protocol))


def _member_wire_names(member, name: str, ec2: bool) -> list[str]:
    """The names a member travels under, botocore's first. Where botocore and the protocol's
    specification differ, both are accepted: botocore sends an ec2 member without locationName
    under its own name and a flattened query list under its list member's locationName; other
    SDKs capitalize the ec2 name and use the structure member's locationName."""
    serialization = member.serialization
    if ec2:
        if "queryName" in serialization:
            return [serialization["queryName"]]
        location = serialization.get("name")
        if location:
            return [location[0].upper() + location[1:]]
        return list(dict.fromkeys((name, name[0].upper() + name[1:])))
    wire = serialization.get("name", name)
    if member.type_name == "list" and serialization.get("flattened"):
        return list(dict.fromkeys((member.member.serialization.get("name", wire), wire)))
    return [wire]


def _indexed(node: dict) -> list:
    """The children of a node keyed by 1-based indices, in index order."""
    try:
        return [child for _, child in sorted(
            (int(key), child) for key, child in node.items() if key is not _VALUE)]
    except ValueError:
        raise BadValue("list index is not a number") from None


def _reader(shape, ec2: bool, cache: dict) -> Reader:
    kind = shape.type_name
    if kind == "structure":
        return structure_plan(shape, cache, _struct_reader,
                              lambda: _struct_read_plan(shape, ec2, cache))
    if kind == "list":
        return _list_reader(shape, ec2, cache, flat=bool(shape.serialization.get("flattened")))
    if kind == "map":
        return _map_reader(shape, ec2, cache)
    from_text = scalar_from_text(shape)

    def read_scalar(node):
        text = node.get(_VALUE)
        return _MISSING if text is None else from_text(text)
    return read_scalar


def _struct_read_plan(shape, ec2: bool, cache: dict) -> list:
    """(wire name, member name, reader) per name a member travels under, botocore's last."""
    plan = []
    for name, member in shape.members.items():
        if member.type_name == "list" and (ec2 or member.serialization.get("flattened")):
            read = _list_reader(member, ec2, cache, flat=True)
        else:
            read = _reader(member, ec2, cache)
        plan.extend((wire, name, read)
                    for wire in reversed(_member_wire_names(member, name, ec2)))
    return plan


def _struct_reader(members: list) -> Reader:
    def read_struct(node):
        out = {}
        for wire, name, read in members:
            child = node.get(wire)
            if child is not None:
                try:
                    value = read(child)
                except BadValue as error:
                    raise error.within(name)
                if value is not _MISSING:
                    out[name] = value
        return out
    return read_struct


def _list_reader(shape, ec2: bool, cache: dict, flat: bool) -> Reader:
    read_item = _reader(shape.member, ec2, cache)
    item_name = shape.member.serialization.get("name", "member")

    def read_list(node):
        items = node if flat else node.get(item_name)
        if not items:
            return []  # `Name=` (an empty list) or no items
        return [value for value in map(read_item, _indexed(items)) if value is not _MISSING]
    return read_list


def _map_reader(shape, ec2: bool, cache: dict) -> Reader:
    read_key = _reader(shape.key, ec2, cache)
    read_value = _reader(shape.value, ec2, cache)
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    flat = bool(shape.serialization.get("flattened"))

    def read_map(node):
        entries = node if flat else node.get("entry")
        out = {}
        for entry in _indexed(entries) if entries else ():
            key = read_key(entry.get(key_name, {}))
            if key is _MISSING:
                raise BadValue("map entry without a key")
            value = read_value(entry.get(value_name, {}))
            if value is not _MISSING:
                out[key] = value
        return out
    return read_map


# --- responses -------------------------------------------------------------------------------
def namespace(service_model: ServiceModel) -> str:
    metadata = service_model.metadata
    if metadata.get("xmlNamespace") or "endpointPrefix" not in metadata:
        return metadata.get("xmlNamespace", "")
    return f"https://{metadata['endpointPrefix']}.amazonaws.com/doc/{metadata['apiVersion']}/"


def _xmlns(service_model: ServiceModel) -> str:
    ns = namespace(service_model)
    return f' xmlns="{xml.escape_attr(ns)}"' if ns else ""


def _xml_response(status: int, text: str, headers: dict | None = None) -> HttpResponse:
    return HttpResponse(status, {"Content-Type": "text/xml", **(headers or {})},
                        ('<?xml version="1.0" encoding="UTF-8"?>' + text).encode())


@dataclass(frozen=True, slots=True)
class _ResponsePlan:
    open: str  # '<?xml ..?><OpResponse xmlns="..">'
    close: str  # '</OpResponse>'
    shape: Any  # the output shape, or None
    write: Callable | None  # query: the writer of <OpResult>
    wrapper: str  # query: the result element's name


def _response_plan(operation: OperationModel, protocol: str) -> _ResponsePlan:
    name, shape = operation.name, operation.output_shape
    write = wrapper = None
    if protocol == "query" and shape is not None:
        write = xml.compile_writer(shape)
        wrapper = shape.serialization.get("resultWrapper") or f"{name}Result"
    return _ResponsePlan(f'<?xml version="1.0" encoding="UTF-8"?><{name}Response'
                         f'{_xmlns(operation.service_model)}>', f"</{name}Response>", shape,
                         write, wrapper or "")


def serialize(operation: OperationModel, output: dict, request_id: str,
              protocol: str) -> HttpResponse:
    plan = operation_plan(operation, f"{protocol}-response",
                          lambda: _response_plan(operation, protocol))
    parts = [plan.open]
    if protocol == "ec2":
        parts.append(f"<requestId>{xml.escape(request_id)}</requestId>")
        if plan.shape is not None:
            xml.write_members(parts, plan.shape, output)
    else:
        if plan.write is not None:
            plan.write(parts, output, plan.wrapper, "")
        parts.append(f"<ResponseMetadata><RequestId>{xml.escape(request_id)}</RequestId>"
                     "</ResponseMetadata>")
    parts.append(plan.close)
    return HttpResponse(200, {"Content-Type": "text/xml"}, "".join(parts).encode())


def _error_fields(wire: WireError) -> str:
    if not wire.fields:
        return ""
    parts: list = []
    if wire.shape is not None:
        xml.write_members(parts, wire.shape, wire.fields)
    else:
        parts.extend(f"<{k}>{xml.escape(str(v))}</{k}>" for k, v in wire.fields.items())
    return "".join(parts)


def serialize_error(service_model: ServiceModel, wire: WireError, request_id: str,
                    protocol: str) -> HttpResponse:
    code_and_message = xml.error_code_and_message(wire.code, wire.message)
    rid = xml.escape(request_id)
    if protocol == "ec2":
        text = (f"<Response><Errors><Error>{code_and_message}"
                f"{_error_fields(wire)}</Error></Errors><RequestID>{rid}</RequestID></Response>")
    else:
        text = (f"<ErrorResponse{_xmlns(service_model)}><Error><Type>{wire.fault}</Type>"
                f"{code_and_message}{_error_fields(wire)}"
                f"<Detail/></Error><RequestId>{rid}</RequestId></ErrorResponse>")
    return _xml_response(wire.status, text, wire.headers)
