"""The protocol engine's hot path, timed: SQS SendMessage parsed, validated and its response
serialized, over json and query, and a DynamoDB Scan response of 10,000 items of ten
attributes serialized (no server, no store).

    python3 -m tests.protocols.bench_engine
"""

from __future__ import annotations

import json
import time
import timeit

from nubo.core.http import HttpRequest
from nubo.protocols import detect_protocol, load_service_model, parse_request, serialize_response

QUEUE_URL = "http://sqs.us-east-1.localhost:4566/000000000000/jobs"
OUTPUT = {"MessageId": "5fea7756-0ea4-451a-a703-a558b933e274",
          "MD5OfMessageBody": "5eb63bbbe01eeed093cb22bb8f5acdc3",
          "MD5OfMessageAttributes": "3ae8f24a165a8cedc005670c81a27295"}
REQUESTS = {
    "json": HttpRequest("POST", "/", "", {
        "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.SendMessage"},
        json.dumps({"QueueUrl": QUEUE_URL, "MessageBody": "hello world", "DelaySeconds": 0,
                    "MessageAttributes": {"color": {"DataType": "String",
                                                    "StringValue": "blue"}}}).encode()),
    "query": HttpRequest("POST", "/", "", {"content-type": "application/x-www-form-urlencoded"},
                         ("Action=SendMessage&Version=2012-11-05&QueueUrl=" + QUEUE_URL.replace(
                             ":", "%3A").replace("/", "%2F") + "&MessageBody=hello+world"
                          "&DelaySeconds=0&MessageAttribute.1.Name=color"
                          "&MessageAttribute.1.Value.DataType=String"
                          "&MessageAttribute.1.Value.StringValue=blue").encode()),
}


def round_trip(model, request: HttpRequest) -> None:
    protocol = detect_protocol(model, request)
    operation, _ = parse_request(model, request, protocol)
    serialize_response(operation, OUTPUT, protocol, "request-id")


def scan_item(number: int) -> dict:
    return {"pk": {"S": f"user#{number % 100}"}, "sk": {"N": str(number)},
            "name": {"S": f"name {number}"}, "email": {"S": f"u{number}@example.com"},
            "age": {"N": str(20 + number % 50)}, "active": {"BOOL": number % 2 == 0},
            "score": {"N": "12.5"}, "tags": {"SS": ["a", "b", "c"]},
            "blob": {"B": b"\x00\x01binary"},
            "address": {"M": {"city": {"S": "Paris"}, "zip": {"N": "75001"}}}}


def bench_scan_output() -> None:
    operation = load_service_model("dynamodb").operation_model("Scan")
    output = {"Items": [scan_item(n) for n in range(10_000)], "Count": 10_000,
              "ScannedCount": 10_000}
    best = min(timeit.repeat(lambda: serialize_response(operation, output, "json", "r"),
                             number=1, repeat=7, timer=time.process_time))
    print(f"Scan output of 10,000 items: {best * 1e3:6.1f} ms to serialize")


def main() -> None:
    bench_scan_output()
    model = load_service_model("sqs")
    for name, request in REQUESTS.items():
        round_trip(model, request)  # plans compiled once, as on a running server
        # CPU time of this process: other processes sharing the cores do not count
        best = min(timeit.repeat(lambda: round_trip(model, request), number=20_000, repeat=7,
                                 timer=time.process_time))
        print(f"SendMessage {name:5}: {best / 20_000 * 1e6:6.2f} µs per parse+validate+serialize")


if __name__ == "__main__":
    main()
