"""Concurrent clients: optimistic locking lets exactly one of two writers win, atomic counters
lose no increment, and a transaction is never seen half-applied."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_config


@pytest.fixture
def clients(make_client):
    return [make_client("dynamodb", config=client_config()) for _ in range(8)]


def test_optimistic_locking_has_one_winner(ddb, table, clients):
    ddb.put_item(TableName=table, Item={"pk": {"S": "doc"}, "Version": {"N": "1"}})

    def bump(client) -> bool:
        try:
            client.update_item(TableName=table, Key={"pk": {"S": "doc"}},
                               UpdateExpression="SET Version = :next",
                               ConditionExpression="Version = :expected",
                               ExpressionAttributeValues={":expected": {"N": "1"},
                                                          ":next": {"N": "2"}})
            return True
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False

    with ThreadPoolExecutor(len(clients)) as pool:
        outcomes = list(pool.map(bump, clients))
    assert outcomes.count(True) == 1
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "doc"}}, ConsistentRead=True)["Item"]
    assert item["Version"] == {"N": "2"}


def test_atomic_counters_lose_nothing(ddb, table, clients):
    def add(client) -> None:
        for step in (1, 2):
            client.update_item(TableName=table, Key={"pk": {"S": "counter"}},
                               UpdateExpression="ADD hits :n",
                               ExpressionAttributeValues={":n": {"N": str(step)}})

    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(add, clients * 5))
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "counter"}})["Item"]
    assert item["hits"] == {"N": str(3 * len(clients) * 5)}


def test_transactions_are_never_seen_half_done(ddb, table, clients):
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "balance": {"N": "100"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "balance": {"N": "0"}})

    def transfer(client) -> None:
        for _ in range(5):
            client.transact_write_items(TransactItems=[
                {"Update": {"TableName": table, "Key": {"pk": {"S": "a"}},
                            "UpdateExpression": "SET balance = balance - :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                {"Update": {"TableName": table, "Key": {"pk": {"S": "b"}},
                            "UpdateExpression": "SET balance = balance + :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}}}}])

    def audit(client) -> list[int]:
        totals = []
        for _ in range(10):
            items = client.transact_get_items(TransactItems=[
                {"Get": {"TableName": table, "Key": {"pk": {"S": "a"}}}},
                {"Get": {"TableName": table, "Key": {"pk": {"S": "b"}}}}])["Responses"]
            totals.append(sum(int(i["Item"]["balance"]["N"]) for i in items))
        return totals

    with ThreadPoolExecutor(len(clients)) as pool:
        writers = [pool.submit(transfer, c) for c in clients[:4]]
        auditors = [pool.submit(audit, c) for c in clients[4:]]
        for future in writers:
            future.result()
        totals = [t for future in auditors for t in future.result()]
    assert set(totals) == {100}
    items = ddb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": "a"}},
                                                              {"pk": {"S": "b"}}]}})
    balances = {i["pk"]["S"]: i["balance"]["N"] for i in items["Responses"][table]}
    assert balances == {"a": "80", "b": "20"}
