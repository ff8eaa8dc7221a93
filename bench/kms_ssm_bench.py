"""KMS Encrypt/Decrypt and Parameter Store GetParameter throughput, nubo and moto_server side
by side in one run (issue 6).

    python bench/kms_ssm_bench.py [--seconds 5] [--servers nubo,moto]

Each server starts as a subprocess (nubo durable, in a fresh data directory). Fixed requests are
signed once and replayed by the raw keep-alive client (bench/raw_client.py), so the figures
are the server's cost. moto's development server handles one request at a time and closes
every connection, so it gets fewer connections (as in the SQS bench).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from raw_client import CREDENTIALS, HOST, REGION, Connection, drive
from servers import SPECS, ServerProcess

CONNECTIONS = {"nubo": 32, "moto": 4}
PLAINTEXT = b"p" * 256
TARGETS = {"kms": "TrentService", "ssm": "AmazonSSM"}


def signed(port: int, service: str, operation: str, payload: dict) -> bytes:
    """A SigV4-signed json-1.1 request as raw HTTP/1.1 bytes."""
    host = f"{HOST}:{port}"
    body = json.dumps(payload, separators=(",", ":")).encode()
    request = AWSRequest("POST", f"http://{host}/", data=body, headers={
        "X-Amz-Target": f"{TARGETS[service]}.{operation}",
        "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(CREDENTIALS, service, REGION).add_auth(request)
    lines = ["POST / HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def workloads(server: ServerProcess) -> dict[str, bytes]:
    """Create a key and two parameters, then the requests each workload replays."""
    def client(service: str):
        return boto3.client(service, endpoint_url=server.endpoint, region_name=REGION,
                            aws_access_key_id=CREDENTIALS.access_key,
                            aws_secret_access_key=CREDENTIALS.secret_key)

    kms, ssm = client("kms"), client("ssm")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=PLAINTEXT)["CiphertextBlob"]
    ssm.put_parameter(Name="/bench/plain", Value="v" * 64, Type="String")
    ssm.put_parameter(Name="/bench/secure", Value="s" * 64, Type="SecureString")
    port = server.port
    return {
        "KMS Encrypt (256 B)": signed(port, "kms", "Encrypt", {
            "KeyId": key_id, "Plaintext": base64.b64encode(PLAINTEXT).decode()}),
        "KMS Decrypt (no KeyId)": signed(port, "kms", "Decrypt", {
            "CiphertextBlob": base64.b64encode(blob).decode()}),
        "SSM GetParameter (String)": signed(port, "ssm", "GetParameter",
                                            {"Name": "/bench/plain"}),
        "SSM GetParameter (SecureString, decrypted)": signed(port, "ssm", "GetParameter", {
            "Name": "/bench/secure", "WithDecryption": True}),
    }


def measure(server: ServerProcess, raw: bytes, seconds: float):
    async def step(conn: Connection) -> int:
        status, _ = await conn.call(raw)
        if status != 200:
            run_errors.append(status)
        return 1

    run_errors: list[int] = []
    run = drive(server.port, step, connections=CONNECTIONS[server.spec.name], limit=10**9,
                seconds=seconds, server_cpu=server.cpu_seconds)
    if run_errors or run.stats.errors:
        sys.exit(f"{server.spec.name}: {len(run_errors)} non-200 answers "
                 f"({run_errors[:3]}), {run.stats.errors} errors {run.stats.first_error}")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--servers", default="nubo,moto")
    args = parser.parse_args()
    results: dict[str, dict[str, object]] = {}
    for name in args.servers.split(","):
        with ServerProcess(SPECS[name]) as server:
            for workload, raw in workloads(server).items():
                run = measure(server, raw, args.seconds)
                results.setdefault(workload, {})[name] = run
                print(f"{name}: {workload}: {run.rate:,.0f}/s", file=sys.stderr)
    names = args.servers.split(",")
    header = " | ".join(f"{n} req/s | {n} p50 ms | {n} p99 ms | {n} CPU" for n in names)
    print(f"| workload | {header} |")
    print("|---|" + "---|" * 4 * len(names))
    for workload, runs in results.items():
        cells = " | ".join(f"{runs[n].rate:,.0f} | {runs[n].latency(0.5) * 1000:.1f} | "
                           f"{runs[n].latency(0.99) * 1000:.1f} | {runs[n].server_cpu:.0%}"
                           for n in names)
        print(f"| {workload} | {cells} |")


if __name__ == "__main__":
    main()
