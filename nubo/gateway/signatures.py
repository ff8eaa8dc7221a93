"""SigV4 signature verification (``--verify-signatures``), header and presigned-URL forms.

The canonical request is rebuilt as the SDKs build it (botocore's SigV4Auth; AWS's "Create a
signed AWS API request"): the path URI-encoded once more (S3: as sent), the query sorted and
re-encoded, the signed headers trimmed, and the payload hash taken from
``x-amz-content-sha256`` when sent (S3, streaming uploads) or computed over the body.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import posixpath
import re
import time
from functools import lru_cache
from urllib.parse import quote, unquote

from nubo.core.errors import ServiceError
from nubo.core.http import HttpRequest

__all__ = ["verify"]

_FIELDS = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]+)")
_SPACES = re.compile(r"\s+")
MAX_PRESIGNED_EXPIRY = 604800  # 7 days
MAX_CLOCK_SKEW = 900  # 15 minutes


def error_style(service: str, protocol: str, query_compatible: bool) -> str:
    """How a service words authentication errors: "s3", "json" (Coral JSON: ...Exception, 400)
    or "xml" (query, REST and query-compatible JSON services: the bare code, 403)."""
    if service == "s3":
        return "s3"
    return "json" if protocol in ("json", "smithy-rpc-v2-cbor") and not query_compatible \
        else "xml"


def _error(style: str, code: str, message: str) -> ServiceError:
    if style == "json":
        return ServiceError(f"{code}Exception", message, 400)
    return ServiceError(code, message, 403)


def signature_mismatch(style: str) -> ServiceError:
    if style == "s3":
        return ServiceError("SignatureDoesNotMatch", "The request signature we calculated does "
                            "not match the signature you provided. Check your key and signing "
                            "method.", 403)
    return _error(style, "SignatureDoesNotMatch", "The request signature we calculated does "
                  "not match the signature you provided. Check your AWS Secret Access Key and "
                  "signing method. Consult the service documentation for details.")


def invalid_key(style: str) -> ServiceError:
    if style == "s3":
        return ServiceError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not "
                            "exist in our records.", 403)
    if style == "json":
        return ServiceError("UnrecognizedClientException", "The security token included in the "
                            "request is invalid.", 400)
    return _error(style, "InvalidClientTokenId", "The security token included in the request "
                  "is invalid.")


def expired_token(style: str) -> ServiceError:
    if style == "s3":
        return ServiceError("ExpiredToken", "The provided token has expired.", 400)
    return _error(style, "ExpiredToken", "The security token included in the request is "
                  "expired")


def _canonical_path(path: str, style: str) -> str:
    if style == "s3" or path == "/":
        return path or "/"
    # Other services: the path as sent, normalized, then URI-encoded once more.
    normalized = posixpath.normpath(path) if path not in ("", "/") else "/"
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return quote(normalized, safe="/~")


def _canonical_query(query: str, *, drop_signature: bool) -> str:
    pairs = []
    for part in query.split("&") if query else ():
        key, _, value = part.partition("=")
        key, value = unquote(key.replace("+", " ")), unquote(value.replace("+", " "))
        if drop_signature and key == "X-Amz-Signature":
            continue
        pairs.append((quote(key, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


@lru_cache(maxsize=1024)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


def _trimmed(value: str) -> str:
    if "  " in value or "\t" in value:
        return _SPACES.sub(" ", value.strip())
    return value.strip()


def _timestamp(text: str) -> float | None:
    """Seconds since the epoch of an ISO 8601 basic timestamp (20261123T093000Z)."""
    if len(text) != 16 or text[8] != "T" or text[15] != "Z":
        return None
    try:
        return calendar.timegm((int(text[0:4]), int(text[4:6]), int(text[6:8]),
                                int(text[9:11]), int(text[11:13]), int(text[13:15])))
    except ValueError:
        return None


def check_expiry(request: HttpRequest, now: float) -> None:
    """A presigned URL past its expiry (SigV4 ``X-Amz-Date`` + ``X-Amz-Expires``, SigV2
    ``Expires``) is refused, signatures verified or not (clients test their expiry handling
    against nubo), with the times S3 states in the error; so is a SigV4 one signed more than
    15 minutes ahead of the server's clock."""
    query = request.query_string
    if "authorization" in request.headers or "Expires=" not in query:
        return
    params = dict(p.partition("=")[::2] for p in query.split("&"))
    if "AWSAccessKeyId" in params:  # SigV2 presigned: Expires is a time, in epoch seconds
        if params.get("Expires", "").isdigit() and now > int(params["Expires"]):
            raise _expired(now, int(params["Expires"]), {})
        return
    if "X-Amz-Expires" not in params:
        return
    expires, signed_at = params.get("X-Amz-Expires", ""), _timestamp(params.get("X-Amz-Date", ""))
    if not expires.isdigit() or int(expires) > MAX_PRESIGNED_EXPIRY:
        raise ServiceError("AuthorizationQueryParametersError", "X-Amz-Expires must be less "
                           "than a week (in seconds) that is 604800", 400)
    if signed_at is None:
        return
    if now > signed_at + int(expires):
        raise _expired(now, signed_at + int(expires), {"X-Amz-Expires": expires})
    if signed_at > now + MAX_CLOCK_SKEW:
        raise ServiceError("AccessDenied", "Request is not yet valid", 403, fields={
            "X-Amz-Date": str(int(signed_at * 1000)),  # S3 states it in epoch milliseconds
            "Expires": _iso_seconds(signed_at + int(expires)), "ServerTime": _iso_seconds(now)})


