"""Dead-letter queues, redrive policies and message move tasks."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.sqs.conftest import attributes_of, error_of, receive


def arn_of(client, url: str) -> str:
    return attributes_of(client, url, "QueueArn")["QueueArn"]


def redrive(dlq_arn: str, count: int = 2) -> str:
    return json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": count})


def test_messages_move_to_dead_letter_queue(client, make_queue):
    dlq = make_queue(client=client)
    source = make_queue(client=client, VisibilityTimeout=0,
                        RedrivePolicy=redrive(arn_of(client, dlq), 2))
    client.send_message(QueueUrl=source, MessageBody="poison")
    assert len(receive(client, source)) == 1
    assert len(receive(client, source)) == 1
    assert receive(client, source) == []  # the third receive exceeds maxReceiveCount
    [moved] = receive(client, dlq, AttributeNames=["All"])
    assert moved["Body"] == "poison"
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == arn_of(client, source)
    assert json.loads(attributes_of(client, source, "RedrivePolicy")["RedrivePolicy"]) == {
        "deadLetterTargetArn": arn_of(client, dlq), "maxReceiveCount": 2}


def test_fifo_dead_letter_queue(sqs, make_queue):
    dlq = make_queue(fifo=True)
    source = make_queue(fifo=True, ContentBasedDeduplication="true", VisibilityTimeout=0,
                        RedrivePolicy=redrive(arn_of(sqs, dlq), 1))
    sqs.send_message(QueueUrl=source, MessageBody="first", MessageGroupId="g")
    sqs.send_message(QueueUrl=source, MessageBody="second", MessageGroupId="g")
    assert [m["Body"] for m in receive(sqs, source, MaxNumberOfMessages=1)] == ["first"]
    # "first" goes to the DLQ, "second" is the group's new head
    assert [m["Body"] for m in receive(sqs, source, MaxNumberOfMessages=1)] == ["second"]
    [moved] = receive(sqs, dlq, AttributeNames=["MessageGroupId"])
    assert moved["Body"] == "first" and moved["Attributes"]["MessageGroupId"] == "g"


def test_redrive_policy_validation(sqs, make_queue):
    dlq_arn = arn_of(sqs, make_queue())
    fifo_arn = arn_of(sqs, make_queue(fifo=True))
    missing = dlq_arn + "-missing"
    cases = [
        (json.dumps({"maxReceiveCount": 1}), "Redrive policy does not contain mandatory "
                                             "attribute: deadLetterTargetArn."),
        (json.dumps({"deadLetterTargetArn": dlq_arn}), "Redrive policy does not contain "
                                                       "mandatory attribute: maxReceiveCount."),
        (redrive(dlq_arn, 0), "Invalid value for maxReceiveCount: 0, valid values are from 1 to "
                              "1000 both inclusive."),
        (redrive(dlq_arn, 1001), "Invalid value for maxReceiveCount: 1001, valid values are from "
                                 "1 to 1000 both inclusive."),
        (redrive(missing), "Dead letter target does not exist."),
        (redrive(fifo_arn), "Dead-letter queue must be same type of queue as the source."),
    ]
    url = make_queue()
    for policy, reason in cases:
        with pytest.raises(ClientError) as raised:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy})
        assert error_of(raised)[:2] == (
            "InvalidParameterValue",
            f"Value {policy} for parameter RedrivePolicy is invalid. Reason: {reason}")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": redrive(dlq_arn)})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ""})
    assert "RedrivePolicy" not in attributes_of(sqs, url)


def test_redrive_allow_policy_is_enforced(sqs, make_queue):
    allowed_source = make_queue()
    allowed_arn = arn_of(sqs, allowed_source)
    dlq = make_queue(RedriveAllowPolicy=json.dumps({"redrivePermission": "byQueue",
                                                    "sourceQueueArns": [allowed_arn]}))
    sqs.set_queue_attributes(QueueUrl=allowed_source,
                             Attributes={"RedrivePolicy": redrive(arn_of(sqs, dlq))})
    with pytest.raises(ClientError) as raised:
        make_queue(RedrivePolicy=redrive(arn_of(sqs, dlq)))
    assert error_of(raised)[0] == "InvalidParameterValue"
    closed = make_queue(RedriveAllowPolicy=json.dumps({"redrivePermission": "denyAll"}))
    with pytest.raises(ClientError):
        make_queue(RedrivePolicy=redrive(arn_of(sqs, closed)))
    for bad in ('{"redrivePermission": "sometimes"}', '{"redrivePermission": "byQueue"}',
                json.dumps({"redrivePermission": "byQueue",
                            "sourceQueueArns": [allowed_arn] * 11}),
                json.dumps({"redrivePermission": "allowAll", "sourceQueueArns": [allowed_arn]})):
        with pytest.raises(ClientError) as raised:
            sqs.set_queue_attributes(QueueUrl=dlq, Attributes={"RedriveAllowPolicy": bad})
        assert error_of(raised)[0] == "InvalidAttributeValue"


def test_list_dead_letter_source_queues(client, make_queue):
    dlq = make_queue(client=client)
    sources = sorted(make_queue(client=client, RedrivePolicy=redrive(arn_of(client, dlq)))
                     for _ in range(3))
    listed = client.list_dead_letter_source_queues(QueueUrl=dlq)
    assert sorted(listed["queueUrls"]) == sources
    first = client.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2)
    second = client.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=2,
                                                   NextToken=first["NextToken"])
    assert sorted(first["queueUrls"] + second["queueUrls"]) == sources
    assert "NextToken" not in second
    # (an empty list: [] over json, absent over query)
    assert client.list_dead_letter_source_queues(QueueUrl=sources[0]).get("queueUrls", []) == []


def wait_for_task(sqs, dlq_arn, status="COMPLETED", timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        [task] = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
        if task["Status"] == status or time.monotonic() > deadline:
            return task
        time.sleep(0.05)


def fill_dead_letter_queue(sqs, make_queue, count):
    dlq = make_queue()
    source = make_queue(VisibilityTimeout=0, RedrivePolicy=redrive(arn_of(sqs, dlq), 1))
    for i in range(count):
        sqs.send_message(QueueUrl=source, MessageBody=f"m{i}")
    while receive(sqs, source):
        pass
    assert attributes_of(sqs, dlq, "ApproximateNumberOfMessages") == {
        "ApproximateNumberOfMessages": str(count)}
    return source, dlq


def test_move_task_redrives_to_original_source(sqs, make_queue):
    source, dlq = fill_dead_letter_queue(sqs, make_queue, 5)
    dlq_arn = arn_of(sqs, dlq)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    task = wait_for_task(sqs, dlq_arn)
    assert task["Status"] == "COMPLETED"
    assert task["ApproximateNumberOfMessagesMoved"] == 5
    assert task["ApproximateNumberOfMessagesToMove"] == 5
    assert task["SourceArn"] == dlq_arn and "TaskHandle" not in task
    assert attributes_of(sqs, source, "ApproximateNumberOfMessages") == {
        "ApproximateNumberOfMessages": "5"}
    assert attributes_of(sqs, dlq, "ApproximateNumberOfMessages") == {
        "ApproximateNumberOfMessages": "0"}


def test_move_task_to_destination_with_rate_and_cancel(sqs, make_queue, nubo_server):
    _, dlq = fill_dead_letter_queue(sqs, make_queue, 6)
    destination = make_queue()
    dlq_arn = arn_of(sqs, dlq)
    handle = sqs.start_message_move_task(SourceArn=dlq_arn,
                                         DestinationArn=arn_of(sqs, destination),
                                         MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    with pytest.raises(ClientError) as raised:
        sqs.start_message_move_task(SourceArn=dlq_arn)
    assert error_of(raised)[:2] == ("InvalidParameterValue", "There is already a task running. "
                                    "Only one active task is allowed for a source queue arn at a "
                                    "given time.")
    running = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
    assert running["Status"] == "RUNNING" and running["TaskHandle"] == handle
    assert running["MaxNumberOfMessagesPerSecond"] == 1
    nubo_server.advance_clock(3)  # three seconds at one message per second
    time.sleep(0.3)
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert 3 <= moved < 6
    task = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
    assert task["Status"] == "CANCELLED"
    assert attributes_of(sqs, destination, "ApproximateNumberOfMessages") == {
        "ApproximateNumberOfMessages": str(moved)}
    assert len(sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]) == 1


def test_move_task_errors(sqs, make_queue):
    plain = arn_of(sqs, make_queue())
    with pytest.raises(ClientError) as raised:
        sqs.start_message_move_task(SourceArn=plain)
    assert error_of(raised)[:2] == ("InvalidParameterValue",
                                    "Source queue must be configured as a Dead Letter Queue.")
    with pytest.raises(ClientError) as raised:
        sqs.start_message_move_task(SourceArn=plain + "-missing")
    assert error_of(raised)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        sqs.cancel_message_move_task(TaskHandle="not-a-handle")
    assert error_of(raised)[0] == "InvalidParameterValue"
    assert sqs.list_message_move_tasks(SourceArn=plain)["Results"] == []
