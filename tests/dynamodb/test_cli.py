"""The AWS CLI against nubo's DynamoDB: the study notes' demos (conditional updates,
projections, filters, --page-size, --max-items / --starting-token)."""

from __future__ import annotations

import base64
import json
import time

import pytest

from tests.dynamodb.conftest import unique


@pytest.fixture
def cli_table(aws_cli):
    name = unique("UserPosts")
    aws_cli("dynamodb", "create-table", "--table-name", name,
            "--attribute-definitions", "AttributeName=user_id,AttributeType=S",
            "AttributeName=post_ts,AttributeType=N",
            "--key-schema", "AttributeName=user_id,KeyType=HASH",
            "AttributeName=post_ts,KeyType=RANGE",
            "--provisioned-throughput", "ReadCapacityUnits=1,WriteCapacityUnits=1")
    aws_cli("dynamodb", "wait", "table-exists", "--table-name", name)
    for user, ts, content in (("john123", 1, "hello"), ("alice", 2, "hi"),
                              ("john123", 3, "again")):
        aws_cli("dynamodb", "put-item", "--table-name", name, "--item",
                json.dumps({"user_id": {"S": user}, "post_ts": {"N": str(ts)},
                            "content": {"S": content}, "extra": {"S": "x"}}))
    yield name
    aws_cli("dynamodb", "delete-table", "--table-name", name)


def test_scan_projection_and_filter(aws_cli, cli_table):
    projected = aws_cli("dynamodb", "scan", "--table-name", cli_table,
                        "--projection-expression", "user_id, content")
    assert projected["Count"] == 3
    assert all(set(item) == {"user_id", "content"} for item in projected["Items"])
    filtered = aws_cli("dynamodb", "scan", "--table-name", cli_table, "--filter-expression",
                       "user_id = :u", "--expression-attribute-values",
                       '{ ":u": {"S":"john123"}}')
    assert (filtered["Count"], filtered["ScannedCount"]) == (2, 3)


def test_page_size_gives_the_same_result(aws_cli, cli_table):
    whole = aws_cli("dynamodb", "scan", "--table-name", cli_table)
    paged = aws_cli("dynamodb", "scan", "--table-name", cli_table, "--page-size", "1")
    assert paged["Items"] == whole["Items"] and paged["Count"] == 3


def test_max_items_and_starting_token(aws_cli, cli_table):
    whole = aws_cli("dynamodb", "scan", "--table-name", cli_table)["Items"]
    first = aws_cli("dynamodb", "scan", "--table-name", cli_table, "--max-items", "1")
    assert first["Items"] == whole[:1]
    token = first["NextToken"]
    assert json.loads(base64.b64decode(token)) == {"ExclusiveStartKey": None,
                                                   "boto_truncate_amount": 1}
    second = aws_cli("dynamodb", "scan", "--table-name", cli_table, "--max-items", "1",
                     "--starting-token", token)
    assert second["Items"] == whole[1:2]
    rest = aws_cli("dynamodb", "scan", "--table-name", cli_table,
                   "--starting-token", second["NextToken"])
    assert rest["Items"] == whole[2:] and "NextToken" not in rest


def test_query_with_max_items(aws_cli, cli_table):
    page = aws_cli("dynamodb", "query", "--table-name", cli_table, "--key-condition-expression",
                   "user_id = :u", "--expression-attribute-values", '{":u": {"S": "john123"}}',
                   "--max-items", "1", "--no-scan-index-forward")
    assert [item["post_ts"]["N"] for item in page["Items"]] == ["3"]
    rest = aws_cli("dynamodb", "query", "--table-name", cli_table, "--key-condition-expression",
                   "user_id = :u", "--expression-attribute-values", '{":u": {"S": "john123"}}',
                   "--starting-token", page["NextToken"], "--no-scan-index-forward")
    assert [item["post_ts"]["N"] for item in rest["Items"]] == ["1"]


