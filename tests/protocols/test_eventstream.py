"""Event-stream outputs of real service models, written by nubo and read back by botocore's own
event-stream parser (what boto3 users iterate over)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botocore.eventstream import EventStream, EventStreamError
from botocore.parsers import create_parser

from nubo.core.errors import ServiceError
from nubo.protocols import load_service_model, serialize_response
from tests.protocols.helpers import RawStream, to_botocore_response


def read_back(service: str, operation_name: str, output: dict) -> tuple[dict, dict]:
    model = load_service_model(service)
    operation = model.operation_model(operation_name)
    protocol = model.metadata["protocol"]
    response = serialize_response(operation, output, protocol, "request-id")
    raw = to_botocore_response(response)
    raw["body"] = RawStream(raw["body"])
    raw["context"] = {"operation_name": operation_name}
    parsed = create_parser(protocol).parse(raw, operation.output_shape)
    parsed.pop("ResponseMetadata", None)
    return response.headers, parsed


def events_of(parsed: dict, member: str) -> list:
    stream = parsed[member]
    assert isinstance(stream, EventStream)
    return list(stream)


def test_s3_select_events_rest_xml():
    events = [{"Records": {"Payload": b"a,b\n"}},
              {"Stats": {"Details": {"BytesScanned": 10, "BytesProcessed": 10,
                                     "BytesReturned": 4}}},
              {"Cont": {}}, {"End": {}}]
    headers, parsed = read_back("s3", "SelectObjectContent", {"Payload": iter(events)})
    assert headers["Content-Type"] == "application/vnd.amazon.eventstream"
    assert events_of(parsed, "Payload") == events


def test_lambda_response_stream_rest_json():
    events = [{"PayloadChunk": {"Payload": b"part one "}},
              {"PayloadChunk": {"Payload": b"part two"}},
              {"InvokeComplete": {"LogResult": "bG9ncw=="}}]
    _, parsed = read_back("lambda", "InvokeWithResponseStream",
                          {"StatusCode": 200, "ExecutedVersion": "$LATEST",
                           "EventStream": events})
    assert parsed["StatusCode"] == 200 and parsed["ExecutedVersion"] == "$LATEST"
    assert events_of(parsed, "EventStream") == events


def test_kinesis_subscription_json_with_initial_response():
    arrival = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    events = [{"SubscribeToShardEvent": {
        "Records": [{"SequenceNumber": "1", "ApproximateArrivalTimestamp": arrival,
                     "Data": b"hello", "PartitionKey": "p"}],
        "ContinuationSequenceNumber": "1", "MillisBehindLatest": 0}}]
    _, parsed = read_back("kinesis", "SubscribeToShard", {"EventStream": events})
    assert events_of(parsed, "EventStream") == events


def test_error_while_streaming_ends_the_stream_with_an_error_message():
    def failing():
        yield {"Records": {"Payload": b"first"}}
        raise ServiceError("InternalError", "stream broke", 500)

    _, parsed = read_back("s3", "SelectObjectContent", {"Payload": failing()})
    stream = iter(parsed["Payload"])
    assert next(stream) == {"Records": {"Payload": b"first"}}
    with pytest.raises(EventStreamError) as caught:
        next(stream)
    assert caught.value.response["Error"] == {"Code": "InternalError", "Message": "stream broke"}


def test_modeled_exception_event():
    events = [{"ResourceNotFoundException": {"message": "no such shard"}}]
    _, parsed = read_back("kinesis", "SubscribeToShard", {"EventStream": events})
    with pytest.raises(EventStreamError) as caught:
        list(parsed["EventStream"])
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
