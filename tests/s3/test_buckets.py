"""Buckets: create (name rules, location constraints, collisions), head, delete, list."""

from __future__ import annotations

import http.client

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of
from tests.s3.conftest import fetch, unique


def test_create_head_list_delete(s3):
    name = unique()
    created = s3.create_bucket(Bucket=name)
    assert created["Location"] == f"/{name}"
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as caught:
        s3.head_bucket(Bucket=name)
    assert error_of(caught)[2] == 404
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket=name)
    code, message, status = error_of(caught)
    assert (code, message, status) == ("NoSuchBucket", "The specified bucket does not exist", 404)
    assert caught.value.response["Error"]["BucketName"] == name


@pytest.mark.parametrize("name", [
    "ab", "a" * 64, "Upper-case", "under_score", "-starts-with-dash", "ends-with-dash-",
    "two..dots", "192.168.5.4", "xn--punycode", "sthree-reserved", "bucket-s3alias",
    "bucket--ol-s3"])
def test_invalid_bucket_names(s3, name):
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(Bucket=name)
    assert error_of(caught) == ("InvalidBucketName", "The specified bucket is not valid.", 400)


def test_valid_unusual_names(s3):
    for name in (unique("a.b"), "a" * 3 + unique()[:10], unique()[:63]):
        s3.create_bucket(Bucket=name)
        s3.delete_bucket(Bucket=name)


def test_already_owned_and_already_exists(s3, make_client, s3_region):
    name = unique()
    s3.create_bucket(Bucket=name)
    try:
        s3.create_bucket(Bucket=name)  # us-east-1 answers 200 to its owner
        west = s3_region("us-west-2")
        with pytest.raises(ClientError) as caught:
            west.create_bucket(Bucket=name, CreateBucketConfiguration={
                "LocationConstraint": "us-west-2"})
        assert error_of(caught)[0::2] == ("BucketAlreadyOwnedByYou", 409)
        import boto3
        other = make_client("s3", session=boto3.Session(
            aws_access_key_id="111122223333", aws_secret_access_key="x",
            region_name="us-east-1"))
        with pytest.raises(ClientError) as caught:
            other.create_bucket(Bucket=name)
        assert error_of(caught)[0::2] == ("BucketAlreadyExists", 409)
    finally:
        s3.delete_bucket(Bucket=name)


def test_owned_in_other_region_answers_already_owned(s3, s3_region):
    west = s3_region("eu-west-1")
    name = unique()
    west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    try:
        with pytest.raises(ClientError) as caught:
            west.create_bucket(Bucket=name, CreateBucketConfiguration={
                "LocationConstraint": "eu-west-1"})
        assert error_of(caught)[0] == "BucketAlreadyOwnedByYou"
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
        head = s3.head_bucket(Bucket=name)
        assert head["BucketRegion"] == "eu-west-1"
    finally:
        west.delete_bucket(Bucket=name)


def test_location_constraint_rules(s3, s3_region):
    with pytest.raises(ClientError) as caught:
        s3.create_bucket(Bucket=unique(), CreateBucketConfiguration={
            "LocationConstraint": "us-east-1"})
    assert error_of(caught) == ("InvalidLocationConstraint",
                                "The specified location-constraint is not valid", 400)
    west = s3_region("us-west-2")
    with pytest.raises(ClientError) as caught:
        west.create_bucket(Bucket=unique())
    assert error_of(caught) == (
        "IllegalLocationConstraintException", "The unspecified location constraint is "
        "incompatible for the region specific endpoint this request was sent to.", 400)
    with pytest.raises(ClientError) as caught:
        west.create_bucket(Bucket=unique(), CreateBucketConfiguration={
            "LocationConstraint": "eu-central-1"})
    assert error_of(caught)[0] == "IllegalLocationConstraintException"
    assert "eu-central-1 location constraint" in error_of(caught)[1]
    # the global endpoint (us-east-1) takes any constraint
    name = unique()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "ap-south-1"
    s3.delete_bucket(Bucket=name)


