"""CORS, so that browser SDKs can call nubo from any page.

A service whose resources carry their own CORS rules (S3 buckets) answers for them: a provider
with ``cors_preflight(request)`` / ``cors_headers(request)`` methods returns its answer, or None
for requests that are not about its resources. Everything else is answered permissively (local
development has no origin policy to enforce), and every response to a cross-origin request
exposes the headers the SDKs read.
"""

from __future__ import annotations

from typing import Iterable

from nubo.core.http import HttpRequest, HttpResponse

_ALLOW_METHODS = "HEAD,GET,PUT,POST,DELETE,OPTIONS,PATCH"
_EXPOSE_HEADERS = ", ".join((
    "x-amzn-RequestId", "x-amzn-ErrorType", "x-amzn-query-error", "x-amz-request-id",
    "x-amz-id-2", "x-amz-version-id", "x-amz-delete-marker", "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c", "x-amz-checksum-sha1", "x-amz-checksum-sha256",
    "x-amz-server-side-encryption", "ETag", "Content-Length", "Content-Range", "Date",
))


def preflight(request: HttpRequest, providers: Iterable = ()) -> HttpResponse:
    for provider in providers:
        decide = getattr(provider, "cors_preflight", None)
        answer = decide(request) if decide is not None else None
        if answer is not None:
            return answer
    requested = request.headers.get("access-control-request-headers", "*")
    return HttpResponse(200, {
        "Access-Control-Allow-Methods": _ALLOW_METHODS,
        "Access-Control-Allow-Headers": requested,
        "Access-Control-Max-Age": "172800",
    }, b"")


def add_response_headers(response: HttpResponse, request: HttpRequest | None = None,
                         providers: Iterable = ()) -> None:
    for provider in providers:
        decide = getattr(provider, "cors_headers", None)
        headers = decide(request) if decide is not None else None
        if headers is not None:  # the resource's own rules, even if they grant nothing
            response.headers.update(headers)
            return
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    response.headers.setdefault("Access-Control-Expose-Headers", _EXPOSE_HEADERS)
