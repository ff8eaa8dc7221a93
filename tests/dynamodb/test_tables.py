"""Tables: CreateTable validation, DescribeTable, ListTables, UpdateTable, DeleteTable, tags,
TTL settings, limits and endpoints."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import error_of, key_schema, unique, validation_error


def test_create_describe_and_waiter(ddb, make_table):
    name = unique()
    created = ddb.create_table(TableName=name, **key_schema(("pk", "S"), ("sk", "N")),
                               ProvisionedThroughput={"ReadCapacityUnits": 5,
                                                      "WriteCapacityUnits": 3},
                               Tags=[{"Key": "team", "Value": "data"}])["TableDescription"]
    try:
        assert created["TableStatus"] == "CREATING"
        assert created["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
        table = ddb.describe_table(TableName=name)["Table"]
        assert table["TableStatus"] == "ACTIVE"
        assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"},
                                      {"AttributeName": "sk", "KeyType": "RANGE"}]
        assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
        assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
        assert table["ItemCount"] == 0 and table["TableSizeBytes"] == 0
        assert "BillingModeSummary" not in table
        assert table["DeletionProtectionEnabled"] is False
        assert len(table["TableId"]) == 36
    finally:
        ddb.delete_table(TableName=name)
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1})


def test_on_demand_table_describes_billing_mode(ddb, table):
    described = ddb.describe_table(TableName=table)["Table"]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert described["ProvisionedThroughput"] == {"NumberOfDecreasesToday": 0,
                                                  "ReadCapacityUnits": 0,
                                                  "WriteCapacityUnits": 0}


def test_item_count_and_size_follow_writes(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"S": "hello"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}})
    described = ddb.describe_table(TableName=table)["Table"]
    assert described["ItemCount"] == 2
    assert described["TableSizeBytes"] == (2 + 1 + 6) + (2 + 1)
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    described = ddb.describe_table(TableName=table)["Table"]
    assert (described["ItemCount"], described["TableSizeBytes"]) == (1, 3)


def test_create_existing_table_is_in_use(ddb, table):
    with pytest.raises(ClientError) as excinfo:
        ddb.create_table(TableName=table, **key_schema(("pk", "S")),
                         BillingMode="PAY_PER_REQUEST")
    assert error_of(excinfo) == ("ResourceInUseException", f"Table already exists: {table}", 400)


@pytest.mark.parametrize("params, message", [
    (dict(KeySchema=[{"AttributeName": "pk", "KeyType": "RANGE"}],
          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}]),
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    (dict(KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                     {"AttributeName": "sk", "KeyType": "HASH"}],
          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                {"AttributeName": "sk", "AttributeType": "S"}]),
     "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"),
    (dict(KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
          AttributeDefinitions=[{"AttributeName": "other", "AttributeType": "S"}]),
     "One or more parameter values were invalid: Some index key attributes are not defined in "
     "AttributeDefinitions. Keys: [pk], AttributeDefinitions: [other]"),
    (dict(KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                {"AttributeName": "extra", "AttributeType": "S"}]),
     "One or more parameter values were invalid: Number of attributes in KeySchema does not "
     "exactly match number of attributes defined in AttributeDefinitions"),
    (dict(KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                     {"AttributeName": "pk", "KeyType": "RANGE"}],
          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}]),
     "Both the Hash Key and the Range Key element in the KeySchema have the same name"),
    (dict(KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                {"AttributeName": "pk", "AttributeType": "N"}]),
     "Attribute Name is duplicated: pk"),
])
def test_create_table_key_schema_errors(ddb, params, message):
    with pytest.raises(ClientError) as excinfo:
        ddb.create_table(TableName=unique(), BillingMode="PAY_PER_REQUEST", **params)
    assert validation_error(excinfo) == message


def test_create_table_billing_errors(ddb):
    with pytest.raises(ClientError) as excinfo:
        ddb.create_table(TableName=unique(), **key_schema(("pk", "S")))
    assert validation_error(excinfo) == (
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
        "must both be specified when BillingMode is PROVISIONED")
    with pytest.raises(ClientError) as excinfo:
        ddb.create_table(TableName=unique(), **key_schema(("pk", "S")),
                         BillingMode="PAY_PER_REQUEST",
                         ProvisionedThroughput={"ReadCapacityUnits": 1,
                                                "WriteCapacityUnits": 1})
    assert validation_error(excinfo) == (
        "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
        "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")


def test_table_name_rules(ddb):
    with pytest.raises(ClientError) as excinfo:
        ddb.create_table(TableName="ab", **key_schema(("pk", "S")),
                         BillingMode="PAY_PER_REQUEST")
    assert validation_error(excinfo) == ("TableName must be at least 3 characters long and at "
                                         "most 255 characters long")
    with pytest.raises(ClientError) as excinfo:
        ddb.describe_table(TableName="bad name")
    assert validation_error(excinfo) == (
        "TableName must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")


def test_describe_missing_table(ddb):
    name = unique("missing")
    with pytest.raises(ClientError) as excinfo:
        ddb.describe_table(TableName=name)
    assert error_of(excinfo) == ("ResourceNotFoundException",
                                 f"Requested resource not found: Table: {name} not found", 400)
    with pytest.raises(ClientError) as excinfo:
        ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})
    assert error_of(excinfo) == ("ResourceNotFoundException", "Requested resource not found",
                                 400)


def test_list_tables_paginates_in_name_order(ddb, make_client, boto_session):
    import boto3
    session = boto3.Session(aws_access_key_id="222233334444", aws_secret_access_key="x",
                            region_name="eu-west-1")
    other = make_client("dynamodb", session=session)
    names = sorted(unique("list") for _ in range(5))
    for name in reversed(names):
        other.create_table(TableName=name, **key_schema(("pk", "S")),
                           BillingMode="PAY_PER_REQUEST")
    try:
        first = other.list_tables(Limit=2)
        assert first["TableNames"] == names[:2]
        assert first["LastEvaluatedTableName"] == names[1]
        second = other.list_tables(Limit=2, ExclusiveStartTableName=names[1])
        assert second["TableNames"] == names[2:4]
        third = other.list_tables(Limit=2, ExclusiveStartTableName=names[3])
        assert third["TableNames"] == names[4:]
        assert "LastEvaluatedTableName" not in third
        paged = [n for page in other.get_paginator("list_tables").paginate(
            PaginationConfig={"PageSize": 2}) for n in page["TableNames"]]
        assert paged == names
        assert names[0] not in ddb.list_tables()["TableNames"]  # other account and region
    finally:
        for name in names:
            other.delete_table(TableName=name)
    assert other.list_tables()["TableNames"] == []


def test_delete_table_removes_items(ddb):
    name = unique()
    ddb.create_table(TableName=name, **key_schema(("pk", "S")), BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    deleted = ddb.delete_table(TableName=name)["TableDescription"]
    assert deleted["TableStatus"] == "DELETING"
    ddb.create_table(TableName=name, **key_schema(("pk", "S")), BillingMode="PAY_PER_REQUEST")
    try:
        assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})
        assert ddb.describe_table(TableName=name)["Table"]["ItemCount"] == 0
    finally:
        ddb.delete_table(TableName=name)


def test_deletion_protection(ddb, make_table):
    name = make_table(DeletionProtectionEnabled=True)
    with pytest.raises(ClientError) as excinfo:
        ddb.delete_table(TableName=name)
    assert "protected against deletion" in validation_error(excinfo)
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    ddb.delete_table(TableName=name)


def test_update_table_throughput_and_billing(ddb, make_table):
    name = make_table(BillingMode="PROVISIONED",
                      ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    updated = ddb.update_table(TableName=name, ProvisionedThroughput={
        "ReadCapacityUnits": 10, "WriteCapacityUnits": 5})["TableDescription"]
    assert updated["TableStatus"] == "UPDATING"
    described = ddb.describe_table(TableName=name)["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert described["ProvisionedThroughput"]["ReadCapacityUnits"] == 10
    with pytest.raises(ClientError) as excinfo:
        ddb.update_table(TableName=name, ProvisionedThroughput={
            "ReadCapacityUnits": 10, "WriteCapacityUnits": 5})
    assert "The provisioned throughput for the table will not change" in \
        validation_error(excinfo)
    ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    described = ddb.describe_table(TableName=name)["Table"]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


UPDATES_REFUSED_TOGETHER = [
    ({"SSESpecification": {"Enabled": True}, "DeletionProtectionEnabled": True},
     "Server-Side Encryption modification must be the only operation in the request"),
    ({"TableClass": "STANDARD_INFREQUENT_ACCESS", "DeletionProtectionEnabled": True},
     "TableClass modification must be the only operation in the request"),
    ({"DeletionProtectionEnabled": True, "BillingMode": "PAY_PER_REQUEST"},
     "DeletionProtection modification must be the only operation in the request"),
    ({"ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
      "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}},
     "You cannot modify stream status while updating table IOPS"),
    ({"ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2},
      "AttributeDefinitions": [{"AttributeName": "g", "AttributeType": "S"}],
      "GlobalSecondaryIndexUpdates": [{"Create": {
          "IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
          "Projection": {"ProjectionType": "ALL"},
          "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}}]},
     "You cannot create or delete index while updating table IOPS"),
    ({"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
      "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "missing"}}]},
     "You cannot create or delete index while changing stream status"),
    ({"SSESpecification": {"Enabled": False}}, "Table is already encrypted by default"),
    ({"SSESpecification": {"Enabled": False, "SSEType": "KMS"}},
     "SSEType can not be specified if Enabled is false"),
    ({"SSESpecification": {"KMSMasterKeyId": "alias/x"}},
     "KMSMasterKeyId can not be specified if Enabled is false"),
    ({"SSESpecification": {"Enabled": True, "SSEType": "AES256"}},
     "SSEType AES256 is not supported"),
]


GSI_CREATE = {"Create": {"IndexName": "by_g", "KeySchema": [{"AttributeName": "g",
                                                              "KeyType": "HASH"}],
                         "Projection": {"ProjectionType": "ALL"},
                         "ProvisionedThroughput": {"ReadCapacityUnits": 1,
                                                   "WriteCapacityUnits": 1}}}
UPDATES_REFUSED_TOGETHER += [
    ({"GlobalSecondaryIndexUpdates": [{}]},
     "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
     "GlobalSecondaryIndexUpdate.Delete must not be null"),
    ({"AttributeDefinitions": [{"AttributeName": "g", "AttributeType": "S"}],
      "GlobalSecondaryIndexUpdates": [dict(GSI_CREATE, Delete={"IndexName": "by_g"})]},
     "Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object"),
    ({"AttributeDefinitions": [{"AttributeName": "g", "AttributeType": "S"}],
      "GlobalSecondaryIndexUpdates": [GSI_CREATE, {"Delete": {"IndexName": "by_g"}}]},
     "Only one global secondary index update per index is allowed simultaneously. "
     "Index: by_g"),
]


@pytest.mark.parametrize("changes, message", UPDATES_REFUSED_TOGETHER)
def test_update_table_refuses_changes_aws_refuses(ddb, make_table, changes, message):
    name = make_table(BillingMode="PROVISIONED",
                      ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    with pytest.raises(ClientError) as excinfo:
        ddb.update_table(TableName=name, **changes)
    assert validation_error(excinfo) == f"One or more parameter values were invalid: {message}"


def test_update_table_refuses_local_index_updates(ddb, make_table):
    name = make_table(range_key=("sk", "N"),
                      AttributeDefinitions=[{"AttributeName": "l", "AttributeType": "S"}],
                      LocalSecondaryIndexes=[{
                          "IndexName": "by_l", "Projection": {"ProjectionType": "KEYS_ONLY"},
                          "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                        {"AttributeName": "l", "KeyType": "RANGE"}]}])
    with pytest.raises(ClientError) as excinfo:
        ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[
            {"Delete": {"IndexName": "by_l"}}])
    assert validation_error(excinfo) == (
        "Cannot delete an index that is not a GlobalSecondaryIndex: by_l")


def test_update_table_encryption_back_to_an_aws_owned_key(ddb, table):
    ddb.update_table(TableName=table, SSESpecification={"Enabled": True})
    assert ddb.describe_table(TableName=table)["Table"]["SSEDescription"]["Status"] == "ENABLED"
    ddb.update_table(TableName=table, SSESpecification={})
    assert "SSEDescription" not in ddb.describe_table(TableName=table)["Table"]


def test_stream_specification_is_described(ddb, make_table):
    with pytest.raises(ClientError) as excinfo:
        make_table(StreamSpecification={"StreamEnabled": True})
    assert validation_error(excinfo) == (
        "One or more parameter values were invalid: Table is being created with a stream "
        "enabled, UpdateViewType is required")
    name = make_table(StreamSpecification={"StreamEnabled": True,
                                           "StreamViewType": "NEW_AND_OLD_IMAGES"})
    described = ddb.describe_table(TableName=name)["Table"]
    assert described["StreamSpecification"] == {"StreamEnabled": True,
                                                 "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert described["LatestStreamArn"].startswith(described["TableArn"] + "/stream/")
    assert described["LatestStreamArn"].endswith(described["LatestStreamLabel"])
    with pytest.raises(ClientError) as excinfo:
        ddb.update_table(TableName=name, StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    assert validation_error(excinfo) == f"Table already has an enabled stream: TableName: {name}"
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    disabled = ddb.describe_table(TableName=name)["Table"]
    assert "StreamSpecification" not in disabled
    assert disabled["LatestStreamArn"] == described["LatestStreamArn"]
    with pytest.raises(ClientError) as excinfo:
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert validation_error(excinfo) == f"Table has no stream to disable: TableName: {name}"


def test_tags(ddb, table):
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"},
                                            {"Key": "b", "Value": "2"}])
    ddb.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    for tags, message in (([], "Atleast one Tag needs to be provided as Input."),
                          ([{"Key": "aws:x", "Value": "1"}],
                           "Tag Key cannot be prefixed with aws:, Key: aws:x")):
        with pytest.raises(ClientError) as excinfo:
            ddb.tag_resource(ResourceArn=arn, Tags=tags)
        assert validation_error(excinfo) == message
    missing = arn.replace(table, unique("missing"))
    with pytest.raises(ClientError) as excinfo:
        ddb.list_tags_of_resource(ResourceArn=missing)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_time_to_live_settings(ddb, table, nubo_server):
    assert ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"}
    spec = {"Enabled": True, "AttributeName": "expires"}
    assert ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=spec)[
        "TimeToLiveSpecification"] == spec
    assert ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    with pytest.raises(ClientError) as excinfo:
        ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=spec)
    assert validation_error(excinfo) == "TimeToLive is already enabled"
    off = {"Enabled": False, "AttributeName": "expires"}
    with pytest.raises(ClientError) as excinfo:
        ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=off)
    assert validation_error(excinfo) == (
        "Time to live has been modified multiple times within a fixed interval")
    nubo_server.advance_clock(3601)
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=off)
    assert ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"}


def test_limits_and_endpoints(ddb):
    limits = ddb.describe_limits()
    assert limits["TableMaxReadCapacityUnits"] == 40000
    assert limits["AccountMaxWriteCapacityUnits"] == 80000
    [endpoint] = ddb.describe_endpoints()["Endpoints"]
    assert endpoint["CachePeriodInMinutes"] == 1440


def test_resource_api_create_and_use(ddb_resource):
    name = unique()
    table = ddb_resource.create_table(TableName=name, **key_schema(("id", "S")),
                                      BillingMode="PAY_PER_REQUEST")
    try:
        table.wait_until_exists()
        table.reload()
        assert table.table_status == "ACTIVE"
        table.put_item(Item={"id": "x", "count": 3, "tags": {"a", "b"}})
        item = table.get_item(Key={"id": "x"})["Item"]
        assert item == {"id": "x", "count": 3, "tags": {"a", "b"}}
    finally:
        table.delete()


def test_create_with_resource_policy_and_update_settings(ddb, make_table):
    import json
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    name = make_table(ResourcePolicy=policy,
                      WarmThroughput={"ReadUnitsPerSecond": 13000, "WriteUnitsPerSecond": 5000})
    described = ddb.describe_table(TableName=name)["Table"]
    assert described["WarmThroughput"] == {"ReadUnitsPerSecond": 13000,
                                           "WriteUnitsPerSecond": 5000, "Status": "ACTIVE"}
    assert json.loads(ddb.get_resource_policy(ResourceArn=described["TableArn"])["Policy"]) == \
        json.loads(policy)
    ddb.update_table(TableName=name, SSESpecification={"Enabled": True, "SSEType": "KMS"})
    sse = ddb.describe_table(TableName=name)["Table"]["SSEDescription"]
    assert (sse["Status"], sse["SSEType"]) == ("ENABLED", "KMS")
    with pytest.raises(ClientError) as excinfo:
        ddb.update_table(TableName=name, MultiRegionConsistency="STRONG")
    code, message, status = error_of(excinfo)
    assert (code, status) == ("NotImplemented", 501) and "MultiRegionConsistency" in message


def test_error_wire_format(nubo_server):
    """The JSON 1.0 error body as AWS writes it (SDKs read the name after '#')."""
    import json
    import urllib.error
    import urllib.request
    request = urllib.request.Request(
        nubo_server.endpoint + "/", method="POST",
        data=json.dumps({"TableName": unique("missing")}).encode(),
        headers={"X-Amz-Target": "DynamoDB_20120810.DescribeTable",
                 "Content-Type": "application/x-amz-json-1.0",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/"
                                  "us-east-1/dynamodb/aws4_request, SignedHeaders=host, "
                                  "Signature=0"})
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)
    assert excinfo.value.code == 400
    assert excinfo.value.headers["Content-Type"] == "application/x-amz-json-1.0"
    body = json.loads(excinfo.value.read())
    assert body["__type"] == "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
    assert body["message"].startswith("Requested resource not found: Table: ")