def test_delete_non_empty_bucket(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as caught:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(caught) == ("BucketNotEmpty", "The bucket you tried to delete is not empty",
                                409)


def test_list_buckets_prefix_and_pages(s3):
    import boto3
    from tests.conftest import client_config
    account = "444455556666"
    client = boto3.client("s3", endpoint_url=s3.meta.endpoint_url, region_name="us-east-1",
                          aws_access_key_id=account, aws_secret_access_key="x",
                          config=client_config())
    names = sorted(unique("lb") for _ in range(5))
    for name in names:
        client.create_bucket(Bucket=name)
    try:
        listed = client.list_buckets(Prefix="lb-")
        assert [b["Name"] for b in listed["Buckets"]] == names
        assert listed["Owner"]["ID"] and len(listed["Owner"]["ID"]) == 64
        pages = list(client.get_paginator("list_buckets").paginate(
            Prefix="lb-", PaginationConfig={"PageSize": 2}))
        assert [len(p["Buckets"]) for p in pages] == [2, 2, 1]
        assert [b["Name"] for p in pages for b in p["Buckets"]] == names
        assert client.list_buckets(Prefix="zz-")["Buckets"] == []
        # other accounts do not see them
        assert not set(names) & {b["Name"] for b in s3.list_buckets()["Buckets"]}
    finally:
        for name in names:
            client.delete_bucket(Bucket=name)


def test_versioning_configuration(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"



def test_wrong_region_requests(nubo_server, s3, s3_region, make_client,
                               signing_at_server_time):
    from botocore.config import Config

    from tests.s3.conftest import signed_request

    name = unique()
    west = s3_region("eu-west-1")
    west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    try:
        west.put_object(Bucket=name, Key="k", Body=b"x")
        status, headers, body = signed_request(nubo_server, "GET", f"/{name}/k")
        assert status == 400 and headers["x-amz-bucket-region"] == "eu-west-1"
        assert b"<Code>AuthorizationHeaderMalformed</Code>" in body
        assert b"the region 'us-east-1' is wrong; expecting 'eu-west-1'" in body
        status, headers, _ = signed_request(nubo_server, "HEAD", f"/{name}")
        assert (status, headers["x-amz-bucket-region"]) == (301, "eu-west-1")
        # boto3 follows the bucket's region by itself
        assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"x"
        assert s3.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-1"
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
        # a SigV4 presigned URL signed for another region
        east, west_v4 = (make_client("s3", region_name=region, config=Config(
            signature_version="s3v4")) for region in ("us-east-1", "eu-west-1"))
        for client, expected in ((east, 400), (west_v4, 200)):
            url = client.generate_presigned_url("get_object", Params={"Bucket": name,
                                                                      "Key": "k"},
                                                ExpiresIn=300)
            status, headers, body = fetch(url)
            assert status == expected, body
            assert headers.get("x-amz-bucket-region", "eu-west-1") == "eu-west-1"
        # unsigned, to another region's endpoint: redirected to the bucket's (nubo's own host
        # names no region and serves every one)
        port = nubo_server.endpoint.rsplit(":", 1)[1]
        for host, expected in ((f"{name}.s3.us-west-2.localhost.localstack.cloud:{port}", 301),
                               (f"s3.us-west-2.localhost.localstack.cloud:{port}", 301),
                               (f"127.0.0.1:{port}", 200)):  # IAM off: anonymous reads
            path = "/k" if host.startswith(name) else f"/{name}/k"
            connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
            connection.request("GET", path, headers={"Host": host})
            response = connection.getresponse()
            body = response.read()
            connection.close()
            assert response.status == expected, body
            if expected == 301:
                assert response.getheader("x-amz-bucket-region") == "eu-west-1"
                assert b"<Code>PermanentRedirect</Code>" in body and \
                    f"<Endpoint>{host.replace('us-west-2', 'eu-west-1')}</Endpoint><Bucket>" \
                    f"{name}</Bucket>".encode() in body
        assert b"<Code>AuthorizationQueryParametersError</Code><Message>Error parsing the " \
            b"X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting " \
            b"'eu-west-1'</Message><Region>eu-west-1</Region>" in fetch(
                east.generate_presigned_url("get_object", Params={
                    "Bucket": name, "Key": "k"}, ExpiresIn=300))[2]
    finally:
        west.delete_object(Bucket=name, Key="k")
        west.delete_bucket(Bucket=name)


def test_expected_bucket_owner(s3, bucket):
    s3.head_bucket(Bucket=bucket, ExpectedBucketOwner="000000000000")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner="000000000000")
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner="111122223333")
    assert error_of(caught) == ("AccessDenied", "Access Denied", 403)
    # a copy may state its source bucket's owner too
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"},
                   ExpectedSourceBucketOwner="000000000000")
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="copy2", CopySource={"Bucket": bucket, "Key": "k"},
                       ExpectedSourceBucketOwner="111122223333")
    assert error_of(caught) == ("AccessDenied", "Access Denied", 403)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="parts")["UploadId"]
    with pytest.raises(ClientError) as caught:
        s3.upload_part_copy(Bucket=bucket, Key="parts", UploadId=upload, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "k"},
                            ExpectedSourceBucketOwner="111122223333")
    assert error_of(caught)[0] == "AccessDenied"
    s3.abort_multipart_upload(Bucket=bucket, Key="parts", UploadId=upload)
