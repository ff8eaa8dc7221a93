"""SQS benchmark: nubo and moto_server, side by side, on this machine.

    python bench/sqs_bench.py [--quick] [--out docs/benchmarks.md] [--servers nubo,moto]

Starts each server as a subprocess on a free 127.0.0.1 port (nubo durable, with a fresh
temporary --data-dir), measures startup, memory, raw-HTTP and boto3 throughput and latency,
prints a Markdown report and optionally writes it to --out. Servers are always stopped.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from raw_client import Run
from servers import REPO, SPECS, ServerProcess, ServerSpec
from workloads import FULL, QUICK, Plan, SqsBench

MB = 1024 * 1024


@dataclass
class Result:
    name: str
    startups: list[float] = field(default_factory=list)
    idle_rss: int = 0
    loaded_rss: int = 0
    runs: dict[str, Run] = field(default_factory=dict)
    backlog_depth: int = 0
    error: str = ""


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def measure(spec: ServerSpec, plan: Plan) -> Result:
    result = Result(spec.name)
    try:
        for _ in range(plan.startups - 1):
            with ServerProcess(spec) as server:
                result.startups.append(server.startup_seconds)
        with ServerProcess(spec) as server:
            result.startups.append(server.startup_seconds)
            say(f"{spec.name}: healthy in {statistics.median(result.startups):.2f} s "
                f"(median of {len(result.startups)}) on port {server.port}")
            time.sleep(1.0)
            result.idle_rss = server.rss_bytes()
            bench = SqsBench(server, plan)
            bench.warm_up()
            steps = [("send", bench.send), ("batch", bench.send_batch),
                     ("receive", bench.receive_delete), ("boto_send", bench.boto_send),
                     ("boto_receive", bench.boto_receive_delete)]
            for name, workload in steps:
                run = result.runs[name] = workload()
                say(f"{spec.name}: {name}: {run.messages} msgs in {run.seconds:.1f} s = "
                    f"{run.rate:,.0f} msgs/s, errors {run.stats.errors}, "
                    f"server CPU {run.server_cpu:.0%}, client CPU {run.client_cpu:.0%}")
            size = dict(plan.backlog).get(spec.name, 1_000)
            empty, loaded, result.backlog_depth = bench.backlog(size)
            result.runs["latency_empty"], result.runs["latency_backlog"] = empty, loaded
            say(f"{spec.name}: send p50 {empty.latency(0.5) * 1e3:.2f} ms empty, "
                f"{loaded.latency(0.5) * 1e3:.2f} ms at {result.backlog_depth:,} messages")
            result.loaded_rss = server.rss_bytes()
    except Exception as error:  # noqa: BLE001 - reported in the table, other server still runs
        result.error = f"{type(error).__name__}: {error}".splitlines()[0][:200]
        say(f"{spec.name}: failed\n{traceback.format_exc()}")
    return result


# --- report

def _rate(run: Run | None) -> str:
    return f"{run.rate:,.0f} msgs/s" if run else "n/a"


@dataclass(frozen=True)
class Row:
    label: str
    cell: object        # Result -> str
    value: object       # Result -> float | None, checked against the target
    target: str = "—"
    check: object = None  # float -> bool


def _ratio(r: Result) -> float | None:
    empty, loaded = r.runs.get("latency_empty"), r.runs.get("latency_backlog")
    return loaded.latency(0.5) / empty.latency(0.5) if empty and loaded else None


def _rows(plan: Plan) -> list[Row]:
    def run(name):
        return lambda r: r.runs.get(name)

    def rate(name):
        return lambda r: r.runs[name].rate if name in r.runs else None

    def ms(name, q):
        return lambda r: f"{r.runs[name].latency(q) * 1e3:.2f} ms" if name in r.runs else "n/a"

    return [
        Row(f"Start to healthy (median of {plan.startups})",
            lambda r: f"{statistics.median(r.startups):.2f} s" if r.startups else "n/a",
            lambda r: statistics.median(r.startups) if r.startups else None,
            "≤ 0.5 s", lambda v: v <= 0.5),
        Row("Idle RSS after start", lambda r: f"{r.idle_rss / MB:.0f} MB" if r.idle_rss else "n/a",
            lambda r: r.idle_rss / MB if r.idle_rss else None, "≤ 60 MB", lambda v: v <= 60),
        Row("RSS after the workloads",
            lambda r: f"{r.loaded_rss / MB:.0f} MB" if r.loaded_rss else "n/a", lambda r: None),
        Row(f"SendMessage, raw HTTP ({plan.connections} conns)",
            lambda r: _rate(r.runs.get("send")), rate("send"), "≥ 4,000 msgs/s",
            lambda v: v >= 4000),
        Row("SendMessage latency p50 / p99 under that load",
            lambda r: f"{ms('send', 0.5)(r)} / {ms('send', 0.99)(r)}", lambda r: None),
        Row("SendMessageBatch (10 entries), raw HTTP",
            lambda r: _rate(r.runs.get("batch")), lambda r: None),
        Row("ReceiveMessage(10) + DeleteMessageBatch, raw HTTP",
            lambda r: _rate(r.runs.get("receive")), rate("receive"), "≥ 3,000 msgs/s",
            lambda v: v >= 3000),
        Row("SendMessage p50, empty queue (1 conn)", ms("latency_empty", 0.5), lambda r: None),
        Row("SendMessage p50, queue with backlog (1 conn)",
            lambda r: (f"{ms('latency_backlog', 0.5)(r)} at {r.backlog_depth:,} msgs"
                       if "latency_backlog" in r.runs else "n/a"), lambda r: None),
        Row("Backlog latency ratio (backlog / empty)",
            lambda r: f"×{_ratio(r):.2f}" if _ratio(r) else "n/a", _ratio, "≤ 1.2",
            lambda v: v <= 1.2),
        Row(f"boto3 SendMessage ({plan.boto_threads} threads)",
            lambda r: _rate(r.runs.get("boto_send")), lambda r: None),
        Row(f"boto3 ReceiveMessage + DeleteMessageBatch ({plan.boto_threads} threads)",
            lambda r: _rate(r.runs.get("boto_receive")), lambda r: None),
    ]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _nubo_version() -> str:
    try:
        out = subprocess.run([sys.executable, "-m", "nubo", "--version"], cwd=REPO, text=True,
                             capture_output=True, timeout=30).stdout.split()
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                                capture_output=True, timeout=10).stdout.strip()
        return f"{out[-1] if out else '?'} ({commit or 'no git'})"
    except (OSError, subprocess.SubprocessError):
        return "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def report(results: list[Result], plan: Plan, quick: bool, seconds: float) -> str:
    by_name = {r.name: r for r in results}
    nubo, moto = by_name.get("nubo"), by_name.get("moto")

    def cell(row: Row, r: Result | None) -> str:
        if r is None:
            return "not run"
        if r.error and not r.runs and not r.startups:
            return "failed"
        return row.cell(r)

    def verdict(row: Row) -> str:
        if row.check is None:
            return ""
        value = row.value(nubo) if nubo else None
        return "n/a" if value is None else ("pass" if row.check(value) else "**FAIL**")

    lines = [
        "# Benchmarks",
        "",
        f"SQS, nubo against moto_server, measured by `bench/sqs_bench.py`"
        f"{' --quick (smoke test: short loops, small queues)' if quick else ''}.",
        "",
        f"- Date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"- Machine: {os.cpu_count()} cores ({_cpu_model()}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        f"- Versions: nubo {_nubo_version()}, moto {_version('moto')}, "
        f"boto3 {_version('boto3')}, botocore {_version('botocore')}",
        f"- Whole run: {seconds:.0f} s",
        "",
        "| Metric | nubo | moto | Target (nubo) | Verdict |",
        "|---|---|---|---|---|",
    ]
    for row in _rows(plan):
        lines.append(f"| {row.label} | {cell(row, nubo)} | {cell(row, moto)} | {row.target} "
                     f"| {verdict(row)} |")
    lines += ["", "CPU used during each loop, in % of one core (server process tree; "
              "benchmark client process):", "",
              "| Loop | nubo server | nubo client | moto server | moto client |",
              "|---|---|---|---|---|"]
    loops = [("send", "SendMessage, raw"), ("batch", "SendMessageBatch, raw"),
             ("receive", "Receive + DeleteMessageBatch, raw"), ("boto_send", "boto3 SendMessage"),
             ("boto_receive", "boto3 Receive + DeleteMessageBatch")]
    for key, label in loops:
        cells = []
        for r in (nubo, moto):
            run = r.runs.get(key) if r else None
            cells += [f"{run.server_cpu:.0%}", f"{run.client_cpu:.0%}"] if run else ["n/a"] * 2
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    notes = []
    for r in results:
        if r.error:
            notes.append(f"- {r.name} failed: `{r.error}`")
        for key, run in r.runs.items():
            if run.stats.errors:
                notes.append(f"- {r.name} {key}: {run.stats.errors} failed requests of "
                             f"{run.stats.requests + run.stats.errors}, first: "
                             f"`{run.stats.first_error[:160]}`")
    if notes:
        lines += ["", "Errors:", "", *notes]
    lines += ["", "## Method", "", *_method(plan), "", "## How to run", "", *HOW_TO_RUN]
    return "\n".join(lines) + "\n"


def _method(plan: Plan) -> list[str]:
    backlog = ", ".join(f"{name} {size:,}" for name, size in plan.backlog)
    return [
        "- Each server runs as a subprocess on a free 127.0.0.1 port: nubo with "
        "`python -m nubo start --data-dir <fresh temp dir>` (durable mode), moto with "
        "`python -m moto.server -p PORT`. Startup is spawn → first 200 from `/_nubo/health` "
        "(moto: `/moto-api/`). RSS is VmRSS of the process and its children.",
        f"- Raw HTTP loops: SQS JSON protocol, requests signed with botocore's SigV4Auth and "
        f"kept as raw bytes, replayed in a closed loop over {plan.connections} keep-alive "
        f"connections from one asyncio process; each loop is bounded by {plan.seconds:g} s "
        f"and {plan.limit:,} messages. Message bodies are 128 bytes. Latency is request "
        "written → response read. moto's development server closes the connection after "
        "every response, so its figures include a TCP connect per request.",
        f"- Receive + delete: the queue is pre-filled with {plan.prefill:,} messages (bounded "
        f"by {plan.fill_seconds:g} s), then each connection loops ReceiveMessage "
        "(MaxNumberOfMessages=10) and a DeleteMessageBatch of the receipt handles it got, "
        "signed per request; the rate counts messages deleted.",
        f"- Backlog: median of {plan.latency_samples:,} sequential SendMessage calls on one "
        f"connection to an empty queue, then to the same queue filled with SendMessageBatch "
        f"(target depth: {backlog}; bounded by {plan.fill_seconds:g} s, the depth reached "
        "is shown).",
        f"- boto3 loops: {plan.boto_threads} threads, one client each, bounded by "
        f"{plan.boto_seconds:g} s and {plan.boto_limit:,} messages.",
        "- Client and server share the machine: a client CPU near 100% means the client "
        "limits the figure, a server CPU near 100% means the server does.",
    ]


HOW_TO_RUN = [
    "```sh",
    "pip install -e '.[bench]'                                # boto3, moto[server]",
    "python bench/sqs_bench.py --out docs/benchmarks.md      # full run, a few minutes",
    "python bench/sqs_bench.py --quick                       # smoke test, under a minute",
    "python bench/sqs_bench.py --servers nubo                # one server only",
    "```",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke-test run (< 1 min)")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    parser.add_argument("--servers", default="nubo,moto",
                        help="comma-separated subset of: " + ", ".join(SPECS))
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = [name for name in names if name not in SPECS]
    if unknown:
        parser.error(f"unknown server(s): {', '.join(unknown)}")
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    results = [measure(SPECS[name], plan) for name in names]
    text = report(results, plan, args.quick, time.perf_counter() - started)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        say(f"written to {args.out}")
    return 0 if all(not r.error for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
