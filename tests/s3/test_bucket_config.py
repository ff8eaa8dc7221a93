"""Bucket configuration: tagging, CORS, policy, lifecycle, encryption, public access block,
ownership controls, website, notifications; object tagging and ACLs."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of


def _missing(call, code: str, message: str) -> None:
    with pytest.raises(ClientError) as caught:
        call()
    assert error_of(caught) == (code, message, 404)


def test_tagging(s3, bucket):
    _missing(lambda: s3.get_bucket_tagging(Bucket=bucket), "NoSuchTagSet",
             "The TagSet does not exist")
    tags = [{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": ""}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [
            {"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]})
    assert error_of(caught) == ("InvalidTag", "Cannot provide multiple Tags with the same key",
                                400)
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [
            {"Key": "aws:reserved", "Value": "1"}]})
    assert error_of(caught)[0] == "InvalidTag"
    s3.delete_bucket_tagging(Bucket=bucket)
    _missing(lambda: s3.get_bucket_tagging(Bucket=bucket), "NoSuchTagSet",
             "The TagSet does not exist")


def test_cors(s3, bucket):
    _missing(lambda: s3.get_bucket_cors(Bucket=bucket), "NoSuchCORSConfiguration",
             "The CORS configuration does not exist")
    rules = [{"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://example.com"],
              "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]})
    assert error_of(caught) == ("InvalidRequest", "Found unsupported HTTP method in CORS "
                                "config. Unsupported method is PATCH", 400)
    s3.delete_bucket_cors(Bucket=bucket)
    _missing(lambda: s3.get_bucket_cors(Bucket=bucket), "NoSuchCORSConfiguration",
             "The CORS configuration does not exist")


def _policy(bucket: str, principal) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]})


def test_policy(s3, bucket):
    _missing(lambda: s3.get_bucket_policy(Bucket=bucket), "NoSuchBucketPolicy",
             "The bucket policy does not exist")
    private = _policy(bucket, {"AWS": "arn:aws:iam::111122223333:root"})
    s3.put_bucket_policy(Bucket=bucket, Policy=private)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(private)
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_policy(Bucket=bucket, Policy="not json")
    assert error_of(caught) == ("MalformedPolicy", "Policies must be valid JSON and the first "
                                "byte must be '{'", 400)
    # new buckets block public policies until the public access block allows them
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, "*"))
    code, message, status = error_of(caught)
    assert (code, status) == ("AccessDenied", 403) and "BlockPublicPolicy" in message
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicPolicy": False})
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, "*"))
    s3.delete_bucket_policy(Bucket=bucket)
    _missing(lambda: s3.get_bucket_policy(Bucket=bucket), "NoSuchBucketPolicy",
             "The bucket policy does not exist")


def test_policy_statements_checked(s3, bucket):
    """Each statement names this bucket's resources, known S3 actions, and actions that apply
    to those resources."""
    def statement(action, resource) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": action, "Resource": resource}]})

    for action, resource, message in (
            ("s3:GetObject", "arn:aws:s3:::another-bucket/*", "Policy has invalid resource"),
            ("s3:GetObject", "*", "Policy has invalid resource"),
            ("s3:Bogus", f"arn:aws:s3:::{bucket}/*", "Policy has invalid action"),
            ("invalid_action", f"arn:aws:s3:::{bucket}/*", "Policy has invalid action"),
            ("s3:PutObject", f"arn:aws:s3:::{bucket}",
             "Action does not apply to any resource(s) in statement"),
            (["s3:ListBucket", "s3:GetObject"], f"arn:aws:s3:::{bucket}/*",
             "Action does not apply to any resource(s) in statement")):
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_policy(Bucket=bucket, Policy=statement(action, resource))
        assert error_of(caught) == ("MalformedPolicy", message, 400), (action, resource)
    _missing(lambda: s3.get_bucket_policy(Bucket=bucket), "NoSuchBucketPolicy",
             "The bucket policy does not exist")
    # the bucket's account's users and roles must exist (others' are not looked up)
    for principal in ("arn:aws:iam::000000000000:user/no-such-user-nubo",
                      "arn:aws:iam::000000000000:role/no-such-role-nubo"):
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, {"AWS": principal}))
        assert error_of(caught) == ("MalformedPolicy", "Invalid principal in policy", 400)
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, {"AWS": "arn:aws:iam::111122223333:user/elsewhere"}))
    for action, resource in (
            (["s3:ListBucket", "s3:GetObject"], [f"arn:aws:s3:::{bucket}",
                                                 f"arn:aws:s3:::{bucket}/*"]),
            ("s3:Get*", f"arn:aws:s3:::{bucket}/logs/*"),
            ("s3:*", f"arn:aws:s3:::{bucket[:5]}*"),
            ("*", f"arn:aws:s3:::{bucket}")):
        s3.put_bucket_policy(Bucket=bucket, Policy=statement(action, resource))


def test_lifecycle(s3, bucket):
    _missing(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket),
             "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")
    rules = [{"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
              "Expiration": {"Days": 365},
              "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
              "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                          LifecycleConfiguration={"Rules": rules})
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == rules
    bad = [{**rules[0], "Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}]}]
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                              LifecycleConfiguration={"Rules": bad})
    assert error_of(caught) == ("InvalidArgument", "'Days' in Transition action must be greater "
                                "than or equal to 30 for storageClass 'STANDARD_IA'", 400)
    s3.delete_bucket_lifecycle(Bucket=bucket)
    _missing(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket),
             "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")


def test_defaults_of_new_buckets(s3, bucket):
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    s3.delete_public_access_block(Bucket=bucket)
    _missing(lambda: s3.get_public_access_block(Bucket=bucket),
             "NoSuchPublicAccessBlockConfiguration",
             "The public access block configuration was not found")
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert ownership["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert acl["Grants"][0]["Permission"] == "FULL_CONTROL"
    assert acl["Grants"][0]["Grantee"]["ID"] == acl["Owner"]["ID"]


def test_encryption_ownership_website_notifications(s3, bucket):
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                "KMSMasterKeyID": "alias/mine"},
         "BucketKeyEnabled": True}]})
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
        "Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == "alias/mine"
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [
        {"ObjectOwnership": "ObjectWriter"}]})
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == \
        [{"ObjectOwnership": "ObjectWriter"}]
    _missing(lambda: s3.get_bucket_website(Bucket=bucket), "NoSuchWebsiteConfiguration",
             "The specified bucket does not have a website configuration")
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    assert s3.get_bucket_website(Bucket=bucket)["IndexDocument"] == {"Suffix": "index.html"}
    s3.delete_bucket_website(Bucket=bucket)
    notification = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert "QueueConfigurations" not in notification
    s3.put_bucket_notification_configuration(Bucket=bucket, SkipDestinationValidation=True,
                                             NotificationConfiguration={"QueueConfigurations": [
                                                 {"Id": "q", "Events": ["s3:ObjectCreated:*"],
                                                  "QueueArn": "arn:aws:sqs:us-east-1:"
                                                              "000000000000:q"}]})
    stored = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    assert stored[0]["Events"] == ["s3:ObjectCreated:*"]


def test_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=two")
    assert s3.head_object(Bucket=bucket, Key="t")["ResponseMetadata"]["HTTPHeaders"][
        "x-amz-tagging-count"] == "2"
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [
        {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two"}]
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "c",
                                                                       "Value": "3"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "c",
                                                                        "Value": "3"}]
    with pytest.raises(ClientError) as caught:
        s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [
            {"Key": f"k{i}", "Value": "v"} for i in range(11)]})
    assert error_of(caught) == ("BadRequest", "Object tags cannot be greater than 10", 400)
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    acl = s3.get_object_acl(Bucket=bucket, Key="t")
    assert acl["Grants"][0]["Permission"] == "FULL_CONTROL"


def test_acls_follow_object_ownership(s3, bucket):
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    assert error_of(caught) == ("AccessControlListNotSupported",
                                "The bucket does not allow ACLs", 400)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert error_of(caught)[0] == "AccessControlListNotSupported"
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(Bucket=bucket + "-acl", ACL="public-read")
    assert error_of(caught) == ("InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs "
                                "set with ObjectOwnership's BucketOwnerEnforced setting", 400)
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [
        {"ObjectOwnership": "ObjectWriter"}]})
    with pytest.raises(ClientError) as caught:  # new buckets block public ACLs
        s3.put_object(Bucket=bucket, Key="public", Body=b"x", ACL="public-read")
    assert error_of(caught) == ("AccessDenied", "Access Denied", 403)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False})
    s3.put_object(Bucket=bucket, Key="public", Body=b"x", ACL="public-read")
    grants = s3.get_object_acl(Bucket=bucket, Key="public")["Grants"]
    assert {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"} in \
        [g["Grantee"] for g in grants]
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert len(s3.get_bucket_acl(Bucket=bucket)["Grants"]) == 2
    s3.put_object_acl(Bucket=bucket, Key="public", ACL="private")
    assert len(s3.get_object_acl(Bucket=bucket, Key="public")["Grants"]) == 1


def test_delete_ownership_controls(s3, bucket, aws_cli):
    aws_cli("s3api", "delete-bucket-ownership-controls", "--bucket", bucket)
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert error_of(caught) == ("OwnershipControlsNotFoundError",
                                "The bucket ownership controls were not found", 404)
    assert caught.value.response["Error"]["BucketName"] == bucket
    with pytest.raises(ClientError) as caught:  # nothing left to delete
        s3.delete_bucket_ownership_controls(Bucket=bucket)
    assert error_of(caught)[0::2] == ("OwnershipControlsNotFoundError", 404)
    # without controls, ACLs apply as under ObjectWriter
    other = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", GrantRead=f"id={other}")
    grants = s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    assert {"Grantee": {"Type": "CanonicalUser", "ID": other}, "Permission": "READ"} in grants
    # the grant headers as the CLI documents them: unquoted, several grantees, any case
    s3.put_object_acl(Bucket=bucket, Key="k", GrantFullControl=f'ID="{other}"',
                      GrantRead="uri=http://acs.amazonaws.com/groups/s3/LogDelivery, "
                                f"id={other}")
    grants = s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
    assert {(g["Grantee"].get("ID") or g["Grantee"]["URI"], g["Permission"])
            for g in grants} == {(other, "FULL_CONTROL"), (other, "READ"), (
                "http://acs.amazonaws.com/groups/s3/LogDelivery", "READ")}
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [
        {"ObjectOwnership": "BucketOwnerPreferred"}]})
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == \
        [{"ObjectOwnership": "BucketOwnerPreferred"}]


def test_more_bucket_settings(s3, bucket):
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    s3.put_bucket_accelerate_configuration(Bucket=bucket,
                                           AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=bucket,
                                  RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": "no-such-target-bucket-nubo", "TargetPrefix": "logs/"}})
    assert error_of(caught)[0] == "InvalidTargetBucketForLogging"
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": bucket, "TargetPrefix": "logs/"}})
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]["TargetPrefix"] == "logs/"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    _missing(lambda: s3.get_object_lock_configuration(Bucket=bucket),
             "ObjectLockConfigurationNotFoundError",
             "Object Lock configuration does not exist for this bucket")
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE",
                                                                      "Days": 1}}})
    stored = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert stored["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": 1}


def test_get_object_attributes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"attributes", ChecksumAlgorithm="SHA256")
    found = s3.get_object_attributes(Bucket=bucket, Key="o", ObjectAttributes=[
        "ETag", "Checksum", "ObjectSize", "StorageClass"])
    assert found["ObjectSize"] == 10 and found["StorageClass"] == "STANDARD"
    assert not found["ETag"].startswith('"')
    assert found["Checksum"]["ChecksumSHA256"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=n,
                            Body=b"x" * (5 * 1024 * 1024 if n == 1 else 10))["ETag"]
             for n in (1, 2)]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]})
    parts = s3.get_object_attributes(Bucket=bucket, Key="mp",
                                     ObjectAttributes=["ObjectParts"])["ObjectParts"]
    assert parts["TotalPartsCount"] == 2
    assert [p["Size"] for p in parts["Parts"]] == [5 * 1024 * 1024, 10]


def _wait_for(check, timeout: float = 10.0):
    import time
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "lifecycle rule not applied in time"
        time.sleep(0.1)


def test_lifecycle_rules_are_applied(s3, bucket, nubo_server):
    s3.put_object(Bucket=bucket, Key="logs/old", Body=b"x" * 100_000)
    s3.put_object(Bucket=bucket, Key="keep/old", Body=b"x")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="logs/upload")["UploadId"]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
         "Expiration": {"Days": 1}, "AbortIncompleteMultipartUpload": {
             "DaysAfterInitiation": 1}}]})
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == \
        ["keep/old", "logs/old"]
    nubo_server.advance_clock(2 * 86_400)
    _wait_for(lambda: [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get(
        "Contents", [])] == ["keep/old"])
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    with pytest.raises(ClientError) as caught:
        s3.list_parts(Bucket=bucket, Key="logs/upload", UploadId=upload)
    assert error_of(caught)[0] == "NoSuchUpload"


def test_lifecycle_in_versioned_buckets(s3, bucket, nubo_server):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"v1")
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "old-versions", "Filter": {}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
    nubo_server.advance_clock(2 * 86_400)
    _wait_for(lambda: len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 1)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "expire", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 1}}]})
    nubo_server.advance_clock(2 * 86_400)
    _wait_for(lambda: "DeleteMarkers" in s3.list_object_versions(Bucket=bucket))
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_lifecycle_headers(s3, bucket):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
         "Expiration": {"Days": 3}, "AbortIncompleteMultipartUpload": {
             "DaysAfterInitiation": 2}}]})
    put = s3.put_object(Bucket=bucket, Key="tmp/a", Body=b"x")
    assert put["Expiration"].startswith('expiry-date="') and 'rule-id="tmp"' in put["Expiration"]
    assert " 00:00:00 GMT" in put["Expiration"]  # rounded up to midnight UTC
    assert s3.head_object(Bucket=bucket, Key="tmp/a")["Expiration"] == put["Expiration"]
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="keep/a", Body=b"x")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="tmp/big")
    assert upload["AbortRuleId"] == "tmp" and upload["AbortDate"].hour == 0


def test_documents_missing_elements_are_malformed_xml(s3, bucket):
    """A configuration without its required elements is S3's MalformedXML (never a
    ValidationError: S3 has none)."""
    for write in (
            lambda: s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": []}),
            lambda: s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
                {"AllowedMethods": [], "AllowedOrigins": ["*"]}]}),
            lambda: s3.put_bucket_lifecycle_configuration(
                Bucket=bucket, LifecycleConfiguration={"Rules": []}),
            lambda: s3.put_bucket_encryption(
                Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": []}),
            lambda: s3.put_bucket_ownership_controls(Bucket=bucket,
                                                     OwnershipControls={"Rules": []})):
        with pytest.raises(ClientError) as caught:
            write()
        assert error_of(caught) == ("MalformedXML", "The XML you provided was not well-formed "
                                    "or did not validate against our published schema", 400)


def identified_configurations(bucket: str) -> dict:
    """One configuration of each kind a bucket holds many of, by Id."""
    return {
        "Inventory": {"Id": "weekly", "IsEnabled": True, "IncludedObjectVersions": "Current",
                      "Destination": {"S3BucketDestination": {
                          "Bucket": f"arn:aws:s3:::{bucket}", "Format": "CSV",
                          "Prefix": "inventory"}},
                      "Schedule": {"Frequency": "Weekly"},
                      "OptionalFields": ["Size", "ETag"]},
        "Metrics": {"Id": "logs", "Filter": {"Prefix": "logs/"}},
        "Analytics": {"Id": "ia", "Filter": {"Prefix": "data/"},
                      "StorageClassAnalysis": {}},
        "IntelligentTiering": {"Id": "archive", "Status": "Enabled", "Tierings": [
            {"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]},
    }


@pytest.mark.parametrize("name", ["Inventory", "Metrics", "Analytics", "IntelligentTiering"])
def test_configurations_by_id(s3, bucket, name):
    """Inventory, metrics, analytics and Intelligent-Tiering configurations: stored by Id,
    read back, listed a page of 100 at a time, deleted; NoSuchConfiguration for a missing
    one; the Id must be the configuration's."""
    snake = {"Inventory": "inventory", "Metrics": "metrics", "Analytics": "analytics",
             "IntelligentTiering": "intelligent_tiering"}[name]
    member = f"{name}Configuration"
    put, get = getattr(s3, f"put_bucket_{snake}_configuration"), \
        getattr(s3, f"get_bucket_{snake}_configuration")
    delete, listing = getattr(s3, f"delete_bucket_{snake}_configuration"), \
        getattr(s3, f"list_bucket_{snake}_configurations")
    configuration = identified_configurations(bucket)[name]
    config_id = configuration["Id"]
    put(Bucket=bucket, Id=config_id, **{member: configuration})
    assert get(Bucket=bucket, Id=config_id)[member] == configuration
    listed = listing(Bucket=bucket)
    assert listed[f"{member}List"] == [configuration] and listed["IsTruncated"] is False
    ids = [f"c{n:03d}" for n in range(105)]
    for other in ids:
        put(Bucket=bucket, Id=other, **{member: {**configuration, "Id": other}})
    first = listing(Bucket=bucket)
    assert first["IsTruncated"] is True and len(first[f"{member}List"]) == 100
    rest = listing(Bucket=bucket, ContinuationToken=first["NextContinuationToken"])
    assert rest["IsTruncated"] is False and rest["ContinuationToken"] == \
        first["NextContinuationToken"]
    assert [c["Id"] for c in first[f"{member}List"] + rest[f"{member}List"]] == \
        sorted(ids + [config_id])
    delete(Bucket=bucket, Id=config_id)
    for call in (lambda: get(Bucket=bucket, Id=config_id),
                 lambda: delete(Bucket=bucket, Id=config_id)):
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == ("NoSuchConfiguration",
                                    "The specified configuration does not exist.", 404)
    with pytest.raises(ClientError) as raised:
        put(Bucket=bucket, Id="other-id", **{member: configuration})
    assert error_of(raised)[0::2] == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as raised:
        get(Bucket=bucket + "-missing", Id=config_id)
    assert error_of(raised)[0] == "NoSuchBucket"


def test_deleted_bucket_forgets_its_configurations(s3):
    from tests.s3.conftest import unique

    name = unique("identified")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_metrics_configuration(Bucket=name, Id="all",
                                        MetricsConfiguration={"Id": "all"})
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    assert "MetricsConfigurationList" not in s3.list_bucket_metrics_configurations(Bucket=name)
    s3.delete_bucket(Bucket=name)
