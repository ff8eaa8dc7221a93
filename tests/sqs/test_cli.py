"""The AWS CLI against nubo's SQS."""

from __future__ import annotations

import pytest

from tests.sqs.conftest import unique


@pytest.fixture
def sqs_cli(aws_cli, nubo_server):
    """aws sqs ...: AWS CLI v1 ignores AWS_ENDPOINT_URL for SQS (its own endpoint
    customization), so the endpoint is passed explicitly."""
    return lambda *args, **kwargs: aws_cli("sqs", *args, "--endpoint-url",
                                           nubo_server.endpoint, **kwargs)


def test_cli_queue_and_message_round_trip(sqs_cli):
    name = unique("cli")
    url = sqs_cli("create-queue", "--queue-name", name,
                  "--attributes", "VisibilityTimeout=40")["QueueUrl"]
    assert url.endswith(f"/000000000000/{name}")
    attributes = sqs_cli("get-queue-attributes", "--queue-url", url,
                         "--attribute-names", "All")["Attributes"]
    assert attributes["VisibilityTimeout"] == "40"
    sent = sqs_cli("send-message", "--queue-url", url, "--message-body", "from the cli",
                   "--message-attributes",
                   '{"kind": {"DataType": "String", "StringValue": "test"}}')
    assert sent["MD5OfMessageBody"] == "adc1c5502a75b5c1afdc54d0d67abd6f"
    received = sqs_cli("receive-message", "--queue-url", url,
                       "--message-attribute-names", "All", "--attribute-names", "All")
    [message] = received["Messages"]
    assert message["Body"] == "from the cli"
    assert message["MessageAttributes"]["kind"]["StringValue"] == "test"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    sqs_cli("delete-message", "--queue-url", url, "--receipt-handle",
            message["ReceiptHandle"])
    assert name in "".join(sqs_cli("list-queues", "--queue-name-prefix", name)["QueueUrls"])
    sqs_cli("delete-queue", "--queue-url", url)


def test_cli_error_is_reported(sqs_cli):
    result = sqs_cli("get-queue-url", "--queue-name", unique("missing"), check=False)
    assert result.returncode != 0
    assert "does not exist" in result.stderr
