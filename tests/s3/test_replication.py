"""Bucket replication: PutBucketReplication's checks (versioning on both sides, destination,
V2 schema), new versions and delete markers copied to the destination bucket in-process
(same version id, ReplicationStatus COMPLETED on the source and REPLICA on the copy), metadata
changes, SSE-KMS selection and ownership translation."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of
from tests.s3.conftest import empty_and_delete, unique

ROLE = "arn:aws:iam::000000000000:role/replication"


@pytest.fixture
def destination(s3):
    name = unique("replica")
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


def _rule(destination, **extra):
    return {"ID": extra.pop("ID", "all"), "Status": "Enabled", "Priority": 1, "Filter": {},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{destination}"}, **extra}


def test_replication_configuration_checks(s3, bucket, destination):
    def refused(config):
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=config)
        return error_of(caught)

    config = {"Role": ROLE, "Rules": [_rule(destination)]}
    assert refused(config) == ("InvalidRequest", "Versioning must be 'Enabled' on the bucket to "
                               "apply a replication configuration", 400)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert refused(config) == ("InvalidRequest",
                               "Destination bucket must have versioning enabled.", 400)
    assert refused({"Role": ROLE, "Rules": [_rule("no-such-bucket-nubo-x")]})[0:2] == (
        "InvalidRequest", "Destination bucket must exist.")
    s3.put_bucket_versioning(Bucket=destination,
                             VersioningConfiguration={"Status": "Enabled"})
    no_markers = _rule(destination)
    del no_markers["DeleteMarkerReplication"]
    assert refused({"Role": ROLE, "Rules": [no_markers]})[1] == (
        "DeleteMarkerReplication must be specified for this version of Cross Region "
        "Replication configuration schema.")
    second = _rule(destination, ID="second", Filter={"Prefix": "a/"})
    del second["Priority"]
    assert refused({"Role": ROLE, "Rules": [_rule(destination), second]})[1] == (
        "Priority must be specified for this version of Cross Region Replication "
        "configuration schema.")
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=config)
    stored = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    assert stored["Role"] == ROLE and stored["Rules"][0]["ID"] == "all"
    s3.delete_bucket_replication(Bucket=bucket)
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_replication(Bucket=bucket)
    assert error_of(caught)[0] == "ReplicationConfigurationNotFoundError"


def test_objects_and_markers_replicated(s3, bucket, destination):
    for name in (bucket, destination):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={"Role": ROLE, "Rules": [
        _rule(destination, Filter={"Prefix": "docs/"},
              Destination={"Bucket": f"arn:aws:s3:::{destination}",
                           "StorageClass": "STANDARD_IA"})]})
    put = s3.put_object(Bucket=bucket, Key="docs/a.txt", Body=b"replicate me",
                        ContentType="text/plain", Metadata={"color": "blue"},
                        Tagging="team=red")
    s3.put_object(Bucket=bucket, Key="other/b.txt", Body=b"stays")
    source = s3.head_object(Bucket=bucket, Key="docs/a.txt")
    assert source["ReplicationStatus"] == "COMPLETED"
    assert "ReplicationStatus" not in s3.head_object(Bucket=bucket, Key="other/b.txt")
    replica = s3.get_object(Bucket=destination, Key="docs/a.txt")
    assert replica["Body"].read() == b"replicate me"
    assert replica["VersionId"] == put["VersionId"] and replica["ETag"] == put["ETag"]
    assert replica["ReplicationStatus"] == "REPLICA"
    assert replica["ContentType"] == "text/plain" and replica["Metadata"] == {"color": "blue"}
    assert replica["StorageClass"] == "STANDARD_IA"
    assert s3.get_object_tagging(Bucket=destination, Key="docs/a.txt")["TagSet"] == [
        {"Key": "team", "Value": "red"}]
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=destination, Key="other/b.txt")
    assert error_of(caught)[2] == 404
    # multipart uploads and copies replicate too
    upload = s3.create_multipart_upload(Bucket=bucket, Key="docs/big")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="docs/big", UploadId=upload, PartNumber=1,
                          Body=b"m" * 1000)
    s3.complete_multipart_upload(Bucket=bucket, Key="docs/big", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1,
                                                             "ETag": part["ETag"]}]})
    s3.copy_object(Bucket=bucket, Key="docs/copy", CopySource={"Bucket": bucket,
                                                                "Key": "other/b.txt"})
    assert s3.get_object(Bucket=destination, Key="docs/big")["Body"].read() == b"m" * 1000
    assert s3.get_object(Bucket=destination, Key="docs/copy")["Body"].read() == b"stays"
    # a delete marker is replicated (the rule says so); a version delete is not
    marker = s3.delete_object(Bucket=bucket, Key="docs/a.txt")["VersionId"]
    versions = s3.list_object_versions(Bucket=destination, Prefix="docs/a.txt")
    assert [m["VersionId"] for m in versions["DeleteMarkers"]] == [marker]
    s3.delete_object(Bucket=bucket, Key="docs/a.txt", VersionId=put["VersionId"])
    versions = s3.list_object_versions(Bucket=destination, Prefix="docs/a.txt")
    assert [v["VersionId"] for v in versions["Versions"]] == [put["VersionId"]]


def test_failed_replication_status_and_event(s3, sqs, bucket, destination):
    for name in (bucket, destination):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={"Role": ROLE, "Rules": [
        _rule(destination, ID="to-replica")]})
    url = sqs.create_queue(QueueName=unique("replication"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    try:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:Replication:*"]}]})
        sqs.purge_queue(QueueUrl=url)  # the test event
        s3.put_bucket_versioning(Bucket=destination,
                                 VersioningConfiguration={"Status": "Suspended"})
        s3.put_object(Bucket=bucket, Key="k", Body=b"not replicated")
        assert s3.head_object(Bucket=bucket, Key="k")["ReplicationStatus"] == "FAILED"
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
        record = json.loads(messages[0]["Body"])["Records"][0]
        assert (record["eventName"], record["eventVersion"]) == (
            "Replication:OperationFailedReplication", "2.2")
        data = record["replicationEventData"]
        assert (data["replicationRuleId"], data["destinationBucket"], data["s3Operation"],
                data["failureReason"]) == ("to-replica", f"arn:aws:s3:::{destination}",
                                           "OBJECT_PUT", "DstBucketUnversioned")
        # a source with Object Lock replicates only to a destination with Object Lock
        s3.put_bucket_versioning(Bucket=destination,
                                 VersioningConfiguration={"Status": "Enabled"})
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled"})
        s3.put_object(Bucket=bucket, Key="locked", Body=b"not replicated either")
        assert s3.head_object(Bucket=bucket, Key="locked")["ReplicationStatus"] == "FAILED"
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
        reasons = [json.loads(m["Body"])["Records"][0]["replicationEventData"]["failureReason"]
                   for m in messages]
        assert "DstBucketObjectLockConfigMissing" in reasons
        s3.put_object_lock_configuration(Bucket=destination, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled"})
        s3.put_object(Bucket=bucket, Key="locked", Body=b"replicated")
        assert s3.head_object(Bucket=bucket, Key="locked")["ReplicationStatus"] == "COMPLETED"
        s3.delete_bucket_replication(Bucket=bucket)
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_metadata_changes_replicated(s3, bucket, destination):
    """Tag changes of a replicated version reach its replica; changes of a replica reach its
    source only under replica modification sync; delete markers only if the rule says so."""
    for name in (bucket, destination):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={"Role": ROLE, "Rules": [
        _rule(destination, DeleteMarkerReplication={"Status": "Disabled"})]})

    def back(status: str) -> None:
        s3.put_bucket_replication(Bucket=destination, ReplicationConfiguration={
            "Role": ROLE, "Rules": [_rule(bucket, SourceSelectionCriteria={
                "ReplicaModifications": {"Status": status}})]})

    def tags(name: str) -> dict:
        return {t["Key"]: t["Value"] for t in s3.get_object_tagging(
            Bucket=name, Key="k", VersionId=version)["TagSet"]}

    back("Disabled")
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"v1", Tagging="a=1")["VersionId"]
    assert s3.head_object(Bucket=destination, Key="k")["ReplicationStatus"] == "REPLICA"
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [
        {"Key": "a", "Value": "2"}]})
    assert tags(destination) == {"a": "2"}
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert tags(destination) == {}
    # a replica's own change stays there without replica modification sync
    s3.put_object_tagging(Bucket=destination, Key="k", Tagging={"TagSet": [
        {"Key": "on", "Value": "replica"}]})
    assert tags(bucket) == {}
    back("Enabled")
    s3.put_object_tagging(Bucket=destination, Key="k", Tagging={"TagSet": [
        {"Key": "synced", "Value": "back"}]})
    assert tags(bucket) == {"synced": "back"}
    # the replica is not replicated again (no chaining): the source keeps one version
    assert len(s3.list_object_versions(Bucket=bucket, Prefix="k")["Versions"]) == 1
    # DeleteMarkerReplication Disabled: the marker stays in the source
    s3.delete_object(Bucket=bucket, Key="k")
    assert "DeleteMarkers" not in s3.list_object_versions(Bucket=destination, Prefix="k")
    assert s3.get_object(Bucket=destination, Key="k")["Body"].read() == b"v1"


def test_sse_kms_versions_replicated_only_when_selected(s3, make_client, bucket, destination):
    """SSE-KMS objects are left alone unless the rule selects them (SseKmsEncryptedObjects),
    and then their replica is encrypted with the rule's ReplicaKmsKeyID."""
    kms = make_client("kms")
    source_key = kms.create_key()["KeyMetadata"]["Arn"]
    replica_key = kms.create_key()["KeyMetadata"]["Arn"]
    for name in (bucket, destination):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={"Role": ROLE, "Rules": [
        _rule(destination)]})
    s3.put_object(Bucket=bucket, Key="plain", Body=b"p")
    s3.put_object(Bucket=bucket, Key="kms", Body=b"k", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=source_key)
    assert s3.head_object(Bucket=destination, Key="plain")["ReplicationStatus"] == "REPLICA"
    assert "ReplicationStatus" not in s3.head_object(Bucket=bucket, Key="kms")
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=destination, Key="kms")
    assert error_of(caught)[2] == 404
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={"Role": ROLE, "Rules": [
        _rule(destination, SourceSelectionCriteria={"SseKmsEncryptedObjects": {
            "Status": "Enabled"}}, Destination={
            "Bucket": f"arn:aws:s3:::{destination}",
            "EncryptionConfiguration": {"ReplicaKmsKeyID": replica_key}})]})
    s3.put_object(Bucket=bucket, Key="kms", Body=b"k2", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=source_key)
    assert s3.head_object(Bucket=bucket, Key="kms")["ReplicationStatus"] == "COMPLETED"
    replica = s3.get_object(Bucket=destination, Key="kms")
    assert replica["Body"].read() == b"k2"
    assert (replica["ServerSideEncryption"], replica["SSEKMSKeyId"]) == ("aws:kms", replica_key)


