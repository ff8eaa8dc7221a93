"""The HTTP/1.1 edge: bytes from the socket to ``HttpRequest`` values, ``HttpResponse`` values
back to bytes.

httptools (llhttp) parses; this module is only the glue an AWS endpoint needs: keep-alive and
pipelining, request bodies read at once when small and streamed with back-pressure when large,
``Expect: 100-continue`` answered when a handler first reads the body, streamed responses that
stop when the client leaves, and a graceful stop. It replaces a general ASGI server, whose
per-request machinery cost more than nubo's whole request path for small requests
(docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import email.utils
import http
import logging
import signal
import time
from collections import deque
from typing import Any, AsyncIterator, Callable

import httptools

from nubo.core.errors import ServiceError
from nubo.core.http import BodyStream, HttpRequest, HttpResponse, aws_chunked, is_aws_chunked
from nubo.server import Gateway

log = logging.getLogger("nubo")

SMALL_BODY = 1 << 20  # bodies up to this size are read at once; larger or unsized ones stream
_PAUSE_AT = 4 << 20  # unread body bytes buffered before the socket stops being read
_IDLE_SECONDS = 65  # keep-alive connections idle this long are closed
_IDLE_SWEEP_SECONDS = 5  # how often idle connections are looked for (not a timer per request)
_MAX_HEAD = 64 << 10  # request line and headers, together
# S3's error for a head over its limit (no service is known yet when the head is refused)
_HEAD_TOO_LARGE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>'
                   b"RequestHeaderSectionTooLarge</Code><Message>Your request header section "
                   b"exceeds the maximum allowed size.</Message>"
                   b"<MaxSizeAllowed>%d</MaxSizeAllowed></Error>" % _MAX_HEAD)
_NO_BODY = (204, 304)  # statuses that never carry a body
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_STATUS_LINES = {status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode()
                 for status in http.HTTPStatus}


class ClientDisconnected(ServiceError):
    """The client went away before sending the whole body (what a handler reading the stream
    then answers goes nowhere, but it unwinds the handler like any client error)."""

    def __init__(self) -> None:
        super().__init__("IncompleteBody", "The request body terminated unexpectedly", 400)


class HttpServer:
    """Serves the gateway on one event loop and runs the services' background work."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.connections: set[_Connection] = set()
        self._background: list[asyncio.Task] = []

    async def serve(self, host: str, port: int, ready: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        self.gateway.runtime.store.group_commits(loop)
        server = await loop.create_server(lambda: _Connection(self), host, port, backlog=2048)
        stop = loop.create_future()
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(stop_signal, lambda: stop.done() or stop.set_result(None))
        self._background.append(loop.create_task(self._load_services()))
        self._background.append(loop.create_task(self._close_idle_connections()))
        ready()
        try:
            await stop
        finally:
            server.close()
            await self._finish_requests(grace=2.0)
            for task in self._background:
                task.cancel()
            await asyncio.gather(*self._background, return_exceptions=True)

    async def _finish_requests(self, grace: float) -> None:
        """Let requests in flight answer (long polls are cut short by the deadline)."""
        for connection in list(self.connections):
            connection.close_when_idle()
        deadline = time.monotonic() + grace
        while self.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for connection in list(self.connections):
            connection.abort()

    async def _close_idle_connections(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(_IDLE_SWEEP_SECONDS)
            oldest = loop.time() - _IDLE_SECONDS
            for connection in [c for c in self.connections
                               if c.idle_since is not None and c.idle_since <= oldest]:
                connection.close_when_idle()

    async def _load_services(self) -> None:
        """Services load on first use, so start stays fast and small; those that already hold
        state load now, after the server is up: their sweepers (retention, deletions, lifecycle)
        must run after a restart even before the first request."""
        from nubo.services import services_with_state

        services = self.gateway.services
        services.on_load = lambda provider: self._background.append(
            asyncio.create_task(_supervise(provider.background)))
        for provider in services.loaded():  # loaded by a request before this ran
            services.on_load(provider)
        self._background.append(asyncio.create_task(
            _supervise(self.gateway.authorizer.background)))
        for name in services_with_state(self.gateway.runtime.store.populated_tables()):
            await asyncio.sleep(0)
            services.get(name)


async def _supervise(work: Callable) -> None:
    while True:
        try:
            await work()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background task %s failed; restarting in 1 s", work)
            await asyncio.sleep(1)


class _Body:
    """A request body as it arrives: chunks queue here until the handler reads them; past
    ``_PAUSE_AT`` buffered bytes the socket is no longer read (back-pressure)."""

    __slots__ = ("connection", "chunks", "buffered", "complete", "lost", "waiter",
                 "expects_continue", "discard")

    def __init__(self, connection: _Connection, expects_continue: bool) -> None:
        self.connection = connection
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.complete = self.lost = self.discard = False
        self.waiter: asyncio.Future | None = None
        self.expects_continue = expects_continue  # and 100 Continue not sent yet

    def feed(self, data: bytes) -> None:
        if self.discard:
            return
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _PAUSE_AT:
            self.connection.pause_reading()
        self._wake()

    def end(self, lost: bool = False) -> None:
        self.complete, self.lost = True, lost
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def read(self) -> AsyncIterator[bytes]:
        while True:
            if self.chunks:
                chunk = self.chunks.popleft()
                self.buffered -= len(chunk)
                if self.buffered <= _PAUSE_AT // 2:
                    self.connection.resume_reading()
                yield chunk
            elif self.lost:
                raise ClientDisconnected()
            elif self.complete:
                return
            else:
                if self.expects_continue:
                    self.expects_continue = False
                    self.connection.write(_CONTINUE)
                self.waiter = asyncio.get_running_loop().create_future()
                await self.waiter

    async def whole(self) -> bytes:
        """All of the body; at once when it has all arrived (most small bodies)."""
        if not (self.complete and not self.lost):
            return b"".join([chunk async for chunk in self.read()])
        data = b"".join(self.chunks)
        self.chunks.clear()
        self.buffered = 0
        self.connection.resume_reading()
        return data

    def drop(self) -> None:
        """The response is out; what the client still sends of this body is read and ignored."""
        self.discard = True
        self.chunks.clear()
        self.buffered = 0
        self.connection.resume_reading()


class _Connection(asyncio.Protocol):
    """One client connection: requests are parsed as bytes arrive and answered in order."""

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.loop = asyncio.get_running_loop()
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.client_ip = "127.0.0.1"
        self.paused = self.closed = self.closing = False
        self.writable: asyncio.Future | None = None
        self.pending: deque[tuple[HttpRequest, _Body, bool]] = deque()
        self.active: asyncio.Task | None = None
        self.idle_since: float | None = None  # loop time the last answer went out, while idle
        # the message being parsed
        self._url = b""
        self._head_size = 0
        self._headers: dict[str, str] = {}
        self._body: _Body | None = None

    # -- transport events -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if peer:
            self.client_ip = peer[0]
        self.server.connections.add(self)
        self._idle()

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(501, b"protocol upgrades are not supported")
        except httptools.HttpParserError:
            if self._head_size > _MAX_HEAD:
                self._refuse(400, _HEAD_TOO_LARGE, b"application/xml")
            else:
                self._refuse(400, b"malformed HTTP request")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        if self._body is not None and not self._body.complete:
            self._body.end(lost=True)
        for _, body, _ in self.pending:
            if not body.complete:
                body.end(lost=True)
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)

    def pause_writing(self) -> None:
        self.writable = self.loop.create_future()

    def resume_writing(self) -> None:
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)

    # -- parser callbacks ---------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._url, self._head_size, self._headers = b"", 0, {}
        self.idle_since = None

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._grow_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._grow_head(len(name) + len(value))
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers = self._headers
        headers[key] = f"{headers[key]},{text}" if key in headers else text

    def _grow_head(self, size: int) -> None:
        self._head_size += size
        if self._head_size > _MAX_HEAD:
            raise httptools.HttpParserError("request head too large")

    def on_headers_complete(self) -> None:
        headers = self._headers
        path, _, query = self._url.decode("latin-1").partition("?")
        request = HttpRequest(method=self.parser.get_method().decode("latin-1"), path=path,
                              query_string=query, headers=headers,
                              host=headers.get("host", "").lower(), scheme="http",
                              client_ip=self.client_ip)
        self._body = _Body(self, headers.get("expect", "").lower() == "100-continue")
        job = (request, self._body, self.parser.should_keep_alive())
        if self.active is None:
            self._start(job)
        else:
            self.pending.append(job)  # pipelined: answered after the ones before it

    def on_body(self, data: bytes) -> None:
        self._body.feed(data)

    def on_message_complete(self) -> None:
        self._body.end()
        self._body = None

    # -- requests -------------------------------------------------------------------------
    def _start(self, job: tuple[HttpRequest, _Body, bool]) -> None:
        self.active = self.loop.create_task(self._answer(*job))

    async def _answer(self, request: HttpRequest, body: _Body, keep_alive: bool) -> None:
        try:
            try:
                await _attach_body(request, body)
            except ClientDisconnected:
                return
            try:
                response = await self.server.gateway.handle(request)
            except Exception:  # a failure outside the gateway's own error handling
                log.exception("failed to answer %s %s", request.method, request.path)
                response, keep_alive = HttpResponse(500, {}, b""), False
            if body.expects_continue and not body.complete:
                keep_alive = False  # the client may still send the body it was never asked for
            if not self.closed:
                await self._send(response, request.method == "HEAD",
                                 keep_alive and not self.closing)
        except Exception:  # while writing the response: the connection cannot be trusted
            log.exception("failed to send the answer to %s %s", request.method, request.path)
            keep_alive = False
        finally:
            self.active = None
        if not body.complete:
            body.drop()
        if self.closed:
            return
        if not keep_alive or self.closing:
            self.transport.close()
        elif self.pending:
            self._start(self.pending.popleft())
        else:
            self._idle()

    async def _send(self, response: HttpResponse, head_only: bool, keep_alive: bool) -> None:
        payload: Any = response.body
        status = response.status
        head = [_STATUS_LINES.get(status) or f"HTTP/1.1 {status} Status\r\n".encode(),
                b"date: ", _date(), b"\r\n"]
        if not keep_alive:
            head.append(b"connection: close\r\n")
        headers = response.headers
        # the two spellings nubo's serializers and endpoints use
        has_length = "Content-Length" in headers or "content-length" in headers
        if headers:
            head.append(_header_lines(headers))
        if status in _NO_BODY:
            payload, head_only, has_length = b"", True, True
        if isinstance(payload, (bytes, bytearray)):
            if not has_length:
                head.append(b"content-length: %d\r\n" % len(payload))
            head.append(b"\r\n")
            if not head_only:
                head.append(payload)
            self.transport.write(b"".join(head))
            return
        chunked = not has_length and not head_only
        if chunked:
            head.append(b"transfer-encoding: chunked\r\n")
        head.append(b"\r\n")
        self.transport.write(b"".join(head))
        chunks = aiter(payload) if hasattr(payload, "__aiter__") else _async_chunks(payload)
        try:
            if not head_only:
                await self._stream(chunks, chunked)
        finally:
            if hasattr(chunks, "aclose"):
                await chunks.aclose()

    async def _stream(self, chunks: AsyncIterator[bytes], chunked: bool) -> None:
        async for chunk in chunks:
            if self.closed:  # the client left: read no further
                return
            if chunk:
                self.transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked
                                     else chunk)
            if self.writable is not None:
                await self.writable
                self.writable = None
        if chunked and not self.closed:
            self.transport.write(b"0\r\n\r\n")

    # -- connection state -------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if not self.closed:
            self.transport.write(data)

    def pause_reading(self) -> None:
        if not self.paused and not self.closed:
            self.paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.paused and not self.closed:
            self.paused = False
            self.transport.resume_reading()

    def _idle(self) -> None:
        self.idle_since = self.loop.time()

    def close_when_idle(self) -> None:
        self.closing = True
        if self.active is None and not self.closed:
            self.transport.close()

    def abort(self) -> None:
        if not self.closed:
            self.transport.abort()

    def _refuse(self, status: int, reason: bytes, content_type: bytes = b"text/plain") -> None:
        if self.active is None:
            self.transport.write(_STATUS_LINES[status] + b"content-type: %s\r\n"
                                 b"content-length: %d\r\nconnection: close\r\n\r\n%s"
                                 % (content_type, len(reason), reason))
        self.transport.close()


async def _attach_body(request: HttpRequest, body: _Body) -> None:
    """Small bodies are read before the request is handled; large or unsized ones are left
    for the operation to stream (and only its first read sends ``100 Continue``)."""
    headers = request.headers
    length = _int_header(headers, "content-length")
    if is_aws_chunked(headers):
        request.stream = aws_chunked(BodyStream(body.read(), length),
                                     _int_header(headers, "x-amz-decoded-content-length"))
    elif length is None and "transfer-encoding" not in headers or \
            length is not None and length <= SMALL_BODY:
        request.body = await body.whole() if length else b""
    else:
        request.stream = BodyStream(body.read(), length)


def _int_header(headers: dict[str, str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


async def _async_chunks(chunks) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _header_lines(headers: dict[str, Any]) -> bytes:
    lines = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
    try:
        return lines.encode("latin-1")
    except UnicodeEncodeError:  # clients read header bytes as latin-1; UTF-8 at least keeps them
        return lines.encode()


_clock = [0, b""]


def _date() -> bytes:
    """The Date header's value, made at most once a second."""
    now = int(time.time())
    if _clock[0] != now:
        _clock[0], _clock[1] = now, email.utils.formatdate(now, usegmt=True).encode()
    return _clock[1]
