"""Bad input of every SQS operation, in both wire protocols (json and query), gets SQS's 4xx
error, never a 500 or a dropped connection, and leaves the account's queues as they were."""

from __future__ import annotations

import pytest

from nubo.protocols import load_service_model
from nubo.protocols.models import protocol_view
from tests.fuzzing import Fuzzer, account_client, known_choice

ACCOUNT = "700000000001"
# Attribute values SQS refuses (or takes) for their content
ODD_ATTRIBUTES = [{"VisibilityTimeout": "43201"}, {"VisibilityTimeout": "-1"},
                  {"VisibilityTimeout": "1e3"}, {"DelaySeconds": "x"},
                  {"MaximumMessageSize": "99999999999999999999"}, {"Policy": "{"},
                  {"Policy": "[]"}, {"RedrivePolicy": "{\"maxReceiveCount\": \"x\"}"},
                  {"RedrivePolicy": "{\"deadLetterTargetArn\": 5}"}, {"RedriveAllowPolicy": "7"},
                  {"FifoQueue": "maybe"}, {"KmsMasterKeyId": ""}, {"NoSuchAttribute": "1"},
                  {"ContentBasedDeduplication": "true"}, {"SqsManagedSseEnabled": "TRUE"}]
ODD_MESSAGE_ATTRIBUTES = [{"a": {"DataType": "Number", "StringValue": "x"}},
                          {"a": {"DataType": "Number", "StringValue": "1e400"}},
                          {"a": {"DataType": "Binary"}}, {"a": {"DataType": "String"}},
                          {"a": {"DataType": "Custom.", "StringValue": "x"}},
                          {"": {"DataType": "String", "StringValue": "x"}},
                          {"a" * 300: {"DataType": "String", "StringValue": "x"}},
                          {"a": {"DataType": "String", "StringValue": "\x00\ud7ff"}},
                          {"a": {"DataType": "String.\u00e9", "StringValue": "x"}}]


@pytest.mark.parametrize("protocol", ["json", "query"])
def test_bad_input_gets_client_errors(nubo_server, make_client, protocol):
    sqs = account_client(make_client, "sqs", ACCOUNT)
    kept = sqs.create_queue(QueueName=f"kept-{protocol}",
                            Attributes={"VisibilityTimeout": "17"})["QueueUrl"]
    sqs.send_message(QueueUrl=kept, MessageBody="kept")
    target = sqs.create_queue(QueueName=f"target-{protocol}")["QueueUrl"]
    # the query protocol's wire names are those of the query view (botocore's model lost them)
    model = protocol_view(load_service_model("sqs"), "query") if protocol == "query" else None
    fuzzer = Fuzzer(nubo_server, "sqs", account=ACCOUNT, protocol=protocol, model=model,
                    known={"QueueUrl": target, "WaitTimeSeconds": 0,
                           "Attributes": known_choice(*ODD_ATTRIBUTES),
                           "MessageAttributes": known_choice(*ODD_MESSAGE_ATTRIBUTES),
                           "MessageBody": known_choice("\x00", "\ufffe", "x" * 262_145, "ok")})
    fuzzer.assert_answers(per_operation=10)
    assert sqs.get_queue_attributes(QueueUrl=kept, AttributeNames=["VisibilityTimeout"])[
        "Attributes"]["VisibilityTimeout"] == "17"
    messages = sqs.receive_message(QueueUrl=kept, WaitTimeSeconds=0)["Messages"]
    assert [m["Body"] for m in messages] == ["kept"]
