"""DynamoDB test helpers on top of the shared fixtures (tests/conftest.py): clients, tables
with unique names (deleted afterwards), error assertions."""

from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of  # noqa: F401  (re-exported for the test modules)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def ddb(make_client):
    return make_client("dynamodb")


@pytest.fixture(scope="session")
def ddb_resource(nubo_server, boto_session):
    from tests.conftest import client_config
    return boto_session.resource("dynamodb", endpoint_url=nubo_server.endpoint,
                                 config=client_config())


def key_schema(hash_key: tuple[str, str], range_key: tuple[str, str] | None = None) -> dict:
    keys = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    definitions = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
    if range_key is not None:
        keys.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        definitions.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
    return {"KeySchema": keys, "AttributeDefinitions": definitions}


@pytest.fixture
def make_table(ddb):
    """make_table(hash=("pk", "S"), range=None, **create_table_kwargs) -> table name."""
    created = []

    def make(hash_key=("pk", "S"), range_key=None, name=None, **kwargs) -> str:
        name = name or unique()
        params = key_schema(hash_key, range_key)
        extra_definitions = kwargs.pop("AttributeDefinitions", [])
        params["AttributeDefinitions"] += extra_definitions
        kwargs.setdefault("BillingMode", "PAY_PER_REQUEST")
        ddb.create_table(TableName=name, **params, **kwargs)
        created.append(name)
        return name

    yield make
    for name in created:
        try:
            ddb.delete_table(TableName=name)
        except ClientError:
            pass


@pytest.fixture
def table(make_table):
    """A PAY_PER_REQUEST table with pk (S) only."""
    return make_table()


@pytest.fixture
def sorted_table(make_table):
    """A table with pk (S) and sk (N)."""
    return make_table(range_key=("sk", "N"))


def validation_error(excinfo) -> str:
    code, message, status = error_of(excinfo)
    assert (code, status) == ("ValidationException", 400), (code, message)
    return message


def wait_active(ddb, name: str, timeout: float = 30.0) -> dict:
    """The table's description once ACTIVE (restores and imports fill it in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        table = ddb.describe_table(TableName=name)["Table"]
        if table["TableStatus"] == "ACTIVE" or time.monotonic() > deadline:
            return table
        time.sleep(0.02)
