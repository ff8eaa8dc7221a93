"""Standard-queue messages: send, receive, delete, visibility, delays, attributes, checksums,
validation, long polling, retention and purge."""

from __future__ import annotations

import hashlib
import struct
import threading
import time

import pytest
from botocore.exceptions import ClientError

from tests.sqs.conftest import attributes_of, error_of, receive


def documented_md5(attributes: dict) -> str:
    """The MD5OfMessageAttributes algorithm of the SQS Developer Guide, written from the docs."""
    def prefixed(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data
    buffer = b""
    for name in sorted(attributes):
        value = attributes[name]
        buffer += prefixed(name.encode()) + prefixed(value["DataType"].encode())
        if "BinaryValue" in value:
            buffer += b"\x02" + prefixed(value["BinaryValue"])
        else:
            buffer += b"\x01" + prefixed(value["StringValue"].encode())
    return hashlib.md5(buffer).hexdigest()


ATTRIBUTES = {
    "city": {"DataType": "String", "StringValue": "Zürich"},
    "count": {"DataType": "Number", "StringValue": "42"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    "custom.thing": {"DataType": "String.custom", "StringValue": "v"},
}


def test_send_receive_delete(client, make_queue):
    url = make_queue(client=client)
    sent = client.send_message(QueueUrl=url, MessageBody="hello ✓", MessageAttributes=ATTRIBUTES)
    assert sent["MD5OfMessageBody"] == hashlib.md5("hello ✓".encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == documented_md5(ATTRIBUTES)
    assert "SequenceNumber" not in sent
    [message] = receive(client, url, MessageAttributeNames=["All"],
                        MessageSystemAttributeNames=["All"])
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == "hello ✓"
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MessageAttributes"] == {
        name: {k: v for k, v in value.items()} for name, value in ATTRIBUTES.items()}
    assert message["MD5OfMessageAttributes"] == documented_md5(ATTRIBUTES)
    system = message["Attributes"]
    assert system["ApproximateReceiveCount"] == "1"
    assert system["SenderId"] == "000000000000"
    assert int(system["ApproximateFirstReceiveTimestamp"]) >= int(system["SentTimestamp"])
    assert attributes_of(client, url, "ApproximateNumberOfMessages",
                         "ApproximateNumberOfMessagesNotVisible") == {
        "ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "1"}
    client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    # deleting again with the same handle still succeeds on a standard queue
    client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert attributes_of(client, url, "ApproximateNumberOfMessagesNotVisible") == {
        "ApproximateNumberOfMessagesNotVisible": "0"}
    assert receive(client, url) == []


def test_message_attribute_selection(sqs, make_queue):
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=ATTRIBUTES)
    cases = [(["city"], {"city"}), (["custom.*"], {"custom.thing"}), ([".*"], set(ATTRIBUTES)),
             (["nothing"], set())]
    for names, expected in cases:
        [message] = receive(sqs, url, MessageAttributeNames=names, VisibilityTimeout=0)
        assert set(message.get("MessageAttributes", {})) == expected
        if expected:
            selected = {k: ATTRIBUTES[k] for k in expected}
            assert message["MD5OfMessageAttributes"] == documented_md5(selected)
        else:
            assert "MD5OfMessageAttributes" not in message
    [message] = receive(sqs, url, AttributeNames=["SentTimestamp"], VisibilityTimeout=0)
    assert set(message["Attributes"]) == {"SentTimestamp"}
    [message] = receive(sqs, url, VisibilityTimeout=0)
    assert "Attributes" not in message and "MessageAttributes" not in message


def test_system_attribute_trace_header(client, make_queue):
    url = make_queue(client=client)
    trace = {"AWSTraceHeader": {"DataType": "String",
                                "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}}
    sent = client.send_message(QueueUrl=url, MessageBody="x", MessageSystemAttributes=trace)
    assert sent["MD5OfMessageSystemAttributes"] == documented_md5(trace)
    [message] = receive(client, url, MessageSystemAttributeNames=["AWSTraceHeader"])
    assert message["Attributes"] == {"AWSTraceHeader": trace["AWSTraceHeader"]["StringValue"]}


def test_receive_count_and_visibility_timeout(sqs, make_queue, nubo_server):
    url = make_queue(VisibilityTimeout=5)
    sqs.send_message(QueueUrl=url, MessageBody="again")
    [first] = receive(sqs, url, AttributeNames=["All"])
    assert receive(sqs, url) == []
    nubo_server.advance_clock(6)
    [second] = receive(sqs, url, AttributeNames=["All"], VisibilityTimeout=100)
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert second["Attributes"]["ApproximateFirstReceiveTimestamp"] == \
        first["Attributes"]["ApproximateFirstReceiveTimestamp"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    nubo_server.advance_clock(50)
    assert receive(sqs, url) == []  # per-receive timeout of 100 s
    # an older handle still deletes on a standard queue
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert attributes_of(sqs, url, "ApproximateNumberOfMessagesNotVisible") == {
        "ApproximateNumberOfMessagesNotVisible": "0"}


def test_change_message_visibility(client, make_queue, nubo_server):
    url = make_queue(client=client)
    client.send_message(QueueUrl=url, MessageBody="m")
    [message] = receive(client, url)
    handle = message["ReceiptHandle"]
    client.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    [again] = receive(client, url, VisibilityTimeout=10)
    with pytest.raises(ClientError) as raised:  # the first handle is stale now
        client.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=5)
    assert error_of(raised) == ("InvalidParameterValue", f"Value {handle} for parameter "
                                "ReceiptHandle is invalid. Reason: Message does not exist or is "
                                "not available for visibility timeout change.", 400)
    client.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"],
                                     VisibilityTimeout=43_000)
    nubo_server.advance_clock(300)
    with pytest.raises(ClientError) as raised:  # 12 hours in total from the receive
        client.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"],
                                         VisibilityTimeout=43_000)
    assert error_of(raised)[:2] == ("InvalidParameterValue", "Value 43000 for parameter "
                                    "VisibilityTimeout is invalid. Reason: Total "
                                    "VisibilityTimeout for the message is beyond the limit "
                                    "[43200 seconds]")
    with pytest.raises(ClientError) as raised:
        client.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"],
                                         VisibilityTimeout=43_201)
    assert error_of(raised)[0] == "InvalidParameterValue"
    client.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"],
                                     VisibilityTimeout=0)
    with pytest.raises(ClientError) as raised:
        client.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"],
                                         VisibilityTimeout=10)
    assert error_of(raised)[0] in ("MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight")


