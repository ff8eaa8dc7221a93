"""Bad input of every DynamoDB operation gets DynamoDB's 4xx error, never a 500 or a dropped
connection, and leaves the account's tables and items as they were."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of
from tests.fuzzing import Fuzzer, account_client, known_choice

ACCOUNT = "700000000004"
def deep(levels: int) -> dict:
    value: dict = {"S": "x"}
    for _ in range(levels):
        value = {"L": [value]}
    return value


# Attribute values DynamoDB refuses (or takes) for their content, not their JSON types
ODD_VALUES = [{"N": "1e999"}, {"N": "NaN"}, {"N": "1" * 39}, {"N": "0x10"}, {"N": ""},
              {"N": " 1"}, {"N": "-0"}, {"N": "1E-131"}, {"SS": []}, {"SS": ["x", "x"]},
              {"NS": ["1", "1.0"]}, {"NS": ["x"]}, {"BS": [""]}, {"M": {"": {"S": "x"}}}, {},
              {"S": "x", "N": "1"}, {"NULL": False}, {"L": [{}]}, deep(40), {"S": "\ud800"},
              {"S": "x" * 400_001}, {"B": "%%%"}, {"SS": ["x"] * 3}]
ODD_KEYS = [{"pk": {"S": ""}}, {"pk": {"N": "1"}}, {"pk": {"S": "a" * 2049}}, {},
            {"pk": {"S": "a"}, "sk": {"S": "b"}}, {"pk": {"NULL": True}}]
KEYS = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST"}


@pytest.fixture(scope="module")
def ddb(make_client):
    return account_client(make_client, "dynamodb", ACCOUNT)


@pytest.fixture(scope="module")
def streams(make_client):
    return account_client(make_client, "dynamodbstreams", ACCOUNT)


def test_bad_input_gets_client_errors(nubo_server, ddb):
    ddb.create_table(TableName="kept", **KEYS)
    ddb.put_item(TableName="kept", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    ddb.create_table(TableName="fuzzed", **KEYS, StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    ddb.put_item(TableName="fuzzed", Item={"pk": {"S": "a"}})
    keys = known_choice({"pk": {"S": "a"}}, {"pk": {"S": "a"}}, *ODD_KEYS)
    items = known_choice({"pk": {"S": "a"}}, *ODD_KEYS,
                         *({"pk": {"S": "a"}, "odd": value} for value in ODD_VALUES))
    values = known_choice(*({":v": value} for value in ODD_VALUES))
    fuzzer = Fuzzer(nubo_server, "dynamodb", account=ACCOUNT,
                    known={"TableName": known_choice("fuzzed", "fuzzed", "missing"),
                           "Key": keys, "Item": items, "ExclusiveStartKey": keys,
                           "ExpressionAttributeValues": values})
    fuzzer.assert_answers(per_operation=10)
    assert ddb.get_item(TableName="kept", Key={"pk": {"S": "a"}})["Item"] == {
        "pk": {"S": "a"}, "n": {"N": "1"}}
    assert ddb.describe_table(TableName="kept")["Table"]["TableStatus"] == "ACTIVE"


def test_bad_stream_input_gets_client_errors(nubo_server, ddb, streams):
    table = ddb.create_table(TableName="streamed", **KEYS, StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]
    ddb.put_item(TableName="streamed", Item={"pk": {"S": "a"}})
    stream = table["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=stream, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    fuzzer = Fuzzer(nubo_server, "dynamodbstreams", account=ACCOUNT,
                    known={"StreamArn": stream, "ShardId": shard["ShardId"],
                           "ShardIterator": known_choice(iterator, iterator[:-3], "x")})
    fuzzer.assert_answers(per_operation=12, well_typed=4)
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"] for r in records] == [{"pk": {"S": "a"}}]


def test_create_table_without_keys_is_a_validation_error(ddb):
    # optional in botocore's model, yet no table is made without them
    with pytest.raises(ClientError) as caught:
        ddb.create_table(TableName="no-keys", BillingMode="PAY_PER_REQUEST")
    assert error_of(caught) == ("ValidationException", "1 validation error detected: Value null "
                                "at 'keySchema' failed to satisfy constraint: Member must not "
                                "be null", 400)
