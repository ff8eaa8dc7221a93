"""DynamoDB under IAM enforcement: a table's resource-based policy allows or denies by itself,
a stream's policy is its own, and the table's tags feed aws:ResourceTag conditions."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import connector, error_of, private_server


@pytest.fixture(scope="module")
def connect():
    with private_server("--iam", "enforce") as server:
        yield connector(server)


def user(connect, name: str, *documents: dict):
    iam = connect("iam")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    for number, document in enumerate(documents):
        iam.put_user_policy(UserName=name, PolicyName=f"p{number}",
                            PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, connect("dynamodb", key["AccessKeyId"], key["SecretAccessKey"])


def statement(effect: str, action, resource: str, **extra) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": effect, "Action": action, "Resource": resource, **extra}]}


def table(ddb, name: str, **extra) -> str:
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], **extra)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    return ddb.describe_table(TableName=name)["Table"]["TableArn"]


def denied(call) -> bool:
    with pytest.raises(ClientError) as excinfo:
        call()
    return error_of(excinfo)[0] == "AccessDeniedException"


def test_a_table_policy_allows_and_denies_by_itself(connect):
    admin = connect("dynamodb")
    arn = table(admin, "shared")
    reader_arn, reader = user(connect, "reader")  # no identity policy at all
    writer_arn, writer = user(connect, "writer", statement("Allow", "dynamodb:*", "*"))
    key = {"pk": {"S": "a"}}
    assert denied(lambda: reader.get_item(TableName="shared", Key=key))
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": reader_arn}, "Action": "dynamodb:GetItem",
         "Resource": arn},
        {"Effect": "Deny", "Principal": {"AWS": writer_arn}, "Action": "dynamodb:DeleteItem",
         "Resource": arn}]}
    admin.put_resource_policy(ResourceArn=arn, Policy=json.dumps(policy))
    assert reader.get_item(TableName="shared", Key=key)["Item"] == key
    assert denied(lambda: reader.put_item(TableName="shared", Item=key))
    writer.put_item(TableName="shared", Item={"pk": {"S": "b"}})
    assert denied(lambda: writer.delete_item(TableName="shared", Key=key))
    admin.delete_resource_policy(ResourceArn=arn)
    assert denied(lambda: reader.get_item(TableName="shared", Key=key))


def test_table_tags_feed_resource_tag_conditions(connect):
    admin = connect("dynamodb")
    table(admin, "blue-table", Tags=[{"Key": "team", "Value": "blue"}])
    table(admin, "red-table", Tags=[{"Key": "team", "Value": "red"}])
    _, blue = user(connect, "blue-member", statement(
        "Allow", "dynamodb:GetItem", "*",
        Condition={"StringEquals": {"aws:ResourceTag/team": "blue"}}))
    key = {"pk": {"S": "a"}}
    assert blue.get_item(TableName="blue-table", Key=key)["Item"] == key
    assert denied(lambda: blue.get_item(TableName="red-table", Key=key))


def test_a_stream_policy_allows_reading_the_stream(connect):
    admin = connect("dynamodb")
    table(admin, "streamed", StreamSpecification={"StreamEnabled": True,
                                                  "StreamViewType": "KEYS_ONLY"})
    admin.put_item(TableName="streamed", Item={"pk": {"S": "b"}})
    stream_arn = admin.describe_table(TableName="streamed")["Table"]["LatestStreamArn"]
    consumer_arn, _ = user(connect, "consumer")
    iam = connect("iam")
    key = iam.create_access_key(UserName="consumer")["AccessKey"]
    streams = connect("dynamodbstreams", key["AccessKeyId"], key["SecretAccessKey"])
    assert denied(lambda: streams.describe_stream(StreamArn=stream_arn))
    admin.put_resource_policy(ResourceArn=stream_arn, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": consumer_arn},
            "Action": ["dynamodb:DescribeStream", "dynamodb:GetShardIterator",
                       "dynamodb:GetRecords"], "Resource": stream_arn}]}))
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["a", "b"]
    consumer = connect("dynamodb", key["AccessKeyId"], key["SecretAccessKey"])
    assert denied(lambda: consumer.get_item(TableName="streamed", Key={"pk": {"S": "a"}}))


def test_attributes_condition_limits_the_attributes_a_request_names(connect):
    admin = connect("dynamodb")
    arn = table(admin, "profiles")
    admin.put_item(TableName="profiles", Item={"pk": {"S": "a"}, "nick": {"S": "x"},
                                               "secret": {"S": "s"}})
    _, app = user(connect, "profile-app", statement(
        "Allow", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], arn,
        Condition={"ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "nick"]},
                   "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}}))
    key = {"pk": {"S": "a"}}
    got = app.get_item(TableName="profiles", Key=key, ProjectionExpression="#n",
                       ExpressionAttributeNames={"#n": "nick"})
    assert got["Item"] == {"nick": {"S": "x"}}
    assert denied(lambda: app.get_item(TableName="profiles", Key=key,
                                       ProjectionExpression="secret"))
    app.put_item(TableName="profiles", Item={"pk": {"S": "b"}, "nick": {"S": "y"}})
    assert denied(lambda: app.put_item(TableName="profiles",
                                       Item={"pk": {"S": "c"}, "secret": {"S": "z"}}))
    app.update_item(TableName="profiles", Key=key, UpdateExpression="SET nick = :v",
                    ExpressionAttributeValues={":v": {"S": "new"}})
    assert denied(lambda: app.update_item(TableName="profiles", Key=key,
                                          UpdateExpression="SET secret = :v",
                                          ExpressionAttributeValues={":v": {"S": "no"}}))