def test_conditional_update_demo(aws_cli, tmp_path):
    name = unique("ProductCatalog")
    aws_cli("dynamodb", "create-table", "--table-name", name, "--attribute-definitions",
            "AttributeName=Id,AttributeType=N", "--key-schema", "AttributeName=Id,KeyType=HASH",
            "--billing-mode", "PAY_PER_REQUEST")
    try:
        aws_cli("dynamodb", "put-item", "--table-name", name, "--item",
                '{"Id": {"N": "456"}, "Price": {"N": "650"}, "ProductCategory": {"S": "Bike"}}')
        values = tmp_path / "values.json"
        values.write_text('{":discount":{"N":"150"},":limit":{"N":"500"}}')
        command = ["dynamodb", "update-item", "--table-name", name, "--key",
                   '{"Id": {"N": "456"}}', "--update-expression", "SET Price = Price - :discount",
                   "--condition-expression", "Price > :limit", "--expression-attribute-values",
                   f"file://{values}", "--return-values", "ALL_NEW"]
        assert aws_cli(*command)["Attributes"]["Price"] == {"N": "500"}
        failed = aws_cli(*command, check=False)
        assert failed.returncode != 0
        assert "ConditionalCheckFailedException" in failed.stderr
        assert "The conditional request failed" in failed.stderr
        # attribute names are case-sensitive: "price" does not exist, so this succeeds
        aws_cli("dynamodb", "update-item", "--table-name", name, "--key", '{"Id": {"N": "456"}}',
                "--condition-expression", "attribute_not_exists(price)")
        refused = aws_cli("dynamodb", "delete-item", "--table-name", name, "--key",
                          '{"Id": {"N": "456"}}', "--condition-expression",
                          "(ProductCategory IN (:cat1, :cat2)) and (Price between :lo and :hi)",
                          "--expression-attribute-values",
                          '{":cat1": {"S": "Sporting Goods"}, ":cat2": {"S": "Gardening"}, '
                          '":lo": {"N": "500"}, ":hi": {"N": "600"}}', check=False)
        assert "ConditionalCheckFailedException" in refused.stderr
    finally:
        aws_cli("dynamodb", "delete-table", "--table-name", name)


@pytest.fixture
def catalog(aws_cli):
    """The notes' ProductCatalog item 456 with nested maps and a string set."""
    name = unique("ProductCatalog")
    aws_cli("dynamodb", "create-table", "--table-name", name, "--attribute-definitions",
            "AttributeName=Id,AttributeType=N", "--key-schema", "AttributeName=Id,KeyType=HASH",
            "--billing-mode", "PAY_PER_REQUEST")
    aws_cli("dynamodb", "put-item", "--table-name", name, "--item", json.dumps({
        "Id": {"N": "456"}, "Price": {"N": "650"}, "ProductCategory": {"S": "Bicycle"},
        "Color": {"SS": ["Red", "Black"]},
        "Pictures": {"M": {"FrontView": {"S": "http://example.com/products/456_front.jpg"}}},
        "ProductReviews": {"M": {"FiveStar": {"SS": ["Excellent!"]}}}}))
    yield name
    aws_cli("dynamodb", "delete-table", "--table-name", name)


def test_conditions_on_nested_paths_and_sets(aws_cli, catalog):
    def delete_if(condition: str, values: dict | None = None):
        args = ["dynamodb", "delete-item", "--table-name", catalog, "--key",
                '{"Id": {"N": "456"}}', "--condition-expression", condition,
                "--return-values", "ALL_OLD"]
        if values is not None:
            args += ["--expression-attribute-values", json.dumps(values)]
        return aws_cli(*args, check=False)

    refused = delete_if("attribute_exists(ProductReviews.OneStar)")  # T-D3: no one-star map
    assert refused.returncode != 0 and "ConditionalCheckFailedException" in refused.stderr
    refused = delete_if("begins_with(Pictures.FrontView, :v_sub)",
                        {":v_sub": {"S": "https://"}})
    assert "ConditionalCheckFailedException" in refused.stderr
    refused = delete_if("contains(Color, :v_sub)", {":v_sub": {"S": "Blue"}})
    assert "ConditionalCheckFailedException" in refused.stderr
    # the true forms: T-D5 begins_with on a nested string, T-D6 contains on a string set
    aws_cli("dynamodb", "update-item", "--table-name", catalog, "--key", '{"Id": {"N": "456"}}',
            "--condition-expression", "begins_with(Pictures.FrontView, :v_sub) and "
            "attribute_exists(ProductReviews.FiveStar)",
            "--expression-attribute-values", '{":v_sub": {"S": "http://"}}')
    deleted = delete_if("contains(Color, :v_sub)", {":v_sub": {"S": "Red"}})
    assert deleted.returncode == 0, deleted.stderr
    assert sorted(json.loads(deleted.stdout)["Attributes"]["Color"]["SS"]) == ["Black", "Red"]
    assert aws_cli("dynamodb", "get-item", "--table-name", catalog, "--key",
                   '{"Id": {"N": "456"}}') is None  # nothing printed: no Item


