"""Shared fixtures: one real nubo server per test session (per xdist worker), real clients."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import boto3
import botocore.session
import pytest
from botocore.config import Config

REGION = "us-east-1"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NuboProcess:
    """A nubo server started as a separate process, as users run it."""

    def __init__(self, data_dir: Path | None, port: int | None = None,
                 options: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir
        self.options = options  # more `nubo start` options, e.g. ("--iam", "enforce")
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.output = b""

    def start(self, timeout: float = 20) -> "NuboProcess":
        args = [sys.executable, "-m", "nubo", "start", "--port", str(self.port)]
        args += ["--ephemeral"] if self.data_dir is None else ["--data-dir", str(self.data_dir)]
        args += self.options
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nubo exited: {self.process.stdout.read().decode()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/_nubo/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("nubo did not become healthy in time")

    def kill(self) -> None:
        """kill -9: no chance to flush anything."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> int | None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode if self.process else None

    def post(self, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(self.endpoint + path, method="POST",
                                         data=json.dumps(body or {}).encode())
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.endpoint + path, timeout=10) as response:
            return json.loads(response.read())

    def advance_clock(self, seconds: float) -> None:
        self.post("/_nubo/clock", {"advance": seconds})


@contextmanager
def private_server(*options: str) -> Iterator[NuboProcess]:
    """A server of a test module's own, started with `nubo start` ``options`` (e.g. "--iam",
    "enforce") on a fresh durable data directory, removed afterwards."""
    data_dir = Path(tempfile.mkdtemp(prefix="nubo-test-"))
    server = NuboProcess(data_dir, options=options).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def connector(server: NuboProcess):
    """client(service, key="test", secret="test", token=None): boto3 clients of ``server``."""
    def client(service: str, key: str = "test", secret: str = "test", token: str | None = None):
        return boto3.client(service, endpoint_url=server.endpoint, region_name=REGION,
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            aws_session_token=token, config=client_config())
    return client


@pytest.fixture(scope="session")
def nubo_server():
    data_dir = Path(tempfile.mkdtemp(prefix="nubo-test-"))
    server = NuboProcess(data_dir).start()
    yield server
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


def sign_as_of(server: "NuboProcess", monkeypatch) -> None:
    """botocore signs (SigV4 dates, SigV2 and SigV4 presigned URLs, POST policies) as of
    ``server``'s clock, which tests advance, so a URL lives as long as asked whatever other
    tests did to the clock."""
    import datetime

    def server_time(remove_tzinfo: bool = True) -> datetime.datetime:
        now = datetime.datetime.fromtimestamp(server.get("/_nubo/clock")["now"],
                                              datetime.timezone.utc)
        return now.replace(tzinfo=None) if remove_tzinfo else now
    monkeypatch.setattr("botocore.auth.get_current_datetime", server_time)
    monkeypatch.setattr("botocore.signers.get_current_datetime", server_time)
    # SigV2 presigned URLs: Expires is the signer's time plus the lifetime
    monkeypatch.setattr("botocore.auth.HmacV1QueryAuth._get_date", lambda auth: str(
        int(server.get("/_nubo/clock")["now"]) + int(auth._expires)))
    try:  # with awscrt installed, botocore signs SigV4 with the CRT's signers
        import botocore.crt.auth
        monkeypatch.setattr(botocore.crt.auth, "get_current_datetime", server_time)
    except ImportError:
        pass


@pytest.fixture
def signing_at_server_time(nubo_server, monkeypatch):
    sign_as_of(nubo_server, monkeypatch)


@pytest.fixture(scope="session")
def boto_session() -> boto3.Session:
    return boto3.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                         region_name=REGION)


def client_config() -> Config:
    return Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                  read_timeout=30)


@pytest.fixture(scope="session")
def make_client(nubo_server, boto_session):
    """make_client(service, **kwargs): a boto3 client pointed at the session's server."""

    def make(service: str, session: boto3.Session | None = None, **kwargs):
        kwargs.setdefault("config", client_config())
        return (session or boto_session).client(service, endpoint_url=nubo_server.endpoint,
                                                **kwargs)

    return make


@pytest.fixture(scope="session")
def sqs(make_client):
    return make_client("sqs")


@pytest.fixture(scope="session")
def query_protocol_session(tmp_path_factory) -> boto3.Session:
    """A boto3 session whose SQS client speaks the query protocol, as older SDKs and tools do.

    The client is given the protocol engine's query view of the SQS model (result wrappers and the
    query wire names the current JSON-only model lost) with its protocol set to query.
    """
    from nubo.protocols import load_service_model
    from nubo.protocols.models import protocol_view

    model = protocol_view(load_service_model("sqs"), "query")
    description = json.loads(json.dumps(model._service_description, default=str))
    description["metadata"]["protocol"] = "query"
    description["metadata"]["protocols"] = ["query"]
    root = tmp_path_factory.mktemp("models")
    target = root / "sqs" / model.api_version
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(description))
    core = botocore.session.Session()
    core.get_component("data_loader").search_paths.insert(0, str(root))
    return boto3.Session(botocore_session=core, aws_access_key_id=ACCESS_KEY,
                         aws_secret_access_key=SECRET_KEY, region_name=REGION)


@pytest.fixture(scope="session")
def sqs_query(make_client, query_protocol_session):
    return make_client("sqs", session=query_protocol_session)


@pytest.fixture(scope="session")
def aws_cli(nubo_server):
    """aws_cli("sqs", "list-queues") -> parsed JSON output (None if the command prints nothing).
    Raises CalledProcessError (with stderr) when the command fails."""
    env = dict(os.environ, AWS_ENDPOINT_URL=nubo_server.endpoint, AWS_ACCESS_KEY_ID=ACCESS_KEY,
               AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION,
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_PAGER="")
    executable = shutil.which("aws")
    prefix = [executable] if executable else [sys.executable, "-m", "awscli"]

    def run(*args: str, check: bool = True):
        # AWS CLI v1 ignores AWS_ENDPOINT_URL for some services (SQS): name it explicitly.
        result = subprocess.run(prefix + list(args) + ["--output", "json", "--endpoint-url",
                                                       nubo_server.endpoint], env=env,
                                capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, args, result.stdout,
                                                result.stderr)
        if not check:
            return result
        return json.loads(result.stdout) if result.stdout.strip() else None

    return run


def error_of(excinfo) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a botocore ClientError caught by pytest.raises."""
    error = excinfo.value.response
    return (error["Error"]["Code"], error["Error"].get("Message", ""),
            error["ResponseMetadata"]["HTTPStatusCode"])
