"""The SQS workloads, run against one server: raw-HTTP loops (server cost) and boto3 loops
(end-to-end cost). Every loop is bounded by a message count and a deadline."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable, Iterator

import boto3
from botocore.config import Config

from raw_client import CREDENTIALS, REGION, Connection, Run, Signer, Stats, drive
from servers import ServerProcess

BODY = "nubo-bench " + "x" * 117  # 128 bytes


@dataclass(frozen=True)
class Plan:
    """Sizes and time bounds of one benchmark run against one server."""
    startups: int = 5             # server starts for the startup median
    idle_seconds: float = 1.0     # wait after start before reading idle RSS
    connections: int = 64         # raw client keep-alive connections
    seconds: float = 10.0         # bound of each throughput loop
    limit: int = 200_000          # message bound of each throughput loop
    prefill: int = 40_000         # messages queued before a raw receive+delete loop
    fill_seconds: float = 60.0    # bound of each queue fill
    settle_seconds: float = 30.0  # max wait for the server to go idle before each loop
    latency_samples: int = 1_000  # sequential sends per latency measurement
    backlog: int = 100_000        # queue depth for the second latency measurement
    boto_threads: int = 4
    boto_seconds: float = 10.0
    boto_limit: int = 20_000      # message bound of boto3 loops (and their prefill)


FULL = Plan()
QUICK = Plan(startups=2, idle_seconds=0.5, connections=32, seconds=2.0, limit=20_000,
             prefill=4_000, fill_seconds=3.0, settle_seconds=4.0, latency_samples=200,
             backlog=10_000, boto_threads=2, boto_seconds=2.0, boto_limit=2_000)
# moto's development server runs one request at a time (GIL) and scans the whole queue on
# every ReceiveMessage: with fewer connections and smaller queues its loops still
# complete requests within their time bounds. The sizes used are shown in the report.
# Its SendMessage also slows with the queue's depth, so it takes few latency samples: the
# "empty" queue must stay near-empty while they are taken.
SMALLER = {"moto": {"full": dict(connections=8, prefill=1_000, backlog=1_280, boto_limit=1_000,
                                 latency_samples=100),
                    "quick": dict(connections=8, prefill=200, backlog=300, boto_limit=200,
                                  latency_samples=40)}}


def plan_for(server: str, quick: bool) -> Plan:
    mode = "quick" if quick else "full"
    return replace(QUICK if quick else FULL, **SMALLER.get(server, {}).get(mode, {}))


class SqsBench:
    def __init__(self, server: ServerProcess, plan: Plan) -> None:
        self.server, self.plan = server, plan
        self.signer = Signer(server.port)
        self.admin = self._client()

    def _client(self):
        return boto3.session.Session().client(
            "sqs", endpoint_url=self.server.endpoint, region_name=REGION,
            aws_access_key_id=CREDENTIALS.access_key, aws_secret_access_key=CREDENTIALS.secret_key,
            config=Config(retries={"mode": "standard", "max_attempts": 1},
                          connect_timeout=5, read_timeout=30))

    def queue(self, purpose: str) -> str:
        name = f"bench-{purpose}-{uuid.uuid4().hex[:8]}"
        return self.admin.create_queue(QueueName=name)["QueueUrl"]

    @contextmanager
    def transient_queue(self, purpose: str) -> Iterator[str]:
        """A queue deleted after use, so that no loop runs beside the previous loops'
        messages (moto slows down with every message it holds, in any queue)."""
        url = self.queue(purpose)
        yield url
        self.admin.delete_queue(QueueUrl=url)

    def depth(self, url: str) -> int:
        attributes = self.admin.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def _drive(self, step, *, connections: int | None = None, limit: int | None = None,
               seconds: float | None = None) -> Run:
        plan = self.plan
        self.server.wait_idle(plan.settle_seconds)
        return drive(self.server.port, step,
                     connections=plan.connections if connections is None else connections,
                     limit=plan.limit if limit is None else limit,
                     seconds=plan.seconds if seconds is None else seconds,
                     server_cpu=self.server.cpu_seconds)

    # --- steps

    def _send_step(self, url: str):
        raw = self.signer.sqs("SendMessage", {"QueueUrl": url, "MessageBody": BODY})

        async def step(conn: Connection) -> int:
            status, _ = await conn.call(raw)
            return int(status == 200)
        return step

    def _batch_step(self, url: str):
        entries = [{"Id": f"m{i}", "MessageBody": BODY} for i in range(10)]
        raw = self.signer.sqs("SendMessageBatch", {"QueueUrl": url, "Entries": entries})

        async def step(conn: Connection) -> int:
            status, body = await conn.call(raw)
            return len(json.loads(body).get("Successful", ())) if status == 200 else 0
        return step

    def _receive_delete_step(self, url: str):
        """Receive up to 10, delete what came back in one batch signed for it. A connection
        stops after three empty receives in a row: the queue is drained."""
        receive = self.signer.sqs("ReceiveMessage", {
            "QueueUrl": url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 600,
            "WaitTimeSeconds": 0})
        empty: dict[int, int] = {}

        async def step(conn: Connection) -> int | None:
            status, body = await conn.call(receive)
            messages = json.loads(body).get("Messages", []) if status == 200 else []
            if not messages:
                empty[id(conn)] = empty.get(id(conn), 0) + 1
                return None if empty[id(conn)] >= 3 else 0
            empty[id(conn)] = 0
            entries = [{"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]}
                       for i, message in enumerate(messages)]
            status, body = await conn.call(
                self.signer.sqs("DeleteMessageBatch", {"QueueUrl": url, "Entries": entries}))
            return len(json.loads(body).get("Successful", ())) if status == 200 else 0
        return step

    # --- raw workloads

    def warm_up(self) -> None:
        seconds = min(2.0, self.plan.seconds / 2)
        with self.transient_queue("warmup") as url:
            self._drive(self._send_step(url), connections=8, limit=200, seconds=seconds)
            self._drive(self._batch_step(url), connections=8, limit=200, seconds=seconds)
            self._drive(self._receive_delete_step(url), connections=8, limit=400,
                        seconds=seconds)

    def fill(self, url: str, count: int) -> Run:
        return self._drive(self._batch_step(url), limit=count, seconds=self.plan.fill_seconds)

    def send(self) -> Run:
        with self.transient_queue("send") as url:
            return self._drive(self._send_step(url))

    def send_batch(self) -> Run:
        with self.transient_queue("batch") as url:
            return self._drive(self._batch_step(url))

    def receive_delete(self) -> Run:
        with self.transient_queue("receive") as url:
            filled = self.fill(url, self.plan.prefill).messages
            run = self._drive(self._receive_delete_step(url), limit=filled)
        run.queued = filled
        return run

    def backlog(self, size: int) -> tuple[Run, Run, int]:
        """Sequential SendMessage latency (one connection) to an empty queue and to a queue
        holding ``size`` messages, alternating request by request so that both see the same
        machine and server state. Returns (empty, loaded, depth)."""
        with self.transient_queue("empty") as empty_url, \
                self.transient_queue("backlog") as full_url:
            self.fill(full_url, size)
            depth = self.depth(full_url)
            targets = [(self.signer.sqs("SendMessage", {"QueueUrl": url, "MessageBody": BODY}),
                        Stats()) for url in (empty_url, full_url)]

            async def step(conn: Connection) -> int:
                handled = 0
                for raw, stats in targets:
                    conn.stats = stats  # each queue's latencies are kept apart
                    status, _ = await conn.call(raw)
                    handled += status == 200
                return handled

            run = self._drive(step, connections=1, limit=2 * self.plan.latency_samples)
            empty, loaded = (replace(run, messages=stats.requests, stats=stats)
                             for _, stats in targets)
            return empty, loaded, depth

    # --- boto3 workloads: one client per thread

    def _boto_loop(self, work: Callable[[object], int | None], *, limit: int) -> Run:
        clients = [self._client() for _ in range(self.plan.boto_threads)]
        self.server.wait_idle(self.plan.settle_seconds)
        stats, lock, done = Stats(), threading.Lock(), 0
        deadline = time.perf_counter() + self.plan.boto_seconds

        def worker(client) -> None:
            nonlocal done
            while done < limit and time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    handled = work(client)
                except Exception as error:  # noqa: BLE001 - counted and reported
                    with lock:
                        stats.error(repr(error))
                    continue
                with lock:
                    stats.latencies.append(time.perf_counter() - started)
                    stats.requests += 1
                    if handled is None:
                        return
                    done += handled

        cpu0, server0, wall0 = time.process_time(), self.server.cpu_seconds(), time.perf_counter()
        with ThreadPoolExecutor(len(clients)) as pool:
            list(pool.map(worker, clients))
        wall = time.perf_counter() - wall0
        return Run(messages=done, seconds=wall, stats=stats,
                   client_cpu=(time.process_time() - cpu0) / wall,
                   server_cpu=(self.server.cpu_seconds() - server0) / wall)

    def boto_send(self) -> Run:
        def work(client) -> int:
            client.send_message(QueueUrl=url, MessageBody=BODY)
            return 1
        with self.transient_queue("boto-send") as url:
            return self._boto_loop(work, limit=self.plan.boto_limit)

    def boto_receive_delete(self) -> Run:
        def work(client) -> int | None:
            messages = client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600,
                WaitTimeSeconds=0).get("Messages", [])
            if not messages:
                return None
            entries = [{"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]}
                       for i, message in enumerate(messages)]
            return len(client.delete_message_batch(QueueUrl=url, Entries=entries)["Successful"])
        with self.transient_queue("boto-receive") as url:
            filled = self.fill(url, self.plan.boto_limit).messages
            run = self._boto_loop(work, limit=filled)
        run.queued = filled
        return run
