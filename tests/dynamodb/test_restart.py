"""DynamoDB state across kill -9 and a restart of the same data directory."""

from __future__ import annotations

import time

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


def test_background_jobs_resume_after_kill_9(tmp_path):
    """A backup, a restore, an export and an incremental export cut short by kill -9 finish
    after the restart."""
    server = NuboProcess(tmp_path).start()
    try:
        ddb = client_of(server)
        ddb.create_table(TableName="big", BillingMode="PAY_PER_REQUEST",
                         **key_schema(("pk", "S")))
        for start in range(0, 2000, 25):
            ddb.batch_write_item(RequestItems={"big": [
                {"PutRequest": {"Item": {"pk": {"S": f"k{n}"}}}}
                for n in range(start, start + 25)]})
        ddb.update_continuous_backups(TableName="big", PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
        ddb.create_table(TableName="changes", BillingMode="PAY_PER_REQUEST",
                         **key_schema(("pk", "S")))
        ddb.update_continuous_backups(TableName="changes", PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})
        start = int(ddb.describe_continuous_backups(TableName="changes")[
            "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "LatestRestorableDateTime"].timestamp()) + 1
        server.advance_clock(2)
        for first in range(0, 1500, 25):  # the incremental export's window
            ddb.batch_write_item(RequestItems={"changes": [
                {"PutRequest": {"Item": {"pk": {"S": f"c{n}"}}}}
                for n in range(first, first + 25)]})
        server.advance_clock(1000)
        s3 = connector(server)("s3", ACCESS_KEY, SECRET_KEY)
        s3.create_bucket(Bucket="exports")
        backup = ddb.create_backup(TableName="big", BackupName="nightly")["BackupDetails"][
            "BackupArn"]
        ddb.restore_table_to_point_in_time(SourceTableName="big", TargetTableName="copy",
                                           UseLatestRestorableTime=True)
        arn = ddb.describe_table(TableName="big")["Table"]["TableArn"]
        export = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports")[
            "ExportDescription"]["ExportArn"]
        changes = ddb.export_table_to_point_in_time(
            TableArn=arn.replace("table/big", "table/changes"), S3Bucket="exports",
            ExportType="INCREMENTAL_EXPORT", IncrementalExportSpecification={
                "ExportFromTime": start, "ExportToTime": start + 990})["ExportDescription"][
            "ExportArn"]
        server.kill()

        server.start()
        ddb = client_of(server)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = (ddb.describe_backup(BackupArn=backup)["BackupDescription"][
                          "BackupDetails"]["BackupStatus"],
                      ddb.describe_table(TableName="copy")["Table"]["TableStatus"],
                      ddb.describe_export(ExportArn=export)["ExportDescription"]["ExportStatus"],
                      ddb.describe_export(ExportArn=changes)["ExportDescription"][
                          "ExportStatus"])
            if states == ("AVAILABLE", "ACTIVE", "COMPLETED", "COMPLETED"):
                break
            time.sleep(0.1)
        assert states == ("AVAILABLE", "ACTIVE", "COMPLETED", "COMPLETED")
        assert ddb.describe_export(ExportArn=changes)["ExportDescription"]["ItemCount"] == 1500
        assert ddb.describe_table(TableName="copy")["Table"]["ItemCount"] == 2000
        assert ddb.describe_export(ExportArn=export)["ExportDescription"]["ItemCount"] == 2000
        ddb.restore_table_from_backup(TargetTableName="from-backup", BackupArn=backup)
        while ddb.describe_table(TableName="from-backup")["Table"]["TableStatus"] != "ACTIVE":
            time.sleep(0.05)
        assert ddb.describe_table(TableName="from-backup")["Table"]["ItemCount"] == 2000
    finally:
        server.stop()
