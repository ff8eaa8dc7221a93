"""DynamoDB benchmark: nubo and moto_server side by side, on this machine (issue 4).

Workloads per server (each started fresh by servers.py, nubo durable with a temporary data dir),
first over raw HTTP (requests built once and replayed by raw_client's keep-alive client, so the
figures are the server's cost), then through boto3 (the end-to-end cost):
PutItem and GetItem of ~200-byte items; a Query answering 1,000 items; a Scan of a
10,000-item table (every page); and the latency of a 10-item Query on a 1,000-item table
against the same Query on a large table (it must not grow with the table). The Markdown
report is printed (and written with --out).

    python bench/dynamodb_bench.py --quick            # smoke run, about a minute
    python bench/dynamodb_bench.py --servers nubo     # one server
    python bench/dynamodb_bench.py --out docs/benchmarks-dynamodb.md
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import boto3
import orjson
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))

from raw_client import CREDENTIALS, HOST, REGION, Connection, Stats, drive  # noqa: E402
from servers import SPECS, ServerProcess  # noqa: E402

# Neither server verifies signatures by default: a fixed SigV4 header names the service (as
# s3_bench.py does), so thousands of distinct requests cost nothing to build.
AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDNUBOBENCH/20250101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + "0" * 64)
TARGETS = {"put": 4000, "get": 4000, "query_1000": 150, "scan_10000": 0.15, "ratio": 1.5}
MIB = 1024 * 1024


@dataclass(frozen=True)
class Plan:
    seconds: float       # bound of each throughput loop
    connections: int     # raw keep-alive connections for PutItem/GetItem
    scans: int           # full Scans of the 10,000-item table (the best is kept)
    large_table: int     # items of the large table of the latency comparison
    latency_samples: int  # Queries per table, alternating small/large on one connection
    boto_threads: int
    query_connections: int = 4  # raw connections of the 1,000-item Query loop


FULL = Plan(seconds=5, connections=16, scans=5, large_table=1_000_000, latency_samples=500,
            boto_threads=4)
QUICK = Plan(seconds=2, connections=8, scans=2, large_table=50_000, latency_samples=100,
             boto_threads=2)
# moto's development server handles one request at a time and closes every connection; its
# Query and Scan read the whole table, and filling a million items would take an hour.
# Its 1,000-item Query takes seconds: on several connections at once none would finish in time.
MOTO = Plan(seconds=5, connections=4, scans=2, large_table=50_000, latency_samples=100,
            boto_threads=2, query_connections=1)
MOTO_QUICK = Plan(seconds=2, connections=4, scans=1, large_table=10_000, latency_samples=40,
                  boto_threads=2, query_connections=1)


# -- requests -----------------------------------------------------------------------------------

def request(operation: str, payload: dict) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    head = ["POST / HTTP/1.1", f"Host: {HOST}", f"Authorization: {AUTH}",
            "X-Amz-Date: 20250101T000000Z", f"X-Amz-Target: DynamoDB_20120810.{operation}",
            "Content-Type: application/x-amz-json-1.0", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def item(pk: str, sk: int) -> dict:
    """~200 bytes of ten attributes of most types."""
    return {"pk": {"S": pk}, "sk": {"N": str(sk)}, "name": {"S": f"name {sk}"},
            "email": {"S": f"u{sk}@example.com"}, "age": {"N": str(20 + sk % 50)},
            "active": {"BOOL": sk % 2 == 0}, "score": {"N": "12.5"},
            "tags": {"SS": ["a", "b", "c"]}, "blob": {"B": "AAFiaW5hcnk="},
            "address": {"M": {"city": {"S": "Paris"}, "zip": {"N": "75001"}}}}


class Client:
    """One keep-alive connection for setup and sequential measures (reconnects as moto closes
    every connection)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection(HOST, port, timeout=600)

    def call(self, operation: str, payload: dict) -> dict:
        return orjson.loads(self.call_raw(operation, payload))

    def call_raw(self, operation: str, payload: dict) -> bytes:
        """The answer's body, undecoded."""
        body = json.dumps(payload).encode()
        headers = {"Authorization": AUTH, "X-Amz-Date": "20250101T000000Z",
                   "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                   "Content-Type": "application/x-amz-json-1.0"}
        for attempt in range(2):
            try:
                self.connection.request("POST", "/", body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=600)
                if attempt:
                    raise
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        if response.status != 200:
            raise RuntimeError(f"{operation}: HTTP {response.status}: {data[:300]!r}")
        return data

    def create_table(self, name: str) -> None:
        self.call("CreateTable", {
            "TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}]})


def fill(server: ServerProcess, table: str, items, connections: int) -> int:
    """Write ``items`` with BatchWriteItem (25 a request) on several connections."""
    source = iter(items)
    batches = iter(lambda: list(itertools.islice(source, 25)), [])
    written = 0

    async def step(connection: Connection) -> int | None:
        nonlocal written
        batch = next(batches, None)
        if batch is None:
            return None
        body = {"RequestItems": {table: [{"PutRequest": {"Item": i}} for i in batch]}}
        status, answer = await connection.call(request("BatchWriteItem", body))
        if status != 200 or json.loads(answer).get("UnprocessedItems"):
            raise RuntimeError(f"BatchWriteItem: {status} {answer[:200]!r}")
        written += len(batch)
        return len(batch)
    drive(server.port, step, connections=connections, limit=10 ** 9, seconds=7200)
    return written


# -- raw workloads -------------------------------------------------------------------------------

def throughput(server: ServerProcess, plan: Plan, requests, connections: int) -> dict:
    """Replay ``requests`` (an endless iterator of raw requests) in a closed loop."""
    def step_for():
        async def step(connection: Connection) -> int:
            status, _ = await connection.call(next(requests))
            return int(status == 200)
        return step
    run = drive(server.port, step_for(), connections=connections, limit=10 ** 9,
                seconds=plan.seconds, server_cpu=server.cpu_seconds)
    return {"rate": run.rate, "p50": run.latency(0.5), "p99": run.latency(0.99),
            "errors": run.stats.errors, "first_error": run.stats.first_error,
            "server_cpu": run.server_cpu}


def scan_all(client: Client, table: str) -> tuple[float, int, int]:
    """Seconds to read every page of a Scan; (seconds, items, pages). Only each page's Count
    and LastEvaluatedKey are decoded: the client's JSON decoding of 10,000 items would
    otherwise cost more than the server's answer."""
    started, start_key, count, pages = time.perf_counter(), None, 0, 0
    decoder = json.JSONDecoder()
    while True:
        payload = {"TableName": table}
        if start_key:
            payload["ExclusiveStartKey"] = start_key
        page = client.call_raw("Scan", payload).decode()
        count += int(re.search(r'"Count"\s*:\s*(\d+)', page).group(1))
        pages += 1
        found = re.search(r'"LastEvaluatedKey"\s*:\s*', page)
        if not found:
            return time.perf_counter() - started, count, pages
        start_key, _ = decoder.raw_decode(page, found.end())


def latency_pair(server: ServerProcess, plan: Plan, small: str, large: str,
                 large_partitions: int) -> tuple[float, float]:
    """p50 of a 10-item Query on each table, alternating request by request on one
    connection so that both see the same moments of the run."""
    stats = {small: Stats(), large: Stats()}
    counter = itertools.count()

    async def step(connection: Connection) -> int:
        n = next(counter)
        for table, partitions in ((small, 100), (large, large_partitions)):
            connection.stats = stats[table]
            await connection.call(request("Query", {
                "TableName": table, "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": f"p{(n * 7919) % partitions}"}}}))
        return 2
    drive(server.port, step, connections=1, limit=2 * plan.latency_samples, seconds=120)
    return tuple(statistics.median(stats[t].latencies) for t in (small, large))


# -- boto3 workloads -----------------------------------------------------------------------------

def boto_loop(server: ServerProcess, plan: Plan, work) -> float:
    """Operations per second of ``work(client, n)`` on ``boto_threads`` threads."""
    def client():
        return boto3.session.Session().client(
            "dynamodb", endpoint_url=server.endpoint, region_name=REGION,
            aws_access_key_id=CREDENTIALS.access_key,
            aws_secret_access_key=CREDENTIALS.secret_key,
            config=Config(retries={"mode": "standard", "max_attempts": 1},
                          read_timeout=120))
    clients = [client() for _ in range(plan.boto_threads)]
    counter, lock = itertools.count(), threading.Lock()
    deadline = time.perf_counter() + plan.seconds

    def worker(c) -> None:
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter)
            work(c, n)
    started = time.perf_counter()
    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(worker, clients))
    return next(counter) / (time.perf_counter() - started)  # operations started


