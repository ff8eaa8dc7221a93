"""S3 under IAM enforcement (--iam enforce --verify-signatures): identity policies, bucket
policies granting another principal, and the canonical deny of unencrypted uploads."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import client_config, error_of, private_server
from tests.s3.conftest import fetch


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


def _cli(server, *args: str, secret: str = "test") -> str:
    """The AWS CLI against ``server`` with root's default key: its stdout."""
    import os
    import shutil
    import subprocess
    import sys

    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY=secret,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    executable = shutil.which("aws")
    command = ([executable] if executable else [sys.executable, "-m", "awscli"]) + list(args)
    done = subprocess.run(command + ["--endpoint-url", server.endpoint], env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def _fetch(url: str, method: str = "GET", data: bytes | None = None,
           headers: dict | None = None) -> tuple[int, bytes]:
    status, _, body = fetch(url, method, data, headers)
    return status, body


def test_sigv2_presigned_urls_are_verified(server):
    """`aws s3 presign` of the CLI v1 and boto3's signature_version="s3" sign with SigV2."""
    from urllib.parse import parse_qs, urlsplit

    root = _client(server, "s3")
    root.create_bucket(Bucket="legacy")
    root.put_object(Bucket="legacy", Key="dir/a b+c.txt", Body=b"old tools")
    url = _cli(server, "s3", "presign", "s3://legacy/dir/a b+c.txt", "--expires-in", "300")
    assert "AWSAccessKeyId=test" in url and "Signature=" in url
    assert _fetch(url) == (200, b"old tools")
    forged = url.replace("Signature=", "Signature=A")
    status, body = _fetch(forged)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    assert b"<StringToSign>GET\n\n\n" in body and b"/legacy/dir/a%20b%2Bc.txt" in body
    wrong = _cli(server, "s3", "presign", "s3://legacy/dir/a b+c.txt", secret="not-the-secret")
    assert _fetch(wrong)[0] == 403
    expires = int(parse_qs(urlsplit(url).query)["Expires"][0])
    longer = url.replace(f"Expires={expires}", f"Expires={expires + 60}")
    assert _fetch(longer)[0] == 403  # the expiry is signed
    v2 = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=client_config().merge(Config(signature_version="s3")))
    put = v2.generate_presigned_url("put_object", Params={"Bucket": "legacy", "Key": "up",
                                                          "ContentType": "text/plain"},
                                    ExpiresIn=300)
    assert _fetch(put, "PUT", b"uploaded", {"Content-Type": "text/plain"})[0] == 200
    assert _fetch(put, "PUT", b"uploaded", {"Content-Type": "text/html"})[0] == 403
    ranged = v2.generate_presigned_url("get_object", Params={
        "Bucket": "legacy", "Key": "up", "ResponseContentType": "application/x-test"},
        ExpiresIn=300)
    assert _fetch(ranged) == (200, b"uploaded")
    tampered = ranged.replace("application%2Fx-test", "text%2Fplain")
    assert _fetch(tampered)[0] == 403  # response-* overrides are signed


def test_sigv2_header_signatures_are_verified(server):
    import http.client

    from botocore.auth import HmacV1Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    v2 = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=client_config().merge(Config(signature_version="s3")))
    v2.create_bucket(Bucket="legacy-header")
    v2.put_object(Bucket="legacy-header", Key="k", Body=b"v2", Metadata={"a": "1"},
                  Tagging="t=1")
    assert v2.get_object(Bucket="legacy-header", Key="k")["Body"].read() == b"v2"
    assert v2.list_objects(Bucket="legacy-header", Prefix="k")["Contents"][0]["Key"] == "k"
    v2.put_object_tagging(Bucket="legacy-header", Key="k", Tagging={"TagSet": []})
    wrong = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="wrong",
                         config=client_config().merge(Config(signature_version="s3")))
    with pytest.raises(ClientError) as caught:
        wrong.get_object(Bucket="legacy-header", Key="k")
    assert error_of(caught)[0::2] == ("SignatureDoesNotMatch", 403)
    # virtual-hosted: the bucket, named by the host, is part of the signed resource
    port = server.endpoint.rsplit(":", 1)[1]
    host = f"legacy-header.s3.localhost:{port}"
    for signed_path, status in (("/legacy-header/k", 200), ("/k", 403)):
        request = AWSRequest(method="GET", url=f"http://{host}/k", headers={"Host": host})
        request.auth_path = signed_path
        HmacV1Auth(Credentials("test", "test")).add_auth(request)
        connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
        connection.request("GET", "/k", headers=dict(request.headers.items()))
        response = connection.getresponse()
        assert (response.status, response.read() if status == 200 else b"v2") == (status, b"v2")
        connection.close()