def test_replica_owned_by_the_destination_account(s3, make_client, bucket):
    """AccessControlTranslation Owner=Destination: the replica in another account's bucket is
    that account's; without it, the source's owner keeps it."""
    other = make_client("s3", aws_access_key_id="111111111111", aws_secret_access_key="x")
    names = [unique("replica"), unique("replica")]
    for name in names:
        other.create_bucket(Bucket=name)
        other.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    try:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={"Role": ROLE,
                                                                          "Rules": [
            _rule(names[0], ID="translated", Priority=2, Destination={
                "Bucket": f"arn:aws:s3:::{names[0]}", "Account": "111111111111",
                "AccessControlTranslation": {"Owner": "Destination"}}),
            _rule(names[1], ID="kept", Priority=1)]})
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        destination_owner = other.get_bucket_acl(Bucket=names[0])["Owner"]["ID"]
        source_owner = s3.get_object_acl(Bucket=bucket, Key="k")["Owner"]["ID"]
        assert destination_owner != source_owner
        assert other.get_object_acl(Bucket=names[0], Key="k")["Owner"]["ID"] == \
            destination_owner
        assert other.get_object_acl(Bucket=names[1], Key="k")["Owner"]["ID"] == source_owner
        # the source's ACL changes reach the replica its owner kept, not the translated one
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [
            {"ObjectOwnership": "ObjectWriter"}]})
        reader = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
        s3.put_object_acl(Bucket=bucket, Key="k", GrantRead=f"id={reader}")
        assert len(other.get_object_acl(Bucket=names[1], Key="k")["Grants"]) == 1
        assert other.get_object_acl(Bucket=names[1], Key="k")["Grants"][0]["Grantee"].get(
            "ID") == reader
        assert other.get_object_acl(Bucket=names[0], Key="k")["Grants"][0]["Grantee"][
            "ID"] == destination_owner
    finally:
        for name in names:
            empty_and_delete(other, name)
