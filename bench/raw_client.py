"""A raw HTTP/1.1 client that keeps its own cost small, so the server's cost shows.

Requests are signed with botocore's SigV4Auth and serialized to bytes; fixed requests are
signed once and replayed. ``drive`` runs a closed loop over many keep-alive connections
(asyncio streams, one process), bounded by a message count and a deadline, and measures
throughput, per-request latency and the CPU used by this client and by the server.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HOST = "127.0.0.1"
REGION = "us-east-1"
CREDENTIALS = Credentials("AKIDNUBOBENCH", "nubo-bench-secret")


class Signer:
    """Builds signed SQS JSON-protocol requests as raw HTTP/1.1 bytes."""

    def __init__(self, port: int, credentials: Credentials = CREDENTIALS) -> None:
        self.host = f"{HOST}:{port}"
        self.url = f"http://{self.host}/"
        self.auth = SigV4Auth(credentials, "sqs", REGION)

    def sqs(self, action: str, payload: dict) -> bytes:
        body = json.dumps(payload, separators=(",", ":")).encode()
        request = AWSRequest("POST", self.url, data=body, headers={
            "X-Amz-Target": f"AmazonSQS.{action}",
            "Content-Type": "application/x-amz-json-1.0"})
        self.auth.add_auth(request)
        lines = ["POST / HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in request.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Stats:
    requests: int = 0
    errors: int = 0
    reconnects: int = 0
    abandoned: int = 0  # steps still in flight at the hard time limit
    latencies: list[float] = field(default_factory=list)  # seconds, one per request
    first_error: str = ""

    def error(self, text: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or text[:300]


class Connection:
    """One keep-alive connection; reopens itself when the server closes it
    (moto's development server answers ``Connection: close`` to every request)."""

    def __init__(self, port: int, stats: Stats) -> None:
        self.port, self.stats = port, stats
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def call(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request, return (status, body); status 0 means a transport error."""
        started = time.perf_counter()
        try:
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
                self.stats.reconnects += 1
            self.writer.write(raw)
            status, body, keep = await self._response()
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            self.close()
            self.stats.error(f"transport: {error!r}")
            return 0, b""
        self.stats.latencies.append(time.perf_counter() - started)
        self.stats.requests += 1
        if status != 200:
            self.stats.error(f"HTTP {status}: {body.decode(errors='replace')}")
        if not keep:
            self.close()
        return status, body

    async def _response(self) -> tuple[int, bytes, bool]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        keep = headers.get("connection", "").lower() != "close" and lines[0].startswith("HTTP/1.1")
        return status, body, keep

    async def _chunked(self) -> bytes:
        parts = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append((await self.reader.readexactly(size + 2))[:-2])
        await self.reader.readuntil(b"\r\n")  # end of the (empty) trailer section
        return b"".join(parts)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# A step performs one unit of work on a connection and returns how many messages it
# handled, or None when this connection should stop (e.g. the queue is drained).
Step = Callable[[Connection], Awaitable["int | None"]]


@dataclass
class Run:
    messages: int
    seconds: float
    stats: Stats
    client_cpu: float  # share of one core used by this client process
    server_cpu: float  # share of one core used by the server process tree
    queued: int = 0    # messages queued beforehand (receive loops)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def latency(self, quantile: float) -> float:
        values = sorted(self.stats.latencies)
        return values[min(len(values) - 1, int(quantile * len(values)))] if values else 0.0


def drive(port: int, step: Step, *, connections: int, limit: int, seconds: float,
          server_cpu: Callable[[], float] = lambda: 0.0) -> Run:
    """Run ``step`` in a closed loop on ``connections`` connections until ``limit`` messages
    are handled, every connection has stopped, or ``seconds`` have passed; steps in flight
    then get half as long again to finish before they are abandoned (cancelled)."""
    stats = Stats()
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        conn = Connection(port, stats)
        try:
            while done < limit and time.perf_counter() < deadline:
                handled = await step(conn)
                if handled is None:
                    return
                done += handled
        except asyncio.CancelledError:
            stats.abandoned += 1
            raise
        finally:
            conn.close()

    async def main() -> None:
        try:
            async with asyncio.timeout(seconds * 1.5):
                await asyncio.gather(*(worker() for _ in range(connections)))
        except TimeoutError:
            pass

    cpu0, server0, wall0 = time.process_time(), server_cpu(), time.perf_counter()
    asyncio.run(main())
    wall = time.perf_counter() - wall0
    return Run(messages=done, seconds=wall, stats=stats,
               client_cpu=(time.process_time() - cpu0) / wall,
               server_cpu=(server_cpu() - server0) / wall)
