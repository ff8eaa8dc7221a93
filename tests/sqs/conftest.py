"""SQS test helpers on top of the shared fixtures (tests/conftest.py): both wire protocols,
unique queue names, error assertions."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import REGION, SECRET_KEY


@pytest.fixture(params=["json", "query"])
def client(request):
    """The SQS client of each wire protocol (core flows run over both)."""
    return request.getfixturevalue("sqs" if request.param == "json" else "sqs_query")


def unique(prefix: str = "q") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_queue(sqs):
    """make_queue(fifo=False, client=sqs, **attributes) -> queue URL (deleted afterwards)."""
    created = []

    def make(fifo: bool = False, client=None, name: str | None = None, **attributes) -> str:
        name = name or unique() + (".fifo" if fifo else "")
        if fifo:
            attributes.setdefault("FifoQueue", "true")
        used = client or sqs
        url = used.create_queue(QueueName=name, Attributes={k: str(v) for k, v in
                                                            attributes.items()})["QueueUrl"]
        created.append((used, url))
        return url

    yield make
    for used, url in created:
        try:
            used.delete_queue(QueueUrl=url)
        except ClientError:
            pass


def error_of(excinfo) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a ClientError raised in a pytest.raises block."""
    error = excinfo.value.response
    return (error["Error"]["Code"], error["Error"].get("Message", ""),
            error["ResponseMetadata"]["HTTPStatusCode"])


def attributes_of(client, url: str, *names: str) -> dict[str, str]:
    return client.get_queue_attributes(QueueUrl=url,
                                       AttributeNames=list(names) or ["All"])["Attributes"]


def receive(client, url: str, **kwargs) -> list[dict]:
    kwargs.setdefault("MaxNumberOfMessages", 10)
    return client.receive_message(QueueUrl=url, **kwargs).get("Messages", [])


@pytest.fixture
def other_account_sqs(make_client):
    """An SQS client of another account (a 12-digit access key names the account)."""
    session = boto3.Session(aws_access_key_id="111111111111", aws_secret_access_key=SECRET_KEY,
                            region_name=REGION)
    return make_client("sqs", session=session)
