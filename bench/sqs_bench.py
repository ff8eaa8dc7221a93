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
import signal
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
from workloads import Plan, SqsBench, plan_for

MB = 1024 * 1024


@dataclass
class Result:
    name: str
    plan: Plan
    startups: list[float] = field(default_factory=list)
    idle_rss: int = 0
    loaded_rss: int = 0
    peak_rss: int = 0
    runs: dict[str, Run] = field(default_factory=dict)
    backlog_depth: int = 0
    error: str = ""


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def measure(spec: ServerSpec, plan: Plan) -> Result:
    result = Result(spec.name, plan)
    try:
        for _ in range(plan.startups - 1):
            with ServerProcess(spec) as server:
                result.startups.append(server.startup_seconds)
        with ServerProcess(spec) as server:
            result.startups.append(server.startup_seconds)
            say(f"{spec.name}: healthy in {statistics.median(result.startups):.2f} s "
                f"(median of {len(result.startups)}) on port {server.port}")
            time.sleep(plan.idle_seconds)
            result.idle_rss = server.rss_bytes()
            bench = SqsBench(server, plan)
            bench.warm_up()
            # The backlog runs first: moto slows down with every request it has served.
            empty, loaded, result.backlog_depth = bench.backlog(plan.backlog)
            result.runs["latency_empty"], result.runs["latency_backlog"] = empty, loaded
            say(f"{spec.name}: send p50 {empty.latency(0.5) * 1e3:.2f} ms empty, "
                f"{loaded.latency(0.5) * 1e3:.2f} ms at {result.backlog_depth:,} messages")
            steps = [("send", bench.send), ("batch", bench.send_batch),
                     ("receive", bench.receive_delete), ("boto_send", bench.boto_send),
                     ("boto_receive", bench.boto_receive_delete)]
            for name, workload in steps:
                run = result.runs[name] = workload()
                say(f"{spec.name}: {name}: {run.messages} msgs in {run.seconds:.1f} s = "
                    f"{run.rate:,.0f} msgs/s, errors {run.stats.errors}, "
                    f"abandoned {run.stats.abandoned}, "
                    f"server CPU {run.server_cpu:.0%}, client CPU {run.client_cpu:.0%}")
            result.loaded_rss = server.rss_bytes()
            result.peak_rss = server.rss_bytes("VmHWM")
    except Exception as error:  # noqa: BLE001 - reported in the table, other server still runs
        result.error = f"{type(error).__name__}: {error}".splitlines()[0][:200]
        say(f"{spec.name}: failed\n{traceback.format_exc()}")
    return result


# --- report

TARGETS = {  # metric -> (target for nubo, check)
    "startup": ("≤ 0.5 s", lambda v: v <= 0.5),
    "idle_rss": ("≤ 60 MB", lambda v: v <= 60),
    "send": ("≥ 4,000 msgs/s", lambda v: v >= 4000),
    "receive": ("≥ 3,000 msgs/s", lambda v: v >= 3000),
    "ratio": ("≤ 1.2", lambda v: v <= 1.2),
}


def _param(results: list[Result], attr: str) -> str:
    """A plan parameter for a label: "64", or "nubo 64; moto 8" when the servers differ."""
    values = {r.name: getattr(r.plan, attr) for r in results}
    text = {name: f"{v:,}" if isinstance(v, int) else f"{v:g}" for name, v in values.items()}
    if len(set(text.values())) <= 1:
        return next(iter(text.values()), "?")
    return "; ".join(f"{name} {value}" for name, value in text.items())


def _labels(results: list[Result]) -> list[tuple[str, str]]:
    def p(attr: str) -> str:
        return _param(results, attr)
    return [
        ("startup", f"Start to healthy (median of {p('startups')})"),
        ("idle_rss", "Idle RSS after start"),
        ("loaded_rss", "RSS after the workloads"),
        ("send", f"SendMessage, raw HTTP ({p('connections')} conns)"),
        ("send_latency", "SendMessage latency p50 / p99 under that load"),
        ("batch", "SendMessageBatch (10 entries), raw HTTP"),
        ("receive", "ReceiveMessage(10) + DeleteMessageBatch, raw HTTP"),
        ("latency_empty", "SendMessage p50, empty queue (1 conn)"),
        ("latency_backlog", "SendMessage p50, queue with backlog (1 conn)"),
        ("ratio", "Backlog latency ratio (backlog / empty)"),
        ("boto_send", f"boto3 SendMessage ({p('boto_threads')} threads)"),
        ("boto_receive", f"boto3 ReceiveMessage + DeleteMessageBatch ({p('boto_threads')} threads)"),
    ]


def _metrics(r: Result) -> dict[str, tuple[str, float]]:
    """Metric -> (table cell, value checked against the target) for the metrics measured."""
    out: dict[str, tuple[str, float]] = {}
    runs = r.runs

    def ms(seconds: float) -> str:
        return f"{seconds * 1e3:.2f} ms"

    if r.startups:
        median = statistics.median(r.startups)
        out["startup"] = (f"{median:.2f} s", median)
    if r.idle_rss:
        out["idle_rss"] = (f"{r.idle_rss / MB:.0f} MB", r.idle_rss / MB)
    if r.loaded_rss:
        out["loaded_rss"] = (f"{r.loaded_rss / MB:.0f} MB (peak {r.peak_rss / MB:.0f} MB)", 0.0)
    for key in ("send", "batch", "receive", "boto_send", "boto_receive"):
        if run := runs.get(key):
            queued = f" (of {run.queued:,} queued)" if run.queued else ""
            out[key] = (f"{run.rate:,.0f} msgs/s{queued}", run.rate)
    if run := runs.get("send"):
        out["send_latency"] = (f"{ms(run.latency(0.5))} / {ms(run.latency(0.99))}", 0.0)
    empty, loaded = runs.get("latency_empty"), runs.get("latency_backlog")
    if empty and loaded and empty.latency(0.5):
        ratio = loaded.latency(0.5) / empty.latency(0.5)
        out["latency_empty"] = (ms(empty.latency(0.5)), 0.0)
        out["latency_backlog"] = (f"{ms(loaded.latency(0.5))} at {r.backlog_depth:,} msgs", 0.0)
        out["ratio"] = (f"×{ratio:.2f}", ratio)
    return out


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


