"""S3 under IAM enforcement (--iam enforce --verify-signatures): identity policies, bucket
policies granting another principal, and the canonical deny of unencrypted uploads."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import client_config, error_of, private_server


@pytest.fixture(scope="module")
def server():
    with private_server("--iam", "enforce", "--verify-signatures") as process:
        yield process


def _client(server, service: str, key: str = "test", secret: str = "test"):
    return boto3.client(service, endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=client_config())


def _user(server, name: str, *statements: dict):
    iam = _client(server, "iam")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    arn = iam.get_user(UserName=name)["User"]["Arn"]
    return _client(server, "s3", key["AccessKeyId"], key["SecretAccessKey"]), arn


def test_bucket_policy_grants_and_denies(server):
    root = _client(server, "s3")
    root.create_bucket(Bucket="guarded")
    root.put_object(Bucket="guarded", Key="doc", Body=b"secret")
    reader, reader_arn = _user(server, "reader")
    with pytest.raises(ClientError) as caught:
        reader.get_object(Bucket="guarded", Key="doc")
    assert error_of(caught)[0::2] == ("AccessDenied", 403)
    root.put_bucket_policy(Bucket="guarded", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": reader_arn}, "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::guarded/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
             "Resource": "arn:aws:s3:::guarded/*",
             "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}]}))
    assert reader.get_object(Bucket="guarded", Key="doc")["Body"].read() == b"secret"
    with pytest.raises(ClientError) as caught:
        reader.put_object(Bucket="guarded", Key="other", Body=b"x")
    assert error_of(caught)[0] == "AccessDenied"
    writer, _ = _user(server, "writer", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    with pytest.raises(ClientError) as caught:
        writer.put_object(Bucket="guarded", Key="plain", Body=b"x")
    assert error_of(caught)[0] == "AccessDenied"
    writer.put_object(Bucket="guarded", Key="encrypted", Body=b"x" * 200_000,
                      ServerSideEncryption="AES256")
    assert writer.get_object(Bucket="guarded", Key="encrypted")["Body"].read() == b"x" * 200_000


def test_form_uploads_need_a_valid_signature(server):
    from tests.s3.test_post import post_form

    root = _client(server, "s3")
    root.create_bucket(Bucket="forms")
    sigv4 = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="test",
                         config=client_config().merge(Config(signature_version="s3v4")))
    for client in (root, sigv4):  # boto3 signs POST policies with SigV2 unless told s3v4
        form = client.generate_presigned_post("forms", "up.txt", ExpiresIn=600)
        status, _, body = post_form(form["url"], form["fields"], "up.txt", b"signed")
        assert status == 204, body
        assert root.get_object(Bucket="forms", Key="up.txt")["Body"].read() == b"signed"
        field = "x-amz-signature" if "x-amz-signature" in form["fields"] else "signature"
        forged = {**form["fields"], field: form["fields"][field][::-1]}
        status, _, body = post_form(form["url"], forged, "up.txt", b"forged")
        assert status == 403 and b"SignatureDoesNotMatch" in body
    unsigned = {"key": "anon.txt"}
    status, _, body = post_form(form["url"], unsigned, "anon.txt", b"anonymous")
    assert status == 403 and b"AccessDenied" in body
    nobody, _ = _user(server, "nobody")
    form = nobody.generate_presigned_post("forms", "denied.txt", ExpiresIn=600)
    status, _, body = post_form(form["url"], form["fields"], "denied.txt", b"x")
    assert status == 403 and b"AccessDenied" in body
