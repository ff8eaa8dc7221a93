"""The protocol engine: AWS wire protocols, driven by botocore's service models.

Public API (used by nubo.server; services never touch wire formats):

    load_service_model(name) -> botocore.model.ServiceModel
        The botocore model of a service with nubo's server-side patches applied (patches.py,
        the single place for them). Cached.

    detect_protocol(service_model, request) -> str
        The protocol this request speaks: one of "query", "ec2", "json", "rest-json",
        "rest-xml", "smithy-rpc-v2-cbor". Services that accept several (SQS: json and query;
        CloudWatch: cbor, json and query) are told apart by Content-Type / X-Amz-Target /
        smithy-protocol headers.

    read_body(service_model, request, protocol) -> awaitable
        Reads a request body that is still a stream into ``request.body``, unless the
        operation's payload is a streaming blob (S3 PutObject's Body): that one the handler
        receives as a ``BodyStream`` and reads as it arrives.

    parse_request(service_model, request, protocol) -> (OperationModel, dict)
        Finds the operation (X-Amz-Target, Action parameter, or REST method + URI template) and
        parses the input into a dict keyed by the model's member names, with Python values:
        str, int, float, bool, bytes (blobs), datetime (timestamps, tz-aware UTC), lists, dicts.
        Validates the input against the model (required, types, enums, length/range limits) and
        raises nubo.core.errors.ServiceError with the error AWS gives for that protocol.

    serialize_response(operation_model, output, protocol, request_id) -> HttpResponse
    serialize_error(service_model, operation_model | None, error, protocol, request_id)
        -> HttpResponse
"""

from nubo.protocols.models import load_service_model
from nubo.protocols.parsers import detect_protocol, parse_request, read_body
from nubo.protocols.serializers import serialize_error, serialize_response

__all__ = [
    "load_service_model",
    "detect_protocol",
    "read_body",
    "parse_request",
    "serialize_response",
    "serialize_error",
]
