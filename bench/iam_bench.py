"""The cost of IAM enforcement: raw SendMessage throughput of nubo as users run it by default
(IAM off), with ``--iam enforce``, and with ``--iam enforce --verify-signatures``; every request
is signed by an IAM user whose identity policy allows it.

    python bench/iam_bench.py [--seconds 10] [--rounds 3]

Target (issue 5): enforcement costs at most 15% of SendMessage throughput. The servers run
alternately, several rounds, and the best round of each is compared, so that noise from the
shared machine does not pass for a cost.
"""

from __future__ import annotations

import argparse
import json
import sys

import boto3
from botocore.credentials import Credentials

from raw_client import REGION, Connection, Signer, drive
from servers import NUBO, NUBO_IAM, NUBO_IAM_SIGV4, ServerProcess

BODY = "x" * 128
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
     "Resource": "arn:aws:sqs:*:000000000000:bench-*"},
    {"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "*"}]}


def prepare(server: ServerProcess) -> tuple[str, Credentials]:
    """A queue, and the credentials of a user allowed to send to it."""
    def client(service: str, key: str = "test", secret: str = "test"):
        return boto3.client(service, endpoint_url=server.endpoint, region_name=REGION,
                            aws_access_key_id=key, aws_secret_access_key=secret)

    url = client("sqs").create_queue(QueueName="bench-iam")["QueueUrl"]
    iam = client("iam")
    iam.create_user(UserName="bench")
    iam.put_user_policy(UserName="bench", PolicyName="send", PolicyDocument=json.dumps(POLICY))
    key = iam.create_access_key(UserName="bench")["AccessKey"]
    credentials = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    check = client("sqs", key["AccessKeyId"], key["SecretAccessKey"])
    check.send_message(QueueUrl=url, MessageBody="authorized")
    return url, credentials


def measure(server: ServerProcess, url: str, credentials: Credentials, seconds: float) -> float:
    raw = Signer(server.port, credentials).sqs("SendMessage", {"QueueUrl": url,
                                                               "MessageBody": BODY})

    async def step(conn: Connection) -> int:
        status, _ = await conn.call(raw)
        return int(status == 200)

    run = drive(server.port, step, connections=32, limit=10**9, seconds=seconds)
    if run.stats.errors:
        sys.exit(f"{server.spec.name}: {run.stats.errors} errors, first: {run.stats.first_error}")
    return run.rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    best: dict[str, float] = {}
    specs = (NUBO, NUBO_IAM, NUBO_IAM_SIGV4)
    servers = [ServerProcess(spec) for spec in specs]
    try:
        targets = []
        for server in servers:
            server.start()
            targets.append((server, *prepare(server)))
        for round_number in range(args.rounds):
            for server, url, credentials in targets:
                rate = measure(server, url, credentials, args.seconds)
                name = server.spec.name
                print(f"round {round_number + 1}: {name}: {rate:,.0f} SendMessage/s",
                      file=sys.stderr)
                best[name] = max(best.get(name, 0.0), rate)
    finally:
        for server in servers:
            server.stop()
    labels = {"nubo": "IAM off", "nubo-iam": "--iam enforce",
              "nubo-iam-sigv4": "--iam enforce --verify-signatures"}
    print("| nubo | SendMessage/s (raw HTTP, 32 connections) | cost | target ≤ 15% |")
    print("|---|---|---|---|")
    for name, label in labels.items():
        cost = 1 - best[name] / best["nubo"]
        verdict = "" if name == "nubo" else "pass" if cost <= 0.15 else "FAIL"
        print(f"| {label} | {best[name]:,.0f} | {cost:.1%} | {verdict} |")


if __name__ == "__main__":
    main()
