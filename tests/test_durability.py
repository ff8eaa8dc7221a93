"""Acknowledged writes survive kill -9 and restart; state survives a clean restart too."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import boto3
from botocore.config import Config

from tests.conftest import ACCESS_KEY, SECRET_KEY, NuboProcess


def sqs_client(server: NuboProcess):
    return boto3.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                         region_name="us-east-1").client(
        "sqs", endpoint_url=server.endpoint,
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5))


def test_acknowledged_messages_survive_kill_9(tmp_path):
    server = NuboProcess(tmp_path).start()
    try:
        url = sqs_client(server).create_queue(QueueName="durable")["QueueUrl"]
        acknowledged: set[str] = set()
        lock = threading.Lock()
        stop = threading.Event()

        def produce(worker: int) -> None:
            client = sqs_client(server)
            for n in range(100_000):
                if stop.is_set():
                    return
                try:
                    client.send_message(QueueUrl=url, MessageBody=f"{worker}-{n}")
                except Exception:
                    return  # the server died under us: this send was not acknowledged
                with lock:
                    acknowledged.add(f"{worker}-{n}")

        producers = [threading.Thread(target=produce, args=(w,)) for w in range(4)]
        for thread in producers:
            thread.start()
        deadline = time.monotonic() + 10
        while len(acknowledged) < 300 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # mid-load
        stop.set()
        for thread in producers:
            thread.join(10)
        assert len(acknowledged) >= 300

        server.start()
        client = sqs_client(server)
        received: set[str] = set()
        while True:
            messages = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                              VisibilityTimeout=600).get("Messages", [])
            if not messages:
                break
            received.update(m["Body"] for m in messages)
        missing = acknowledged - received
        assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {sorted(missing)[:5]}"
    finally:
        server.stop()


def test_state_survives_clean_restart_and_sigterm_stops_cleanly(tmp_path):
    server = NuboProcess(tmp_path).start()
    try:
        client = sqs_client(server)
        url = client.create_queue(QueueName="kept", Attributes={"DelaySeconds": "0"},
                                  tags={"team": "core"})["QueueUrl"]
        client.send_message(QueueUrl=url, MessageBody="still here")
        assert server.stop() == 0
        server.start()
        client = sqs_client(server)
        assert client.get_queue_url(QueueName="kept")["QueueUrl"] == url
        assert client.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}
        messages = client.receive_message(QueueUrl=url)["Messages"]
        assert [m["Body"] for m in messages] == ["still here"]
    finally:
        server.stop()


def test_cli_reset_wipes_a_running_server(tmp_path):
    server = NuboProcess(tmp_path).start()
    try:
        client = sqs_client(server)
        client.create_queue(QueueName="to-be-wiped")
        result = subprocess.run([sys.executable, "-m", "nubo", "reset", "--port",
                                 str(server.port)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        assert not client.list_queues().get("QueueUrls")
    finally:
        server.stop()