@pytest.mark.parametrize("handle", ["garbage", "bm90OmEgaGFuZGxl"])
def test_invalid_receipt_handles(client, make_queue, handle):
    url = make_queue(client=client)
    for call in (lambda: client.delete_message(QueueUrl=url, ReceiptHandle=handle),
                 lambda: client.change_message_visibility(QueueUrl=url, ReceiptHandle=handle,
                                                          VisibilityTimeout=1)):
        with pytest.raises(ClientError) as raised:
            call()
        code, message, _ = error_of(raised)
        assert code == "ReceiptHandleIsInvalid"
        assert message == f'The input receipt handle "{handle}" is not a valid receipt handle.'


def test_receipt_handle_of_another_queue_is_invalid(sqs, make_queue):
    first, second = make_queue(), make_queue()
    sqs.send_message(QueueUrl=first, MessageBody="m")
    [message] = receive(sqs, first)
    with pytest.raises(ClientError) as raised:
        sqs.delete_message(QueueUrl=second, ReceiptHandle=message["ReceiptHandle"])
    assert error_of(raised)[0] == "ReceiptHandleIsInvalid"


def test_delay_queue_and_per_message_delay(client, make_queue, nubo_server):
    url = make_queue(client=client, DelaySeconds=10)
    client.send_message(QueueUrl=url, MessageBody="queue delay")
    client.send_message(QueueUrl=url, MessageBody="no delay", DelaySeconds=0)
    client.send_message(QueueUrl=url, MessageBody="long delay", DelaySeconds=100)
    assert attributes_of(client, url, "ApproximateNumberOfMessagesDelayed",
                         "ApproximateNumberOfMessages") == {
        "ApproximateNumberOfMessagesDelayed": "2", "ApproximateNumberOfMessages": "1"}
    assert [m["Body"] for m in receive(client, url, VisibilityTimeout=1000)] == ["no delay"]
    nubo_server.advance_clock(11)
    assert [m["Body"] for m in receive(client, url, VisibilityTimeout=1000)] == ["queue delay"]
    nubo_server.advance_clock(90)
    assert [m["Body"] for m in receive(client, url, VisibilityTimeout=1000)] == ["long delay"]
    with pytest.raises(ClientError) as raised:
        client.send_message(QueueUrl=url, MessageBody="x", DelaySeconds=901)
    assert error_of(raised)[:2] == ("InvalidParameterValue", "Value 901 for parameter "
                                    "DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 "
                                    "and <= 900.")


