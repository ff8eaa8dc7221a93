"""SQS state across a restart of the same data directory."""

from __future__ import annotations

from tests.conftest import ACCESS_KEY, SECRET_KEY, NuboProcess, connector


def client_of(server: NuboProcess):
    return connector(server)("sqs", ACCESS_KEY, SECRET_KEY)


def test_queues_messages_and_fifo_order_survive_kill_9(tmp_path):
    server = NuboProcess(tmp_path).start()
    try:
        sqs = client_of(server)
        fifo = sqs.create_queue(QueueName="orders.fifo", Attributes={
            "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
        before = sqs.send_message(QueueUrl=fifo, MessageBody="before", MessageGroupId="g")
        standard = sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "600"})[
            "QueueUrl"]
        sqs.send_message(QueueUrl=standard, MessageBody="in flight")
        [in_flight] = sqs.receive_message(QueueUrl=standard)["Messages"]
        server.kill()

        server.start()
        sqs = client_of(server)
        after = sqs.send_message(QueueUrl=fifo, MessageBody="after", MessageGroupId="g")
        assert int(after["SequenceNumber"]) > int(before["SequenceNumber"])
        # content-based deduplication remembers what was sent before the restart
        assert sqs.send_message(QueueUrl=fifo, MessageBody="before", MessageGroupId="g")[
            "MessageId"] == before["MessageId"]
        bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10)[
            "Messages"]]
        assert bodies == ["before", "after"]
        # the received message is still in flight, and its handle still deletes it
        assert "Messages" not in sqs.receive_message(QueueUrl=standard)
        assert sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=["All"])[
            "Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
        sqs.delete_message(QueueUrl=standard, ReceiptHandle=in_flight["ReceiptHandle"])
        assert sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=["All"])[
            "Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0"
    finally:
        server.stop()
