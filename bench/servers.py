"""Server processes under test: spawn on a free 127.0.0.1 port, time the way to healthy,
read memory and CPU from /proc, and always stop what was started."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ServerSpec:
    name: str
    command: Callable[[int, Path], list[str]]  # (port, data dir) -> argv
    health_path: str


NUBO = ServerSpec(
    "nubo",
    lambda port, data: [sys.executable, "-m", "nubo", "start", "--host", HOST,
                        "--port", str(port), "--data-dir", str(data), "--log-level", "warning"],
    "/_nubo/health")
MOTO = ServerSpec(
    "moto",
    lambda port, data: [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
    "/moto-api/")
# nubo with IAM enforced, then also with signatures verified: the cost of authorization.
NUBO_IAM = ServerSpec(
    "nubo-iam",
    lambda port, data: NUBO.command(port, data) + ["--iam", "enforce"], "/_nubo/health")
NUBO_IAM_SIGV4 = ServerSpec(
    "nubo-iam-sigv4",
    lambda port, data: NUBO_IAM.command(port, data) + ["--verify-signatures"], "/_nubo/health")
SPECS = {spec.name: spec for spec in (NUBO, MOTO)}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class ServerProcess:
    """One running server. Use as a context manager: the process group is killed on exit."""

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"nubo-bench-{spec.name}-"))
        self.log_path = self.workdir / "server.log"
        self.process: subprocess.Popen | None = None
        self.startup_seconds = 0.0

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> ServerProcess:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 30.0) -> float:
        """Spawn the server and return the seconds from spawn to its first healthy answer."""
        data_dir = self.workdir / "data"
        log = open(self.log_path, "ab")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            self.spec.command(self.port, data_dir), cwd=REPO, stdout=log, stderr=log,
            stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.spec.name} exited with {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            if self._healthy():
                self.startup_seconds = time.perf_counter() - started
                return self.startup_seconds
            time.sleep(0.005)
        raise RuntimeError(f"{self.spec.name} not healthy after {timeout:.0f}s:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
        try:
            conn.request("GET", self.spec.health_path)
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after 5 s, and remove the temp directory."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # --- /proc readings over the process and its descendants

    def _tree(self) -> list[int]:
        if self.process is None:
            return []
        parents: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                stat = _read_stat(int(entry))
                if stat:
                    parents.setdefault(int(stat[1]), []).append(int(entry))
        tree, pending = [], [self.process.pid]
        while pending:
            pid = pending.pop()
            tree.append(pid)
            pending.extend(parents.get(pid, []))
        return tree

    def rss_bytes(self, field: str = "VmRSS") -> int:
        """Resident memory of the process tree; ``field="VmHWM"`` for the peak."""
        total = 0
        for pid in self._tree():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith(f"{field}:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total

    def wait_idle(self, timeout: float, below: float = 0.05, window: float = 0.25) -> float:
        """Wait until the server uses less than ``below`` of a core over ``window`` seconds
        (e.g. done with requests a client abandoned), at most ``timeout``; return the wait."""
        started = time.perf_counter()
        before = self.cpu_seconds()
        while time.perf_counter() - started < timeout:
            time.sleep(window)
            now = self.cpu_seconds()
            if now - before < below * window:
                break
            before = now
        return time.perf_counter() - started

    def cpu_seconds(self) -> float:
        """User + system CPU time consumed so far by the live process tree."""
        ticks = 0
        for pid in self._tree():
            stat = _read_stat(pid)
            if stat:
                ticks += int(stat[11]) + int(stat[12])  # utime, stime
        return ticks / _TICKS


def _read_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: [state, ppid, ...]."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()