def report(results: list[Result], quick: bool, seconds: float) -> str:
    by_name = {r.name: r for r in results}
    metrics = {r.name: _metrics(r) for r in results}

    def cell(name: str, key: str) -> str:
        if name not in metrics:
            return "not run"
        return metrics[name].get(key, ("n/a",))[0]

    def verdict(key: str) -> str:
        if key not in TARGETS:
            return ""
        if key not in metrics.get("nubo", {}):
            return "n/a"
        return "pass" if TARGETS[key][1](metrics["nubo"][key][1]) else "**FAIL**"

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
    for key, label in _labels(results):
        target = TARGETS.get(key, ("—",))[0]
        lines.append(f"| {label} | {cell('nubo', key)} | {cell('moto', key)} | {target} "
                     f"| {verdict(key)} |")
    lines += ["", "CPU used during each loop, in % of one core (server process tree; "
              "benchmark client process):", "",
              "| Loop | nubo server | nubo client | moto server | moto client |",
              "|---|---|---|---|---|"]
    loops = [("send", "SendMessage, raw"), ("batch", "SendMessageBatch, raw"),
             ("receive", "Receive + DeleteMessageBatch, raw"), ("boto_send", "boto3 SendMessage"),
             ("boto_receive", "boto3 Receive + DeleteMessageBatch")]
    for key, label in loops:
        cells = []
        for name in ("nubo", "moto"):
            run = by_name[name].runs.get(key) if name in by_name else None
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
            if run.stats.abandoned:
                notes.append(f"- {r.name} {key}: {run.stats.abandoned} requests still in "
                             "flight at the time limit were abandoned")
    if notes:
        lines += ["", "Errors and abandoned requests:", "", *notes]
    lines += ["", "## Method", "", *_method(results), "", "## How to run", "", *HOW_TO_RUN]
    return "\n".join(lines) + "\n"


def _method(results: list[Result]) -> list[str]:
    def p(attr: str) -> str:
        return _param(results, attr)
    return [
        "- Each server runs as a subprocess on a free 127.0.0.1 port: nubo with "
        "`python -m nubo start --data-dir <fresh temp dir>` (durable mode), moto with "
        "`python -m moto.server -p PORT`. Startup is spawn → first 200 from `/_nubo/health` "
        "(moto: `/moto-api/`). RSS is VmRSS of the process and its children.",
        f"- Raw HTTP loops: SQS JSON protocol, requests signed with botocore's SigV4Auth and "
        f"kept as raw bytes, replayed in a closed loop over keep-alive connections "
        f"({p('connections')}) from one asyncio process; each loop stops issuing requests "
        f"after {p('seconds')} s or {p('limit')} messages and abandons requests still in "
        "flight half as long again later; the server is let go idle before each loop. "
        "Message bodies are 128 bytes. Latency is request written → response read. moto's "
        "development server closes the connection after every response, so its figures "
        "include a TCP connect per request.",
        f"- Receive + delete: the queue is pre-filled ({p('prefill')} messages, bounded by "
        f"{p('fill_seconds')} s), then each connection loops ReceiveMessage "
        "(MaxNumberOfMessages=10, VisibilityTimeout=600) and a DeleteMessageBatch of the "
        "receipt handles it got, signed per request; the rate counts messages deleted.",
        f"- Backlog: a queue is filled with SendMessageBatch to a target depth "
        f"({p('backlog')}; the depth reached is shown), then {p('latency_samples')} "
        "sequential SendMessage calls on one connection alternate between an empty queue and "
        "the filled one, so both medians come from the same moments of the run. It runs "
        "first, after a short warm-up, as moto slows down with every request served. Every "
        "loop uses a fresh queue, deleted afterwards.",
        f"- boto3 loops: {p('boto_threads')} threads, one client each, bounded by "
        f"{p('boto_seconds')} s and {p('boto_limit')} messages (also the prefill).",
        "- moto gets fewer connections and smaller queues where shown: it serves one request "
        "at a time and its ReceiveMessage scans the whole queue, so otherwise its loops "
        "would finish no request within their bounds.",
        "- Client and server share the machine: a client CPU near 100% means the client "
        "limits the figure, a server CPU near 100% means the server does. Sub-millisecond "
        "medians move by about 0.1 ms from run to run on a shared machine: repeat a run "
        "before reading much into a latency ratio near its target.",
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
    # On SIGTERM unwind normally, so that the servers started are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    names = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = [name for name in names if name not in SPECS]
    if unknown:
        parser.error(f"unknown server(s): {', '.join(unknown)}")
    started = time.perf_counter()
    results = [measure(SPECS[name], plan_for(name, args.quick)) for name in names]
    text = report(results, args.quick, time.perf_counter() - started)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        say(f"written to {args.out}")
    return 0 if all(not r.error for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
