"""The ASGI edge: turns ASGI events into HttpRequest values and HttpResponse values back."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from nubo.core.errors import ServiceError
from nubo.core.http import BodyStream, HttpRequest, HttpResponse, aws_chunked, is_aws_chunked
from nubo.server import Gateway

log = logging.getLogger("nubo")


class AsgiApp:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._background: list[asyncio.Task] = []

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            try:
                request = await _read_request(scope, receive)
            except ClientDisconnected:
                return
            response = await self.gateway.handle(request)
            # A streamed response stops when the client goes away; with the request body read,
            # the next receive() is that news.
            gone = None if request.stream is not None or isinstance(
                response.body, (bytes, bytearray)) else asyncio.ensure_future(receive())
            try:
                await _send_response(send, response, request.method == "HEAD", gone)
            finally:
                if gone is not None:
                    gone.cancel()
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.gateway.runtime.store.group_commits(asyncio.get_running_loop())
                self._background.append(asyncio.create_task(self._load_services()))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in self._background:
                    task.cancel()
                await send({"type": "lifespan.shutdown.complete"})
                return

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


# Bodies up to this size are read at once; larger ones, or of unknown length, stream.
SMALL_BODY = 1 << 20


async def _read_request(scope: dict, receive: Callable) -> HttpRequest:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    raw_path = scope.get("raw_path") or scope["path"].encode()
    client = scope.get("client") or ("127.0.0.1", 0)
    request = HttpRequest(
        method=scope["method"],
        path=raw_path.decode("latin-1").split("?", 1)[0],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        host=headers.get("host", "").lower(),
        scheme=scope.get("scheme", "http"),
        client_ip=client[0],
    )
    length = _int_header(headers, "content-length")
    stream = BodyStream(_receive_body(receive), length)
    if is_aws_chunked(headers):
        request.stream = aws_chunked(stream, _int_header(headers, "x-amz-decoded-content-length"))
    elif length is None and "transfer-encoding" not in headers or \
            length is not None and length <= SMALL_BODY:
        request.body = await stream.read_all()
    else:
        # Read only when the operation asks for it: the first receive() is also what makes
        # uvicorn answer `Expect: 100-continue`.
        request.stream = stream
    return request


def _int_header(headers: dict[str, str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


async def _receive_body(receive: Callable):
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected()
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        more = message.get("more_body", False)


class ClientDisconnected(ServiceError):
    """The client went away before sending the whole body (what a handler reading the stream
    then answers goes nowhere, but it unwinds the handler like any client error)."""

    def __init__(self) -> None:
        super().__init__("IncompleteBody", "The request body terminated unexpectedly", 400)


_NO_BODY = (204, 304)  # statuses that never carry a body


async def _send_response(send: Callable, response: HttpResponse, head_only: bool,
                         gone: asyncio.Future | None = None) -> None:
    body: Any = response.body
    if response.status in _NO_BODY:
        body, head_only = b"", True
    headers = [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in
               response.headers.items()]
    if isinstance(body, (bytes, bytearray)):
        if not any(k.lower() == b"content-length" for k, _ in headers):
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status,
                    "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head_only else bytes(body)})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    if not head_only:
        if hasattr(body, "__aiter__"):
            async for chunk in body:
                if gone is not None and gone.done():  # the client left: read no further
                    if hasattr(body, "aclose"):
                        await body.aclose()
                    return
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        else:
            for chunk in body:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
