"""S3's signature version 2 (HMAC-SHA1): the ``Authorization: AWS <key>:<signature>`` header
and presigned URLs (``?AWSAccessKeyId=..&Expires=..&Signature=..``), which older tools and the
AWS CLI v1's ``aws s3 presign`` still send. The string to sign is botocore's (HmacV1Auth),
computed over the request as it arrived; a presigned URL's expiry is the gateway's
(signatures.check_expiry)."""

from __future__ import annotations

import hmac
from urllib.parse import SplitResult, parse_qsl

from botocore.auth import HmacV1Auth
from botocore.awsrequest import HTTPHeaders
from botocore.credentials import Credentials

from nubo.core.errors import ServiceError
from nubo.core.http import HttpRequest, virtual_host_label


class _Received(HmacV1Auth):
    """botocore's SigV2 signer over a received request: the date is the request's own (a
    presigned URL's Expires), not the time of signing."""

    def __init__(self, secret: str, date: str) -> None:
        super().__init__(Credentials("", secret))
        self._date = date

    def _get_date(self) -> str:
        return self._date


def signed_by_v2(request: HttpRequest) -> bool:
    return request.headers.get("authorization", "").startswith("AWS ") or (
        "authorization" not in request.headers and "Signature=" in request.query_string
        and "AWSAccessKeyId=" in request.query_string)


def verify(request: HttpRequest, secret: str) -> None:
    """Raise SignatureDoesNotMatch unless the request's SigV2 signature is that of ``secret``."""
    headers = HTTPHeaders()
    for name, value in request.headers.items():
        headers[name] = value
    auth = request.headers.get("authorization", "")
    if auth:
        key_id, _, provided = auth[4:].strip().rpartition(":")
        date = "" if "x-amz-date" in request.headers else request.headers.get("date", "")
    else:  # presigned: Expires stands for the date, x-amz-* parameters for headers
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        key_id, provided, date = (params.get("AWSAccessKeyId", ""), params.get("Signature", ""),
                                  params.get("Expires", ""))
        for name, value in params.items():
            lower = name.lower()
            if lower.startswith("x-amz-") or (lower in ("content-type", "content-md5")
                                              and lower not in request.headers):
                headers[lower] = value
    bucket = virtual_host_label(request.host, "s3")
    path = f"/{bucket}{request.path or '/'}" if bucket else request.path
    if path.count("/") == 1:  # a bucket's resource is /bucket/, however addressed
        path += "/"
    signer = _Received(secret, date)
    string_to_sign = signer.canonical_string(
        request.method, SplitResult("", "", request.path, request.query_string, ""), headers,
        auth_path=path)
    expected = signer.sign_string(string_to_sign)
    if not hmac.compare_digest(expected.encode(), provided.encode()):
        raise ServiceError("SignatureDoesNotMatch", "The request signature we calculated does "
                           "not match the signature you provided. Check your key and signing "
                           "method.", 403, fields={"AWSAccessKeyId": key_id,
                                                   "StringToSign": string_to_sign,
                                                   "SignatureProvided": provided})
