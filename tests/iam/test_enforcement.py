"""IAM requests under enforcement (NUBO_IAM=enforce): the resources an IAM request names, as
IAM's ARN templates spell them (users and roles with their paths, AWS managed policies in
account "aws", the caller itself when no UserName is given)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import REGION, NuboProcess, client_config
from tests.iam.conftest import doc, error_of


@pytest.fixture(scope="module")
def enforcing_server():
    patch = pytest.MonkeyPatch()
    patch.setenv("NUBO_IAM", "enforce")
    server = NuboProcess(None).start()
    patch.undo()
    yield server
    server.stop()


def client(server, key: str = "test", secret: str = "test"):
    return boto3.client("iam", endpoint_url=server.endpoint, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=client_config())


def test_self_service_policy_scopes_to_the_callers_own_user(enforcing_server):
    root = client(enforcing_server)
    root.create_user(UserName="alice", Path="/dev/")
    root.create_user(UserName="bob", Path="/dev/")
    root.put_user_policy(UserName="alice", PolicyName="self", PolicyDocument=doc({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["iam:GetUser", "iam:ListAccessKeys", "iam:CreateAccessKey"],
            "Resource": "arn:aws:iam::000000000000:user/dev/${aws:username}"}, {
            "Effect": "Allow", "Action": "iam:GetPolicy",
            "Resource": "arn:aws:iam::aws:policy/*"}]}))
    key = root.create_access_key(UserName="alice")["AccessKey"]
    alice = client(enforcing_server, key["AccessKeyId"], key["SecretAccessKey"])
    assert alice.get_user()["User"]["UserName"] == "alice"
    assert alice.get_user(UserName="alice")["User"]["Path"] == "/dev/"
    assert len(alice.list_access_keys()["AccessKeyMetadata"]) == 1
    with pytest.raises(ClientError) as raised:
        alice.list_access_keys(UserName="bob")
    code, message, status = error_of(raised)
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith("User: arn:aws:iam::000000000000:user/dev/alice is not authorized "
                              "to perform: iam:ListAccessKeys on resource: "
                              "arn:aws:iam::000000000000:user/dev/bob")
    assert alice.get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")["Policy"][
        "PolicyName"] == "ReadOnlyAccess"
    local = root.create_policy(PolicyName="local", PolicyDocument=doc({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "*"}]}))["Policy"]["Arn"]
    with pytest.raises(ClientError) as raised:
        alice.get_policy(PolicyArn=local)
    assert error_of(raised)[0] == "AccessDenied"
