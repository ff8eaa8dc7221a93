"""Plain HTTP request/response values passed between the server and the protocol engine, and the
streamed request body (with SigV4's ``aws-chunked`` content encoding decoded on the fly)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable, Iterable

from nubo.core.errors import ServiceError


# Host names that name an AWS service: sqs.us-east-1.localhost, bucket.s3.amazonaws.com, ...
SERVICE_HOST_SUFFIXES = (".localhost.localstack.cloud", ".amazonaws.com", ".localhost")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")


def service_host_labels(host: str) -> tuple[list[str], str] | None:
    """The labels before a known service-host suffix, and the suffix:
    ``sqs.eu-west-1.localhost:4566`` -> ``(["sqs", "eu-west-1"], ".localhost")``; None for
    other hosts."""
    name = host.split(":", 1)[0]
    for suffix in SERVICE_HOST_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)].split("."), suffix
    return None


def virtual_host_label(host: str, endpoint_prefix: str) -> str | None:
    """The resource named by a virtual-hosted name (S3's bucket): the labels before the
    service's own (``my.bucket.s3.us-east-1.localhost`` -> ``my.bucket``); on local names, all
    the labels (``bucket.localhost``)."""
    found = service_host_labels(host)
    if found is None:
        return None
    labels, suffix = found
    if labels and REGION.fullmatch(labels[-1]):
        labels = labels[:-1]
    if labels and labels[-1] == endpoint_prefix:
        labels = labels[:-1]
    elif suffix == ".amazonaws.com":
        return None
    return ".".join(labels) or None


class BodyStream:
    """A request body read lazily, chunk by chunk, as the client sends it.

    Iterating yields the payload's chunks; ``read_all`` collects them; ``data`` is the whole
    payload when it was read before (``of``). ``length`` is the payload's length when the
    client declared it. ``trailers`` holds
    the trailing headers of an ``aws-chunked`` body (``x-amz-checksum-crc32``, ...), complete
    once the stream is exhausted.
    """

    __slots__ = ("_chunks", "length", "trailers", "_started", "chunk_check", "data")

    def __init__(self, chunks: AsyncIterator[bytes] | None, length: int | None,
                 trailers: dict[str, str] | None = None) -> None:
        self._chunks = chunks
        self.length = length
        self.trailers = {} if trailers is None else trailers
        self._started = False
        # For signed aws-chunked bodies: called with each chunk's signature and the SHA-256 of
        # its data once the chunk is read (set by signature verification).
        self.chunk_check: Callable[[str, str], None] | None = None
        self.data: bytes | None = None  # the whole payload, when it was read before

    @classmethod
    def of(cls, data: bytes) -> "BodyStream":
        async def once() -> AsyncIterator[bytes]:
            if data:
                yield data
        stream = cls(once(), len(data))
        stream.data = data
        return stream

    async def read_all(self) -> bytes:
        return b"".join([chunk async for chunk in self])

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._started:
            raise RuntimeError("a request body can be read only once")
        self._started = True
        return self._chunks


def is_aws_chunked(headers: dict[str, str]) -> bool:
    """SigV4 streaming uploads: signed chunks or unsigned chunks with trailing checksums."""
    return "aws-chunked" in headers.get("content-encoding", "") or \
        headers.get("x-amz-content-sha256", "").startswith("STREAMING-")


def aws_chunked(raw: BodyStream, decoded_length: int | None) -> BodyStream:
    """The payload of an ``aws-chunked`` body: ``<hex size>[;chunk-signature=..]\\r\\n<data>
    \\r\\n`` chunks, a zero-size chunk, then trailer lines ``name:value`` and an empty line."""
    trailers: dict[str, str] = {}
    stream = BodyStream(None, decoded_length, trailers)
    stream._chunks = _decode_chunks(raw, trailers, stream)
    return stream


def _incomplete() -> ServiceError:
    return ServiceError("IncompleteBody", "The request body terminated unexpectedly", 400)


def _malformed() -> ServiceError:
    return ServiceError("InvalidRequest", "Malformed aws-chunked request body", 400)


async def _decode_chunks(raw: BodyStream, trailers: dict[str, str],
                         decoded: BodyStream) -> AsyncIterator[bytes]:
    source = aiter(raw)
    buffer = bytearray()

    async def fill() -> None:
        try:
            buffer.extend(await anext(source))
        except StopAsyncIteration:
            raise _incomplete() from None

    async def line() -> bytes:
        start = 0
        while (end := buffer.find(b"\r\n", start)) < 0:
            start = max(0, len(buffer) - 1)
            if len(buffer) > 4096:
                raise _malformed()
            await fill()
        text = bytes(buffer[:end])
        del buffer[:end + 2]
        return text

    while True:
        size_text, _, extension = (await line()).partition(b";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise _malformed() from None
        digest = hashlib.sha256() if decoded.chunk_check is not None else None
        if size == 0:
            if digest is not None:
                decoded.chunk_check(_chunk_signature(extension), digest.hexdigest())
            break
        while size:
            if not buffer:
                await fill()
            if len(buffer) <= size:
                chunk = bytes(buffer)
                buffer.clear()
            else:
                chunk = bytes(buffer[:size])
                del buffer[:size]
            size -= len(chunk)
            if digest is not None:
                digest.update(chunk)
                if not size:  # the chunk is whole: its signature must hold before it counts
                    decoded.chunk_check(_chunk_signature(extension), digest.hexdigest())
            yield chunk
        while len(buffer) < 2:
            await fill()
        if buffer[:2] != b"\r\n":
            raise _malformed()
        del buffer[:2]
    while True:  # trailers, up to an empty line (or the end of the body)
        if not buffer:
            try:
                buffer.extend(await anext(source))
            except StopAsyncIteration:
                return
        text = await line()
        if not text:
            return
        name, _, value = text.decode("latin-1").partition(":")
        trailers[name.strip().lower()] = value.strip()


def _chunk_signature(extension: bytes) -> str:
    name, _, value = extension.decode("latin-1").partition("=")
    return value.strip() if name.strip() == "chunk-signature" else ""


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
    # A body not read yet (large or of unknown length): streamed to the operations whose input
    # payload streams, read whole into ``body`` for the others (protocols.read_body).
    stream: BodyStream | None = None


@dataclass(slots=True)
class HttpResponse:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] | AsyncIterator[bytes] = b""
