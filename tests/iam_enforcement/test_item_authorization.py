"""Requests authorized per item or on more than the resource they name, with IAM enforced:
S3 DeleteObjects object by object, DynamoDB restores on their target table, and bucket
policies naming a CanonicalUser."""

from __future__ import annotations

import json
import time

from tests.iam_enforcement.test_enforcement import allow, error_of, new_user

ACCOUNT = "000000000000"
OTHER = "111111111111"
THIRD = "222222222222"
REGION = "us-east-1"
RESTORE_WRITES = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                  "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan",
                  "dynamodb:BatchWriteItem"]


def versions_of(s3, bucket: str) -> set[tuple[str, str]]:
    listed = s3.list_object_versions(Bucket=bucket)
    return {(v["Key"], v["VersionId"]) for v in listed.get("Versions", [])}


def test_delete_objects_authorizes_each_object(iam, connect):
    s3 = connect("s3")
    bucket = "per-object-deletes"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = {key: s3.put_object(Bucket=bucket, Key=key, Body=b"x")["VersionId"]
           for key in ("logs/a", "logs/b", "data/c")}
    # s3:DeleteObject on logs/* only: no version may be deleted, nothing outside logs/.
    user = new_user(iam, connect, "deleter", allow("s3:DeleteObject",
                                                   f"arn:aws:s3:::{bucket}/logs/*"))("s3")
    result = user.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "logs/a"}, {"Key": "logs/b", "VersionId": ids["logs/b"]}, {"Key": "data/c"}]})
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [(d["Key"], d.get("DeleteMarker")) for d in result["Deleted"]] == [("logs/a", True)]
    assert sorted((e["Key"], e.get("VersionId"), e["Code"], e["Message"])
                  for e in result["Errors"]) == [
        ("data/c", None, "AccessDenied", "Access Denied"),
        ("logs/b", ids["logs/b"], "AccessDenied", "Access Denied")]
    assert versions_of(s3, bucket) == {(key, version) for key, version in ids.items()}
    # s3:DeleteObjectVersion deletes named versions, and quiet results still list the denials.
    iam.put_user_policy(UserName="deleter", PolicyName="versions", PolicyDocument=json.dumps(
        allow("s3:DeleteObjectVersion", f"arn:aws:s3:::{bucket}/logs/*")))
    result = user.delete_objects(Bucket=bucket, Delete={"Quiet": True, "Objects": [
        {"Key": "logs/b", "VersionId": ids["logs/b"]},
        {"Key": "data/c", "VersionId": ids["data/c"]}]})
    assert "Deleted" not in result
    assert [(e["Key"], e["VersionId"], e["Code"]) for e in result["Errors"]] == [
        ("data/c", ids["data/c"], "AccessDenied")]
    assert versions_of(s3, bucket) == {("logs/a", ids["logs/a"]), ("data/c", ids["data/c"])}


def test_delete_objects_with_nothing_allowed_answers_per_key_errors(iam, connect):
    s3 = connect("s3")
    s3.create_bucket(Bucket="no-deletes")
    s3.put_object(Bucket="no-deletes", Key="k", Body=b"x")
    user = new_user(iam, connect, "nodelete")("s3")
    result = user.delete_objects(Bucket="no-deletes", Delete={"Objects": [{"Key": "k"}]})
    assert result["Errors"] == [{"Key": "k", "Code": "AccessDenied", "Message": "Access Denied"}]
    assert s3.get_object(Bucket="no-deletes", Key="k")["Body"].read() == b"x"
    # A bucket policy's Deny applies object by object as well, even to the owner's root.
    s3.put_bucket_policy(Bucket="no-deletes", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
            "Resource": "arn:aws:s3:::no-deletes/k"}]}))
    s3.put_object(Bucket="no-deletes", Key="other", Body=b"y")
    result = s3.delete_objects(Bucket="no-deletes", Delete={"Objects": [
        {"Key": "k"}, {"Key": "other"}]})
    assert [d["Key"] for d in result["Deleted"]] == ["other"]
    assert [e["Key"] for e in result["Errors"]] == ["k"]


