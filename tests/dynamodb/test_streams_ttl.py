"""DynamoDB Streams (the dynamodbstreams API) and Time to Live deletions."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import error_of


@pytest.fixture(scope="module")
def streams(make_client):
    return make_client("dynamodbstreams")


def read_all(streams, arn: str, iterator_type: str = "TRIM_HORIZON", **kwargs) -> list[dict]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType=iterator_type,
                                          **kwargs)["ShardIterator"]
    return streams.get_records(ShardIterator=iterator)["Records"]


def test_stream_records_every_change_in_order(ddb, streams, make_table):
    name = make_table(StreamSpecification={"StreamEnabled": True,
                                           "StreamViewType": "NEW_AND_OLD_IMAGES"})
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.update_item(TableName=name, Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :two",
                    ExpressionAttributeValues={":two": {"N": "2"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "2"}})  # no change
    ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}})
    records = read_all(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = (r["dynamodb"] for r in records)
    assert insert["Keys"] == {"pk": {"S": "a"}} and "OldImage" not in insert
    assert modify["OldImage"]["v"] == {"N": "1"} and modify["NewImage"]["v"] == {"N": "2"}
    assert remove["OldImage"] == {"pk": {"S": "a"}, "v": {"N": "2"}} and "NewImage" not in remove
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequences == sorted(sequences) and len(records[0]["dynamodb"]["SequenceNumber"]) == 21
    assert all(r["eventSource"] == "aws:dynamodb" and r["awsRegion"] == "us-east-1"
               for r in records)
    after_first = read_all(streams, arn, "AFTER_SEQUENCE_NUMBER",
                           SequenceNumber=records[0]["dynamodb"]["SequenceNumber"])
    assert [r["eventName"] for r in after_first] == ["MODIFY", "REMOVE"]
    assert read_all(streams, arn, "LATEST") == []
    listed = streams.list_streams(TableName=name)["Streams"]
    assert listed == [{"StreamArn": arn, "TableName": name,
                       "StreamLabel": arn.rsplit("/", 1)[1]}]


def test_iterator_at_a_timestamp(ddb, streams, make_table, nubo_server):
    """AT_TIMESTAMP starts at the first record created at or after the timestamp; one before
    the shard's records starts at its first, one in the future is refused."""
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    ddb.put_item(TableName=name, Item={"pk": {"S": "early"}})
    nubo_server.advance_clock(2)
    ddb.put_item(TableName=name, Item={"pk": {"S": "late"}})
    [early, late] = read_all(streams, arn)
    keys = [r["dynamodb"]["Keys"]["pk"]["S"]
            for r in read_all(streams, arn, "AT_TIMESTAMP",
                              Timestamp=late["dynamodb"]["ApproximateCreationDateTime"])]
    assert keys == ["late"]
    assert read_all(streams, arn, "AT_TIMESTAMP", Timestamp=0) == [early, late]
    future = late["dynamodb"]["ApproximateCreationDateTime"].timestamp() + 3600
    for members in ({"Timestamp": future}, {}):
        with pytest.raises(ClientError) as raised:
            read_all(streams, arn, "AT_TIMESTAMP", **members)
        assert error_of(raised)[0] == "ValidationException"


def test_keys_only_stream_and_disable(ddb, streams, make_table):
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    ddb.put_item(TableName=name, Item={"pk": {"S": "k"}, "big": {"S": "x" * 100}})
    [record] = read_all(streams, arn)
    assert set(record["dynamodb"]) >= {"Keys", "SequenceNumber", "SizeBytes"}
    assert "NewImage" not in record["dynamodb"]
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    description = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert description["StreamStatus"] == "DISABLED"
    assert "EndingSequenceNumber" in description["Shards"][0]["SequenceNumberRange"]


def test_unknown_stream(streams):
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/none/stream/2024-01-01T00:00:00.000"
    with pytest.raises(ClientError) as excinfo:
        streams.describe_stream(StreamArn=arn)
    assert error_of(excinfo)[0] == "ResourceNotFoundException"


