"""The REST protocols: rest-json and rest-xml.

An operation is found by HTTP method and the model's ``requestUri`` template (``{Bucket}``
labels, greedy ``{Key+}`` labels, literal query parts such as ``?uploads`` or ``?list-type=2``),
through a router compiled once per service: the most specific template wins, ties going to the
operation whose required header and query members are present (S3's CopyObject and PutObject
share a URI and differ by ``x-amz-copy-source``), then to the non-deprecated one, then to the
one binding more of the request's headers and query parameters. Input members are bound to URI
labels, query parameters, headers (including ``x-amz-meta-*`` prefix maps, quoted list items and
base64 JSON ``jsonvalue`` headers), the payload member, or the body document (JSON or XML);
outputs likewise, plus the status code member. Operations with the ``requestcompression`` trait
may send their body gzip-encoded.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable
from urllib.parse import parse_qs, quote, unquote

import orjson
from botocore.model import OperationModel, ServiceModel

from nubo.core.errors import ServiceError
from nubo.core.http import BodyStream, HttpRequest, HttpResponse, virtual_host_label
from nubo.protocols import documents, eventstream, faults, xml
from nubo.protocols.compression import gunzip_body
from nubo.protocols.documents import JSON
from nubo.protocols.faults import WireError
from nubo.protocols.models import nubo_settings, plan_cache
from nubo.protocols.values import (BadValue, b64decode, b64encode, bool_text, rfc822,
                                   scalar_from_text, scalar_kind, scalar_to_text,
                                   timestamp_writer)

PROTOCOLS = ("rest-json", "rest-xml")
_LABEL = re.compile(r"\{([^}]+?)(\+?)\}")


# --- routing ---------------------------------------------------------------------------------
@dataclass
class Route:
    operation: OperationModel
    pattern: re.Pattern
    labels: dict[str, str]  # regex group -> label name
    query: dict[str, str | None]  # literal query parts: key -> required value (None: present)
    specificity: tuple
    required_headers: tuple[str, ...]
    required_query: tuple[str, ...]
    headers: frozenset[str]  # every header and query key the input binds, to break ties
    query_keys: frozenset[str]


def _compile_route(operation: OperationModel) -> Route:
    uri = operation.http.get("requestUri", "/")
    path, _, query_part = uri.partition("?")
    pattern, labels, literal_chars, greedy, position = [], {}, 0, 0, 0
    for index, found in enumerate(_LABEL.finditer(path)):
        literal = path[position:found.start()]
        pattern.append(re.escape(literal))
        literal_chars += len(literal)
        group = f"g{index}"
        labels[group] = found.group(1)
        greedy += bool(found.group(2))
        pattern.append(f"(?P<{group}>.+)" if found.group(2) else f"(?P<{group}>[^/]+)")
        position = found.end()
    tail = path[position:]
    literal_chars += len(tail)
    pattern.append(re.escape(tail))
    if not tail.endswith("/"):
        pattern.append("/?")  # clients differ on a trailing slash
    query: dict[str, str | None] = {}
    for part in filter(None, query_part.split("&")):
        key, has_value, value = part.partition("=")
        query[key] = value if has_value else None
    headers, query_keys, required_headers, required_query = set(), set(), [], []
    shape = operation.input_shape
    for name, member in (shape.members.items() if shape is not None else ()):
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        required = name in shape.required_members
        if location == "header":
            headers.add(wire.lower())
            if required:
                required_headers.append(wire.lower())
        elif location == "querystring" and member.type_name != "map":
            query_keys.add(wire)
            if required:
                required_query.append(wire)
    return Route(operation, re.compile("".join(pattern) + r"\Z"), labels, query,
                 (literal_chars, len(query), -greedy), tuple(required_headers),
                 tuple(required_query), frozenset(headers), frozenset(query_keys))


class _MethodRoutes:
    """The routes of one HTTP method, most specific first. Most differ only by a literal query
    key (S3's ``PUT /{Bucket}?tagging``, ``?acl``, ...) or by the headers and query keys they
    bind, none of which depend on the path: so for each combination of literal keys, bound
    headers and bound query keys a request carries, the routes are ranked once (most specific,
    then best bound), and a request takes the first whose path pattern matches."""

    _MAX_COMBINATIONS = 1024

    def __init__(self, routes: list[Route]) -> None:
        self.routes = sorted(routes, key=lambda route: route.specificity, reverse=True)
        self.literal_keys = frozenset(key for route in routes for key in route.query)
        self.bound_headers = frozenset(h for route in routes for h in route.headers)
        self.bound_query = frozenset(k for route in routes for k in route.query_keys)
        self._ranked: dict[tuple, list[Route]] = {}

    def ranked(self, query: dict[str, list[str]], headers: dict[str, str]) -> list[Route]:
        combination = (self.literal_keys.intersection(query),
                       self.bound_headers.intersection(headers),
                       self.bound_query.intersection(query))
        found = self._ranked.get(combination)
        if found is None:
            found = self._rank(*combination)
            if len(self._ranked) < self._MAX_COMBINATIONS:
                self._ranked[combination] = found
        return found

    def _rank(self, literals: frozenset[str], headers: frozenset[str],
              query: frozenset[str]) -> list[Route]:
        def score(route: Route) -> tuple:
            present = (sum(h in headers for h in route.required_headers)
                       + sum(q in query for q in route.required_query))
            missing = len(route.required_headers) + len(route.required_query) - present
            optional = len(route.headers & headers) + len(route.query_keys & query)
            # required members present, then the current operation over its deprecated twin
            # (GetBucketLifecycle), then the one binding more of what the request carries
            return route.specificity, present, -missing, not route.operation.deprecated, \
                optional
        # sorted() is stable: among equals, the model's order decides
        return sorted((route for route in self.routes if literals.issuperset(route.query)),
                      key=score, reverse=True)



def _router(view: ServiceModel) -> dict[str, _MethodRoutes]:
    cache = plan_cache(view, "rest-routes")
    if not cache:
        by_method: dict[str, list[Route]] = {}
        for name in view.operation_names:
            route = _compile_route(view.operation_model(name))
            by_method.setdefault(route.operation.http.get("method", "POST").upper(),
                                 []).append(route)
        cache.update((method, _MethodRoutes(routes)) for method, routes in by_method.items())
    return cache


def request_path(view: ServiceModel, request: HttpRequest) -> str:
    """The path to route by: on a virtual-hosted name (``bucket.s3.localhost``) the resource
    the host names becomes the path's first segment, as in path-style requests."""
    if nubo_settings(view).get("virtualHostedLabel"):
        resource = virtual_host_label(request.host, view.metadata.get("endpointPrefix", ""))
        if resource:
            return f"/{quote(resource)}{request.path}"
    return request.path


def find_route(view: ServiceModel, request: HttpRequest, query: dict[str, list[str]]
               ) -> tuple[Route, dict[str, str]]:
    path = request_path(view, request)
    routes = _router(view).get(request.method.upper())
    for route in routes.ranked(query, request.headers) if routes is not None else ():
        matched = route.pattern.match(path)
        if matched is not None and all(value is None or value in query[key]
                                       for key, value in route.query.items()):
            return route, {route.labels[g]: unquote(v) for g, v in matched.groupdict().items()}
    raise faults.unknown_operation("rest", f"{request.method} {path}")


# --- input bindings --------------------------------------------------------------------------
def _header_reader(member) -> Callable[[str], Any]:
    if member.serialization.get("jsonvalue"):
        def read_json(text):
            try:
                return orjson.loads(b64decode(text))
            except orjson.JSONDecodeError:
                raise BadValue("invalid JSON value") from None
        return read_json
    if member.type_name == "list":
        read_item = scalar_from_text(member.member)
        http_dates = member.member.type_name == "timestamp" and \
            timestamp_writer(member.member, "rfc822") is rfc822
        return lambda text: [read_item(item) for item in split_header_list(text, http_dates)]
    return scalar_from_text(member)


_WEEKDAY = re.compile(r"[A-Za-z]{3}")  # the part of an HTTP date before its comma


def split_header_list(text: str, http_dates: bool = False) -> list[str]:
    """The items of a list header: comma-separated, items with commas or quotes quoted
    (``"b,c", "\\"def\\"", a``); HTTP dates, which hold a comma, unquoted."""
    if not text.strip():
        return []
    if '"' not in text:
        parts = [item.strip() for item in text.split(",")]
        return _joined_dates(parts) if http_dates else parts
    items, position, size = [], 0, len(text)
    while position <= size:
        while position < size and text[position] in " \t":
            position += 1
        if position < size and text[position] == '"':
            chars, position = [], position + 1
            while position < size and text[position] != '"':
                if text[position] == "\\" and position + 1 < size:
                    position += 1
                chars.append(text[position])
                position += 1
            items.append("".join(chars))
            comma = text.find(",", position)
        else:
            comma = text.find(",", position)
            items.append(text[position:] if comma < 0 else text[position:comma])
            items[-1] = items[-1].strip()
        if comma < 0:
            break
        position = comma + 1
    return items


def _joined_dates(parts: list[str]) -> list[str]:
    """``Mon``, ``16 Dec 2019 23:48:18 GMT`` -> ``Mon, 16 Dec 2019 23:48:18 GMT``."""
    items, index = [], 0
    while index < len(parts):
        if _WEEKDAY.fullmatch(parts[index]) and index + 1 < len(parts):
            items.append(f"{parts[index]}, {parts[index + 1]}")
            index += 2
        else:
            items.append(parts[index])
            index += 1
    return items


def _quoted(item: str) -> str:
    if "," in item or '"' in item:
        return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return item


@dataclass
class InputPlan:
    labels: list = field(default_factory=list)  # (name, label, reader)
    query: list = field(default_factory=list)  # (name, key, reader, is_list)
    query_map: tuple | None = None  # (name, value reader, values are lists)
    headers: dict = field(default_factory=dict)  # header (lower case) -> (name, reader)
    header_maps: list = field(default_factory=list)  # (name, prefix)
    payload: tuple | None = None  # (name, member shape)
    body: Callable | None = None  # reader of the body document (members without location)


def _input_plan(operation: OperationModel, protocol: str) -> InputPlan:
    cache = plan_cache(operation.service_model, f"rest-input-{protocol}")
    plan = cache.get(operation.name)
    if plan is not None:
        return plan
    plan = InputPlan()
    shape = operation.input_shape
    body_members = []
    payload_name = shape.serialization.get("payload") if shape is not None else None
    for name, member in (shape.members.items() if shape is not None else ()):
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            plan.labels.append((name, wire, scalar_from_text(member)))
        elif location == "querystring":
            if member.type_name == "map":
                values = member.value
                plan.query_map = (name, scalar_from_text(values.member if values.type_name ==
                                                         "list" else values),
                                  values.type_name == "list")
            elif member.type_name == "list":
                plan.query.append((name, wire, scalar_from_text(member.member), True))
            else:
                plan.query.append((name, wire, scalar_from_text(member), False))
        elif location == "header":
            plan.headers[wire.lower()] = (name, _header_reader(member))
        elif location == "headers":  # a prefix, or all headers
            plan.header_maps.append((name, member.serialization.get("name", "").lower()))
        elif name == payload_name:
            plan.payload = (name, member)
        elif location is None:
            body_members.append((member.serialization.get("name", name), name, member))
    if body_members:
        if protocol == "rest-json":
            plan.body = documents.struct_reader_for(body_members, JSON)
        else:
            plan.body = xml.struct_reader(xml.struct_read_plan(
                [(name, member) for _, name, member in body_members]))
    cache[operation.name] = plan
    return plan


def _streams(member) -> bool:
    return member.type_name == "blob" and bool(member.serialization.get("streaming"))


def _query(request: HttpRequest) -> dict[str, list[str]]:
    return parse_qs(request.query_string, keep_blank_values=True) if request.query_string \
        else {}


def streams_input(view: ServiceModel, request: HttpRequest) -> bool:
    """Whether the request's operation takes its payload as a stream (S3's PutObject Body):
    then its body is handed over unread, however large."""
    try:
        route, _ = find_route(view, request, _query(request))
    except ServiceError:  # parse() reports it
        return False
    payload = _input_plan(route.operation, view.metadata["protocol"]).payload
    return payload is not None and _streams(payload[1])


def _decode_body(body: bytes, protocol: str):
    if protocol == "rest-json":
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise faults.malformed(protocol, f"Malformed JSON: {error}") from None
    try:
        return xml.parse_document(body)
    except xml.MalformedXml:
        raise faults.malformed(protocol, "") from None


def parse(view: ServiceModel, request: HttpRequest, protocol: str
          ) -> tuple[OperationModel, dict]:
    query = _query(request)
    route, labels = find_route(view, request, query)
    operation = route.operation
    if operation.request_compression and "content-encoding" in request.headers:
        gunzip_body(request, protocol)
    plan = _input_plan(operation, protocol)
    params: dict[str, Any] = {}
    try:
        _bind(plan, request, query, labels, set(route.query), params, protocol)
    except BadValue as error:
        raise faults.bad_value(protocol, error.member, error.message) from None
    return operation, params


def _bind(plan: InputPlan, request: HttpRequest, query: dict, labels: dict, bound_keys: set,
          params: dict, protocol: str) -> None:
    for name, label, read in plan.labels:
        if label in labels:
            params[name] = _read(read, labels[label], name)
    for name, key, read, is_list in plan.query:  # bound_keys: the URI's literal query parts
        bound_keys.add(key)
        if key in query:
            values = query[key]
            params[name] = ([_read(read, v, name) for v in values] if is_list
                            else _read(read, values[-1], name))
    if plan.query_map is not None:
        name, read, lists = plan.query_map
        params[name] = {key: ([_read(read, v, name) for v in values] if lists
                              else _read(read, values[-1], name))
                        for key, values in query.items() if key not in bound_keys}
    headers = request.headers
    for header, (name, read) in _shared(headers, plan.headers):
        params[name] = _read(read, headers[header], name)
    for name, prefix in plan.header_maps:
        found = {key[len(prefix):]: value for key, value in headers.items()
                 if key.startswith(prefix)}
        if found:
            params[name] = found
    body = request.body
    if plan.payload is not None:
        name, member = plan.payload
        if _streams(member):  # read by the handler, as the client sends it
            params[name] = request.stream if request.stream is not None else \
                BodyStream.of(body)
        elif member.type_name == "blob":
            if body:
                params[name] = body  # raw bytes: the service decides what they mean
        elif member.type_name == "string":
            if body:
                params[name] = _text(body, name)
        elif body:
            document = _decode_body(body, protocol)
            if protocol == "rest-json":
                params[name] = documents.compile_reader(member, JSON)(document)
            else:
                params[name] = xml.compile_reader(member)(document)
    elif plan.body is not None and body:
        params.update(plan.body(_decode_body(body, protocol)))


def _text(body: bytes, member: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadValue("the payload is not valid UTF-8 text", member) from None


def _read(read: Callable, text: str, member: str):
    try:
        return read(text)
    except BadValue as error:
        raise error.within(member)


# --- responses -------------------------------------------------------------------------------
def _header_writer(member) -> Callable[[Any], str]:
    if member.serialization.get("jsonvalue"):
        return lambda value: b64encode(orjson.dumps(value))
    if member.type_name == "list":
        write_item = _header_writer(member.member)
        if scalar_kind(member.member) == "text":
            return lambda value: ",".join(_quoted(write_item(item)) for item in value)
        return lambda value: ", ".join(write_item(item) for item in value)
    return scalar_to_text(member, "rfc822")


@dataclass
class OutputPlan:
    status: str | None = None
    headers: dict = field(default_factory=dict)  # name -> (header, writer)
    header_maps: list = field(default_factory=list)  # (name, prefix)
    payload: tuple | None = None  # (name, member shape)
    body_members: list = field(default_factory=list)  # (wire, name, member shape)
    body: Callable | None = None  # JSON writer of the body members (rest-json)


def _output_plan(shape, protocol: str) -> OutputPlan:
    cache = plan_cache(shape._shape_resolver, f"rest-output-{protocol}")
    plan = cache.get(shape.name)
    if plan is not None:
        return plan
    plan = OutputPlan()
    payload_name = shape.serialization.get("payload")
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "statusCode":
            plan.status = name
        elif location == "header":
            plan.headers[name] = (wire, _header_writer(member))
        elif location == "headers":  # a prefix, or all headers
            plan.header_maps.append((name, member.serialization.get("name", "")))
        elif name == payload_name:
            plan.payload = (name, member)
        elif location not in xml.HTTP_LOCATIONS:
            plan.body_members.append((wire, name, member))
    if plan.body_members and protocol == "rest-json":
        plan.body = documents.struct_writer_for(plan.body_members, JSON)
    cache[shape.name] = plan
    return plan


def _write_headers(plan: OutputPlan, value: dict, headers: dict) -> None:
    for name, (header, write) in _shared(value, plan.headers):
        if value[name] is not None:
            headers[header] = write(value[name])


def _shared(given: dict, bindings: dict) -> list[tuple[str, tuple]]:
    """(key, binding) for the keys ``given`` holds that ``bindings`` binds, walking the shorter
    of the two: S3's PutObject and GetObject bind ~40 headers, a request or output holds few."""
    if len(given) < len(bindings):
        return [(key, bindings[key]) for key in given if key in bindings]
    return [(key, binding) for key, binding in bindings.items() if key in given]


def _xml_body(write: Callable, value: Any, root: str, namespace: str) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>']
    write(parts, value, root, namespace)
    return "".join(parts).encode()


def _namespace(service_model: ServiceModel) -> str:
    return service_model.metadata.get("xmlNamespace", "")


def _namespace_attr(service_model: ServiceModel) -> str:
    namespace = _namespace(service_model)
    return f' xmlns="{xml.escape_attr(namespace)}"' if namespace else ""


def _write_shape(shape, value: dict, protocol: str, service_model: ServiceModel,
                 status: int, headers: dict) -> tuple[int, bytes | Any]:
    """Status, headers (filled in) and body of a structure bound to HTTP: outputs and errors."""
    plan = _output_plan(shape, protocol)
    if plan.status is not None and value.get(plan.status) is not None:
        status = int(value[plan.status])
    _write_headers(plan, value, headers)
    for name, prefix in plan.header_maps:
        for key, item in (value.get(name) or {}).items():
            headers[prefix + key] = str(item)
    if plan.payload is not None:
        name, member = plan.payload
        item = value.get(name)
        if item is None:
            return status, b""
        if member.serialization.get("eventstream"):
            headers["Content-Type"] = eventstream.CONTENT_TYPE
            return status, eventstream.encode_stream(member, protocol, item)
        if member.type_name in ("blob", "string") and "xmlNamespace" not in \
                member.serialization:  # raw bytes, else an XML element (S3's LocationConstraint)
            return status, item.encode() if isinstance(item, str) else item  # may be a stream
        if protocol == "rest-json":
            headers.setdefault("Content-Type", "application/json")
            return status, documents.dump_json(documents.compile_writer(member, JSON)(item))
        headers.setdefault("Content-Type", "application/xml")
        root = member.serialization.get("name", member.name)
        namespace = xml.namespace_attr(member) or _namespace_attr(service_model)
        return status, _xml_body(xml.compile_writer(member), item, root, namespace)
    if not plan.body_members:
        return status, b""
    if protocol == "rest-json":
        headers.setdefault("Content-Type", "application/json")
        return status, documents.dump_json(plan.body(value))
    headers.setdefault("Content-Type", "application/xml")
    root = shape.serialization.get("name", shape.name)
    # the structure writer skips header and status members by their location
    return status, _xml_body(xml.compile_writer(shape), value, root,
                             _namespace_attr(service_model))


def serialize(operation: OperationModel, output: dict, request_id: str,
              protocol: str) -> HttpResponse:
    shape = operation.output_shape
    status = operation.http.get("responseCode", 200)
    if shape is None:
        return HttpResponse(status, {}, b"")
    headers: dict[str, str] = {}
    status, body = _write_shape(shape, output, protocol, operation.service_model, status,
                                headers)
    return HttpResponse(status, headers, body)


def serialize_error(service_model: ServiceModel, wire: WireError, request_id: str,
                    protocol: str) -> HttpResponse:
    headers: dict[str, str] = {}
    fields = wire.fields
    if wire.shape is not None and fields:
        plan = _output_plan(wire.shape, protocol)
        _write_headers(plan, fields, headers)
        described = {name for _, name, _ in plan.body_members}
        # XML errors also carry details their shape does not list (S3's BucketName, Key, ...)
        fields = {name: value for name, value in fields.items() if name in described or
                  protocol == "rest-xml" and name not in plan.headers}
    if protocol == "rest-json":
        headers["Content-Type"] = "application/json"
        headers["x-amzn-ErrorType"] = wire.code
        document = dict(documents.compile_writer(wire.shape, JSON)(fields)
                        if wire.shape is not None else fields)
        document[wire.message_key] = wire.message
        body = documents.dump_json(document)
    else:
        headers["Content-Type"] = "application/xml"
        body = _xml_error(service_model, wire, fields, request_id, headers).encode()
    headers.update(wire.headers)
    return HttpResponse(wire.status, headers, body)


def host_id(request_id: str) -> str:
    """S3's extended request id (``x-amz-id-2``, ``<HostId>``), derived from the request id."""
    return b64encode(hashlib.sha256(request_id.encode()).digest())


def _xml_error(service_model: ServiceModel, wire: WireError, fields: dict,
               request_id: str, headers: dict[str, str]) -> str:
    parts = [xml.error_code_and_message(wire.code, wire.message)]
    if fields:
        described = wire.shape.members if wire.shape is not None else {}
        if described:
            xml.write_members(parts, wire.shape, fields)
        parts.extend(f"<{k}>{xml.escape(_detail_text(v))}</{k}>" for k, v in fields.items()
                     if k not in described and v is not None)
    detail = "".join(parts)
    rid = f"<RequestId>{xml.escape(request_id)}</RequestId>"
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    if service_model.metadata.get("nubo", {}).get("xmlErrorEnvelope") == "Error":
        headers["x-amz-id-2"] = extended = host_id(request_id)
        return f"{head}<Error>{detail}{rid}<HostId>{extended}</HostId></Error>"
    namespace = _namespace(service_model)
    ns = f' xmlns="{xml.escape_attr(namespace)}"' if namespace else ""
    return (f"{head}<ErrorResponse{ns}><Error><Type>{wire.fault}</Type>{detail}</Error>"
            f"{rid}</ErrorResponse>")


def _detail_text(value: Any) -> str:
    if isinstance(value, bool):
        return bool_text(value)
    if isinstance(value, datetime):
        return rfc822(value)
    return str(value)
