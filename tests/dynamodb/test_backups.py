"""On-demand backups and restores, point-in-time recovery settings, resource policies and
Kinesis streaming destination settings."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import error_of, unique, validation_error, wait_active


def wait_available(ddb, arn: str) -> dict:
    for _ in range(1000):  # the rows are copied in the background
        details = ddb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]
        if details["BackupStatus"] != "CREATING":
            return details
        time.sleep(0.02)
    return details


def test_backup_and_restore(ddb, make_table):
    source = make_table(range_key=("sk", "N"),
                        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                        GlobalSecondaryIndexes=[{
                            "IndexName": "by_g", "Projection": {"ProjectionType": "ALL"},
                            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}])
    for i in range(5):
        ddb.put_item(TableName=source, Item={"pk": {"S": "p"}, "sk": {"N": str(i)},
                                             "g": {"S": "even" if i % 2 == 0 else "odd"}})
    details = ddb.create_backup(TableName=source, BackupName="nightly")["BackupDetails"]
    assert details["BackupStatus"] == "CREATING" and details["BackupName"] == "nightly"
    arn = details["BackupArn"]
    assert wait_available(ddb, arn)["BackupStatus"] == "AVAILABLE"
    assert arn.startswith(ddb.describe_table(TableName=source)["Table"]["TableArn"] + "/backup/")
    ddb.put_item(TableName=source, Item={"pk": {"S": "p"}, "sk": {"N": "99"}})  # after backup

    described = ddb.describe_backup(BackupArn=arn)["BackupDescription"]
    assert described["SourceTableDetails"]["ItemCount"] == 5
    assert described["SourceTableFeatureDetails"]["GlobalSecondaryIndexes"][0]["IndexName"] == \
        "by_g"
    summaries = ddb.list_backups(TableName=source)["BackupSummaries"]
    assert [s["BackupArn"] for s in summaries] == [arn]
    created = details["BackupCreationDateTime"].timestamp()

    def listed(**bounds) -> list[str]:
        return [s["BackupArn"] for s in ddb.list_backups(TableName=source, **bounds)[
            "BackupSummaries"]]

    assert listed(TimeRangeLowerBound=created - 1, TimeRangeUpperBound=created + 1) == [arn]
    assert listed(TimeRangeLowerBound=created + 1) == []  # lower inclusive, upper exclusive
    assert listed(TimeRangeUpperBound=created - 1) == []
    assert listed(BackupType="ALL") == [arn] and listed(BackupType="SYSTEM") == []
    with pytest.raises(ClientError) as excinfo:
        listed(TimeRangeLowerBound=created + 1, TimeRangeUpperBound=created - 1)
    assert validation_error(excinfo) == ("One or more parameter values were invalid: Time range "
                                         "lower bound must be less than or equal to upper bound")

    target = unique("restored")
    restored = ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)[
        "TableDescription"]
    try:
        assert restored["RestoreSummary"]["SourceBackupArn"] == arn
        assert restored["TableStatus"] == "CREATING"
        assert restored["RestoreSummary"]["RestoreInProgress"] is True
        active = wait_active(ddb, target)
        assert active["TableStatus"] == "ACTIVE"
        assert active["RestoreSummary"]["RestoreInProgress"] is False
        items = ddb.query(TableName=target, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "p"}})["Items"]
        assert [i["sk"]["N"] for i in items] == ["0", "1", "2", "3", "4"]
        evens = ddb.query(TableName=target, IndexName="by_g", KeyConditionExpression="g = :g",
                          ExpressionAttributeValues={":g": {"S": "even"}})["Items"]
        assert len(evens) == 3
        assert ddb.describe_table(TableName=target)["Table"]["ItemCount"] == 5
        with pytest.raises(ClientError) as excinfo:
            ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)
        assert error_of(excinfo) == ("TableAlreadyExistsException",
                                     f"Table already exists: {target}", 400)
    finally:
        ddb.delete_table(TableName=target)
    deleted = ddb.delete_backup(BackupArn=arn)["BackupDescription"]
    assert deleted["BackupDetails"]["BackupStatus"] == "DELETED"
    with pytest.raises(ClientError) as excinfo:
        ddb.describe_backup(BackupArn=arn)
    assert error_of(excinfo)[:2] == ("BackupNotFoundException",
                                     f"Backup not found for the given BackupARN: {arn}")


def test_point_in_time_recovery_settings(ddb, table):
    described = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert described == {"ContinuousBackupsStatus": "ENABLED",
                         "PointInTimeRecoveryDescription": {
                             "PointInTimeRecoveryStatus": "DISABLED"}}
    updated = ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7})
    recovery = updated["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    assert recovery["RecoveryPeriodInDays"] == 7
    assert recovery["EarliestRestorableDateTime"] <= recovery["LatestRestorableDateTime"]
    with pytest.raises(ClientError) as excinfo:
        ddb.describe_continuous_backups(TableName=unique("missing"))
    assert error_of(excinfo)[0] == "TableNotFoundException"


def test_resource_policy(ddb, table):
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    with pytest.raises(ClientError) as excinfo:
        ddb.get_resource_policy(ResourceArn=arn)
    assert error_of(excinfo)[0] == "PolicyNotFoundException"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "dynamodb:GetItem", "Resource": arn}]})
    revision = ddb.put_resource_policy(ResourceArn=arn, Policy=policy)["RevisionId"]
    got = ddb.get_resource_policy(ResourceArn=arn)
    assert (json.loads(got["Policy"]), got["RevisionId"]) == (json.loads(policy), revision)
    assert ddb.delete_resource_policy(ResourceArn=arn)["RevisionId"] == revision
    with pytest.raises(ClientError):
        ddb.get_resource_policy(ResourceArn=arn)


def test_a_stream_has_its_own_resource_policy(ddb, make_table):
    name = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    described = ddb.describe_table(TableName=name)["Table"]
    arn, stream_arn = described["TableArn"], described["LatestStreamArn"]

    def policy(resource: str) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "dynamodb:GetRecords" if "/stream/" in resource else "dynamodb:GetItem",
            "Resource": resource}]})

    table_revision = ddb.put_resource_policy(ResourceArn=arn, Policy=policy(arn))["RevisionId"]
    stream_revision = ddb.put_resource_policy(ResourceArn=stream_arn,
                                              Policy=policy(stream_arn))["RevisionId"]
    assert json.loads(ddb.get_resource_policy(ResourceArn=stream_arn)["Policy"]) == \
        json.loads(policy(stream_arn))
    assert ddb.get_resource_policy(ResourceArn=arn)["RevisionId"] == table_revision
    assert ddb.delete_resource_policy(ResourceArn=stream_arn)["RevisionId"] == stream_revision
    assert json.loads(ddb.get_resource_policy(ResourceArn=arn)["Policy"]) == \
        json.loads(policy(arn))
    with pytest.raises(ClientError) as excinfo:
        ddb.get_resource_policy(ResourceArn=stream_arn)
    assert error_of(excinfo)[:2] == ("PolicyNotFoundException", "Resource-based policy not "
                                     f"found for the provided ResourceArn: {stream_arn}")


@pytest.mark.parametrize("resource, message", [
    ("table/x", "ARNs must start with 'arn:': table/x"),
    ("arn:aws:sqs:us-east-1:000000000000:queue",
     "Provided Arn is not a DynamoDB resource arn: arn:aws:sqs:us-east-1:000000000000:queue"),
    ("arn:aws:dynamodb:us-east-1:000000000000:table/x/index/i",
     "Invalid resource arn provided, only table or stream is accepted. Provided resource arn: "
     "arn:aws:dynamodb:us-east-1:000000000000:table/x/index/i"),
])
def test_resource_arns_refused_as_aws_refuses_them(ddb, resource, message):
    for call in (lambda: ddb.list_tags_of_resource(ResourceArn=resource),
                 lambda: ddb.get_resource_policy(ResourceArn=resource)):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert validation_error(excinfo) == f"One or more parameter values were invalid: {message}"


def test_kinesis_streaming_destination_settings(ddb, table):
    stream = "arn:aws:kinesis:us-east-1:000000000000:stream/changes"
    enabled = ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=stream)
    assert enabled["DestinationStatus"] == "ENABLING"
    [destination] = ddb.describe_kinesis_streaming_destination(TableName=table)[
        "KinesisDataStreamDestinations"]
    assert (destination["StreamArn"], destination["DestinationStatus"]) == (stream, "ACTIVE")
    updated = ddb.update_kinesis_streaming_destination(
        TableName=table, StreamArn=stream,
        UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"})
    assert (updated["DestinationStatus"], updated["UpdateKinesisStreamingConfiguration"]) == (
        "UPDATING", {"ApproximateCreationDateTimePrecision": "MICROSECOND"})
    [destination] = ddb.describe_kinesis_streaming_destination(TableName=table)[
        "KinesisDataStreamDestinations"]
    assert (destination["DestinationStatus"],
            destination["ApproximateCreationDateTimePrecision"]) == ("ACTIVE", "MICROSECOND")
    table_id = ddb.describe_table(TableName=table)["Table"]["TableId"]

    def refused(arn: str, configuration: dict | None) -> str:
        params = {"UpdateKinesisStreamingConfiguration": configuration} if configuration else {}
        with pytest.raises(ClientError) as excinfo:
            ddb.update_kinesis_streaming_destination(TableName=table, StreamArn=arn, **params)
        return validation_error(excinfo)

    micro = {"ApproximateCreationDateTimePrecision": "MICROSECOND"}
    assert refused(stream, micro) == (
        "Invalid Request: Precision is already set to the desired value of MICROSECOND for "
        f"tableId: {table_id}, kdsArn: {stream}")
    assert refused(stream, None) == (
        "Streaming destination cannot be updated with given parameters: "
        "UpdateKinesisStreamingConfiguration cannot be null or contain only null values")
    other = stream + "-other"
    assert refused(other, micro) == (
        "Table is not in a valid state to enable Kinesis Streaming Destination: Kinesis "
        "streaming is not in ACTIVE state. Updates are only allowed in ACTIVE state. "
        f"TableName: {table}, kdsArn: {other}")
    assert ddb.disable_kinesis_streaming_destination(TableName=table, StreamArn=stream)[
        "DestinationStatus"] == "DISABLING"


def test_restore_to_latest_point_in_time(ddb, make_table):
    source = make_table()
    ddb.put_item(TableName=source, Item={"pk": {"S": "kept"}})
    target = unique("pitr")
    with pytest.raises(ClientError) as excinfo:
        ddb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=target,
                                           UseLatestRestorableTime=True)
    assert error_of(excinfo) == ("PointInTimeRecoveryUnavailableException",
                                 f"Point in time recovery is not enabled for table '{source}'",
                                 400)
    ddb.update_continuous_backups(TableName=source, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    restored = ddb.restore_table_to_point_in_time(
        SourceTableName=source, TargetTableName=target, UseLatestRestorableTime=True)
    try:
        assert restored["TableDescription"]["RestoreSummary"]["SourceTableArn"].endswith(source)
        wait_active(ddb, target)
        assert ddb.get_item(TableName=target, Key={"pk": {"S": "kept"}})["Item"] == {
            "pk": {"S": "kept"}}
    finally:
        ddb.delete_table(TableName=target)
    with pytest.raises(ClientError) as excinfo:
        ddb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=unique(),
                                           RestoreDateTime=1_700_000_000)
    assert error_of(excinfo)[0] == "InvalidRestoreTimeException"


def test_restore_to_an_earlier_point_in_time(ddb, make_table, nubo_server):
    source = make_table(range_key=("sk", "N"),
                        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                        GlobalSecondaryIndexes=[{
                            "IndexName": "by_g", "Projection": {"ProjectionType": "ALL"},
                            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}])
    ddb.put_item(TableName=source, Item={"pk": {"S": "before"}, "sk": {"N": "0"}})
    ddb.update_continuous_backups(TableName=source, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    for i in range(3):
        ddb.put_item(TableName=source, Item={"pk": {"S": "p"}, "sk": {"N": str(i)},
                                             "v": {"N": "1"}, "g": {"S": "x"}})
    nubo_server.advance_clock(10)
    moment = ddb.describe_continuous_backups(TableName=source)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["LatestRestorableDateTime"]
    nubo_server.advance_clock(10)
    ddb.update_item(TableName=source, Key={"pk": {"S": "p"}, "sk": {"N": "0"}},
                    UpdateExpression="SET v = :two, g = :y",
                    ExpressionAttributeValues={":two": {"N": "2"}, ":y": {"S": "y"}})
    ddb.delete_item(TableName=source, Key={"pk": {"S": "p"}, "sk": {"N": "1"}})
    ddb.delete_item(TableName=source, Key={"pk": {"S": "before"}, "sk": {"N": "0"}})
    ddb.put_item(TableName=source, Item={"pk": {"S": "p"}, "sk": {"N": "9"}})
    target = unique("pitr")
    ddb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=target,
                                       RestoreDateTime=moment)
    try:
        wait_active(ddb, target)
        items = ddb.scan(TableName=target)["Items"]
        assert sorted((i["pk"]["S"], i["sk"]["N"], i.get("v", {}).get("N")) for i in items) == [
            ("before", "0", None), ("p", "0", "1"), ("p", "1", "1"), ("p", "2", "1")]
        by_g = ddb.query(TableName=target, IndexName="by_g", KeyConditionExpression="g = :x",
                         ExpressionAttributeValues={":x": {"S": "x"}})["Items"]
        assert len(by_g) == 3
        assert ddb.describe_table(TableName=target)["Table"]["ItemCount"] == 4
    finally:
        ddb.delete_table(TableName=target)


def test_contributor_insights_settings(ddb, make_table):
    name = make_table(range_key=("sk", "N"))
    assert ddb.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == \
        "DISABLED"
    updated = ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="ENABLE")
    assert updated["ContributorInsightsStatus"] == "ENABLING"
    described = ddb.describe_contributor_insights(TableName=name)
    assert described["ContributorInsightsStatus"] == "ENABLED"
    assert [rule.split("-")[1] for rule in described["ContributorInsightsRuleList"]] == [
        "PKC", "PKT", "SKC", "SKT"]
    summaries = ddb.list_contributor_insights(TableName=name)["ContributorInsightsSummaries"]
    assert summaries == [{"TableName": name, "ContributorInsightsStatus": "ENABLED",
                          "ContributorInsightsMode": "ACCESSED_AND_THROTTLED_KEYS"}]
    ddb.update_contributor_insights(TableName=name, ContributorInsightsAction="DISABLE")
    assert ddb.describe_contributor_insights(TableName=name)["ContributorInsightsStatus"] == \
        "DISABLED"


def test_restore_is_the_source_as_asked_whatever_is_written_meanwhile(ddb, make_table):
    source = make_table()
    ddb.update_continuous_backups(TableName=source, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    for start in range(0, 600, 25):  # several chunks of the background copy
        ddb.batch_write_item(RequestItems={source: [
            {"PutRequest": {"Item": {"pk": {"S": f"k{n}"}, "v": {"N": str(n)}}}}
            for n in range(start, start + 25)]})
    target = unique("latest")
    ddb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=target,
                                       UseLatestRestorableTime=True)
    try:
        for n in range(0, 600, 50):  # changes racing the copy
            ddb.put_item(TableName=source, Item={"pk": {"S": f"k{n}"}, "v": {"N": "-1"}})
            ddb.delete_item(TableName=source, Key={"pk": {"S": f"k{n + 1}"}})
        assert wait_active(ddb, target)["ItemCount"] == 600
        items = ddb.get_paginator("scan").paginate(TableName=target).build_full_result()["Items"]
        assert {i["pk"]["S"]: i["v"]["N"] for i in items} == {f"k{n}": str(n) for n in range(600)}
    finally:
        ddb.delete_table(TableName=target)


def test_backup_is_the_table_as_asked_whatever_is_written_meanwhile(ddb, make_table):
    source = make_table()  # no point-in-time recovery: the backup keeps its own before-images
    for start in range(0, 600, 25):
        ddb.batch_write_item(RequestItems={source: [
            {"PutRequest": {"Item": {"pk": {"S": f"k{n}"}, "v": {"N": str(n)}}}}
            for n in range(start, start + 25)]})
    arn = ddb.create_backup(TableName=source, BackupName="racing")["BackupDetails"]["BackupArn"]
    for n in range(0, 600, 50):
        ddb.put_item(TableName=source, Item={"pk": {"S": f"k{n}"}, "v": {"N": "-1"}})
        ddb.delete_item(TableName=source, Key={"pk": {"S": f"k{n + 1}"}})
        ddb.put_item(TableName=source, Item={"pk": {"S": f"new{n}"}})
    assert wait_available(ddb, arn)["BackupStatus"] == "AVAILABLE"
    target = unique("from-backup")
    ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)
    try:
        assert wait_active(ddb, target)["ItemCount"] == 600
        items = ddb.get_paginator("scan").paginate(TableName=target).build_full_result()["Items"]
        assert {i["pk"]["S"]: i["v"]["N"] for i in items} == {f"k{n}": str(n) for n in range(600)}
    finally:
        ddb.delete_table(TableName=target)
    ddb.delete_backup(BackupArn=arn)


def test_a_backup_survives_its_table_being_deleted(ddb, make_table):
    source = make_table()
    ddb.batch_write_item(RequestItems={source: [
        {"PutRequest": {"Item": {"pk": {"S": f"k{n}"}}}} for n in range(20)]})
    arn = ddb.create_backup(TableName=source, BackupName="last")["BackupDetails"]["BackupArn"]
    ddb.delete_table(TableName=source)
    assert wait_available(ddb, arn)["BackupStatus"] == "AVAILABLE"
    target = unique("after-delete")
    ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)
    try:
        assert wait_active(ddb, target)["ItemCount"] == 20
    finally:
        ddb.delete_table(TableName=target)
    ddb.delete_backup(BackupArn=arn)