def _expired(now: float, expired_at: float, fields: dict) -> ServiceError:
    return ServiceError("AccessDenied", "Request has expired", 403, fields={
        **fields, "Expires": _iso_seconds(expired_at), "ServerTime": _iso_seconds(now)})


def _iso_seconds(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def verify(request: HttpRequest, secret: str, *, style: str) -> None:
    """Raise the AWS error if the request's SigV4 signature is not that of ``secret``
    (presigned URLs' expiry is ``check_expiry``'s, done before).
    SigV2 requests (``AWS key:signature``) are left to the services that still take them."""
    auth = request.headers.get("authorization", "")
    presigned = not auth and "X-Amz-Signature=" in request.query_string
    if presigned:
        params = dict(p.partition("=")[::2] for p in request.query_string.split("&"))
        fields = {"Credential": unquote(params.get("X-Amz-Credential", "")),
                  "SignedHeaders": unquote(params.get("X-Amz-SignedHeaders", "")),
                  "Signature": params.get("X-Amz-Signature", "")}
        timestamp = params.get("X-Amz-Date", "")
    elif auth.startswith("AWS4-HMAC-SHA256"):
        fields = dict(_FIELDS.findall(auth))
        timestamp = request.headers.get("x-amz-date", "")
    else:
        return
    scope = fields.get("Credential", "").split("/")
    if len(scope) != 5 or not fields.get("Signature"):
        raise signature_mismatch(style)
    _, date, region, signing_service, _ = scope
    signed_at = _timestamp(timestamp)
    if signed_at is None:
        raise signature_mismatch(style)
    if not presigned and abs(time.time() - signed_at) > MAX_CLOCK_SKEW:  # real time: clients sign with it
        raise _error(style, "SignatureDoesNotMatch" if style != "s3" else
                     "RequestTimeTooSkewed", "Signature expired: the request time is more than "
                     "15 minutes from the server's time.")
    signed = fields.get("SignedHeaders", "")
    sent = request.headers
    headers = "".join([f"{name}:{_trimmed(sent.get(name, ''))}\n"
                       for name in signed.split(";")])
    payload = sent.get("x-amz-content-sha256") or (
        "UNSIGNED-PAYLOAD" if presigned and style == "s3" else
        hashlib.sha256(request.body if isinstance(request.body, bytes) else b"").hexdigest())
    canonical = (f"{request.method}\n{_canonical_path(request.path, style)}\n"
                 f"{_canonical_query(request.query_string, drop_signature=presigned)}\n"
                 f"{headers}\n{signed}\n{payload}")
    credential_scope = f"{date}/{region}/{signing_service}/{scope[4]}"
    string_to_sign = (f"AWS4-HMAC-SHA256\n{timestamp}\n{credential_scope}\n"
                      f"{hashlib.sha256(canonical.encode()).hexdigest()}")
    key = _signing_key(secret, date, region, signing_service)
    expected = hmac.digest(key, string_to_sign.encode(), "sha256").hex()
    if not hmac.compare_digest(expected, fields["Signature"]):
        raise signature_mismatch(style)
    if payload.startswith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") and request.stream is not None:
        request.stream.chunk_check = ChunkChain(key, timestamp, credential_scope, expected, style)


_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class ChunkChain:
    """The signatures of a signed aws-chunked body: each chunk's signature signs its data's
    hash and the previous signature, starting from the request's ("seed") signature."""

    __slots__ = ("key", "prefix", "previous", "style")

    def __init__(self, key: bytes, timestamp: str, scope: str, seed: str, style: str) -> None:
        self.key, self.previous, self.style = key, seed, style
        self.prefix = f"AWS4-HMAC-SHA256-PAYLOAD\n{timestamp}\n{scope}\n"

    def __call__(self, signature: str, data_sha256: str) -> None:
        string_to_sign = f"{self.prefix}{self.previous}\n{_EMPTY_SHA256}\n{data_sha256}"
        expected = hmac.digest(self.key, string_to_sign.encode(), "sha256").hex()
        if not hmac.compare_digest(expected, signature):
            raise signature_mismatch(self.style)
        self.previous = expected
