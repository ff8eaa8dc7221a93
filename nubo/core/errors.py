"""The one exception type a service raises to answer with an AWS error.

A handler or domain method raises ``ServiceError("QueueDoesNotExist", "The specified queue does
not exist.")``; the protocol serializer of the request's protocol turns it into AWS's wire shape
(query ``<ErrorResponse>``, JSON ``__type``, rest-xml ``<Error>``, ...). HTTP status and the
legacy query code come from the service model's error shape when ``code`` names one, so services
state only what AWS documents: the code and the message.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An AWS error answer.

    code: the error shape name in the service model (``QueueDoesNotExist``) or, for errors the
        model does not describe, the wire code itself (``InvalidParameterValue``).
    message: AWS's message text.
    status: HTTP status; ``None`` means "from the model's error shape, else 400".
    sender_fault: ``True`` for client errors (``Sender``), ``False`` for server errors.
    fields: extra members of the error shape (e.g. ``CancellationReasons``) serialized with it.
    headers: extra response headers.
    """

    def __init__(
        self,
        code: str,
        message: str = "",
        status: int | None = None,
        *,
        sender_fault: bool | None = None,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.fields = fields or {}
        self.headers = headers or {}


class NotImplementedOperation(ServiceError):
    """An operation nubo does not implement yet: 501, naming service and operation."""

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(
            "NotImplemented",
            f"The operation {operation} of service {service} is not implemented by nubo yet.",
            501,
            sender_fault=False,
        )


class NotImplementedMember(ServiceError):
    """A request member nubo does not implement yet (one a newer botocore model added): 501
    naming it, rather than a request that seems to succeed without it."""

    def __init__(self, service: str, operation: str, member: str) -> None:
        super().__init__(
            "NotImplemented",
            f"The parameter {member} of operation {operation} of service {service} is not "
            "implemented by nubo yet.",
            501,
            sender_fault=False,
        )


class InternalFailure(ServiceError):
    def __init__(self, message: str = "An internal error occurred.") -> None:
        super().__init__("InternalFailure", message, 500, sender_fault=False)
