"""Browser uploads: an HTML form POSTed to a bucket (multipart/form-data) with the object's key,
its fields and optionally a policy document whose expiration and conditions S3 checks. The file
is the last field and is streamed, like any upload."""

from __future__ import annotations

import base64
import hmac
import json
import re
from datetime import datetime
from typing import AsyncIterator

from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

from nubo.core.errors import ServiceError
from nubo.core.http import BodyStream, HttpResponse
from nubo.services.s3 import errors

MAX_FIELDS_BYTES = 1 << 20  # everything before the file
_DISPOSITION = re.compile(r'(\w+)="([^"]*)"')


def boundary_of(content_type: str) -> bytes | None:
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    return found.group(1).encode() if found else None


class _Reader:
    def __init__(self, body: BodyStream) -> None:
        self.source = aiter(body)
        self.buffer = bytearray()
        self.ended = False

    async def more(self) -> bool:
        if self.ended:
            return False
        try:
            self.buffer += await anext(self.source)
        except StopAsyncIteration:
            self.ended = True
            return False
        return True

    async def until(self, marker: bytes, limit: int) -> bytes | None:
        """The bytes up to ``marker`` (consumed with it), or None at the end of the body."""
        while (index := self.buffer.find(marker)) < 0:
            if len(self.buffer) > limit or not await self.more():
                return None
        found = bytes(self.buffer[:index])
        del self.buffer[:index + len(marker)]
        return found


async def read_form(body: BodyStream, boundary: bytes
                    ) -> tuple[dict[str, str], str | None, str | None, AsyncIterator[bytes]]:
    """(fields with lower-case names, the file's name, its Content-Type, its bytes); the file's
    bytes stream from the body as they are read."""
    reader = _Reader(body)
    delimiter = b"--" + boundary
    if await reader.until(delimiter + b"\r\n", MAX_FIELDS_BYTES) is None:
        raise errors.malformed_post()
    fields: dict[str, str] = {}
    size = 0
    while True:
        head = await reader.until(b"\r\n\r\n", MAX_FIELDS_BYTES)
        if head is None:
            raise errors.post_without_file()
        headers = dict(line.split(":", 1) for line in head.decode("utf-8", "replace").split(
            "\r\n") if ":" in line)
        headers = {k.strip().lower(): v.strip() for k, v in headers.items()}
        disposition = dict(_DISPOSITION.findall(headers.get("content-disposition", "")))
        name = disposition.get("name", "").lower()
        if name == "file":
            return fields, disposition.get("filename"), headers.get("content-type"), \
                _file_bytes(reader, b"\r\n" + delimiter)
        value = await reader.until(b"\r\n" + delimiter, MAX_FIELDS_BYTES)
        if value is None:
            raise errors.malformed_post()
        size += len(value)
        if size > MAX_FIELDS_BYTES:
            raise errors.malformed_post()
        fields[name] = value.decode("utf-8", "replace")
        if reader.buffer[:2] == b"--":  # the closing delimiter: no file
            raise errors.post_without_file()
        del reader.buffer[:2]  # the CRLF after the delimiter


async def _file_bytes(reader: _Reader, marker: bytes) -> AsyncIterator[bytes]:
    keep = len(marker)
    while True:
        index = reader.buffer.find(marker)
        if index >= 0:
            if index:
                yield bytes(reader.buffer[:index])
            return
        if len(reader.buffer) > keep:
            cut = len(reader.buffer) - keep
            yield bytes(reader.buffer[:cut])
            del reader.buffer[:cut]
        if not await reader.more():
            raise errors.malformed_post()


def check_policy(fields: dict[str, str], bucket: str, key: str, size: int | None,
                 now: float) -> tuple[int, int] | None:
    """The form's policy document, as S3 checks it: not expired, every condition met.
    Returns the content-length-range to hold the file to, if any."""
    encoded = fields.get("policy")
    if not encoded:
        return None
    try:
        policy = json.loads(base64.b64decode(encoded))
        expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise errors.invalid_policy_document() from None
    _check_conditions(policy.get("conditions") or [])
    if expiration.timestamp() <= now:
        raise _denied("Policy expired.")
    values = {**fields, "bucket": bucket, "key": key}
    length_range = None
    for condition in policy.get("conditions") or []:
        if isinstance(condition, dict):
            for name, expected in condition.items():
                if values.get(name.lower()) != expected:
                    raise _condition_failed(["eq", f"${name}", expected])
            continue
        operator, *rest = condition
        if operator == "content-length-range":
            length_range = (int(rest[0]), int(rest[1]))
            continue
        name, expected = rest[0].lstrip("$").lower(), rest[1]
        actual = values.get(name, "")
        if operator == "eq" and actual != expected or \
                operator == "starts-with" and not actual.startswith(expected):
            raise _condition_failed(condition)
    for name in fields:  # every field but these must be named by a condition
        if name in ("policy", "file", "x-amz-signature", "signature", "awsaccesskeyid") or \
                name.startswith("x-ignore-"):
            continue
        if not _mentioned(policy, name):
            raise _denied(f'Invalid according to Policy: Extra input fields: {name}')
    return length_range