def boto_workloads(server: ServerProcess, plan: Plan) -> dict:
    results = {}

    def put(c, n):
        c.put_item(TableName="items", Item=item(f"b{n}", n) | {"blob": {"B": b"binary"}})
    results["boto_put"] = boto_loop(server, plan, put)

    def get(c, n):
        assert "Item" in c.get_item(TableName="query",
                                    Key={"pk": {"S": "p"}, "sk": {"N": str(n % 1000)}})
    results["boto_get"] = boto_loop(server, plan, get)

    def query(c, n):
        assert len(c.query(TableName="query", KeyConditionExpression="pk = :p",
                           ExpressionAttributeValues={":p": {"S": "p"}})["Items"]) == 1000
    results["boto_query_1000"] = boto_loop(server, plan, query)
    boto = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name=REGION,
                        aws_access_key_id=CREDENTIALS.access_key,
                        aws_secret_access_key=CREDENTIALS.secret_key)
    times = []
    for _ in range(plan.scans):
        started = time.perf_counter()
        count = sum(page["Count"] for page in
                    boto.get_paginator("scan").paginate(TableName="scan"))
        times.append(time.perf_counter() - started)
        assert count == 10_000, count
    results["boto_scan_10000"] = min(times)
    return results


# -- one server ----------------------------------------------------------------------------------

