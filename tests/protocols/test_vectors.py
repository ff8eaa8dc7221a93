"""botocore's public protocol test vectors (see vectors/README.md), in the directions that matter
to a server.

Input vectors: the case's serialized request (what an SDK sends), parsed by nubo, must give the
case's params. Output vectors: nubo serializes the case's result (or error), and botocore's own
response parser must read back the case's expected result, as botocore's test runner expects it.
Cases about client-side behaviour only are skipped with the reason (``CLIENT_ONLY_INPUT``,
``CLIENT_ONLY_OUTPUT`` and the rules next to them).
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
from datetime import datetime, timezone
from pathlib import Path

import pytest
from botocore.awsrequest import HeadersDict
from botocore.compress import maybe_compress_request
from botocore.config import Config
from botocore.eventstream import EventStream
from botocore.model import NoShapeFoundError, ServiceModel
from botocore.parsers import ResponseParserError, create_parser
from botocore.serialize import create_serializer
from botocore.utils import parse_timestamp

from nubo.core.errors import ServiceError
from nubo.core.http import HttpRequest
from nubo.protocols import parse_request, serialize_error, serialize_response
from tests.protocols.helpers import RawStream, to_botocore_response, to_http_request

VECTORS = Path(__file__).parent / "vectors"
REQUEST_ID = "vector-request-id"


def _cases(direction: str):
    for path in sorted(VECTORS.rglob(f"{direction}/*.json")):
        label = str(path.relative_to(VECTORS).with_suffix("")).replace("/", "-")
        for suite_index, suite in enumerate(json.loads(path.read_text())):
            for case_index, case in enumerate(suite["cases"]):
                name = case.get("id") or suite["description"]
                yield pytest.param(path.stem, suite, case,
                                   id=f"{label}-{suite_index}-{case_index}-{name}")


def _model(suite: dict, case: dict) -> ServiceModel:
    given = dict(case["given"])
    given.setdefault("http", {"method": "POST", "requestUri": "/"})
    return ServiceModel({"metadata": suite["metadata"], "shapes": suite["shapes"],
                         "operations": {given["name"]: given}}, service_name="vectors")


def _float(value):
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value)
    return value


def _typed(shape, value):
    """A vector's JSON value as Python values of the shape: bytes, datetimes, special floats."""
    kind = shape.type_name
    if value is None or shape.metadata.get("document"):
        return value
    if kind == "structure" and shape.serialization.get("eventstream"):
        return [{name: _typed(shape.members[name], fields) for name, fields in event.items()}
                for event in value]  # the events, in order
    if kind == "structure":
        return {k: _typed(shape.members[k], v) if k in shape.members else v
                for k, v in value.items()}
    if kind == "list":
        return [_typed(shape.member, v) for v in value]
    if kind == "map":
        return {k: _typed(shape.value, v) for k, v in value.items()}
    if kind == "blob" and isinstance(value, str):
        return value.encode()
    if kind == "timestamp" and isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    if kind in ("float", "double"):
        return _float(value)
    return value


