"""The AWS CLI against nubo's DynamoDB: the study notes' demos (conditional updates,
projections, filters, --page-size, --max-items / --starting-token)."""

from __future__ import annotations

import base64
import json

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