def test_optimistic_locking_one_of_two_updates_wins(aws_cli, catalog):
    aws_cli("dynamodb", "update-item", "--table-name", catalog, "--key", '{"Id": {"N": "456"}}',
            "--update-expression", "SET Version = :one",
            "--expression-attribute-values", '{":one": {"N": "1"}}')
    command = ["dynamodb", "update-item", "--table-name", catalog, "--key",
               '{"Id": {"N": "456"}}', "--update-expression", "SET Price = :p, Version = :next",
               "--condition-expression", "Version = :expected", "--expression-attribute-values"]
    first = aws_cli(*command, '{":p": {"N": "600"}, ":next": {"N": "2"}, ":expected": {"N": "1"}}',
                    check=False)
    second = aws_cli(*command, '{":p": {"N": "550"}, ":next": {"N": "2"}, '
                     '":expected": {"N": "1"}}', check=False)
    assert (first.returncode, second.returncode != 0) == (0, True)
    assert "ConditionalCheckFailedException" in second.stderr
    item = aws_cli("dynamodb", "get-item", "--table-name", catalog, "--key",
                   '{"Id": {"N": "456"}}', "--consistent-read")["Item"]
    assert (item["Price"], item["Version"]) == ({"N": "600"}, {"N": "2"})


def test_scan_max_items_two_and_page_size_calls(aws_cli, cli_table):
    page = aws_cli("dynamodb", "scan", "--table-name", cli_table, "--max-items", "2")
    # the CLI truncates Items client-side; Count stays the page's (the notes' "count is 3")
    assert (page["Count"], len(page["Items"])) == (3, 2) and "NextToken" in page
    rest = aws_cli("dynamodb", "scan", "--table-name", cli_table, "--starting-token",
                   page["NextToken"])
    assert len(rest["Items"]) == 1 and "NextToken" not in rest
    single = aws_cli("dynamodb", "scan", "--table-name", cli_table, "--page-size", "1",
                     "--max-items", "1", "--projection-expression", "content")
    assert len(single["Items"]) == 1 and set(single["Items"][0]) == {"content"}


def test_indexes_demo_lsi_then_gsi_added_later(aws_cli, ddb):
    name = unique("GameScores")
    aws_cli("dynamodb", "create-table", "--table-name", name, "--attribute-definitions",
            "AttributeName=user_id,AttributeType=S", "AttributeName=game_ts,AttributeType=S",
            "AttributeName=game_id,AttributeType=S", "--key-schema",
            "AttributeName=user_id,KeyType=HASH", "AttributeName=game_ts,KeyType=RANGE",
            "--provisioned-throughput", "ReadCapacityUnits=1,WriteCapacityUnits=1",
            "--local-secondary-indexes", json.dumps([{
                "IndexName": "by_game", "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"},
                              {"AttributeName": "game_id", "KeyType": "RANGE"}]}]))
    try:
        for user, ts, game in (("u1", "2021-01-01", "g2"), ("u1", "2021-01-02", "g1"),
                               ("u2", "2021-01-03", "g1")):
            aws_cli("dynamodb", "put-item", "--table-name", name, "--item", json.dumps({
                "user_id": {"S": user}, "game_ts": {"S": ts}, "game_id": {"S": game}}))
        by_game = aws_cli("dynamodb", "query", "--table-name", name, "--index-name", "by_game",
                          "--key-condition-expression", "user_id = :u",
                          "--expression-attribute-values", '{":u": {"S": "u1"}}')
        assert [i["game_id"]["S"] for i in by_game["Items"]] == ["g1", "g2"]
        updated = aws_cli("dynamodb", "update-table", "--table-name", name,
                          "--attribute-definitions", "AttributeName=game_id,AttributeType=S",
                          "AttributeName=game_ts,AttributeType=S",
                          "--global-secondary-index-updates", json.dumps([{"Create": {
                              "IndexName": "game_id-game_ts-index",
                              "KeySchema": [{"AttributeName": "game_id", "KeyType": "HASH"},
                                            {"AttributeName": "game_ts", "KeyType": "RANGE"}],
                              "Projection": {"ProjectionType": "ALL"},
                              "ProvisionedThroughput": {"ReadCapacityUnits": 1,
                                                        "WriteCapacityUnits": 1}}}]))
        assert updated["TableDescription"]["TableStatus"] == "UPDATING"
        for _ in range(200):  # the backfill runs in the background
            index = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"][0]
            if index["IndexStatus"] == "ACTIVE":
                break
            time.sleep(0.02)
        assert index["IndexStatus"] == "ACTIVE"
        players = aws_cli("dynamodb", "query", "--table-name", name, "--index-name",
                          "game_id-game_ts-index", "--key-condition-expression",
                          "game_id = :g", "--expression-attribute-values",
                          '{":g": {"S": "g1"}}')
        assert [i["user_id"]["S"] for i in players["Items"]] == ["u1", "u2"]
    finally:
        aws_cli("dynamodb", "delete-table", "--table-name", name)


