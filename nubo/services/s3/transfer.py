"""Object bytes in and out: uploads streamed to a blob while their MD5 and checksums are
computed, conditional requests, byte ranges and the description of a version in responses."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import formatdate
from typing import AsyncIterator

from nubo.core.errors import ServiceError
from nubo.core.http import BodyStream
from nubo.services.s3 import errors
from nubo.services.s3.blobs import INLINE_LIMIT, BlobStore, BlobWriter
from nubo.services.s3.checksums import ALGORITHMS, Checksum, content_md5, member_name

MAX_PUT_SIZE = 5 * 1024 ** 3  # a single PUT (and a part): 5 GiB
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")

# Descriptive headers stored with an object and returned on GET/HEAD.
STORED_ATTRIBUTES = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage",
                     "Expires", "WebsiteRedirectLocation", "ServerSideEncryption", "SSEKMSKeyId",
                     "BucketKeyEnabled", "StorageClass")


@dataclass
class Upload:
    """Bytes received: where they are and what they hash to."""
    size: int
    md5: bytes
    blob: str | None = None  # a file blob (already fsynced), else ``data`` is inline
    data: bytes = b""
    checksums: dict[str, str] = field(default_factory=dict)  # algorithm -> base64

    @property
    def etag(self) -> str:
        return f'"{self.md5.hex()}"'


def requested_algorithms(params: dict, headers: dict[str, str]) -> list[str]:
    """The checksums a client asks for: stated values, an x-amz-trailer, or the SDK's
    algorithm header; else CRC64NVME, which S3 computes for every new object."""
    found = [a for a in ALGORITHMS if params.get(member_name(a))]
    trailer = headers.get("x-amz-trailer", "").lower()
    found += [a for a in ALGORITHMS if trailer == f"x-amz-checksum-{a.lower()}"
              and a not in found]
    algorithm = (params.get("ChecksumAlgorithm") or "").upper()
    if algorithm in ALGORITHMS and algorithm not in found:
        found.append(algorithm)
    return found or ["CRC64NVME"]


async def receive(blobs: BlobStore, body: BodyStream | None, declared: int | None,
                  algorithms: list[str], limit: int = MAX_PUT_SIZE) -> Upload:
    """Read the body to its end: small bodies into memory, larger ones into a new (loose)
    blob file, fsynced. The caller adopts the blob in the transaction that refers to it, or
    removes it."""
    if declared is not None and declared > limit:
        raise errors.entity_too_large(declared, limit)
    md5 = hashlib.md5()
    sums = [Checksum(a) for a in algorithms]
    buffer = bytearray()
    blob: str | None = None
    writer: BlobWriter | None = None
    size = 0
    body = body if body is not None else BodyStream.of(b"")
    try:
        if declared is not None and declared > INLINE_LIMIT:
            blob, writer = await blobs.open_file()
        async for chunk in body:
            size += len(chunk)
            if size > limit:
                raise errors.entity_too_large(size, limit)
            md5.update(chunk)
            for one in sums:
                one.update(chunk)
            if writer is not None:
                writer.write(chunk)
                continue
            buffer += chunk
            if len(buffer) > INLINE_LIMIT:
                blob, writer = await blobs.open_file()
                writer.write(bytes(buffer))
                buffer = bytearray()
        if declared is not None and size != declared:
            raise errors.incomplete_body()
        if writer is not None:
            await writer.finish()
    except BaseException:
        if writer is not None:
            writer.close()
            blobs.remove([blob])
        raise
    return Upload(size, md5.digest(), blob, bytes(buffer),
                  {one.algorithm: one.b64() for one in sums})


def verify(upload: Upload, content_md5_header: str | None, params: dict,
           trailers: dict[str, str]) -> None:
    """Content-MD5 (BadDigest) and the stated checksums, from headers or trailers."""
    if content_md5_header is not None:
        expected = content_md5(content_md5_header)
        if expected != upload.md5:
            raise errors.bad_digest(content_md5_header, base64.b64encode(upload.md5).decode())
    for algorithm, calculated in upload.checksums.items():
        stated = params.get(member_name(algorithm)) or \
            trailers.get(f"x-amz-checksum-{algorithm.lower()}")
        if stated is None:
            continue
        if stated != calculated:
            try:
                valid = len(base64.b64decode(stated, validate=True)) == \
                    len(base64.b64decode(calculated))
            except ValueError:
                valid = False
            if not valid:
                raise errors.invalid_request(
                    f"Value for x-amz-checksum-{algorithm.lower()} header is invalid.")
            raise errors.bad_checksum(algorithm)


def segments_of(upload: Upload, blobs: BlobStore) -> list[list]:
    """The upload as the segments of an object (called inside the committing transaction)."""
    if upload.blob is not None:
        blobs.adopt(upload.blob)
        return [[upload.blob, upload.size]]
    if not upload.size:
        return []
    return [[blobs.put_inline(upload.data), upload.size]]


# --- conditions ------------------------------------------------------------------------------
def _etag_matches(header: str, etag: str) -> bool:
    return any(item.strip() in ("*", etag, etag.strip('"')) for item in header.split(","))


def _seconds(moment: datetime) -> float:
    return moment.astimezone(timezone.utc).timestamp()


def check_read_conditions(record: dict, if_match: str | None, if_none_match: str | None,
                          if_modified_since: datetime | None,
                          if_unmodified_since: datetime | None) -> None:
    """RFC 7232 as S3 applies it: If-Match wins over If-Unmodified-Since, If-None-Match over
    If-Modified-Since; 412 PreconditionFailed, or 304 Not Modified."""
    modified = int(record["modified"])
    if if_match is not None:
        if not _etag_matches(if_match, record["etag"]):
            raise errors.precondition_failed("If-Match")
    elif if_unmodified_since is not None and modified > _seconds(if_unmodified_since):
        raise errors.precondition_failed("If-Unmodified-Since")
    if if_none_match is not None:
        if _etag_matches(if_none_match, record["etag"]):
            raise errors.not_modified(_validators(record))
    elif if_modified_since is not None and modified <= _seconds(if_modified_since):
        raise errors.not_modified(_validators(record))


def check_write_conditions(latest: dict | None, key: str, if_match: str | None,
                           if_none_match: str | None) -> None:
    """Conditional writes: If-None-Match: * refuses an existing key, If-Match needs the
    current ETag."""
    exists = latest is not None and not latest.get("delete_marker")
    if if_none_match is not None:
        if if_none_match.strip() != "*":
            raise ServiceError("NotImplemented", "A header you provided implies functionality "
                               "that is not implemented", 501, fields={"Header": "If-None-Match"})
        if exists:
            raise errors.precondition_failed("If-None-Match")
    if if_match is not None:
        if not exists:
            raise errors.no_such_key(key)
        if not _etag_matches(if_match, latest["etag"]):
            raise errors.precondition_failed("If-Match")


def _validators(record: dict) -> dict[str, str]:
    return {"ETag": record["etag"], "Last-Modified": http_date(record["modified"])}


def http_date(epoch: float) -> str:
    return formatdate(int(epoch), usegmt=True)


# --- ranges ----------------------------------------------------------------------------------
def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, end) of a ``Range: bytes=..`` header; None to send the whole object (no header,
    or one S3 ignores: malformed or several ranges); InvalidRange when unsatisfiable."""
    if not header:
        return None
    found = _RANGE.fullmatch(header.strip())
    if found is None:
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise _invalid_range(header, size)
        return max(0, size - length), size
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if last and int(last) < start:
        return None
    if start >= size:
        raise _invalid_range(header, size)
    return start, end


