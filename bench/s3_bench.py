"""S3 benchmark: nubo and moto_server side by side, raw HTTP, on this machine.

Workloads per server (each started fresh by servers.py, nubo durable with a temporary data dir):
PUT and GET of 1 KiB objects on 8 keep-alive connections; PUT and GET of 64 MiB objects on one
connection; every page of ListObjectsV2 over a 10,000-key bucket; and the first page of a
bucket of many keys against that of a 1,000-key bucket (the listing must not grow with the
bucket). The Markdown report is printed (and written with --out).

    python bench/s3_bench.py --quick            # smoke run
    python bench/s3_bench.py --servers nubo     # one server
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from raw_client import HOST, Connection, Stats, drive  # noqa: E402
from servers import SPECS, ServerProcess  # noqa: E402

MIB = 1024 * 1024
# Neither server verifies signatures by default: a fixed SigV4 header names the service.
AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDNUBOBENCH/20250101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256, Signature=" + "0" * 64)
TARGETS = {"put_1k": 4000, "get_1k": 4000, "put_64m": 1000, "get_64m": 2000,
           "list_10k": 0.1}


@dataclass
class Plan:
    small_seconds: float
    big_objects: int
    list_keys: int
    large_bucket: int


FULL = Plan(small_seconds=10, big_objects=5, list_keys=10_000, large_bucket=1_000_000)
QUICK = Plan(small_seconds=2, big_objects=2, list_keys=2_000, large_bucket=10_000)
MOTO = Plan(small_seconds=5, big_objects=2, list_keys=10_000, large_bucket=20_000)


def request(method: str, path: str, body: bytes = b"") -> bytes:
    head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", f"Authorization: {AUTH}",
            "x-amz-content-sha256: UNSIGNED-PAYLOAD", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def on_one_connection(port: int, work):
    """``await work(connection)`` on a new keep-alive connection, which is closed after."""
    async def run():
        connection = Connection(port, Stats())
        try:
            return await work(connection)
        finally:
            connection.close()
    return asyncio.run(run())


def call(port: int, raw: bytes) -> tuple[int, bytes]:
    return on_one_connection(port, lambda connection: connection.call(raw))


def fill(port: int, bucket: str, count: int) -> None:
    call(port, request("PUT", f"/{bucket}"))
    counter = iter(range(count))

    async def put_one(connection: Connection) -> int | None:
        index = next(counter, None)
        if index is None:
            return None
        await connection.call(request("PUT", f"/{bucket}/key-{index:08d}"))
        return 1
    drive(port, put_one, connections=8, limit=count, seconds=3600)


def list_all(port: int, bucket: str) -> tuple[float, int]:
    """Every page, one after the other on one keep-alive connection (as an SDK's paginator)."""
    async def pages(connection: Connection) -> tuple[float, int]:
        await connection.call(request("HEAD", f"/{bucket}"))  # connected before the clock starts
        started, token, keys = time.perf_counter(), None, 0
        while True:
            query = "list-type=2" + (f"&continuation-token={token}" if token else "")
            status, body = await connection.call(request("GET", f"/{bucket}?{query}"))
            keys += body.count(b"<Key>")
            found = re.search(rb"<NextContinuationToken>([^<]+)</NextContinuationToken>", body)
            if status != 200 or not found:
                return time.perf_counter() - started, keys
            token = found.group(1).decode()
    return on_one_connection(port, pages)


def first_page(port: int, bucket: str, repeats: int = 20) -> float:
    """Median time of the first ListObjectsV2 page (1,000 keys), on one connection."""
    async def pages(connection: Connection) -> float:
        await connection.call(request("HEAD", f"/{bucket}"))
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            await connection.call(request("GET", f"/{bucket}?list-type=2"))
            times.append(time.perf_counter() - started)
        return statistics.median(times)
    return on_one_connection(port, pages)


def large_objects(port: int, count: int) -> tuple[float, float]:
    """MB/s of PUTs and of GETs of 64 MiB objects on one connection (http.client sends and
    reads in large blocks, so the client is not the limit)."""
    big = bytes(range(256)) * (256 * 1024)
    headers = {"Authorization": AUTH, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    connection = http.client.HTTPConnection(HOST, port, timeout=300)
    connection.request("PUT", "/big", headers=headers)
    connection.getresponse().read()
    started = time.perf_counter()
    for index in range(count):
        connection.request("PUT", f"/big/o{index}", body=big, headers=headers)
        connection.getresponse().read()
    put_rate = count * 64 / (time.perf_counter() - started)
    started = time.perf_counter()
    for index in range(count):
        connection.request("GET", f"/big/o{index}", headers=headers)
        response = connection.getresponse()
        while response.read(4 * MIB):
            pass
    get_rate = count * 64 / (time.perf_counter() - started)
    connection.close()
    return put_rate, get_rate


def run_server(name: str, plan: Plan) -> dict:
    results: dict = {}
    with ServerProcess(SPECS[name]) as server:
        port = server.port
        results["startup"] = server.startup_seconds
        call(port, request("PUT", "/small"))
        body = b"x" * 1024
        counter = iter(range(10 ** 9))

        async def put_small(connection: Connection) -> int:
            await connection.call(request("PUT", f"/small/k{next(counter) % 1000}", body))
            return 1
        run = drive(port, put_small, connections=8, limit=10 ** 9, seconds=plan.small_seconds,
                    server_cpu=server.cpu_seconds)
        results["put_1k"] = (run.rate, run.latency(0.5), run.stats.errors)
        get = request("GET", "/small/k1")

        async def get_small(connection: Connection) -> int:
            await connection.call(get)
            return 1
        run = drive(port, get_small, connections=8, limit=10 ** 9, seconds=plan.small_seconds,
                    server_cpu=server.cpu_seconds)
        results["get_1k"] = (run.rate, run.latency(0.5), run.stats.errors)
        results["put_64m"], results["get_64m"] = large_objects(port, plan.big_objects)
        fill(port, "listed", plan.list_keys)
        results["list_10k"] = min(list_all(port, "listed") for _ in range(3))
        fill(port, "large", plan.large_bucket)
        fill(port, "thousand", 1000)
        results["first_page"] = (first_page(port, "large"), first_page(port, "thousand"))
        results["rss_mib"] = server.rss_bytes() / MIB
    return results


def report(all_results: dict[str, dict], plan_of: dict[str, Plan]) -> str:
    lines = ["# S3 benchmark", "", "| measure | " + " | ".join(all_results) + " | nubo target |",
             "|---|" + "---|" * (len(all_results) + 1)]

    def row(label: str, cell, target: str = "") -> None:
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in all_results.values()) +
                     f" | {target} |")
    row("PUT 1 KiB, 8 connections (ops/s, p50 ms)",
        lambda r: f"{r['put_1k'][0]:,.0f} ({r['put_1k'][1] * 1000:.1f} ms)", "≥ 4,000")
    row("GET 1 KiB, 8 connections (ops/s, p50 ms)",
        lambda r: f"{r['get_1k'][0]:,.0f} ({r['get_1k'][1] * 1000:.1f} ms)", "≥ 4,000")
    row("PUT 64 MiB (MB/s)", lambda r: f"{r['put_64m']:,.0f}", "≥ 1,000")
    row("GET 64 MiB (MB/s)", lambda r: f"{r['get_64m']:,.0f}", "≥ 2,000")
    row("ListObjectsV2, every page (s, keys)",
        lambda r: f"{r['list_10k'][0]:.3f} ({r['list_10k'][1]:,})", "≤ 0.1 s for 10,000")
    row("first page: large bucket vs 1,000 keys (ms)",
        lambda r: f"{r['first_page'][0] * 1000:.1f} vs {r['first_page'][1] * 1000:.1f}",
        "equal")
    row("RSS after the run (MiB)", lambda r: f"{r['rss_mib']:.0f}")
    lines += ["", "Sizes: " + "; ".join(
        f"{name}: large bucket {plan.large_bucket:,} keys, listing {plan.list_keys:,} keys"
        for name, plan in plan_of.items())]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke-test run")
    parser.add_argument("--out", type=Path, help="also write the report's table into this "
                        "Markdown file, keeping its sections")
    parser.add_argument("--servers", default="nubo,moto", help="comma-separated: nubo,moto")
    args = parser.parse_args(argv)
    results, plans = {}, {}
    for name in args.servers.split(","):
        plan = QUICK if args.quick else (MOTO if name == "moto" else FULL)
        print(f"{name}: running", file=sys.stderr)
        results[name], plans[name] = run_server(name, plan), plan
    text = report(results, plans)
    print(text)
    if args.out:
        # the report replaces the file's table; the analysis kept under its "## " sections stays
        kept = args.out.read_text() if args.out.exists() else ""
        sections = kept.find("\n## ")
        args.out.write_text(text.rstrip("\n") + "\n" + (kept[sections:] if sections >= 0 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
