"""The RPC document protocols: json (awsJson 1.0/1.1) and smithy-rpc-v2-cbor.

Both POST one document per request to one endpoint; the operation is named by the
``X-Amz-Target: Prefix.Operation`` header (json) or the path ``/service/<S>/operation/<Op>``
(cbor). Errors carry ``__type`` in the body, plus ``x-amzn-query-error`` for awsQueryCompatible
services.
"""

from __future__ import annotations

import cbor2
import orjson
from botocore.model import OperationModel, ServiceModel

from nubo.core.http import HttpRequest, HttpResponse
from nubo.protocols import documents, eventstream, faults
from nubo.protocols.documents import CBOR, JSON, DocumentCodec
from nubo.protocols.faults import WireError
from nubo.protocols.models import find_operation, operation_plan
from nubo.protocols.values import BadValue

CBOR_HEADERS = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}


def _decode_json(body: bytes):
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise faults.malformed("json", f"Malformed JSON: {error}") from None


def _decode_cbor(body: bytes):
    try:
        return cbor2.loads(body)
    except Exception as error:  # cbor2 raises many types on hostile input; all mean "malformed"
        raise faults.malformed("smithy-rpc-v2-cbor", f"Malformed CBOR: {error}") from None


def _operation_name(request: HttpRequest, protocol: str) -> str:
    if protocol == "json":
        return request.headers.get("x-amz-target", "").rpartition(".")[2]
    parts = request.path.rstrip("/").split("/")
    return parts[-1] if len(parts) >= 2 and parts[-2] == "operation" else ""


def parse(view: ServiceModel, request: HttpRequest, protocol: str
          ) -> tuple[OperationModel, dict]:
    name = _operation_name(request, protocol)
    operation = find_operation(view, name)
    if operation is None:
        raise faults.unknown_operation(protocol, name)
    codec = JSON if protocol == "json" else CBOR
    body = request.body
    document = (_decode_json(body) if codec is JSON else _decode_cbor(body)) if body else {}
    if document is None:
        document = {}
    elif type(document) is not dict:  # an input is an object, even an operation's without one
        raise faults.bad_value(protocol, "", f"expected object, got {type(document).__name__}")
    shape = operation.input_shape
    if shape is None:
        return operation, {}
    try:
        read = operation_plan(operation, f"{codec.name}-reader",
                              lambda: documents.compile_reader(shape, codec))
        return operation, read(document)
    except BadValue as error:
        raise faults.bad_value(protocol, error.member, error.message) from None


def _headers(service_model: ServiceModel, protocol: str) -> dict:
    if protocol == "json":
        version = service_model.metadata.get("jsonVersion", "1.0")
        return {"Content-Type": f"application/x-amz-json-{version}"}
    return dict(CBOR_HEADERS)


def serialize(operation: OperationModel, output: dict, request_id: str,
              protocol: str) -> HttpResponse:
    codec = JSON if protocol == "json" else CBOR
    shape = operation.output_shape
    streamed = eventstream.stream_member(shape)
    if streamed is not None:
        return _event_stream(operation, output, protocol, streamed)
    if shape is None:
        document = {}
    else:
        write = operation_plan(operation, f"{codec.name}-writer",
                               lambda: documents.compile_writer(shape, codec))
        document = write(output)
    return HttpResponse(200, _headers(operation.service_model, protocol), documents.dump(codec, document))


def _event_stream(operation: OperationModel, output: dict, protocol: str,
                  streamed: str) -> HttpResponse:
    """An output with an event stream: its other members travel first, as the stream's
    ``initial-response`` event."""
    shape = operation.output_shape
    initial = eventstream.message(
        {":message-type": "event", ":event-type": "initial-response",
         ":content-type": "application/json" if protocol == "json" else "application/cbor"},
        eventstream.document(shape, {k: v for k, v in output.items() if k != streamed},
                             protocol))
    return HttpResponse(200, {"Content-Type": eventstream.CONTENT_TYPE}, eventstream.encode_stream(
        shape.members[streamed], protocol, output.get(streamed) or (), first=initial))


def error_document(service_model: ServiceModel, wire: WireError, codec: DocumentCodec) -> dict:
    document = {}
    if wire.fields:
        if wire.shape is not None:
            document.update(documents.compile_writer(wire.shape, codec)(wire.fields))
        else:
            document.update(wire.fields)
    document["__type"] = faults.json_type(service_model, wire)
    document[wire.message_key] = wire.message
    return document


def serialize_error(service_model: ServiceModel, wire: WireError, request_id: str,
                    protocol: str) -> HttpResponse:
    codec = JSON if protocol == "json" else CBOR
    headers = _headers(service_model, protocol)
    headers.update(faults.query_error_header(service_model, wire))
    headers.update(wire.headers)
    return HttpResponse(wire.status, headers,
                        documents.dump(codec, error_document(service_model, wire, codec)))
