"""CORS, so that browser SDKs can call nubo from any page.

Preflights are answered permissively (local development has no origin policy to enforce) and
every response to a cross-origin request exposes the headers the SDKs read.
"""

from __future__ import annotations

from nubo.core.http import HttpRequest, HttpResponse

_ALLOW_METHODS = "HEAD,GET,PUT,POST,DELETE,OPTIONS,PATCH"
_EXPOSE_HEADERS = ", ".join((
    "x-amzn-RequestId", "x-amzn-ErrorType", "x-amzn-query-error", "x-amz-request-id",
    "x-amz-id-2", "x-amz-version-id", "x-amz-delete-marker", "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c", "x-amz-checksum-sha1", "x-amz-checksum-sha256",
    "x-amz-server-side-encryption", "ETag", "Content-Length", "Content-Range", "Date",
))


def preflight(request: HttpRequest) -> HttpResponse:
    requested = request.headers.get("access-control-request-headers", "*")
    return HttpResponse(200, {
        "Access-Control-Allow-Methods": _ALLOW_METHODS,
        "Access-Control-Allow-Headers": requested,
        "Access-Control-Max-Age": "172800",
    }, b"")


def add_response_headers(response: HttpResponse) -> None:
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    response.headers.setdefault("Access-Control-Expose-Headers", _EXPOSE_HEADERS)
