"""Global tables (version 2019.11.21): replicas in other regions of the account, every write
applied to all of them."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import ACCESS_KEY, SECRET_KEY
from tests.dynamodb.conftest import error_of, key_schema, unique, validation_error, wait_active


@pytest.fixture
def europe(make_client):
    session = boto3.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            region_name="eu-west-1")
    return make_client("dynamodb", session=session)


def test_replicas_share_every_write(ddb, europe):
    name = unique("global")
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     **key_schema(("pk", "S"), ("sk", "N")))
    try:
        ddb.put_item(TableName=name, Item={"pk": {"S": "before"}, "sk": {"N": "1"}})
        ddb.update_table(TableName=name, ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
        wait_active(europe, name)  # the replica is CREATING while its items are copied
        described = ddb.describe_table(TableName=name)["Table"]
        assert described["GlobalTableVersion"] == "2019.11.21"
        assert described["Replicas"] == [{"RegionName": "eu-west-1", "ReplicaStatus": "ACTIVE"}]
        assert described["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        replica = europe.describe_table(TableName=name)["Table"]
        assert replica["TableArn"].startswith("arn:aws:dynamodb:eu-west-1:")
        assert replica["Replicas"] == [{"RegionName": "us-east-1", "ReplicaStatus": "ACTIVE"}]
        assert replica["ItemCount"] == 1  # existing items are copied

        ddb.put_item(TableName=name, Item={"pk": {"S": "us"}, "sk": {"N": "1"}})
        europe.update_item(TableName=name, Key={"pk": {"S": "us"}, "sk": {"N": "1"}},
                           UpdateExpression="SET seen = :t",
                           ExpressionAttributeValues={":t": {"BOOL": True}})
        europe.delete_item(TableName=name, Key={"pk": {"S": "before"}, "sk": {"N": "1"}})
        for client in (ddb, europe):
            items = client.scan(TableName=name, ConsistentRead=True)["Items"]
            assert items == [{"pk": {"S": "us"}, "sk": {"N": "1"}, "seen": {"BOOL": True}}]

        ddb.update_table(TableName=name,
                         AttributeDefinitions=[{"AttributeName": "seen", "AttributeType": "N"}],
                         GlobalSecondaryIndexUpdates=[{"Create": {
                             "IndexName": "by_seen", "Projection": {"ProjectionType": "ALL"},
                             "KeySchema": [{"AttributeName": "seen", "KeyType": "HASH"}]}}])
        assert [i["IndexName"] for i in europe.describe_table(TableName=name)["Table"][
            "GlobalSecondaryIndexes"]] == ["by_seen"]
        with pytest.raises(ClientError) as excinfo:
            ddb.update_table(TableName=name,
                             ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
        assert "one or more replicas already existed as tables" in validation_error(excinfo)
        ddb.update_table(TableName=name, ReplicaUpdates=[{"Delete": {"RegionName": "eu-west-1"}}])
        assert name not in europe.list_tables()["TableNames"]
        assert "Replicas" not in ddb.describe_table(TableName=name)["Table"]
        ddb.put_item(TableName=name, Item={"pk": {"S": "alone"}, "sk": {"N": "1"}})
    finally:
        ddb.delete_table(TableName=name)


def test_replica_updates_must_be_alone(ddb, table):
    with pytest.raises(ClientError) as excinfo:
        ddb.update_table(TableName=table, DeletionProtectionEnabled=True,
                         ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
    assert validation_error(excinfo) == (
        "One or more parameter values were invalid: Replica modification must be the only "
        "operation in the request")


def test_legacy_global_tables_are_refused_as_on_aws(ddb, table):
    with pytest.raises(ClientError) as excinfo:
        ddb.create_global_table(GlobalTableName=table,
                                ReplicationGroup=[{"RegionName": "us-east-1"}])
    assert "DynamoDB global tables version 2017.11.29 is not supported" in \
        validation_error(excinfo)
    assert ddb.list_global_tables()["GlobalTables"] == []
    for call in (lambda: ddb.describe_global_table(GlobalTableName=table),
                 lambda: ddb.describe_global_table_settings(GlobalTableName=table),
                 lambda: ddb.update_global_table_settings(
                     GlobalTableName=table, GlobalTableBillingMode="PAY_PER_REQUEST")):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo)[0] == "GlobalTableNotFoundException"
