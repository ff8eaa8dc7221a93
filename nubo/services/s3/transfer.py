"""Object bytes in and out: uploads streamed to a blob while their MD5 and checksums are
computed, conditional requests, byte ranges and the description of a version in responses."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import queue
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import formatdate
from typing import AsyncIterator, Callable

from nubo.core.errors import ServiceError
from nubo.core.http import BodyStream
from nubo.services.s3 import errors
from nubo.services.s3.blobs import INLINE_LIMIT, BlobStore, BlobWriter
from nubo.services.s3.checksums import ALGORITHMS, Checksum, content_md5, member_name

MAX_PUT_SIZE = 5 * 1024 ** 3  # a single PUT (and a part): 5 GiB
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
MAX_METADATA_BYTES = 2048  # user metadata: keys and values

# Descriptive headers a write stores as given, and what GET/HEAD report of a version.
STORED_ATTRIBUTES = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage",
                     "Expires", "WebsiteRedirectLocation", "StorageClass")
PROTECTION_ATTRIBUTES = ("ServerSideEncryption", "SSEKMSKeyId", "BucketKeyEnabled",
                         "SSEKMSEncryptionContext", "SSECustomerAlgorithm",
                         "SSECustomerKeyMD5")
REPORTED_ATTRIBUTES = STORED_ATTRIBUTES + PROTECTION_ATTRIBUTES + (
    "ObjectLockMode", "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus",
    "ReplicationStatus")


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
    trailer = headers.get("x-amz-trailer")
    if trailer:
        found += [a for a in ALGORITHMS if trailer.lower() == f"x-amz-checksum-{a.lower()}"
                  and a not in found]
    algorithm = (params.get("ChecksumAlgorithm") or "").upper()
    if algorithm in ALGORITHMS and algorithm not in found:
        found.append(algorithm)
    return found or ["CRC64NVME"]


class _Lane:
    """A worker thread of its own that does ``work`` on each batch queued, in order, while the
    event loop goes on receiving (hashlib, awscrt and file writes release the GIL). Its own
    thread, not the shared executor: an upload waits on its lanes, and a lane queued behind
    other uploads' lanes could wait for ever."""

    DEPTH = 4  # batches queued before the producer waits (memory stays bounded)

    def __init__(self, work: Callable[[list[bytes]], None]) -> None:
        self.loop = asyncio.get_running_loop()
        self.work = work
        self.batches: queue.SimpleQueue[list[bytes] | None] = queue.SimpleQueue()
        self.queued = 0
        self.error: BaseException | None = None
        self.waiter: asyncio.Future | None = None
        self.finished = self.loop.create_future()
        threading.Thread(target=self._run, name="nubo-upload", daemon=True).start()

    def _run(self) -> None:
        while (batch := self.batches.get()) is not None:
            if self.error is None:  # after an error the rest is only drained
                try:
                    self.work(batch)
                except BaseException as error:
                    self.error = error
            self._tell(self._took_one)
        self._tell(self._finish)

    def _tell(self, callback: Callable[[], None]) -> None:
        try:
            self.loop.call_soon_threadsafe(callback)
        except RuntimeError:  # the loop is closed: the server stopped
            pass

    def _took_one(self) -> None:
        self.queued -= 1
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _finish(self) -> None:
        if not self.finished.done():
            self.finished.set_result(None)

    async def put(self, batch: list[bytes]) -> None:
        while self.queued >= self.DEPTH:
            self.waiter = self.loop.create_future()
            await self.waiter
        self.queued += 1
        self.batches.put(batch)

    async def close(self) -> None:
        """Wait until every batch is done; raise the first error ``work`` raised."""
        self.batches.put(None)
        await self.finished
        if self.error is not None:
            raise self.error


