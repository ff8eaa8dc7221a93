"""Server-side encryption (SSE-S3, SSE-KMS, bucket defaults, SSE-C), archived storage classes
and RestoreObject, Object Lock retention and legal holds."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import client_config, error_of
from tests.s3.conftest import empty_and_delete, fetch, unique


def test_sse_kms_and_bucket_default(s3, bucket, make_client):
    kms = make_client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName=f"alias/{bucket}", TargetKeyId=key["KeyId"])
    put = s3.put_object(Bucket=bucket, Key="kms", Body=b"x", ServerSideEncryption="aws:kms",
                        SSEKMSKeyId=f"alias/{bucket}")
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"]) == ("aws:kms", key["Arn"])
    head = s3.head_object(Bucket=bucket, Key="kms")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key["Arn"])
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="kms", Body=b"x", ServerSideEncryption="aws:kms",
                      SSEKMSKeyId="alias/no-such-key-nubo")
    assert error_of(caught) == ("KMS.NotFoundException",
                                "Invalid keyId alias/no-such-key-nubo", 400)
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="kms", Body=b"x", ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=key["KeyId"])
    assert error_of(caught)[0::2] == ("KMS.DisabledException", 400)
    # reading needs the key too (S3 has KMS decrypt the object's data key); HEAD does not
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="kms")
    assert error_of(caught) == ("KMS.DisabledException", f"{key['Arn']} is disabled.", 400)
    assert s3.head_object(Bucket=bucket, Key="kms")["SSEKMSKeyId"] == key["Arn"]
    kms.enable_key(KeyId=key["KeyId"])
    assert s3.get_object(Bucket=bucket, Key="kms")["Body"].read() == b"x"
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="kms")
    assert error_of(caught) == ("KMS.KMSInvalidStateException",
                                f"{key['Arn']} is pending deletion.", 400)
    default = s3.put_object(Bucket=bucket, Key="default", Body=b"x")
    assert default["ServerSideEncryption"] == "AES256"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
         "BucketKeyEnabled": True}]})
    put = s3.put_object(Bucket=bucket, Key="by-default", Body=b"x")
    assert put["ServerSideEncryption"] == "aws:kms" and put["BucketKeyEnabled"] is True
    managed = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert put["SSEKMSKeyId"] == managed["Arn"] and managed["KeyManager"] == "AWS"


def test_sse_kms_encryption_context(s3, bucket):
    """x-amz-server-side-encryption-context (base64 JSON of strings) goes with SSE-KMS writes
    and is answered back; anything else is refused."""
    context = base64.b64encode(json.dumps({"project": "nubo"}).encode()).decode()
    put = s3.put_object(Bucket=bucket, Key="ctx", Body=b"x", ServerSideEncryption="aws:kms",
                        SSEKMSEncryptionContext=context)
    assert put["SSEKMSEncryptionContext"] == context
    copied = s3.copy_object(Bucket=bucket, Key="ctx-copy", CopySource={"Bucket": bucket,
                                                                       "Key": "ctx"},
                            ServerSideEncryption="aws:kms", SSEKMSEncryptionContext=context)
    assert copied["SSEKMSEncryptionContext"] == context
    upload = s3.create_multipart_upload(Bucket=bucket, Key="ctx-parts",
                                        ServerSideEncryption="aws:kms",
                                        SSEKMSEncryptionContext=context)
    assert upload["SSEKMSEncryptionContext"] == context
    s3.abort_multipart_upload(Bucket=bucket, Key="ctx-parts", UploadId=upload["UploadId"])
    for wrong in (base64.b64encode(b'{"n": 1}').decode(), "not base64!"):
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket=bucket, Key="bad", Body=b"x", ServerSideEncryption="aws:kms",
                          SSEKMSEncryptionContext=wrong)
        assert error_of(caught)[0::2] == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"x", SSEKMSEncryptionContext=context)
    assert error_of(caught)[0::2] == ("InvalidArgument", 400)


@pytest.mark.usefixtures("signing_at_server_time")
def test_sse_kms_needs_sigv4(make_client):
    """KMS takes only SigV4: a SigV2-signed or anonymous GET of an SSE-KMS object, or a SigV2
    write asking for SSE-KMS, is refused (InvalidArgument naming Authorization); the same
    object is readable with SigV4 and other objects with SigV2. (An account of its own: other
    tests block public access account-wide.)"""
    session = boto3.Session(aws_access_key_id="444455556666", aws_secret_access_key="test",
                            region_name="us-east-1")
    s3 = make_client("s3", session=session)
    bucket = unique("sigv4-kms")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="kms", Body=b"k", ServerSideEncryption="aws:kms")
    s3.put_object(Bucket=bucket, Key="plain", Body=b"p")
    s3.put_object(Bucket=bucket, Key="public-kms", Body=b"k", ServerSideEncryption="aws:kms")
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    v2 = make_client("s3", session=session,
                     config=client_config().merge(Config(signature_version="s3")))
    message = ("Requests specifying Server Side Encryption with AWS KMS managed keys require "
               "AWS Signature Version 4.")
    for call in (lambda: v2.get_object(Bucket=bucket, Key="kms"),
                 lambda: v2.put_object(Bucket=bucket, Key="new", Body=b"n",
                                       ServerSideEncryption="aws:kms")):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught) == ("InvalidArgument", message, 400)
        assert caught.value.response["Error"]["ArgumentName"] == "Authorization"
    assert v2.get_object(Bucket=bucket, Key="plain")["Body"].read() == b"p"
    presigned = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "kms"})
    status, _, body = fetch(presigned)
    assert status == 400 and b"<Code>InvalidArgument</Code>" in body
    status, _, body = fetch(f"{s3.meta.endpoint_url}/{bucket}/public-kms")  # anonymous
    assert status == 400 and message.encode() in body
    assert fetch(f"{s3.meta.endpoint_url}/{bucket}/plain")[0::2] == (200, b"p")
    assert s3.get_object(Bucket=bucket, Key="kms")["Body"].read() == b"k"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="new")  # the refused write stored nothing
    empty_and_delete(s3, bucket)


def test_sse_c(s3, bucket):
    key = os.urandom(32)
    sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"secret", **sse)
    md5 = base64.b64encode(hashlib.md5(key).digest()).decode()
    assert put["SSECustomerKeyMD5"] == md5 and "ServerSideEncryption" not in put
    assert s3.get_object(Bucket=bucket, Key="c", **sse)["Body"].read() == b"secret"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="c")
    assert error_of(caught) == ("InvalidRequest", "The object was stored using a form of Server "
                                "Side Encryption. The correct parameters must be provided to "
                                "retrieve the object.", 400)
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="c", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=os.urandom(32))
    assert error_of(caught)[0::2] == ("AccessDenied", 403)
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="c")
    assert error_of(caught)[2] == 400
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="plain", **sse)
    assert error_of(caught)[0::2] == ("InvalidRequest", 400)
    s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/c",
                   CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=key)
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == b"secret"


def test_archived_objects_need_a_restore(s3, bucket):
    s3.put_object(Bucket=bucket, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    head = s3.head_object(Bucket=bucket, Key="cold")
    assert head["StorageClass"] == "GLACIER" and "Restore" not in head
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="cold")
    assert error_of(caught) == ("InvalidObjectState", "The operation is not valid for the "
                                "object's storage class", 403)
    assert caught.value.response["Error"]["StorageClass"] == "GLACIER"
    started = s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={
        "Days": 2, "GlacierJobParameters": {"Tier": "Standard"}})
    assert started["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert 'ongoing-request="false"' in s3.head_object(Bucket=bucket, Key="cold")["Restore"]
    assert s3.get_object(Bucket=bucket, Key="cold")["Body"].read() == b"frozen"
    again = s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 3})
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    s3.put_object(Bucket=bucket, Key="warm", Body=b"x")
    with pytest.raises(ClientError) as caught:
        s3.restore_object(Bucket=bucket, Key="warm", RestoreRequest={"Days": 1})
    assert error_of(caught)[0::2] == ("InvalidObjectState", 403)
    # listings report restores when asked (OptionalObjectAttributes=RestoreStatus)
    s3.put_object(Bucket=bucket, Key="cold-too", Body=b"z", StorageClass="DEEP_ARCHIVE")
    for listing in (lambda **kw: s3.list_objects_v2(Bucket=bucket, **kw)["Contents"],
                    lambda **kw: s3.list_objects(Bucket=bucket, **kw)["Contents"],
                    lambda **kw: s3.list_object_versions(Bucket=bucket, **kw)["Versions"]):
        statuses = {entry["Key"]: entry.get("RestoreStatus")
                    for entry in listing(OptionalObjectAttributes=["RestoreStatus"])}
        assert statuses["cold"]["IsRestoreInProgress"] is False
        assert statuses["cold"]["RestoreExpiryDate"] > head["LastModified"]
        assert statuses["cold-too"] is None and statuses["warm"] is None
        assert all("RestoreStatus" not in entry for entry in listing())


def test_restore_expires(s3, bucket, nubo_server):
    s3.put_object(Bucket=bucket, Key="cold", Body=b"x", StorageClass="DEEP_ARCHIVE")
    s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 1})
    nubo_server.advance_clock(2 * 86_400)
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="cold")
    assert error_of(caught)[0] == "InvalidObjectState"


@pytest.fixture
def locked(s3, nubo_server):
    name = unique()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    yield name
    nubo_server.advance_clock(2 * 86_400)  # past every retention the tests set
    for version in s3.list_object_versions(Bucket=name).get("Versions", []):
        s3.put_object_legal_hold(Bucket=name, Key=version["Key"], VersionId=version["VersionId"],
                                 LegalHold={"Status": "OFF"})
        s3.delete_object(Bucket=name, Key=version["Key"], VersionId=version["VersionId"],
                         BypassGovernanceRetention=True)
    empty_and_delete(s3, name)


def test_object_lock(s3, locked, nubo_server):
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"][
        "ObjectLockEnabled"] == "Enabled"
    now = datetime.fromtimestamp(nubo_server.get("/_nubo/clock")["now"], timezone.utc)
    until = now + timedelta(days=1)  # by the server's clock, which other tests advance
    version = s3.put_object(Bucket=locked, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                            ObjectLockRetainUntilDate=until)["VersionId"]
    retention = s3.get_object_retention(Bucket=locked, Key="k")["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    with pytest.raises(ClientError) as caught:
        s3.delete_object(Bucket=locked, Key="k", VersionId=version)
    assert error_of(caught) == ("AccessDenied", "Access Denied because object protected by "
                                "object lock.", 403)
    # a delete without a version id only adds a marker
    assert s3.delete_object(Bucket=locked, Key="k")["DeleteMarker"] is True
    s3.delete_object(Bucket=locked, Key="k", VersionId=version, BypassGovernanceRetention=True)
    held = s3.put_object(Bucket=locked, Key="h", Body=b"x")["VersionId"]
    with pytest.raises(ClientError) as caught:
        s3.get_object_legal_hold(Bucket=locked, Key="h")
    assert error_of(caught)[0::2] == ("NoSuchObjectLockConfiguration", 404)
    s3.put_object_legal_hold(Bucket=locked, Key="h", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=locked, Key="h")["LegalHold"]["Status"] == "ON"
    with pytest.raises(ClientError) as caught:
        s3.delete_object(Bucket=locked, Key="h", VersionId=held, BypassGovernanceRetention=True)
    assert error_of(caught)[0::2] == ("AccessDenied", 403)
    compliance = s3.put_object(Bucket=locked, Key="c", Body=b"x", ObjectLockMode="COMPLIANCE",
                               ObjectLockRetainUntilDate=until)["VersionId"]
    with pytest.raises(ClientError) as caught:
        s3.put_object_retention(Bucket=locked, Key="c", VersionId=compliance, Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": until}, BypassGovernanceRetention=True)
    assert error_of(caught)[0::2] == ("AccessDenied", 403)


def test_lock_needs_a_lock_bucket(s3, bucket):
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert error_of(caught) == ("InvalidRequest", "Bucket is missing Object Lock Configuration",
                                400)


def test_versioning_stays_on_under_object_lock_and_replication(s3, bucket):
    """Object Lock can be turned on for an existing versioned bucket; then, as with a
    replication configuration, versioning can no longer be suspended."""
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    destination = bucket + "-replica"
    s3.create_bucket(Bucket=destination)
    try:
        s3.put_bucket_versioning(Bucket=destination,
                                 VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={
            "Role": "arn:aws:iam::000000000000:role/replication", "Rules": [{
                "ID": "all", "Status": "Enabled", "Priority": 1, "Filter": {},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": f"arn:aws:s3:::{destination}"}}]})
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_versioning(Bucket=bucket,
                                     VersioningConfiguration={"Status": "Suspended"})
        assert error_of(caught) == (
            "InvalidBucketState", "A replication configuration is present on this bucket, so "
            "you cannot change the versioning state. To change the versioning state, first "
            "delete the replication configuration.", 409)
        s3.delete_bucket_replication(Bucket=bucket)
    finally:
        s3.delete_bucket(Bucket=destination)
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled"})
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert error_of(caught) == ("InvalidBucketState", "An Object Lock configuration is present "
                                "on this bucket, so the versioning state cannot be changed.",
                                409)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
