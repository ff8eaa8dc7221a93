"""STS on the shared server (IAM enforcement off, as users run nubo by default): who the caller
is for every kind of credentials, temporary credentials and their limits."""

from __future__ import annotations

import base64
import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import REGION, client_config


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def connect(nubo_server):
    def client(service: str, key: str, secret: str = "test", token: str | None = None):
        return boto3.client(service, endpoint_url=nubo_server.endpoint, region_name=REGION,
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            aws_session_token=token, config=client_config())
    return client


def session_client(connect, credentials: dict, service: str):
    return connect(service, credentials["AccessKeyId"], credentials["SecretAccessKey"],
                   credentials["SessionToken"])


def error_of(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_caller_identity_of_default_keys(connect):
    identity = connect("sts", "test").get_caller_identity()
    assert (identity["Account"], identity["Arn"], identity["UserId"]) == (
        "000000000000", "arn:aws:iam::000000000000:root", "000000000000")
    other = connect("sts", "123456789012").get_caller_identity()
    assert (other["Account"], other["Arn"]) == ("123456789012",
                                                "arn:aws:iam::123456789012:root")


def test_caller_identity_of_an_iam_user_and_its_keys_account(connect):
    account = "210987654321"
    iam = connect("iam", account)
    name = unique("user")
    user = iam.create_user(UserName=name)["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA")
    identity = connect("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
    assert identity["Arn"] == user["Arn"] == f"arn:aws:iam::{account}:user/{name}"
    assert (identity["Account"], identity["UserId"]) == (account, user["UserId"])
    # The key's account is encoded in it, as in AWS's keys.
    assert connect("sts", "test").get_access_key_info(
        AccessKeyId=key["AccessKeyId"])["Account"] == account


def test_assume_role_credentials_and_identity(connect, nubo_server):
    iam, sts = connect("iam", "test"), connect("sts", "test")
    name = unique("role")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
            "Action": "sts:AssumeRole"}]}))["Role"]
    assumed = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="build-42",
                              DurationSeconds=900, SourceIdentity="alice")
    credentials = assumed["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and credentials["SessionToken"]
    now = nubo_server.get("/_nubo/clock")["now"]
    assert abs(credentials["Expiration"].timestamp() - (now + 900)) < 5
    assert assumed["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role['RoleId']}:build-42",
        "Arn": f"arn:aws:sts::000000000000:assumed-role/{name}/build-42"}
    assert assumed["SourceIdentity"] == "alice"
    identity = session_client(connect, credentials, "sts").get_caller_identity()
    assert identity["Arn"] == assumed["AssumedRoleUser"]["Arn"]
    assert identity["UserId"] == f"{role['RoleId']}:build-42"


def test_assume_role_limits(connect):
    iam, sts = connect("iam", "test"), connect("sts", "test")
    name = unique("limits")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "000000000000"},
            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    assert error_of(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="s1",
                                            DurationSeconds=3601)) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    credentials = sts.assume_role(RoleArn=arn, RoleSessionName="s1")["Credentials"]
    chained = session_client(connect, credentials, "sts")
    assert error_of(lambda: chained.assume_role(RoleArn=arn, RoleSessionName="s2",
                                                DurationSeconds=3700))[0] == "ValidationError"
    code, message = error_of(lambda: sts.assume_role(RoleArn=arn, RoleSessionName="bad name"))
    assert code == "ValidationError" and "roleSessionName" in message
    assert error_of(lambda: sts.assume_role(RoleArn="arn:aws:iam::000000000000:user/x",
                                            RoleSessionName="s1"))[0] == "ValidationError"


def test_session_and_federation_tokens(connect):
    iam = connect("iam", "test")
    name = unique("fed")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    sts = connect("sts", key["AccessKeyId"], key["SecretAccessKey"])
    session = sts.get_session_token(DurationSeconds=900)["Credentials"]
    assert session_client(connect, session, "sts").get_caller_identity()["Arn"] == \
        f"arn:aws:iam::000000000000:user/{name}"
    federated = sts.get_federation_token(Name="visitor", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    assert federated["FederatedUser"]["Arn"] == \
        "arn:aws:sts::000000000000:federated-user/visitor"
    assert 0 < federated["PackedPolicySize"] <= 100
    identity = session_client(connect, federated["Credentials"], "sts").get_caller_identity()
    assert identity["Arn"] == federated["FederatedUser"]["Arn"]
    # Session credentials cannot get more session credentials.
    assert error_of(lambda: session_client(connect, session, "sts").get_session_token())[0] == \
        "AccessDenied"


def test_cli_get_caller_identity_and_assume_role(aws_cli):
    identity = aws_cli("sts", "get-caller-identity")
    assert identity["Account"] == "000000000000"
    assumed = aws_cli("sts", "assume-role", "--role-arn",
                      "arn:aws:iam::000000000000:role/cli-role", "--role-session-name", "cli")
    assert assumed["AssumedRoleUser"]["Arn"] == \
        "arn:aws:sts::000000000000:assumed-role/cli-role/cli"


def test_last_use_of_keys_and_roles(connect):
    iam = connect("iam", "test")
    name = unique("used")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert "LastUsedDate" not in iam.get_access_key_last_used(
        AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    connect("sqs", key["AccessKeyId"], key["SecretAccessKey"]).list_queues()
    used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert (used["ServiceName"], used["Region"]) == ("sqs", REGION)
    role = unique("used-role")
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "000000000000"},
            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    credentials = connect("sts", "test").assume_role(RoleArn=arn,
                                                     RoleSessionName="s1")["Credentials"]
    session_client(connect, credentials, "sqs").list_queues()
    assert iam.get_role(RoleName=role)["Role"]["RoleLastUsed"]["Region"] == REGION


def test_decode_authorization_message_refuses_what_nubo_did_not_encode(connect):
    sts = connect("sts", "123456789012")
    for bad in ("abc", "x" * 200, "éé"):
        code, message = error_of(lambda: sts.decode_authorization_message(EncodedMessage=bad))
        assert (code, message) == ("InvalidAuthorizationMessageException",
                                   "The encoded authorization message is not valid.")


def test_cli_decode_authorization_message_and_web_identity_token(aws_cli):
    refused = aws_cli("sts", "decode-authorization-message", "--encoded-message", "bogus",
                      check=False)
    assert refused.returncode != 0 and "InvalidAuthorizationMessageException" in refused.stderr
    info = aws_cli("iam", "get-outbound-web-identity-federation-info", check=False)
    if info.returncode != 0:  # not enabled yet on this server
        aws_cli("iam", "enable-outbound-web-identity-federation")
    token = aws_cli("sts", "get-web-identity-token", "--audience", "cli-audience",
                    "--signing-algorithm", "ES384")
    header, claims, signature = token["WebIdentityToken"].split(".")
    assert signature and json.loads(base64.urlsafe_b64decode(claims + "==")) \
        ["aud"] == "cli-audience"
