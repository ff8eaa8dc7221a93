"""The AWS CLI against nubo's SQS."""

from __future__ import annotations

from tests.sqs.conftest import unique


def test_cli_queue_and_message_round_trip(aws_cli):
    name = unique("cli")
    url = aws_cli("sqs", "create-queue", "--queue-name", name,
                  "--attributes", "VisibilityTimeout=40")["QueueUrl"]
    assert url.endswith(f"/000000000000/{name}")
    attributes = aws_cli("sqs", "get-queue-attributes", "--queue-url", url,
                         "--attribute-names", "All")["Attributes"]
    assert attributes["VisibilityTimeout"] == "40"
    sent = aws_cli("sqs", "send-message", "--queue-url", url, "--message-body", "from the cli",
                   "--message-attributes",
                   '{"kind": {"DataType": "String", "StringValue": "test"}}')
    assert sent["MD5OfMessageBody"] == "adc1c5502a75b5c1afdc54d0d67abd6f"
    received = aws_cli("sqs", "receive-message", "--queue-url", url,
                       "--message-attribute-names", "All", "--attribute-names", "All")
    [message] = received["Messages"]
    assert message["Body"] == "from the cli"
    assert message["MessageAttributes"]["kind"]["StringValue"] == "test"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    aws_cli("sqs", "delete-message", "--queue-url", url, "--receipt-handle",
            message["ReceiptHandle"])
    assert name in "".join(aws_cli("sqs", "list-queues", "--queue-name-prefix", name)["QueueUrls"])
    aws_cli("sqs", "delete-queue", "--queue-url", url)


def test_cli_error_is_reported(aws_cli):
    result = aws_cli("sqs", "get-queue-url", "--queue-name", unique("missing"), check=False)
    assert result.returncode != 0
    assert "does not exist" in result.stderr
