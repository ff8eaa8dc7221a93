"""Plain HTTP request/response values passed between the server and the protocol engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterator, Iterable


@dataclass(slots=True)
class HttpRequest:
    method: str
    path: str  # raw (percent-encoded) path, without the query string
    query_string: str  # raw query string, without '?'
    headers: dict[str, str]  # lower-case names; repeated headers joined with ','
    body: bytes = b""
    host: str = ""  # Host header value, lower-case, may include the port
    scheme: str = "http"
    client_ip: str = "127.0.0.1"


@dataclass(slots=True)
class HttpResponse:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] | AsyncIterator[bytes] = b""
