"""From a ServiceError to what every protocol needs to write it: the model's error shape, the wire
code, HTTP status and fault side; plus the protocol-level errors of the engine itself
(unknown operation, malformed body) in each protocol's AWS wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.model import ServiceModel

from nubo.core.errors import ServiceError
from nubo.protocols.models import nubo_settings, plan_cache


@dataclass(slots=True)
class WireError:
    shape: Any  # the model's error shape, or None for errors the model does not describe
    name: str  # the shape name (JSON __type) or the code itself
    code: str  # the legacy / XML code: the shape's `error.code`, else the name
    status: int
    sender: bool
    message: str
    fields: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    message_key: str = "message"  # the JSON key of the message: the shape's member, if any

    @property
    def fault(self) -> str:
        return "Sender" if self.sender else "Receiver"


def _error_shapes(service_model: ServiceModel) -> dict:
    cache = plan_cache(service_model, "errors")
    if not cache:
        for shape in service_model.error_shapes:
            cache.setdefault(shape.name, shape)
            cache.setdefault(shape.error_code, shape)
        cache.setdefault(None, None)  # marks the index as built
    return cache


def resolve(service_model: ServiceModel, error: ServiceError) -> WireError:
    shape = _error_shapes(service_model).get(error.code)
    trait = shape.metadata.get("error", {}) if shape is not None else {}
    status = error.status or trait.get("httpStatusCode") or 400
    if error.sender_fault is not None:
        sender = error.sender_fault
    elif "senderFault" in trait:
        sender = bool(trait["senderFault"])
    else:
        sender = status < 500
    name = shape.name if shape is not None else error.code
    code = shape.error_code if shape is not None else error.code
    message, fields = error.message, error.fields
    member = _message_member(shape)
    if member in fields:  # the envelope carries the message; the shape member is the same
        fields = dict(fields)
        shape_message = fields.pop(member)
        message = message or shape_message
    key = shape.members[member].serialization.get("name", member) if member else "message"
    return WireError(shape, name, code, status, sender, message, fields, error.headers, key)


def _message_member(shape) -> str | None:
    if shape is None:
        return None
    return next((name for name in shape.members if name.lower() == "message"), None)


def json_type(service_model: ServiceModel, wire: WireError) -> str:
    return nubo_settings(service_model).get("jsonErrorTypePrefix", "") + wire.name


def query_error_header(service_model: ServiceModel, wire: WireError) -> dict[str, str]:
    """awsQueryCompatible services tell JSON/CBOR clients the legacy query code in a header."""
    if "awsQueryCompatible" not in service_model.metadata:
        return {}
    return {"x-amzn-query-error": f"{wire.code};{wire.fault}"}


# --- the engine's own errors, per protocol ---------------------------------------------------
_RPC = ("json", "smithy-rpc-v2-cbor")


def unknown_operation(protocol: str, name: str) -> ServiceError:
    if protocol in ("query", "ec2"):
        return ServiceError("InvalidAction", f"The action {name} is not valid for this endpoint.",
                            400)
    if protocol in _RPC:
        return ServiceError("UnknownOperationException", "", 400)
    return ServiceError("UnknownOperationException",
                        f"No operation matches the request {name}.", 404)


def malformed(protocol: str, detail: str) -> ServiceError:
    if protocol in ("query", "ec2"):
        return ServiceError("MalformedQueryString", detail, 400)
    if protocol == "rest-xml":
        return ServiceError("MalformedXML", "The XML you provided was not well-formed or did not "
                            "validate against our published schema", 400)
    return ServiceError("SerializationException", detail, 400)


def bad_value(protocol: str, member: str, detail: str) -> ServiceError:
    """A value of the wrong type for its member."""
    if protocol in ("query", "ec2"):
        return ServiceError("InvalidParameterValue",
                            f"Value for parameter {member} is invalid. Reason: {detail}.", 400)
    if protocol == "rest-xml":
        return ServiceError("InvalidArgument", f"Invalid value for {member}: {detail}", 400)
    return ServiceError("SerializationException", f"{member}: {detail}" if member else detail,
                        400)
