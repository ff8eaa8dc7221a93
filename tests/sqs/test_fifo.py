"""FIFO queues: groups, ordering, locking, deduplication, receive attempts, receipt expiry."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.sqs.conftest import attributes_of, error_of, receive


def send(client, url, body, group="g", **kwargs):
    return client.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group, **kwargs)


def test_order_within_group_and_group_lock(client, make_queue):
    url = make_queue(fifo=True, client=client, ContentBasedDeduplication="true")
    sent = [send(client, url, f"a{i}", "A") for i in range(3)] + [send(client, url, "b0", "B")]
    numbers = [int(s["SequenceNumber"]) for s in sent]
    assert numbers == sorted(numbers) and all(len(s["SequenceNumber"]) >= 20 for s in sent)
    first = receive(client, url, MaxNumberOfMessages=2, AttributeNames=["All"])
    assert [m["Body"] for m in first] == ["a0", "a1"]
    assert first[0]["Attributes"]["MessageGroupId"] == "A"
    assert first[0]["Attributes"]["SequenceNumber"] == sent[0]["SequenceNumber"]
    assert first[0]["Attributes"]["MessageDeduplicationId"]
    # group A is locked while a0/a1 are in flight: only B is available
    assert [m["Body"] for m in receive(client, url)] == ["b0"]
    assert receive(client, url) == []
    client.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert receive(client, url) == []  # a1 still in flight
    client.delete_message(QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"])
    assert [m["Body"] for m in receive(client, url)] == ["a2"]


def test_visibility_expiry_redelivers_group_head_in_order(sqs, make_queue, nubo_server):
    url = make_queue(fifo=True, ContentBasedDeduplication="true", VisibilityTimeout=10)
    for body in ("one", "two"):
        send(sqs, url, body)
    [first] = receive(sqs, url, MaxNumberOfMessages=1)
    assert first["Body"] == "one"
    nubo_server.advance_clock(11)
    [again] = receive(sqs, url, MaxNumberOfMessages=1, AttributeNames=["ApproximateReceiveCount"])
    assert again["Body"] == "one" and again["Attributes"]["ApproximateReceiveCount"] == "2"
    # the expired handle can no longer delete on a FIFO queue
    with pytest.raises(ClientError) as raised:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert error_of(raised) == ("InvalidParameterValue", f"Value {first['ReceiptHandle']} for "
                                "parameter ReceiptHandle is invalid. Reason: The receipt handle "
                                "has expired.", 400)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    assert [m["Body"] for m in receive(sqs, url)] == ["two"]


def test_change_visibility_to_zero_unlocks_group(sqs, make_queue):
    url = make_queue(fifo=True, ContentBasedDeduplication="true")
    send(sqs, url, "head")
    [message] = receive(sqs, url)
    assert receive(sqs, url) == []
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                  VisibilityTimeout=0)
    assert [m["Body"] for m in receive(sqs, url)] == ["head"]


def test_deduplication_by_id_and_content(client, make_queue, nubo_server):
    url = make_queue(fifo=True, client=client)
    first = send(client, url, "body", MessageDeduplicationId="d1")
    duplicate = send(client, url, "other body", MessageDeduplicationId="d1")
    assert duplicate["MessageId"] == first["MessageId"]
    assert duplicate["SequenceNumber"] == first["SequenceNumber"]
    assert attributes_of(client, url, "ApproximateNumberOfMessages") == {
        "ApproximateNumberOfMessages": "1"}
    nubo_server.advance_clock(301)  # the 5-minute deduplication interval is over
    assert send(client, url, "body", MessageDeduplicationId="d1")["MessageId"] != \
        first["MessageId"]

    content = make_queue(fifo=True, client=client, ContentBasedDeduplication="true")
    a = send(client, content, "same")
    assert send(client, content, "same", "other-group")["MessageId"] == a["MessageId"]
    assert send(client, content, "different")["MessageId"] != a["MessageId"]
    # an explicit id overrides the content hash
    assert send(client, content, "same", MessageDeduplicationId="x")["MessageId"] != \
        a["MessageId"]
    [message] = receive(client, content, MaxNumberOfMessages=1,
                        MessageSystemAttributeNames=["MessageDeduplicationId"])
    assert message["Attributes"]["MessageDeduplicationId"] == \
        "0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5"


def test_deduplication_scope_message_group(sqs, make_queue):
    url = make_queue(fifo=True, DeduplicationScope="messageGroup",
                     FifoThroughputLimit="perMessageGroupId")
    a = send(sqs, url, "x", "g1", MessageDeduplicationId="same")
    b = send(sqs, url, "x", "g2", MessageDeduplicationId="same")
    assert a["MessageId"] != b["MessageId"]
    assert send(sqs, url, "x", "g1", MessageDeduplicationId="same")["MessageId"] == a["MessageId"]


def test_fifo_send_errors(client, make_queue):
    url = make_queue(fifo=True, client=client)
    with pytest.raises(ClientError) as raised:
        client.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert error_of(raised)[:2] == ("MissingParameter",
                                    "The request must contain the parameter MessageGroupId.")
    with pytest.raises(ClientError) as raised:
        send(client, url, "x")
    assert error_of(raised)[:2] == ("InvalidParameterValue", "The queue should either have "
                                    "ContentBasedDeduplication enabled or MessageDeduplicationId "
                                    "provided explicitly")
    with pytest.raises(ClientError) as raised:
        send(client, url, "x", MessageDeduplicationId="d", DelaySeconds=5)
    assert error_of(raised)[:2] == ("InvalidParameterValue", "Value 5 for parameter DelaySeconds "
                                    "is invalid. Reason: The request include parameter that is "
                                    "not valid for this queue type.")
    with pytest.raises(ClientError) as raised:
        send(client, url, "x", "bad group ✗", MessageDeduplicationId="d")
    assert error_of(raised)[0] == "InvalidParameterValue"


def test_fifo_delay_queue_keeps_order(sqs, make_queue, nubo_server):
    url = make_queue(fifo=True, ContentBasedDeduplication="true", DelaySeconds=30)
    send(sqs, url, "first")
    send(sqs, url, "second")
    assert receive(sqs, url) == []
    assert attributes_of(sqs, url, "ApproximateNumberOfMessagesDelayed") == {
        "ApproximateNumberOfMessagesDelayed": "2"}
    nubo_server.advance_clock(31)
    assert [m["Body"] for m in receive(sqs, url)] == ["first", "second"]


def test_receive_request_attempt_id_returns_same_messages(sqs, make_queue):
    url = make_queue(fifo=True, ContentBasedDeduplication="true")
    for body in ("a", "b", "c"):
        send(sqs, url, body)
    first = receive(sqs, url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")
    retried = receive(sqs, url, MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")
    assert [(m["Body"], m["ReceiptHandle"]) for m in retried] == \
        [(m["Body"], m["ReceiptHandle"]) for m in first]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    # a message of the attempt was deleted: the id no longer replays
    assert receive(sqs, url, ReceiveRequestAttemptId="attempt-1") == []


def test_many_groups_are_received_in_parallel(sqs, make_queue):
    url = make_queue(fifo=True, ContentBasedDeduplication="true")
    for group in range(12):
        for i in range(2):
            send(sqs, url, f"{group}-{i}", f"group-{group}")
    bodies = [m["Body"] for m in receive(sqs, url)] + [m["Body"] for m in receive(sqs, url)]
    # the head of a group is always delivered before the rest of it
    for group in range(12):
        if f"{group}-1" in bodies:
            assert bodies.index(f"{group}-0") < bodies.index(f"{group}-1")
    assert len(bodies) == 20