@pytest.mark.parametrize("body", ["bad \x00 char", "bad \ufffe char", "bad \x1b char"])
def test_invalid_message_contents(client, make_queue, body):
    url = make_queue(client=client)
    with pytest.raises(ClientError) as raised:
        client.send_message(QueueUrl=url, MessageBody=body)
    code, message, status = error_of(raised)
    assert code in ("InvalidMessageContents", "InvalidMessageContents")
    assert message.startswith("Invalid characters found.")
    assert status == 400


def test_valid_unusual_characters_round_trip(sqs, make_queue):
    url = make_queue()
    body = "tab\tnewline\ncr\r emoji 😀 private \ue000 end"
    sqs.send_message(QueueUrl=url, MessageBody=body)
    assert receive(sqs, url)[0]["Body"] == body


def test_message_size_limits(sqs, make_queue):
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1_048_576)
    assert len(receive(sqs, url)[0]["Body"]) == 1_048_576
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1_048_577)
    assert error_of(raised)[:2] == ("InvalidParameterValue", "One or more parameters are "
                                    "invalid. Reason: Message must be shorter than 1048576 bytes.")
    small = make_queue(MaximumMessageSize=1024)
    sqs.send_message(QueueUrl=small, MessageBody="x" * 1000)
    with pytest.raises(ClientError):  # attributes count toward the size
        sqs.send_message(QueueUrl=small, MessageBody="x" * 1000, MessageAttributes={
            "attribute": {"DataType": "String", "StringValue": "y" * 20}})


@pytest.mark.parametrize("attributes", [
    {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)},
    {"AWS.reserved": {"DataType": "String", "StringValue": "v"}},
    {".dot": {"DataType": "String", "StringValue": "v"}},
    {"bad name": {"DataType": "String", "StringValue": "v"}},
    {"n": {"DataType": "Number", "StringValue": "forty"}},
    {"t": {"DataType": "Integer", "StringValue": "1"}},
    {"s": {"DataType": "String", "StringValue": ""}},
])
def test_invalid_message_attributes(sqs, make_queue, attributes):
    url = make_queue()
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attributes)
    assert error_of(raised)[0] == "InvalidParameterValue"


def test_receive_parameter_validation(client, make_queue):
    url = make_queue(client=client)
    cases = [({"MaxNumberOfMessages": 11}, "Value 11 for parameter MaxNumberOfMessages is "
              "invalid. Reason: Must be between 1 and 10, if provided."),
             ({"MaxNumberOfMessages": 0}, "Value 0 for parameter MaxNumberOfMessages is invalid. "
              "Reason: Must be between 1 and 10, if provided."),
             ({"WaitTimeSeconds": 21}, "Value 21 for parameter WaitTimeSeconds is invalid. "
              "Reason: Must be >= 0 and <= 20, if provided.")]
    for kwargs, message in cases:
        with pytest.raises(ClientError) as raised:
            client.receive_message(QueueUrl=url, **kwargs)
        assert error_of(raised) == ("InvalidParameterValue", message, 400)


def test_send_to_missing_queue(client):
    url = client.meta.endpoint_url + "/000000000000/does-not-exist-anywhere"
    with pytest.raises(ClientError) as raised:
        client.send_message(QueueUrl=url, MessageBody="x")
    code, message, status = error_of(raised)
    assert code in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
    assert status == 400


