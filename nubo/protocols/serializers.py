"""Writing responses and errors in the request's protocol."""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel, ServiceModel

from nubo.core.errors import ServiceError
from nubo.core.http import HttpResponse
from nubo.protocols import faults, query, rest, rpc
from nubo.protocols.models import protocol_view, view_operation

_RESPONSES = {
    "json": rpc.serialize,
    "smithy-rpc-v2-cbor": rpc.serialize,
    "query": query.serialize,
    "ec2": query.serialize,
    "rest-json": rest.serialize,
    "rest-xml": rest.serialize,
}
_ERRORS = {
    "json": rpc.serialize_error,
    "smithy-rpc-v2-cbor": rpc.serialize_error,
    "query": query.serialize_error,
    "ec2": query.serialize_error,
    "rest-json": rest.serialize_error,
    "rest-xml": rest.serialize_error,
}


def serialize_response(operation_model: OperationModel, output: dict[str, Any], protocol: str,
                       request_id: str) -> HttpResponse:
    operation = view_operation(operation_model, protocol)
    return _RESPONSES[protocol](operation, output, request_id, protocol)


def serialize_error(service_model: ServiceModel, operation_model: OperationModel | None,
                    error: ServiceError, protocol: str, request_id: str) -> HttpResponse:
    view = protocol_view(service_model, protocol)
    wire = faults.resolve(view, error)
    return _ERRORS[protocol](view, wire, request_id, protocol)