_FIELD_MEMBERS = {"content-type": "ContentType", "cache-control": "CacheControl",
                  "content-disposition": "ContentDisposition",
                  "content-encoding": "ContentEncoding", "expires": "Expires",
                  "acl": "ACL", "x-amz-server-side-encryption": "ServerSideEncryption",
                  "x-amz-server-side-encryption-aws-kms-key-id": "SSEKMSKeyId",
                  "x-amz-storage-class": "StorageClass",
                  "x-amz-website-redirect-location": "WebsiteRedirectLocation",
                  "x-amz-checksum-algorithm": "ChecksumAlgorithm",
                  **{f"x-amz-checksum-{a.lower()}": f"Checksum{a}" for a in (
                      "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")}}


def post_params(fields: dict[str, str], file_type: str | None) -> dict:
    """The form's fields as the members a PutObject would carry."""
    params = {member: fields[name] for name, member in _FIELD_MEMBERS.items() if name in fields}
    params.setdefault("ContentType", file_type)
    params["Metadata"] = {name[len("x-amz-meta-"):]: value for name, value in fields.items()
                          if name.startswith("x-amz-meta-")}
    return params


def post_response(fields: dict[str, str], request, bucket: str, key: str,
                  record: dict) -> HttpResponse:
    """204 by default, 200 or 201 (with a PostResponse document) as success_action_status
    asks, or a 303 to success_action_redirect."""
    location = f"{request.scheme}://{request.host}/{bucket}/{quote(key)}"
    headers = {"ETag": record["etag"], "Location": location}
    if record.get("versioned"):
        headers["x-amz-version-id"] = record["version_id"]
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        query = urlencode({"bucket": bucket, "key": key, "etag": record["etag"]})
        headers["Location"] = f"{redirect}{'&' if '?' in redirect else '?'}{query}"
        return HttpResponse(303, headers, b"")
    status = fields.get("success_action_status")
    if status == "201":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>'
                f"{escape(location)}</Location><Bucket>{escape(bucket)}</Bucket><Key>"
                f"{escape(key)}</Key><ETag>{escape(record['etag'])}</ETag></PostResponse>")
        headers["Content-Type"] = "application/xml"
        return HttpResponse(201, headers, body.encode())
    return HttpResponse(200 if status == "200" else 204, headers, b"")


def signer_key_id(fields: dict[str, str]) -> str | None:
    """The access key that signed the form's policy (SigV4 credential or SigV2 key id)."""
    credential = fields.get("x-amz-credential")
    if credential:
        return credential.split("/", 1)[0]
    return fields.get("awsaccesskeyid")


def policy_signed_by(fields: dict[str, str], secret: str) -> bool:
    """Whether the form's signature is that of its policy under ``secret``: SigV4
    (x-amz-signature over the base64 policy) or SigV2 (signature, HMAC-SHA1)."""
    policy = fields.get("policy", "").encode()
    if fields.get("x-amz-algorithm") == "AWS4-HMAC-SHA256":
        parts = fields.get("x-amz-credential", "").split("/")
        if len(parts) != 5:
            return False
        key = f"AWS4{secret}".encode()
        for part in parts[1:]:
            key = hmac.digest(key, part.encode(), "sha256")
        expected = hmac.digest(key, policy, "sha256").hex()
        return hmac.compare_digest(expected, fields.get("x-amz-signature", ""))
    expected = base64.b64encode(hmac.digest(secret.encode(), policy, "sha1")).decode()
    return hmac.compare_digest(expected, fields.get("signature", ""))


def _check_conditions(conditions) -> None:
    """The shapes S3 reads conditions in: {"field": "value"}, [operator, "$field", "value"],
    ["content-length-range", min, max]; anything else is an invalid policy."""
    def invalid(detail: str) -> ServiceError:
        return errors.invalid_argument(f"Invalid Policy: {detail}", "policy", "")
    if not isinstance(conditions, list):
        raise invalid("Invalid 'conditions' value: must be a List.")
    for condition in conditions:
        if isinstance(condition, dict):
            if not all(isinstance(value, str) for value in condition.values()):
                raise invalid("Invalid Simple-Condition: value must be a string.")
        elif not isinstance(condition, list) or len(condition) != 3 or \
                not isinstance(condition[0], str):
            raise invalid(f"Invalid Condition: {json.dumps(condition)}")
        elif condition[0] == "content-length-range":
            if not all(type(bound) is int or isinstance(bound, str) and bound.isdigit()
                       for bound in condition[1:]):
                raise invalid("Invalid content-length-range: bounds must be integers.")
        elif not all(isinstance(part, str) for part in condition[1:]):
            raise invalid(f"Invalid Condition: {json.dumps(condition)}")


def _mentioned(policy: dict, name: str) -> bool:
    for condition in policy.get("conditions") or []:
        if isinstance(condition, dict):
            if name in {k.lower() for k in condition}:
                return True
        elif len(condition) == 3 and str(condition[1]).lstrip("$").lower() == name:
            return True
    return name == "bucket"


def _denied(message: str) -> ServiceError:
    return ServiceError("AccessDenied", message if message.startswith("Invalid") else
                        f"Invalid according to Policy: {message}", 403)


def _condition_failed(condition) -> ServiceError:
    return _denied(f"Policy Condition failed: {json.dumps(condition)}")