class _Sink:
    """Hashes and stores the bytes of an upload as they arrive: small bodies in memory; larger
    ones in 1 MiB batches hashed by one lane while another writes them to the blob file."""

    BATCH = 1 << 20

    def __init__(self, blobs: BlobStore, algorithms: list[str]) -> None:
        self.blobs = blobs
        self.md5 = hashlib.md5()
        self.sums = [Checksum(a) for a in algorithms]
        self.blob: str | None = None
        self.writer: BlobWriter | None = None
        self.lanes: list[_Lane] = []
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.size = 0
        self.inline = b""

    def _hash(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.md5.update(chunk)
            for one in self.sums:
                one.update(chunk)

    async def add(self, chunk: bytes) -> None:
        self.pending.append(chunk)
        self.pending_size += len(chunk)
        self.size += len(chunk)
        if self.pending_size >= self.BATCH:
            await self.flush()

    async def flush(self) -> None:
        # the chunks as received, never joined: a copy of every byte would cost as much as
        # writing them
        chunks, self.pending, self.pending_size = self.pending, [], 0
        if self.writer is None and self.size > INLINE_LIMIT:
            self.blob, self.writer = await self.blobs.open_file()
            self.lanes = [_Lane(self._hash), _Lane(self.writer.write)]
        if self.writer is None:
            self.inline = b"".join(chunks)
            self._hash(chunks)
        elif chunks:
            for lane in self.lanes:
                await lane.put(chunks)

    async def _close_lanes(self) -> None:
        if not self.lanes:
            return
        lanes, self.lanes = self.lanes, []
        results = await asyncio.gather(*(lane.close() for lane in lanes),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def close(self) -> None:
        await self.flush()
        await self._close_lanes()
        if self.writer is not None:
            await self.writer.finish()

    async def discard(self) -> None:
        try:
            await self._close_lanes()
        except Exception:  # the upload is dropped anyway
            pass
        if self.writer is not None:
            self.writer.close()
            self.blobs.remove([self.blob])


async def receive(blobs: BlobStore, body: BodyStream | None, declared: int | None,
                  algorithms: list[str], limit: int = MAX_PUT_SIZE) -> Upload:
    """Read the body to its end: small bodies into memory, larger ones into a new (loose)
    blob file, fsynced. The caller adopts the blob in the transaction that refers to it, or
    removes it."""
    if declared is not None and declared > limit:
        raise errors.entity_too_large(declared, limit)
    if body is not None and body.data is not None and len(body.data) <= INLINE_LIMIT:
        return _small_upload(body.data, algorithms)  # read already: hashed at once
    sink = _Sink(blobs, algorithms)
    try:
        async for chunk in body if body is not None else BodyStream.of(b""):
            await sink.add(chunk)
            if sink.size > limit:
                raise errors.entity_too_large(sink.size, limit)
        if declared is not None and sink.size != declared:
            raise errors.incomplete_body()
        await sink.close()
    except BaseException:
        await sink.discard()
        raise
    return Upload(sink.size, sink.md5.digest(), sink.blob, sink.inline,
                  {one.algorithm: one.b64() for one in sink.sums})


def _small_upload(data: bytes, algorithms: list[str]) -> Upload:
    checksums = {}
    for algorithm in algorithms:
        one = Checksum(algorithm)
        one.update(data)
        checksums[algorithm] = one.b64()
    return Upload(len(data), hashlib.md5(data).digest(), None, data, checksums)


def stated_payload_sha256(headers: dict[str, str]) -> str | None:
    """The payload's SHA-256 a SigV4 request states (not UNSIGNED-PAYLOAD nor STREAMING-*)."""
    value = headers.get("x-amz-content-sha256", "")
    return value.lower() if _SHA256_HEX.fullmatch(value) else None


def verify(upload: Upload, content_md5_header: str | None, params: dict,
           trailers: dict[str, str], payload_sha256: str | None = None) -> None:
    """The stated payload hash, Content-MD5 (BadDigest) and the stated checksums, from headers
    or trailers."""
    if payload_sha256 is not None:
        computed = base64.b64decode(upload.checksums["SHA256"]).hex()
        if computed != payload_sha256:
            raise ServiceError("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' "
                               "header does not match what was computed.", 400,
                               fields={"ClientComputedContentSHA256": payload_sha256,
                                       "S3ComputedContentSHA256": computed})
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


def check_metadata(metadata: dict[str, str] | None, redirect: str | None = None) -> None:
    """User metadata within 2 KB; a website redirect location is a path or an http(s) URL."""
    size = sum(len(k.encode()) + len(v.encode()) for k, v in (metadata or {}).items())
    if size > MAX_METADATA_BYTES:
        raise ServiceError("MetadataTooLarge", "Your metadata headers exceed the maximum allowed "
                           "metadata size", 400, fields={"Size": size,
                                                         "MaxSizeAllowed": MAX_METADATA_BYTES})
    if redirect is not None and not redirect.startswith(("/", "http://", "https://")):
        raise ServiceError("InvalidRedirectLocation", "The website redirect location must have "
                           "a prefix of 'http://' or 'https://' or '/'.", 400)


def segments_of(upload: Upload, blobs: BlobStore, over: int | None = None) -> list[list]:
    """The upload as the segments of an object (called inside the committing transaction);
    small bytes go over the inline blob ``over`` when given (see ``reusable_inline``)."""
    if upload.blob is not None:
        blobs.adopt(upload.blob)
        return [[upload.blob, upload.size]]
    if not upload.size:
        return []
    return [[blobs.put_inline(upload.data, over), upload.size]]


def reusable_inline(segments: list | None, upload: Upload) -> int | None:
    """The inline blob of a version being overwritten whose place the upload's bytes can take
    (one statement instead of a removal and an insertion): when both are small. No other
    version refers to an inline blob, and reads copy its bytes out at once."""
    if upload.blob is None and upload.size and segments and len(segments) == 1 and \
            isinstance(segments[0][0], int):
        return segments[0][0]
    return None


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


def check_delete_conditions(latest: dict | None, key: str, if_match: str | None,
                            last_modified: datetime | None, size: int | None) -> None:
    """Conditional deletes, of the key's current version: If-Match as for writes (the key
    must exist); its modification time and size, when given, must be the object's."""
    check_write_conditions(latest, key, if_match, None)
    if latest is None or latest.get("delete_marker"):
        return
    if last_modified is not None and int(last_modified.timestamp()) != int(latest["modified"]):
        raise errors.precondition_failed("x-amz-if-match-last-modified-time")
    if size is not None and size != latest["size"]:
        raise errors.precondition_failed("x-amz-if-match-size")


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


EAGER_SEGMENTS = 64  # segments opened when a read starts; a larger object opens the rest later


def stream(blobs: BlobStore, segments: list, start: int, end: int
           ) -> AsyncIterator[bytes] | bytes:
    """Bytes [start, end) of an object made of segments, streamed later. The first segments
    are opened now, so a concurrent delete or overwrite cannot cut the read short; past
    EAGER_SEGMENTS (objects of very many parts) they open as the read reaches them, to bound
    the open files."""
    spans, offset = [], 0
    for blob, length in segments:
        lo, hi = max(start, offset), min(end, offset + length)
        if lo < hi:
            spans.append((blob, lo - offset, hi - offset))
        offset += length
    if not spans:
        return b""
    if len(spans) == 1:  # a small object's bytes are at hand: answered without a stream
        blob, lo, hi = spans[0]
        inline = blobs.inline_data(blob)
        if inline is not None:
            return inline[lo:hi]
    opened = [blobs.reader(*span) for span in spans[:EAGER_SEGMENTS]]

    async def chunks() -> AsyncIterator[bytes]:
        for index, span in enumerate(spans):
            read = opened[index] if index < len(opened) else blobs.reader(*span)
            async for chunk in read():
                yield chunk
    return chunks()


def object_parts(record: dict, max_parts: int | None, marker: int | None) -> dict:
    """GetObjectAttributes' ObjectParts: a page of a multipart object's parts."""
    parts = record["parts"]
    start = marker or 0
    limit = max_parts if max_parts is not None else 1000
    shown = parts[start:start + limit]
    algorithm = (record.get("checksum") or [None])[0]
    out = {"TotalPartsCount": len(parts), "PartNumberMarker": start, "MaxParts": limit,
           "IsTruncated": start + limit < len(parts),
           "Parts": [{"PartNumber": start + index, "Size": size,
                      **({f"Checksum{algorithm}": checksum} if checksum else {})}
                     for index, (size, checksum) in enumerate(shown, 1)]}
    if shown:
        out["NextPartNumberMarker"] = start + len(shown)
    return out


def part_span(record: dict, number: int) -> tuple[int, int]:
    """[start, end) of part ``number`` of an object (a single-part object is part 1)."""
    parts = record.get("parts") or [[record["size"], None]]
    if not 1 <= number <= len(parts):
        raise ServiceError("InvalidPartNumber", "The requested partnumber is not satisfiable",
                           416, fields={"PartNumberRequested": number,
                                        "ActualPartCount": len(parts)})
    start = sum(size for size, _ in parts[:number - 1])
    return start, start + parts[number - 1][0]


# --- describing a version --------------------------------------------------------------------
def encryption_output(record: dict) -> dict:
    """The encryption members a write answers with."""
    return {name: record[name] for name in PROTECTION_ATTRIBUTES if record.get(name)}


def description(record: dict, checksums: bool = False) -> dict:
    """What GetObject and HeadObject say about a version (their shared output members)."""
    out = {"ETag": record["etag"], "LastModified": record["modified"],
           "ContentLength": record["size"], "ContentType": record.get("content_type"),
           "Metadata": record.get("metadata") or None, "AcceptRanges": "bytes"}
    for name in REPORTED_ATTRIBUTES:
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