def run_server(name: str, plan: Plan) -> dict:
    results: dict = {}
    with ServerProcess(SPECS[name]) as server:
        port = server.port
        client = Client(port)
        for table in ("items", "query", "scan", "small", "large"):
            client.create_table(table)
        say(f"{name}: started in {server.startup_seconds:.2f} s, filling tables")
        fill(server, "query", (item("p", n) for n in range(1000)), 4)
        fill(server, "scan", (item(f"s{n % 100}", n) for n in range(10_000)), 4)
        fill(server, "small", ({"pk": {"S": f"p{n % 100}"}, "sk": {"N": str(n)}}
                               for n in range(1000)), 4)
        # Requests are built before the loops, so that the client's own cost stays small;
        # past the pool, PutItem overwrites the items it wrote.
        pool = int(plan.seconds * 10_000)
        puts = [request("PutItem", {"TableName": "items", "Item": item(f"k{n}", n)})
                for n in range(pool)]
        results["put"] = throughput(server, plan, itertools.cycle(puts), plan.connections)
        gets = [request("GetItem", {"TableName": "items", "Key": {
            "pk": {"S": f"k{n}"}, "sk": {"N": str(n)}}}) for n in range(pool)]
        del puts
        results["get"] = throughput(server, plan, itertools.cycle(gets), plan.connections)
        query = request("Query", {"TableName": "query", "KeyConditionExpression": "pk = :p",
                                  "ExpressionAttributeValues": {":p": {"S": "p"}}})
        answer = client.call("Query", {"TableName": "query", "KeyConditionExpression": "pk = :p",
                                       "ExpressionAttributeValues": {":p": {"S": "p"}}})
        assert answer["Count"] == 1000, answer["Count"]
        results["query_1000"] = throughput(server, plan, itertools.repeat(query),
                                           plan.query_connections)
        scans = [scan_all(client, "scan") for _ in range(plan.scans)]
        assert all(count == 10_000 for _, count, _ in scans), scans
        results["scan_10000"] = min(seconds for seconds, _, _ in scans)
        results["scan_pages"] = scans[0][2]
        # The large table is filled last, for the latency comparison only: the loops above
        # run on a store (and a moto) holding only their own tables.
        started = time.perf_counter()
        results["large_items"] = fill(
            server, "large", ({"pk": {"S": f"p{n % (plan.large_table // 10)}"},
                               "sk": {"N": str(n)}} for n in range(plan.large_table)), 8)
        results["large_fill_seconds"] = time.perf_counter() - started
        say(f"{name}: {results['large_items']:,} items in the large table after "
            f"{results['large_fill_seconds']:.0f} s")
        results["latency"] = latency_pair(server, plan, "small", "large",
                                          plan.large_table // 10)
        for key in ("put", "get", "query_1000"):
            say(f"{name}: {key}: {results[key]['rate']:,.0f}/s "
                f"(errors {results[key]['errors']} {results[key]['first_error'][:100]})")
        say(f"{name}: scan {results['scan_10000']:.3f} s, latency {results['latency']}")
        results.update(boto_workloads(server, plan))
        say(f"{name}: boto3 done")
        results["rss_mib"] = server.rss_bytes() / MIB
    return results


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- report --------------------------------------------------------------------------------------

def report(all_results: dict[str, dict], plan_of: dict[str, Plan], quick: bool) -> str:
    names = list(all_results)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = ["# DynamoDB benchmark", "",
             f"nubo against moto_server, measured by `bench/dynamodb_bench.py`"
             f"{' --quick' if quick else ''} on {when}.",
             "", "| measure | " + " | ".join(names) + " | nubo target | verdict |",
             "|---|" + "---|" * (len(names) + 2)]

    def row(label: str, cell, key: str = "", value=None, target: str = "",
            passes=None) -> None:
        verdict = ""
        if key and "nubo" in all_results and "error" not in all_results["nubo"]:
            verdict = "pass" if passes(value(all_results["nubo"])) else "**FAIL**"
        cells = [cell(r) if "error" not in r else "failed" for r in all_results.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} | {verdict} |")

    def rate(key: str):
        return lambda r: (f"{r[key]['rate']:,.0f}/s (p50 {r[key]['p50'] * 1e3:.1f} ms, "
                          f"p99 {r[key]['p99'] * 1e3:.1f} ms)")
    conns = "; ".join(f"{n} {p.connections}" for n, p in plan_of.items())
    row(f"PutItem, raw HTTP ({conns} connections)", rate("put"), "put",
        lambda r: r["put"]["rate"], "≥ 4,000/s", lambda v: v >= TARGETS["put"])
    row("GetItem, raw HTTP", rate("get"), "get", lambda r: r["get"]["rate"], "≥ 4,000/s",
        lambda v: v >= TARGETS["get"])
    row("Query answering 1,000 items, raw HTTP", rate("query_1000"), "query_1000",
        lambda r: r["query_1000"]["rate"], "≥ 150/s", lambda v: v >= TARGETS["query_1000"])
    row("Scan of 10,000 items, every page, raw HTTP (best)",
        lambda r: f"{r['scan_10000']:.3f} s ({r['scan_pages']} pages)", "scan_10000",
        lambda r: r["scan_10000"], "≤ 0.15 s", lambda v: v <= TARGETS["scan_10000"])
    row("Query of 10 items, p50: 1,000-item table vs large table",
        lambda r: (f"{r['latency'][0] * 1e3:.2f} ms vs {r['latency'][1] * 1e3:.2f} ms "
                   f"({r['large_items']:,} items)"))
    row("latency ratio (large / 1,000 items)",
        lambda r: f"×{r['latency'][1] / r['latency'][0]:.2f}", "ratio",
        lambda r: r["latency"][1] / r["latency"][0], "≤ 1.5", lambda v: v <= TARGETS["ratio"])
    threads = "; ".join(f"{n} {p.boto_threads}" for n, p in plan_of.items())
    row(f"boto3 PutItem ({threads} threads)", lambda r: f"{r['boto_put']:,.0f}/s")
    row("boto3 GetItem", lambda r: f"{r['boto_get']:,.0f}/s")
    row("boto3 Query answering 1,000 items", lambda r: f"{r['boto_query_1000']:,.1f}/s")
    row("boto3 Scan of 10,000 items (paginator, best)",
        lambda r: f"{r['boto_scan_10000']:.3f} s")
    row("large table filled by BatchWriteItem",
        lambda r: f"{r['large_items']:,} items in {r['large_fill_seconds']:.0f} s")
    row("RSS after the run", lambda r: f"{r['rss_mib']:.0f} MiB")
    for name, result in all_results.items():
        if "error" in result:
            lines += ["", f"{name} failed: `{result['error']}`"]
        for key in ("put", "get", "query_1000"):
            if result.get(key, {}).get("errors"):
                lines += ["", f"{name} {key}: {result[key]['errors']} failed requests, first: "
                          f"`{result[key]['first_error'][:160]}`"]
    sizes = "; ".join(f"{name}: large table {plan.large_table:,} items, loops {plan.seconds:g} s"
                      for name, plan in plan_of.items())
    lines += ["", "## Method", "", f"Sizes: {sizes}.", "", *METHOD, "", "## How to run", "",
              *HOW_TO_RUN]
    return "\n".join(lines) + "\n"


METHOD = [
    "- Each server runs as a subprocess on a free 127.0.0.1 port (bench/servers.py): nubo with "
    "`python -m nubo start --data-dir <fresh temp dir>` (durable: every acknowledged write is "
    "committed to SQLite first), moto with `python -m moto.server`.",
    "- Raw HTTP: DynamoDB JSON 1.0 requests carry a fixed SigV4 Authorization header (neither "
    "server verifies signatures by default) and are replayed by bench/raw_client.py's asyncio "
    "keep-alive client in a closed loop; rates count 200 answers. PutItem writes distinct "
    "~200-byte items of ten attributes (S, N, BOOL, SS, B, M), requests built beforehand "
    "(10,000 per second of loop, then overwriting); GetItem reads them back.",
    "- Query: one partition of 1,000 such items, one request answering all of them (no Limit), "
    "replayed on 4 connections (moto: 1, as its Query takes seconds). "
    "Scan: a table of 10,000 such items (100 partitions) read page after page by "
    "LastEvaluatedKey on one connection, the client decoding only each page's Count and "
    "LastEvaluatedKey; the best of several Scans.",
    "- Latency ratio: a Query answering one 10-item partition, alternating request by request "
    "between a 1,000-item table and the large table (partitions of 10 items, filled by "
    "BatchWriteItem after the loops above, which run beside their own tables only) on one "
    "connection; medians compared.",
    "- boto3: one client per thread, each call waiting for its answer (the client's own cost "
    "dominates: botocore parses every attribute of every item).",
    "- Client and server share the machine (2 cores), and other work on the machine moves the "
    "figures: read them as orders of magnitude, and repeat a run before reading much into a "
    "ratio near its target.",
]
HOW_TO_RUN = [
    "```sh",
    "pip install -e '.[bench]'                                   # boto3, moto[server]",
    "python bench/dynamodb_bench.py --out docs/benchmarks-dynamodb.md   # full run",
    "python bench/dynamodb_bench.py --quick                      # smoke run, about a minute",
    "python bench/dynamodb_bench.py --servers nubo --large 200000  # one server, smaller table",
    "```",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke-test run")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    parser.add_argument("--servers", default="nubo,moto", help="comma-separated: nubo,moto")
    parser.add_argument("--large", type=int, help="items of the large table (both servers)")
    args = parser.parse_args(argv)
    results, plans = {}, {}
    for name in args.servers.split(","):
        if name == "moto":
            plan = MOTO_QUICK if args.quick else MOTO
        else:
            plan = QUICK if args.quick else FULL
        if args.large:
            plan = Plan(**{**plan.__dict__, "large_table": args.large})
        say(f"{name}: running")
        try:
            results[name] = run_server(name, plan)
        except Exception as error:  # noqa: BLE001 - reported; the other server still runs
            results[name] = {"error": f"{type(error).__name__}: {error}"[:300]}
            say(f"{name}: failed: {error}")
        plans[name] = plan
    text = report(results, plans, args.quick)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
