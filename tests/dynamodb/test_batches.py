"""BatchGetItem, BatchWriteItem, TransactWriteItems and TransactGetItems."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import error_of, validation_error


def test_batch_write_and_get_across_tables(ddb, table, sorted_table):
    ddb.batch_write_item(RequestItems={
        table: [{"PutRequest": {"Item": {"pk": {"S": f"k{i}"}, "v": {"N": str(i)}}}}
                for i in range(10)],
        sorted_table: [{"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"N": "1"}}}}],
    })
    response = ddb.batch_get_item(RequestItems={
        table: {"Keys": [{"pk": {"S": "k1"}}, {"pk": {"S": "k7"}}, {"pk": {"S": "none"}}],
                "ProjectionExpression": "v"},
        sorted_table: {"Keys": [{"pk": {"S": "p"}, "sk": {"N": "1"}}], "ConsistentRead": True},
    }, ReturnConsumedCapacity="TOTAL")
    assert sorted(i["v"]["N"] for i in response["Responses"][table]) == ["1", "7"]
    assert response["Responses"][sorted_table] == [{"pk": {"S": "p"}, "sk": {"N": "1"}}]
    assert response["UnprocessedKeys"] == {}
    capacity = {c["TableName"]: c["CapacityUnits"] for c in response["ConsumedCapacity"]}
    assert capacity == {table: 1.5, sorted_table: 1.0}
    written = ddb.batch_write_item(RequestItems={table: [
        {"DeleteRequest": {"Key": {"pk": {"S": f"k{i}"}}}} for i in range(10)]})
    assert written["UnprocessedItems"] == {}
    assert ddb.scan(TableName=table)["Count"] == 0


def test_batch_limits_and_duplicates(ddb, table, make_table):
    other = make_table()
    with pytest.raises(ClientError) as excinfo:
        ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {"pk": {"S": "a"}}}},
            {"DeleteRequest": {"Key": {"pk": {"S": "a"}}}}]})
    assert validation_error(excinfo) == "Provided list of item keys contains duplicates"
    with pytest.raises(ClientError) as excinfo:
        ddb.batch_get_item(RequestItems={
            table: {"Keys": [{"pk": {"S": str(i)}} for i in range(60)]},
            other: {"Keys": [{"pk": {"S": str(i)}} for i in range(41)]}})
    assert validation_error(excinfo) == "Too many items requested for the BatchGetItem call"
    with pytest.raises(ClientError) as excinfo:
        ddb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": "a"}},
                                                          {"pk": {"S": "a"}}]}})
    assert validation_error(excinfo) == "Provided list of item keys contains duplicates"


def test_resource_batch_writer(ddb_resource, table):
    resource_table = ddb_resource.Table(table)
    with resource_table.batch_writer() as writer:
        for i in range(60):
            writer.put_item(Item={"pk": f"w{i}", "n": i})
    assert resource_table.scan(Select="COUNT")["Count"] == 60


def test_transaction_commits_all(ddb, table, sorted_table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "account"}, "balance": {"N": "100"}})
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": table, "Key": {"pk": {"S": "account"}},
                    "UpdateExpression": "SET balance = balance - :amount",
                    "ConditionExpression": "balance >= :amount",
                    "ExpressionAttributeValues": {":amount": {"N": "30"}}}},
        {"Put": {"TableName": sorted_table,
                 "Item": {"pk": {"S": "account"}, "sk": {"N": "1"}, "amount": {"N": "30"}}}},
    ])
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "account"}})["Item"]["balance"] == {
        "N": "70"}
    response = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": table, "Key": {"pk": {"S": "account"}}}},
        {"Get": {"TableName": sorted_table, "Key": {"pk": {"S": "account"}, "sk": {"N": "1"}},
                 "ProjectionExpression": "amount"}},
        {"Get": {"TableName": table, "Key": {"pk": {"S": "nobody"}}}},
    ], ReturnConsumedCapacity="TOTAL")
    assert [r.get("Item") for r in response["Responses"]] == [
        {"pk": {"S": "account"}, "balance": {"N": "70"}}, {"amount": {"N": "30"}}, None]
    assert {c["TableName"]: c["CapacityUnits"] for c in response["ConsumedCapacity"]} == {
        table: 4.0, sorted_table: 2.0}


def test_transaction_cancelled_writes_nothing(ddb, table, sorted_table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "account"}, "balance": {"N": "10"}})
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": sorted_table,
                     "Item": {"pk": {"S": "account"}, "sk": {"N": "2"}}}},
            {"Update": {"TableName": table, "Key": {"pk": {"S": "account"}},
                        "UpdateExpression": "SET balance = balance - :amount",
                        "ConditionExpression": "balance >= :amount",
                        "ExpressionAttributeValues": {":amount": {"N": "30"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        ])
    code, message, status = error_of(excinfo)
    assert (code, status) == ("TransactionCanceledException", 400)
    assert message == ("Transaction cancelled, please refer cancellation reasons for specific "
                       "reasons [None, ConditionalCheckFailed]")
    reasons = excinfo.value.response["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1]["Code"] == "ConditionalCheckFailed"
    assert reasons[1]["Item"] == {"pk": {"S": "account"}, "balance": {"N": "10"}}
    assert "Item" not in ddb.get_item(TableName=sorted_table,
                                      Key={"pk": {"S": "account"}, "sk": {"N": "2"}})


def test_transaction_condition_check_and_delete(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "guard"}, "open": {"BOOL": True}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "victim"}})
    ddb.transact_write_items(TransactItems=[
        {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "guard"}},
                            "ConditionExpression": "#o = :t",
                            "ExpressionAttributeNames": {"#o": "open"},
                            "ExpressionAttributeValues": {":t": {"BOOL": True}}}},
        {"Delete": {"TableName": table, "Key": {"pk": {"S": "victim"}}}},
    ])
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "victim"}})


def test_transaction_rejects_two_actions_on_one_item(ddb, table):
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "same"}}}},
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "same"}}}},
        ])
    assert validation_error(excinfo) == (
        "Transaction request cannot include multiple operations on one item")


def test_client_request_token_is_idempotent(ddb, table):
    actions = [{"Update": {"TableName": table, "Key": {"pk": {"S": "counter"}},
                           "UpdateExpression": "ADD n :one",
                           "ExpressionAttributeValues": {":one": {"N": "1"}}}}]
    for _ in range(3):
        ddb.transact_write_items(TransactItems=actions, ClientRequestToken="token-1")
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "counter"}})["Item"]["n"] == {"N": "1"}
    actions[0]["Update"]["ExpressionAttributeValues"][":one"] = {"N": "2"}
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(TransactItems=actions, ClientRequestToken="token-1")
    assert error_of(excinfo)[0] == "IdempotentParameterMismatchException"


def test_transaction_validation_error_reason(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "text"}, "v": {"S": "a"}})
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": {"pk": {"S": "text"}},
                        "UpdateExpression": "SET v = v + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
    reasons = excinfo.value.response["CancellationReasons"]
    assert reasons == [{"Code": "ValidationError",
                        "Message": "An operand in the update expression has an incorrect data "
                                   "type"}]


def test_batch_get_returns_unprocessed_keys_past_16_megabytes(ddb, table):
    big = "x" * (390 * 1024)
    keys = [{"pk": {"S": f"big{i}"}} for i in range(50)]
    for start in range(0, 50, 10):
        ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {**key, "v": {"S": big}}}} for key in keys[start:start + 10]]})
    response = ddb.batch_get_item(RequestItems={table: {"Keys": keys,
                                                        "ProjectionExpression": "pk, v"}})
    returned = response["Responses"][table]
    unprocessed = response["UnprocessedKeys"][table]
    assert 40 <= len(returned) < 50
    assert unprocessed["ProjectionExpression"] == "pk, v"
    assert len(returned) + len(unprocessed["Keys"]) == 50
    rest = ddb.batch_get_item(RequestItems=response["UnprocessedKeys"])
    got = {i["pk"]["S"] for i in returned + rest["Responses"][table]}
    assert got == {k["pk"]["S"] for k in keys}


def test_transactions_cost_double(ddb, table):
    value = "x" * (5 * 1024 - 2 - 2 - 1)  # 5 KB items: pk (2) + key (2) + v (1) + value
    written = ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": {"S": f"t{i}"}, "v": {"S": value}}}}
        for i in range(3)], ReturnConsumedCapacity="TOTAL")
    assert written["ConsumedCapacity"][0]["CapacityUnits"] == 30.0  # 3 x 5 WCU x 2
    read = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": table, "Key": {"pk": {"S": f"t{i % 3}"}}}} for i in range(3)],
        ReturnConsumedCapacity="TOTAL")
    assert read["ConsumedCapacity"][0]["CapacityUnits"] == 12.0  # 3 x ceil(5 KB / 4 KB) x 2


def test_transactions_over_4_megabytes(ddb, table):
    big = "x" * (390 * 1024)
    puts = [{"Put": {"TableName": table, "Item": {"pk": {"S": f"tx{i}"}, "v": {"S": big}}}}
            for i in range(11)]  # 11 x 390 KB: past 4 MB
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_write_items(TransactItems=puts)
    assert validation_error(excinfo) == "Transaction request cannot be larger than 4 MB"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "tx0"}})
    ddb.transact_write_items(TransactItems=puts[:10])  # 3.9 MB is within the limit
    ddb.put_item(TableName=table, Item={"pk": {"S": "tx10"}, "v": {"S": big}})
    gets = [{"Get": {"TableName": table, "Key": {"pk": {"S": f"tx{i}"}}}} for i in range(11)]
    assert len(ddb.transact_get_items(TransactItems=gets[:10])["Responses"]) == 10
    with pytest.raises(ClientError) as excinfo:
        ddb.transact_get_items(TransactItems=gets)
    assert error_of(excinfo)[0] == "TransactionCanceledException"
    reasons = excinfo.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None"] * 10 + ["ValidationError"]
    assert reasons[10]["Message"] == "Transaction request cannot be larger than 4 MB"


def test_batch_and_transaction_reads_answer_items_as_stored(ddb, sorted_table):
    """Reads answered from the stored form: binaries, sets and numbers as written (canonical),
    whichever form of a number key the request names."""
    item = {"pk": {"S": "p"}, "sk": {"N": "2"}, "bin": {"B": b"\x00\xffdata"},
            "bins": {"BS": [b"\x01", b"\x02"]}, "n": {"N": "12.50"},
            "doc": {"M": {"list": {"L": [{"B": b"\x07"}, {"NULL": True}]}}}}
    ddb.put_item(TableName=sorted_table, Item=item)
    stored = dict(item, n={"N": "12.5"})
    got = ddb.batch_get_item(RequestItems={sorted_table: {"Keys": [
        {"pk": {"S": "p"}, "sk": {"N": "2.00"}}, {"pk": {"S": "p"}, "sk": {"N": "3"}}]}})
    assert got["Responses"][sorted_table] == [stored]
    read = ddb.transact_get_items(TransactItems=[{"Get": {
        "TableName": sorted_table, "Key": {"pk": {"S": "p"}, "sk": {"N": "2e0"}}}}])
    assert read["Responses"] == [{"Item": stored}]
    with pytest.raises(ClientError) as excinfo:  # one item, two forms of its key
        ddb.batch_get_item(RequestItems={sorted_table: {"Keys": [
            {"pk": {"S": "p"}, "sk": {"N": "2"}}, {"pk": {"S": "p"}, "sk": {"N": "2.0"}}]}})
    assert validation_error(excinfo) == "Provided list of item keys contains duplicates"