def test_long_poll_wakes_on_send(sqs, make_queue, make_client):
    url = make_queue()
    producer = make_client("sqs")

    def send_later():
        time.sleep(0.5)
        producer.send_message(QueueUrl=url, MessageBody="woke")

    threading.Thread(target=send_later).start()
    started = time.monotonic()
    messages = receive(sqs, url, WaitTimeSeconds=10)
    elapsed = time.monotonic() - started
    assert [m["Body"] for m in messages] == ["woke"]
    assert 0.4 < elapsed < 3


def test_long_poll_does_not_block_other_requests(sqs, make_queue, make_client):
    url, other = make_queue(), make_queue()
    results = {}

    def poll():
        results["messages"] = receive(make_client("sqs"), url, WaitTimeSeconds=2)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.2)
    started = time.monotonic()
    sqs.send_message(QueueUrl=other, MessageBody="independent")
    assert time.monotonic() - started < 0.5
    poller.join()
    assert results["messages"] == []


def test_long_poll_wakes_when_in_flight_message_becomes_visible(sqs, make_queue):
    # the longest retention: other tests move the shared server's clock by days meanwhile
    url = make_queue(VisibilityTimeout=1, MessageRetentionPeriod=1209600)
    sqs.send_message(QueueUrl=url, MessageBody="comes back")
    assert len(receive(sqs, url)) == 1
    started = time.monotonic()
    messages = receive(sqs, url, WaitTimeSeconds=10)
    assert [m["Body"] for m in messages] == ["comes back"]
    assert time.monotonic() - started < 8  # woke when visible, not at the end of the wait


def test_queue_default_wait_time(sqs, make_queue):
    url = make_queue(ReceiveMessageWaitTimeSeconds=1)
    started = time.monotonic()
    assert receive(sqs, url) == []
    assert 0.8 < time.monotonic() - started < 3


def test_retention_expires_messages(client, make_queue, nubo_server):
    url = make_queue(client=client, MessageRetentionPeriod=60)
    client.send_message(QueueUrl=url, MessageBody="old")
    nubo_server.advance_clock(30)
    client.send_message(QueueUrl=url, MessageBody="young")
    nubo_server.advance_clock(31)
    assert attributes_of(client, url, "ApproximateNumberOfMessages") == {
        "ApproximateNumberOfMessages": "1"}
    assert [m["Body"] for m in receive(client, url)] == ["young"]


def test_purge_queue_and_its_60_second_rule(client, make_queue, nubo_server):
    url = make_queue(client=client)
    for i in range(3):
        client.send_message(QueueUrl=url, MessageBody=str(i))
    client.purge_queue(QueueUrl=url)
    assert attributes_of(client, url, "ApproximateNumberOfMessages") == {
        "ApproximateNumberOfMessages": "0"}
    assert receive(client, url) == []
    with pytest.raises(ClientError) as raised:
        client.purge_queue(QueueUrl=url)
    code, message, _ = error_of(raised)
    assert code in ("AWS.SimpleQueueService.PurgeQueueInProgress", "PurgeQueueInProgress")
    assert message == (f"Only one PurgeQueue operation on {url.rsplit('/', 1)[1]} is allowed "
                       "every 60 seconds.")
    nubo_server.advance_clock(61)
    client.purge_queue(QueueUrl=url)


def test_empty_body_is_rejected(sqs, make_queue):
    url = make_queue()
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="")
    assert error_of(raised)[:2] == ("MissingParameter",
                                    "The request must contain the parameter MessageBody.")


def test_deduplication_id_is_rejected_on_standard_queues(sqs, make_queue):
    url = make_queue()
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert error_of(raised)[0] == "InvalidParameterValue"
    # a group id on a standard queue enables fair queues and is returned
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="tenant-1")
    [message] = receive(sqs, url, MessageSystemAttributeNames=["MessageGroupId"])
    assert message["Attributes"] == {"MessageGroupId": "tenant-1"}
