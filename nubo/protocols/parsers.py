"""Reading requests: which protocol a request speaks, which operation it calls, and its input."""

from __future__ import annotations

from botocore.model import OperationModel, ServiceModel

from nubo.core.errors import ServiceError
from nubo.core.http import HttpRequest
from nubo.protocols import query, rest, rpc
from nubo.protocols.compression import gunzip_body
from nubo.protocols.models import protocol_view, service_protocols
from nubo.protocols.validation import validate

_PARSERS = {
    "json": rpc.parse,
    "smithy-rpc-v2-cbor": rpc.parse,
    "query": query.parse,
    "ec2": query.parse,
    "rest-json": rest.parse,
    "rest-xml": rest.parse,
}


def detect_protocol(service_model: ServiceModel, request: HttpRequest) -> str:
    """The protocol of the request among those the service accepts (never raises)."""
    accepted = service_protocols(service_model)
    if len(accepted) == 1:
        return accepted[0]
    headers = request.headers
    content_type = headers.get("content-type", "")
    if "smithy-rpc-v2-cbor" in accepted and (
            "smithy-protocol" in headers or content_type.startswith("application/cbor")):
        return "smithy-rpc-v2-cbor"
    if "json" in accepted and (
            "x-amz-target" in headers or content_type.startswith("application/x-amz-json")):
        return "json"
    if "query" in accepted and (content_type.startswith("application/x-www-form-urlencoded")
                                or "Action=" in request.query_string):
        return "query"
    return accepted[0]


# The most a body whose operation does not stream it may hold: beyond every AWS service's own
# request limit (DynamoDB's 16 MB is the largest), so that no body fills memory unchecked.
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024


def _too_large() -> ServiceError:
    return ServiceError("RequestEntityTooLarge", "The request body exceeds "
                        f"{MAX_DOCUMENT_BYTES} bytes.", 413)


async def read_body(service_model: ServiceModel, request: HttpRequest, protocol: str) -> None:
    """Read a body not read yet into ``request.body``, unless the operation streams its
    payload (then the handler reads it as it arrives)."""
    stream = request.stream
    if stream is None or protocol in ("rest-json", "rest-xml") and \
            rest.streams_input(protocol_view(service_model, protocol), request):
        return
    if stream.length is not None and stream.length > MAX_DOCUMENT_BYTES:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in stream:
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise _too_large()
        chunks.append(chunk)
    request.body = b"".join(chunks)
    request.stream = None


def parse_request(service_model: ServiceModel, request: HttpRequest, protocol: str
                  ) -> tuple[OperationModel, dict]:
    view = protocol_view(service_model, protocol)
    if "content-encoding" in request.headers and protocol not in rest.PROTOCOLS:
        gunzip_body(request, protocol)  # RPC bodies name their operation: decompress first
    operation, params = _PARSERS[protocol](view, request, protocol)
    validate(operation, params, service_model, protocol)
    if view is not service_model:
        operation = service_model.operation_model(operation.name)
    return operation, params