def _comparable(value):
    """Values as compared across the wire: epoch timestamps, NaN as text, bytes as bytes."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return round(moment.timestamp(), 3)
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else round(value, 6)
    if isinstance(value, bytearray):
        return bytes(value)
    if hasattr(value, "read_all"):  # a streamed payload
        return asyncio.run(value.read_all())
    return value


# --- input vectors: nubo parses what the SDK sent -------------------------------------------
# Input cases that concern only what a client does before anything reaches the wire.
CLIENT_ONLY_INPUT = {
    "MediaTypeHeaderInputBase64": "botocore sends jsonvalue headers as base64 of the JSON text "
                                  "(botocore's own ignore list); nubo reads what botocore sends",
}


def _client_only_input(suite: dict, case: dict) -> str | None:
    serialized = case["serialized"]
    if case.get("id") in CLIENT_ONLY_INPUT:
        return CLIENT_ONLY_INPUT[case["id"]]
    if "/" in serialized.get("host", "") and suite["metadata"]["protocol"] in (
            "rest-json", "rest-xml", "smithy-rpc-v2-cbor"):  # protocols that route by path
        return "a custom endpoint's path prefix is the client's endpoint configuration"
    return None


def _compressed_request(model: ServiceModel, case: dict, protocol: str) -> HttpRequest:
    """The request botocore sends for a requestcompression case, whose vector gives only the
    headers: the body gzip-compressed, Content-Encoding as the vector says."""
    operation = model.operation_model(case["given"]["name"])
    request_dict = create_serializer(protocol).serialize_to_request(case["params"], operation)
    maybe_compress_request(Config(request_min_compression_size_bytes=1), request_dict, operation)
    request = to_http_request(request_dict)
    expected = {k.lower(): v for k, v in case["serialized"].get("headers", {}).items()}
    assert request.headers["content-encoding"].replace(" ", "") == \
        expected["content-encoding"].replace(" ", "")
    return request


def _request(suite: dict, case: dict, protocol: str) -> HttpRequest:
    serialized = case["serialized"]
    path, _, query = (serialized.get("uri") or "/").partition("?")
    headers = {k.lower(): v for k, v in serialized.get("headers", {}).items()}
    prefix = suite["metadata"].get("targetPrefix")
    if protocol == "json" and prefix and "x-amz-target" not in headers:
        # vectors about the host or the body leave out the header every client sends
        headers["x-amz-target"] = f"{prefix}.{case['given']['name']}"
    body = serialized.get("body", "")
    body = base64.b64decode(body) if protocol == "smithy-rpc-v2-cbor" else body.encode()
    method = serialized.get("method") or case["given"].get("http", {}).get("method", "POST")
    return HttpRequest(method, path, query, headers, body, host=serialized.get("host", ""))


def _client_filled(shape, params: dict) -> set[str]:
    """Members a client fills in when the caller leaves them out: idempotency tokens, and a
    Content-Type header bound to a member (botocore's default for blob payloads)."""
    filled = set()
    for name, member in shape.members.items():
        if name in params:
            continue
        if member.metadata.get("idempotencyToken") or (
                member.serialization.get("location") == "header"
                and member.serialization.get("name", "").lower() == "content-type"):
            filled.add(name)
    return filled


def _named_query_keys(shape, params: dict) -> None:
    """A query-map entry under a named query member's key travels once, as the named member
    (the client drops the map's value): the server cannot see it in the map."""
    named = {member.serialization.get("name", name) for name, member in shape.members.items()
             if member.serialization.get("location") == "querystring"
             and member.type_name != "map"}
    for name, member in shape.members.items():
        if member.serialization.get("location") == "querystring" and \
                member.type_name == "map" and isinstance(params.get(name), dict):
            params[name] = {k: v for k, v in params[name].items() if k not in named}


def _sent(value):
    """What reaches the wire: no nulls, and no empty lists, maps or structures (several
    protocols cannot tell them from absent ones: query lists, prefix headers, payloads)."""
    if isinstance(value, dict):
        kept = {k: _sent(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in kept.items() if v not in ({}, [])}
    if isinstance(value, list):
        return [_sent(v) for v in value]
    return value


@pytest.mark.parametrize("stem,suite,case", list(_cases("input")))
def test_input_vector(stem, suite, case):
    reason = _client_only_input(suite, case)
    if reason:
        pytest.skip(reason)
    model = _model(suite, case)
    protocol = suite["metadata"]["protocol"]
    if "requestcompression" in case["given"] and "body" not in case["serialized"]:
        request = _compressed_request(model, case, protocol)
    else:
        request = _request(suite, case, protocol)
    operation, params = parse_request(model, request, protocol)
    assert operation.name == case["given"]["name"]
    shape = operation.input_shape
    expected = _typed(shape, case["params"]) if shape is not None else {}
    if shape is not None:
        for name in _client_filled(shape, case["params"]):
            params.pop(name, None)
        _named_query_keys(shape, expected)
    assert _sent(_comparable(params)) == _sent(_comparable(expected))


# --- output vectors: botocore reads what nubo wrote -----------------------------------------
def _epoch(text):
    return parse_timestamp(text).astimezone(timezone.utc).timestamp()


def _parsed(value):
    """botocore's parse as its own vector runner compares it (tests/unit/test_protocols.py)."""
    if isinstance(value, dict):
        return {k: _parsed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_parsed(v) for v in value]
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


IGNORE_LIST = json.loads((VECTORS / "protocol-tests-ignore-list.json").read_text())


def _botocore_ignores(path_stem: str, case: dict) -> bool:
    """Whether botocore's own runner skips this output case: its parser does not give the
    vector's expected result even from the vector's own response."""
    ignored = IGNORE_LIST["protocols"].get(path_stem, {}).get("output", {})
    return case.get("id") in ignored.get("cases", ())


CLIENT_ONLY_OUTPUT = {
    # The elements of a flattened list are named by the list member's locationName in
    # botocore's models and by the structure member's in the Smithy vector; nubo writes what
    # botocore reads.
    "XmlLists": "flattened list element names: botocore's convention differs from the vector's",
    "QueryXmlLists": "flattened list element names: botocore's convention differs from the "
                     "vector's",
    "Ec2XmlLists": "flattened list element names: botocore's convention differs from the "
                   "vector's",
    "Ec2ComplexError": "the vector's response carries a message its expected result leaves out "
                       "(botocore's ignore list): no oracle",
}


def _read_back(parser, model, operation, response: dict, error: bool) -> dict:
    """A response as botocore reads it, normalized as botocore's vector runner does."""
    if operation.has_event_stream_output and not error:
        response = {**response, "body": RawStream(response["body"]),
                    "context": {"operation_name": operation.name}}
    parsed = parser.parse(response, operation.output_shape)
    for name, value in parsed.items():
        if isinstance(value, EventStream):
            parsed[name] = list(value)
    if error:
        try:
            shape = model.shape_for_error_code(parsed.get("Error", {}).get("Code"))
        except NoShapeFoundError:
            shape = None
        if shape is not None:
            parsed.update(parser.parse(response, shape))
        parsed["Error"] = {k: v for k, v in parsed["Error"].items() if k in ("Code", "Message")}
    parsed.pop("ResponseMetadata", None)
    return _parsed(parsed)


def _vector_response(case: dict, protocol: str) -> dict:
    response = case["response"]
    body = response.get("body", "")
    body = base64.b64decode(body) if protocol == "smithy-rpc-v2-cbor" else body.encode()
    if not body and protocol == "query":
        body = b"<xml/>"
    return {"status_code": response["status_code"],
            "headers": HeadersDict(response.get("headers", {})), "body": body}


def _has_unknown_member(value) -> bool:
    if isinstance(value, dict):
        return "SDK_UNKNOWN_MEMBER" in value or any(map(_has_unknown_member, value.values()))
    if isinstance(value, list):
        return any(map(_has_unknown_member, value))
    return False


@pytest.mark.parametrize("stem,suite,case", list(_cases("output")))
def test_output_vector(stem, suite, case):
    if case.get("id") in CLIENT_ONLY_OUTPUT:
        pytest.skip(CLIENT_ONLY_OUTPUT[case["id"]])
    if _has_unknown_member(case.get("result")):
        pytest.skip("how an SDK surfaces a union member its model lacks: a server writes only "
                    "the members of its model")
    model = _model(suite, case)
    protocol = suite["metadata"]["protocol"]
    operation = model.operation_model(case["given"]["name"])
    parser = create_parser(protocol)
    parser._timestamp_parser = _epoch
    if getattr(parser, "_event_stream_parser", None) is not None:
        parser._event_stream_parser._timestamp_parser = _epoch
    if "error" in case:
        code = case["errorCode"]
        try:
            shape = model.shape_for_error_code(code)
        except NoShapeFoundError:
            shape = None
        fields = _typed(shape, case["error"]) if shape is not None else case["error"]
        error = ServiceError(shape.name if shape is not None else code,
                             case.get("errorMessage", ""), fields=fields)
        response = serialize_error(model, operation, error, protocol, REQUEST_ID)
        expected = {"Error": {"Code": code, "Message": case.get("errorMessage", "")},
                    **case["error"]}
    else:
        if protocol == "query" and operation.output_shape is not None:
            # query models name the result wrapper; the vectors leave it to the runner, as
            # botocore's own does
            operation.output_shape.serialization["resultWrapper"] = f"{operation.name}Result"
        result = _typed(operation.output_shape, case["result"]) if operation.output_shape else {}
        response = serialize_response(operation, result or {}, protocol, REQUEST_ID)
        expected = case["result"]
    as_vector = None
    if _botocore_ignores(stem, case):
        try:
            as_vector = _read_back(parser, model, operation, _vector_response(case, protocol),
                                   "error" in case)
        except (ResponseParserError, TypeError):  # how botocore fails on them varies
            pytest.skip("botocore cannot read the vector's own response (botocore's ignore "
                        "list): no oracle")
    actual = _read_back(parser, model, operation, to_botocore_response(response),
                        "error" in case)
    if actual != expected and as_vector is not None:
        # botocore does not give the vector's expected result even from the vector's own
        # response: nubo's response must read back as that response does
        expected = as_vector
    assert actual == expected