def test_ttl_transactions_and_capacity_demos(aws_cli, tmp_path):
    accounts, transactions = unique("AccountBalance"), unique("BankTransactions")
    for name in (accounts, transactions):
        aws_cli("dynamodb", "create-table", "--table-name", name, "--attribute-definitions",
                "AttributeName=Id,AttributeType=S", "--key-schema",
                "AttributeName=Id,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
    try:
        ttl = aws_cli("dynamodb", "update-time-to-live", "--table-name", accounts,
                      "--time-to-live-specification", "Enabled=true,AttributeName=Expireson")
        assert ttl["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "Expireson"}
        described = aws_cli("dynamodb", "describe-time-to-live", "--table-name", accounts)
        assert described["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
        aws_cli("dynamodb", "put-item", "--table-name", accounts, "--item",
                '{"Id": {"S": "acct-1"}, "Balance": {"N": "100"}}')
        items = tmp_path / "transact.json"

        def transfer(amount: int) -> list:
            return [
                {"Update": {"TableName": accounts, "Key": {"Id": {"S": "acct-1"}},
                            "UpdateExpression": "SET Balance = Balance - :a",
                            "ConditionExpression": "Balance >= :a",
                            "ExpressionAttributeValues": {":a": {"N": str(amount)}}}},
                {"Put": {"TableName": transactions,
                         "Item": {"Id": {"S": f"tx-{amount}"}, "Amount": {"N": str(amount)}}}}]
        items.write_text(json.dumps(transfer(60)))
        done = aws_cli("dynamodb", "transact-write-items", "--transact-items",
                       f"file://{items}", "--return-consumed-capacity", "TOTAL")
        assert sorted(c["CapacityUnits"] for c in done["ConsumedCapacity"]) == [2.0, 2.0]
        items.write_text(json.dumps(transfer(60)))  # 40 left: the condition fails
        refused = aws_cli("dynamodb", "transact-write-items", "--transact-items",
                          f"file://{items}", check=False)
        assert "TransactionCanceledException" in refused.stderr
        assert "[ConditionalCheckFailed, None]" in refused.stderr
        left = aws_cli("dynamodb", "get-item", "--table-name", accounts, "--key",
                       '{"Id": {"S": "acct-1"}}', "--return-consumed-capacity", "TOTAL")
        assert left["Item"]["Balance"] == {"N": "40"}
        assert left["ConsumedCapacity"]["CapacityUnits"] == 0.5  # eventually consistent
        assert aws_cli("dynamodb", "scan", "--table-name", transactions)["Count"] == 1
        big = aws_cli("dynamodb", "put-item", "--table-name", transactions, "--item",
                      json.dumps({"Id": {"S": "b"}, "v": {"S": "x" * (4500 - 3)}}),
                      "--return-consumed-capacity", "TOTAL")
        assert big["ConsumedCapacity"]["CapacityUnits"] == 5.0  # 4.5 KB rounds up to 5 WCU
    finally:
        for name in (accounts, transactions):
            aws_cli("dynamodb", "delete-table", "--table-name", name)
