"""Request bodies the client compressed: operations with the ``requestcompression`` trait
(CloudWatch PutMetricData) may arrive gzip-encoded, ``gzip`` appended to any Content-Encoding
the caller set (botocore compresses bodies of 10 KiB and more by default)."""

from __future__ import annotations

import zlib

from nubo.core.errors import ServiceError
from nubo.core.http import HttpRequest
from nubo.protocols import faults

# A few KiB of gzip can inflate to gigabytes: a decompressed body beyond this is refused.
MAX_DECOMPRESSED_BYTES = 32 * 1024 * 1024


def gunzip_body(request: HttpRequest, protocol: str) -> None:
    """Decompress a gzip request body in place and drop ``gzip`` from its Content-Encoding
    (what remains is the caller's own value, bound to a header member on REST protocols)."""
    encodings = [part.strip() for part in request.headers["content-encoding"].split(",")]
    if encodings[-1].lower() != "gzip":
        return
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(request.body, MAX_DECOMPRESSED_BYTES)
    except zlib.error as error:
        raise faults.malformed(protocol, f"The gzip request body is invalid: {error}") from None
    if inflater.unconsumed_tail:
        raise ServiceError("RequestEntityTooLarge", "The decompressed request body exceeds "
                           f"{MAX_DECOMPRESSED_BYTES} bytes.", 413)
    if not inflater.eof:
        raise faults.malformed(protocol, "The gzip request body is truncated.")
    request.body = body
    remaining = ", ".join(part for part in encodings[:-1] if part)
    if remaining:
        request.headers["content-encoding"] = remaining
    else:
        del request.headers["content-encoding"]