def test_presigned_urls_act_as_their_signer_at_use(server):
    """A presigned URL carries its signer's permissions as they are when it is used (the
    study notes' P25): removing them afterwards makes the URL fail."""
    root = _client(server, "s3")
    root.create_bucket(Bucket="signed-later")
    root.put_object(Bucket="signed-later", Key="doc", Body=b"shared")
    reader, _ = _user(server, "presigner", {"Effect": "Allow", "Action": "s3:GetObject",
                                            "Resource": "arn:aws:s3:::signed-later/*"})
    for version in ("s3v4", "s3"):
        signer = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                              aws_access_key_id=reader._request_signer._credentials.access_key,
                              aws_secret_access_key=reader._request_signer._credentials
                              .secret_key,
                              config=client_config().merge(Config(signature_version=version)))
        url = signer.generate_presigned_url("get_object", Params={"Bucket": "signed-later",
                                                                  "Key": "doc"},
                                            ExpiresIn=600)
        assert _fetch(url) == (200, b"shared")
        put = signer.generate_presigned_url("put_object", Params={"Bucket": "signed-later",
                                                                  "Key": "doc"}, ExpiresIn=600)
        assert _fetch(put, "PUT", b"overwritten")[0] == 403  # the signer may only read
    _client(server, "iam").delete_user_policy(UserName="presigner", PolicyName="p")
    status, body = _fetch(url)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body


def test_presigned_urls_of_temporary_credentials(server):
    """Presigned with a session's credentials (its token in the URL), SigV4 and SigV2."""
    root = _client(server, "s3")
    root.create_bucket(Bucket="session-signed")
    root.put_object(Bucket="session-signed", Key="doc", Body=b"temporary")
    _user(server, "sessions", {"Effect": "Allow", "Action": "s3:GetObject",
                               "Resource": "arn:aws:s3:::session-signed/*"})
    key = _client(server, "iam").create_access_key(UserName="sessions")["AccessKey"]
    sts = _client(server, "sts", key["AccessKeyId"], key["SecretAccessKey"])
    credentials = sts.get_session_token()["Credentials"]
    for version in ("s3v4", "s3"):
        signer = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                              aws_access_key_id=credentials["AccessKeyId"],
                              aws_secret_access_key=credentials["SecretAccessKey"],
                              aws_session_token=credentials["SessionToken"],
                              config=client_config().merge(Config(signature_version=version)))
        url = signer.generate_presigned_url("get_object", Params={"Bucket": "session-signed",
                                                                  "Key": "doc"},
                                            ExpiresIn=600)
        assert _fetch(url) == (200, b"temporary"), (version, _fetch(url))


def test_replication_acts_as_its_role(server):
    """Under enforcement S3 replicates as the configuration's role: a role that does not
    exist or does not trust S3, or may not replicate to the destination, leaves the version
    FAILED (the study notes' P32)."""
    root, iam = _client(server, "s3"), _client(server, "iam")
    for name in ("repl-source", "repl-target"):
        root.create_bucket(Bucket=name)
        root.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="replicator", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"]["Arn"]
    allowed = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObjectVersionForReplication",
         "Resource": "arn:aws:s3:::repl-source/*"},
        {"Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateDelete"],
         "Resource": "arn:aws:s3:::repl-target/*"}]}
    iam.put_role_policy(RoleName="replicator", PolicyName="replicate",
                        PolicyDocument=json.dumps(allowed))

    def configure(role_arn: str) -> None:
        root.put_bucket_replication(Bucket="repl-source", ReplicationConfiguration={
            "Role": role_arn, "Rules": [{
                "ID": "all", "Status": "Enabled", "Priority": 1, "Filter": {},
                "DeleteMarkerReplication": {"Status": "Enabled"},
                "Destination": {"Bucket": "arn:aws:s3:::repl-target"}}]})

    def status(key: str) -> str:
        root.put_object(Bucket="repl-source", Key=key, Body=b"x")
        return root.head_object(Bucket="repl-source", Key=key)["ReplicationStatus"]

    configure(role)
    assert status("granted") == "COMPLETED"
    assert root.head_object(Bucket="repl-target", Key="granted")["ReplicationStatus"] == \
        "REPLICA"
    root.delete_object(Bucket="repl-source", Key="granted")  # ReplicateDelete: replicated
    assert "DeleteMarkers" in root.list_object_versions(Bucket="repl-target", Prefix="granted")
    configure("arn:aws:iam::000000000000:role/no-such-replicator")
    assert status("no-role") == "FAILED"
    configure(role)
    iam.put_role_policy(RoleName="replicator", PolicyName="replicate", PolicyDocument=json.dumps(
        {**allowed, "Statement": allowed["Statement"][:1]}))
    assert status("not-permitted") == "FAILED"
    with pytest.raises(ClientError):
        root.head_object(Bucket="repl-target", Key="not-permitted")
    iam.update_assume_role_policy(RoleName="replicator", PolicyDocument=json.dumps(
        {**trust, "Statement": [{**trust["Statement"][0],
                                 "Principal": {"Service": "ec2.amazonaws.com"}}]}))
    iam.put_role_policy(RoleName="replicator", PolicyName="replicate",
                        PolicyDocument=json.dumps(allowed))
    assert status("untrusted") == "FAILED"
