"""Bad input of every SQS operation, in both wire protocols (json and query), gets SQS's 4xx
error, never a 500 or a dropped connection, and leaves the account's queues as they were."""

from __future__ import annotations

import pytest

from nubo.protocols import load_service_model
from nubo.protocols.models import protocol_view
from tests.fuzzing import Fuzzer, account_client

ACCOUNT = "700000000001"


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
                    known={"QueueUrl": target, "WaitTimeSeconds": 0})
    fuzzer.assert_answers(per_operation=10)
    assert sqs.get_queue_attributes(QueueUrl=kept, AttributeNames=["VisibilityTimeout"])[
        "Attributes"]["VisibilityTimeout"] == "17"
    messages = sqs.receive_message(QueueUrl=kept, WaitTimeSeconds=0)["Messages"]
    assert [m["Body"] for m in messages] == ["kept"]