def test_ttl_deletes_expired_items_with_a_service_stream_record(ddb, streams, make_table,
                                                                nubo_server):
    name = make_table(StreamSpecification={"StreamEnabled": True,
                                           "StreamViewType": "OLD_IMAGE"})
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    now = int(nubo_server.get("/_nubo/clock")["now"])  # other tests may have moved it
    ddb.put_item(TableName=name, Item={"pk": {"S": "old"}, "Expireson": {"N": str(now - 10)}})
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "Expireson"})
    ddb.put_item(TableName=name, Item={"pk": {"S": "soon"}, "Expireson": {"N": str(now + 3600)}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "never"}, "Expireson": {"S": "not a number"}})
    deadline = time.time() + 10
    while "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": "old"}}):
        assert time.time() < deadline, "expired item was not deleted"
        time.sleep(0.1)
    # still readable until the sweeper runs; advancing the clock expires "soon"
    assert "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": "soon"}})
    nubo_server.advance_clock(3601)
    deadline = time.time() + 10
    while "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": "soon"}}):
        assert time.time() < deadline, "item did not expire after the clock moved"
        time.sleep(0.1)
    assert "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": "never"}})
    removals = [r for r in read_all(streams, arn) if r["eventName"] == "REMOVE"]
    assert {r["dynamodb"]["Keys"]["pk"]["S"] for r in removals} == {"old", "soon"}
    assert all(r["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com",
                                     "Type": "Service"} for r in removals)


def test_shard_iterators_expire_after_15_minutes(ddb, streams, make_table, nubo_server):
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    ddb.put_item(TableName=name, Item={"pk": {"S": "x"}})
    page = streams.get_records(ShardIterator=iterator)
    assert [r["dynamodb"]["NewImage"] for r in page["Records"]] == [{"pk": {"S": "x"}}]
    assert streams.get_records(ShardIterator=page["NextShardIterator"])["Records"] == []
    nubo_server.advance_clock(16 * 60)
    with pytest.raises(ClientError) as excinfo:
        streams.get_records(ShardIterator=page["NextShardIterator"])
    assert error_of(excinfo)[0] == "ExpiredIteratorException"


def test_shards_roll_over_every_four_hours_with_lineage(ddb, streams, make_table, nubo_server):
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    ddb.put_item(TableName=name, Item={"pk": {"S": "before"}})
    [first] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    nubo_server.advance_clock(4 * 3600 + 1)
    ddb.put_item(TableName=name, Item={"pk": {"S": "after"}})
    old, new = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert old["ShardId"] == first["ShardId"] and "ParentShardId" not in old
    assert new["ParentShardId"] == old["ShardId"]
    assert old["SequenceNumberRange"]["EndingSequenceNumber"] == \
        old["SequenceNumberRange"]["StartingSequenceNumber"]  # its one record
    assert "EndingSequenceNumber" not in new["SequenceNumberRange"]
    assert int(new["SequenceNumberRange"]["StartingSequenceNumber"]) > \
        int(old["SequenceNumberRange"]["EndingSequenceNumber"])

    def read(shard: dict) -> tuple[list[str], bool]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        page = streams.get_records(ShardIterator=iterator)
        return ([r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]],
                "NextShardIterator" in page)

    assert read(old) == (["before"], False)  # closed and read to its end
    assert read(new) == (["after"], True)
    # The closed shard's LATEST is its end: nothing more to read there.
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=old["ShardId"],
                                        ShardIteratorType="LATEST")["ShardIterator"]
    page = streams.get_records(ShardIterator=latest)
    assert page["Records"] == [] and "NextShardIterator" not in page
    limited = streams.describe_stream(StreamArn=arn, Limit=1)["StreamDescription"]
    assert [s["ShardId"] for s in limited["Shards"]] == [old["ShardId"]]
    assert limited["LastEvaluatedShardId"] == old["ShardId"]
    rest = streams.describe_stream(StreamArn=arn, ExclusiveStartShardId=old["ShardId"])[
        "StreamDescription"]
    assert [s["ShardId"] for s in rest["Shards"]] == [new["ShardId"]]