def _invalid_range(header: str, size: int) -> ServiceError:
    return ServiceError("InvalidRange", "The requested range is not satisfiable", 416,
                        fields={"RangeRequested": header, "ActualObjectSize": size},
                        headers={"Content-Range": f"bytes */{size}"})


def stream(blobs: BlobStore, segments: list, start: int, end: int
           ) -> AsyncIterator[bytes] | bytes:
    """Bytes [start, end) of an object made of segments, opened now, streamed later."""
    readers, offset = [], 0
    for blob, length in segments:
        lo, hi = max(start, offset), min(end, offset + length)
        if lo < hi:
            readers.append(blobs.reader(blob, lo - offset, hi - offset))
        offset += length
    if not readers:
        return b""

    async def chunks() -> AsyncIterator[bytes]:
        for read in readers:
            async for chunk in read():
                yield chunk
    return chunks()


# --- describing a version --------------------------------------------------------------------
def description(record: dict, checksums: bool = False) -> dict:
    """What GetObject and HeadObject say about a version (their shared output members)."""
    out = {"ETag": record["etag"], "LastModified": record["modified"],
           "ContentLength": record["size"], "ContentType": record.get("content_type"),
           "Metadata": record.get("metadata") or None, "AcceptRanges": "bytes"}
    for name in STORED_ATTRIBUTES:
        if record.get(name) is not None:
            out[name] = record[name]
    if out.get("StorageClass") == "STANDARD":
        del out["StorageClass"]  # S3 names the storage class only when it is not STANDARD
    if record.get("versioned"):
        out["VersionId"] = record["version_id"]
    if record.get("parts"):
        out["PartsCount"] = len(record["parts"])
    if record.get("tags"):
        out["TagCount"] = len(record["tags"])
    if checksums and record.get("checksum"):
        algorithm, value, kind = record["checksum"]
        out[member_name(algorithm)] = value
        out["ChecksumType"] = kind
    return out