def test_restore_from_backup_needs_writes_on_the_target_table(iam, connect):
    dynamodb = connect("dynamodb")
    dynamodb.create_table(TableName="restore-src", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    dynamodb.put_item(TableName="restore-src", Item={"id": {"S": "1"}})
    backup = dynamodb.create_backup(TableName="restore-src",
                                    BackupName="first")["BackupDetails"]["BackupArn"]
    for _ in range(100):  # a backup copies its table in the background
        if dynamodb.describe_backup(BackupArn=backup)["BackupDescription"]["BackupDetails"][
                "BackupStatus"] == "AVAILABLE":
            break
        time.sleep(0.05)
    target = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/restored"
    user = new_user(iam, connect, "restorer", allow("dynamodb:RestoreTableFromBackup", backup))
    code, message = error_of(lambda: user("dynamodb").restore_table_from_backup(
        TargetTableName="restored", BackupArn=backup))
    assert code == "AccessDeniedException"
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/restorer is not authorized to "
                       f"perform: dynamodb:PutItem on resource: {target} because no "
                       "identity-based policy allows the dynamodb:PutItem action")
    # Every write AWS lists is needed: all but BatchWriteItem still fails on that one.
    iam.put_user_policy(UserName="restorer", PolicyName="writes", PolicyDocument=json.dumps(
        allow(RESTORE_WRITES[:-1], target)))
    code, message = error_of(lambda: user("dynamodb").restore_table_from_backup(
        TargetTableName="restored", BackupArn=backup))
    assert f"perform: dynamodb:BatchWriteItem on resource: {target} " in message
    iam.put_user_policy(UserName="restorer", PolicyName="writes", PolicyDocument=json.dumps(
        allow(RESTORE_WRITES, target)))
    restored = user("dynamodb").restore_table_from_backup(TargetTableName="restored",
                                                          BackupArn=backup)
    assert restored["TableDescription"]["TableName"] == "restored"
    # ... and the restore action itself is on the backup, not on "*".
    code, message = error_of(lambda: new_user(iam, connect, "writer-only", allow(
        RESTORE_WRITES, f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/*"))(
        "dynamodb").restore_table_from_backup(TargetTableName="restored2", BackupArn=backup))
    assert f"perform: dynamodb:RestoreTableFromBackup on resource: {backup} " in message


def test_restore_to_point_in_time_on_source_and_target(iam, connect):
    dynamodb = connect("dynamodb")
    dynamodb.create_table(TableName="pitr-src", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    dynamodb.update_continuous_backups(
        TableName="pitr-src",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    source = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/pitr-src"
    target = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/pitr-copy"
    user = new_user(iam, connect, "pitr", allow(RESTORE_WRITES, target))("dynamodb")
    code, message = error_of(lambda: user.restore_table_to_point_in_time(
        SourceTableName="pitr-src", TargetTableName="pitr-copy", UseLatestRestorableTime=True))
    assert f"perform: dynamodb:RestoreTableToPointInTime on resource: {source} " in message
    iam.put_user_policy(UserName="pitr", PolicyName="restore", PolicyDocument=json.dumps(
        allow("dynamodb:RestoreTableToPointInTime", source)))
    restored = user.restore_table_to_point_in_time(
        SourceTableArn=source, TargetTableName="pitr-copy", UseLatestRestorableTime=True)
    assert restored["TableDescription"]["TableArn"] == target
    code, message = error_of(lambda: user.restore_table_to_point_in_time(
        SourceTableName="pitr-src", TargetTableName="pitr-other", UseLatestRestorableTime=True))
    assert f"perform: dynamodb:PutItem on resource: {target[:-4]}other " in message


def test_bucket_policy_names_a_canonical_user(connect):
    s3 = connect("s3")
    other_id = connect("s3", OTHER, "test").list_buckets()["Owner"]["ID"]
    assert len(other_id) == 64 and other_id != s3.list_buckets()["Owner"]["ID"]
    s3.create_bucket(Bucket="canonical-share")
    s3.put_object(Bucket="canonical-share", Key="shared.txt", Body=b"shared")
    s3.put_bucket_policy(Bucket="canonical-share", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"CanonicalUser": other_id},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::canonical-share/*"}]}))
    partner = connect("s3", OTHER, "test")
    assert partner.get_object(Bucket="canonical-share",
                              Key="shared.txt")["Body"].read() == b"shared"
    code, message = error_of(lambda: connect("s3", THIRD, "test").get_object(
        Bucket="canonical-share", Key="shared.txt"))
    assert code == "AccessDenied" and message.startswith(
        f"User: arn:aws:iam::{THIRD}:root is not authorized to perform: s3:GetObject")
    # The canonical id grants nothing beyond what the statement names.
    assert error_of(lambda: partner.put_object(Bucket="canonical-share", Key="new",
                                               Body=b"x"))[0] == "AccessDenied"
