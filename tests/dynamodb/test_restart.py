"""DynamoDB state across kill -9 and a restart of the same data directory."""

from __future__ import annotations

from tests.conftest import ACCESS_KEY, SECRET_KEY, NuboProcess, connector
from tests.dynamodb.conftest import key_schema


def client_of(server: NuboProcess):
    return connector(server)("dynamodb", ACCESS_KEY, SECRET_KEY)


def test_tables_items_and_indexes_survive_kill_9(tmp_path):
    server = NuboProcess(tmp_path).start()
    try:
        ddb = client_of(server)
        params = key_schema(("pk", "S"), ("sk", "N"))
        params["AttributeDefinitions"].append({"AttributeName": "status", "AttributeType": "S"})
        ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST", **params,
                         StreamSpecification={"StreamEnabled": True,
                                              "StreamViewType": "KEYS_ONLY"},
                         GlobalSecondaryIndexes=[{
                             "IndexName": "by_status", "Projection": {"ProjectionType": "ALL"},
                             "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}]}])
        for i in range(5):
            ddb.put_item(TableName="orders", Item={"pk": {"S": "c1"}, "sk": {"N": str(i)},
                                                   "status": {"S": "open"}})
        ddb.update_item(TableName="orders", Key={"pk": {"S": "c1"}, "sk": {"N": "2"}},
                        UpdateExpression="SET #s = :closed",
                        ExpressionAttributeNames={"#s": "status"},
                        ExpressionAttributeValues={":closed": {"S": "closed"}})
        server.kill()

        server.start()
        ddb = client_of(server)
        described = ddb.describe_table(TableName="orders")["Table"]
        assert described["ItemCount"] == 5
        items = ddb.query(TableName="orders", KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "c1"}})["Items"]
        assert [i["sk"]["N"] for i in items] == ["0", "1", "2", "3", "4"]
        closed = ddb.query(TableName="orders", IndexName="by_status",
                           KeyConditionExpression="#s = :c",
                           ExpressionAttributeNames={"#s": "status"},
                           ExpressionAttributeValues={":c": {"S": "closed"}})["Items"]
        assert [i["sk"]["N"] for i in closed] == ["2"]
        streams = connector(server)("dynamodbstreams", ACCESS_KEY, SECRET_KEY)
        arn = described["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        events = [r["eventName"] for r in streams.get_records(ShardIterator=iterator)["Records"]]
        assert events == ["INSERT"] * 5 + ["MODIFY"]
    finally:
        server.stop()
