"""What a handler knows about the request it serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class RequestContext:
    request_id: str
    service: str  # botocore service name, e.g. "sqs"
    operation: str  # operation name as in the model, e.g. "SendMessage"
    account_id: str  # 12 digits
    region: str
    access_key_id: str
    protocol: str  # wire protocol of this request: query, json, rest-xml, ...
    host: str  # Host header as the client sent it (used to build URLs the client can reach)
    scheme: str = "http"
    client_ip: str = "127.0.0.1"
    headers: dict[str, str] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    # How the request was signed: 4 (SigV4), 2 (S3's legacy signing) or None (anonymous);
    # nubo's own requests (background work, internal calls) count as SigV4.
    signature_version: int | None = 4

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    def arn(self, service: str, resource: str, *, region: str | None = None,
            account_id: str | None = None) -> str:
        return (f"arn:{self.partition}:{service}:{self.region if region is None else region}:"
                f"{self.account_id if account_id is None else account_id}:{resource}")
