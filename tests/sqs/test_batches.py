"""SendMessageBatch, DeleteMessageBatch, ChangeMessageVisibilityBatch."""

from __future__ import annotations

import hashlib

import pytest
from botocore.exceptions import ClientError

from tests.sqs.conftest import attributes_of, error_of, receive


def test_send_batch_with_partial_failure(client, make_queue):
    url = make_queue(client=client)
    result = client.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok-1", "MessageBody": "one"},
        {"Id": "bad_2", "MessageBody": "bad \x00"},
        {"Id": "ok-3", "MessageBody": "three", "DelaySeconds": 0,
         "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
    ])
    assert [entry["Id"] for entry in result["Successful"]] == ["ok-1", "ok-3"]
    assert result["Successful"][0]["MD5OfMessageBody"] == hashlib.md5(b"one").hexdigest()
    assert "MD5OfMessageAttributes" in result["Successful"][1]
    [failed] = result["Failed"]
    assert failed["Id"] == "bad_2" and failed["SenderFault"] is True
    assert failed["Code"] == "InvalidMessageContents"
    assert failed["Message"].startswith("Invalid characters found.")
    assert sorted(m["Body"] for m in receive(client, url)) == ["one", "three"]


def test_delete_and_change_visibility_batches(client, make_queue):
    url = make_queue(client=client)
    client.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
    messages = receive(client, url)
    assert len(messages) == 3
    changed = client.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": messages[0]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "b", "ReceiptHandle": "garbage", "VisibilityTimeout": 0}])
    assert [e["Id"] for e in changed["Successful"]] == ["a"]
    assert changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    deleted = client.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages[1:])
    ] + [{"Id": "bad", "ReceiptHandle": "garbage"}])
    assert sorted(e["Id"] for e in deleted["Successful"]) == ["d0", "d1"]
    assert deleted["Failed"] == [{"Id": "bad", "SenderFault": True,
                                  "Code": "ReceiptHandleIsInvalid",
                                  "Message": 'The input receipt handle "garbage" is not a valid '
                                             'receipt handle.'}]
    assert attributes_of(client, url, "ApproximateNumberOfMessages") == {
        "ApproximateNumberOfMessages": "1"}


def test_fifo_batch(sqs, make_queue):
    url = make_queue(fifo=True, ContentBasedDeduplication="true")
    result = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "1", "MessageGroupId": "g"},
        {"Id": "b", "MessageBody": "2", "MessageGroupId": "g"},
        {"Id": "c", "MessageBody": "3"}])
    assert [e["Id"] for e in result["Successful"]] == ["a", "b"]
    assert int(result["Successful"][0]["SequenceNumber"]) < \
        int(result["Successful"][1]["SequenceNumber"])
    assert result["Failed"][0]["Code"] == "MissingParameter"
    assert [m["Body"] for m in receive(sqs, url)] == ["1", "2"]


@pytest.mark.parametrize("operation", ["send", "delete", "visibility"])
def test_batch_request_errors(client, make_queue, operation):
    url = make_queue(client=client)

    def entry(entry_id):
        if operation == "send":
            return {"Id": entry_id, "MessageBody": "x"}
        if operation == "delete":
            return {"Id": entry_id, "ReceiptHandle": "h"}
        return {"Id": entry_id, "ReceiptHandle": "h", "VisibilityTimeout": 1}

    call = {"send": client.send_message_batch, "delete": client.delete_message_batch,
            "visibility": client.change_message_visibility_batch}[operation]
    cases = [
        ([entry(str(i)) for i in range(11)], "TooManyEntriesInBatchRequest",
         "Maximum number of entries per request are 10. You have sent 11."),
        ([entry("same"), entry("same")], "BatchEntryIdsNotDistinct", "Id same repeated."),
        ([entry("bad id!")], "InvalidBatchEntryId", "A batch entry id can only contain "
         "alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."),
        ([entry("x" * 81)], "InvalidBatchEntryId", None),
        ([], "EmptyBatchRequest", None),
    ]
    for entries, code, message in cases:
        with pytest.raises(ClientError) as raised:
            call(QueueUrl=url, Entries=entries)
        got_code, got_message, status = error_of(raised)
        assert got_code in (code, f"AWS.SimpleQueueService.{code}") and status == 400
        if message:
            assert got_message == message


def test_batch_request_too_long(sqs, make_queue):
    url = make_queue()
    with pytest.raises(ClientError) as raised:
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "x" * 600_000}, {"Id": "b", "MessageBody": "y" * 600_000}])
    code, message, _ = error_of(raised)
    assert code in ("BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong")
    assert message == ("Batch requests cannot be longer than 1048576 bytes. You have sent "
                       "1200000 bytes.")
