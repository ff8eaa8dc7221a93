"""Parameter Store and Secrets Manager under IAM enforcement: reading a SecureString needs
kms:Decrypt on a customer key even when ssm:GetParameter is allowed (the seed's
AccessDeniedException), while the AWS managed keys serve every principal of the account
through their service."""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import NuboProcess, client_config, error_of

REGION = "us-east-1"


@pytest.fixture(scope="module")
def connect():
    data_dir = Path(tempfile.mkdtemp(prefix="nubo-ssm-iam-"))
    server = NuboProcess(data_dir, options=("--iam", "enforce")).start()

    def client(service: str, key: str = "test", secret: str = "test"):
        return boto3.client(service, endpoint_url=server.endpoint, region_name=REGION,
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            config=client_config())

    yield client
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


def user(connect, name: str, *actions: str):
    iam = connect("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda service: connect(service, key["AccessKeyId"], key["SecretAccessKey"])


def test_secure_string_needs_kms_decrypt_on_a_customer_key(connect):
    tutorial = connect("kms").create_key(Description="tutorial")["KeyMetadata"]["KeyId"]
    admin = connect("ssm")
    admin.put_parameter(Name="/my-app/dev/db-password", Value="dev-pass", Type="SecureString",
                        KeyId=tutorial)
    admin.put_parameter(Name="/my-app/dev/db-url", Value="dev.db:3306", Type="String")
    reader = user(connect, "reader", "ssm:GetParameter*")
    ssm = reader("ssm")
    assert ssm.get_parameter(Name="/my-app/dev/db-url")["Parameter"]["Value"] == "dev.db:3306"
    assert ssm.get_parameter(Name="/my-app/dev/db-password")["Parameter"]["Value"] != "dev-pass"
    with pytest.raises(ClientError) as raised:
        ssm.get_parameter(Name="/my-app/dev/db-password", WithDecryption=True)
    code, message, _ = error_of(raised)
    assert code == "AccessDeniedException" and "kms:Decrypt" in message
    decrypter = user(connect, "decrypter", "ssm:GetParameter*", "kms:Decrypt")
    assert decrypter("ssm").get_parameter(Name="/my-app/dev/db-password",
                                          WithDecryption=True)["Parameter"]["Value"] == "dev-pass"
    writer = user(connect, "writer", "ssm:PutParameter", "ssm:DescribeParameters")
    writer("ssm").put_parameter(Name="/my-app/dev/flag", Value="on", Type="String")
    [described] = writer("ssm").describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": ["/my-app/dev/flag"]}])["Parameters"]
    assert described["LastModifiedUser"] == "arn:aws:iam::000000000000:user/writer"


def test_aws_managed_keys_serve_the_account_through_their_service(connect):
    connect("ssm").put_parameter(Name="/shared/token", Value="t0k3n", Type="SecureString")
    connect("secretsmanager").create_secret(Name="shared/secret", SecretString="s3cr3t")
    reader = user(connect, "service-reader", "ssm:GetParameter",
                  "secretsmanager:GetSecretValue")
    assert reader("ssm").get_parameter(Name="/shared/token",
                                       WithDecryption=True)["Parameter"]["Value"] == "t0k3n"
    assert reader("secretsmanager").get_secret_value(
        SecretId="shared/secret")["SecretString"] == "s3cr3t"
    # Nobody uses an AWS managed key directly, not even the account's root.
    hidden = reader("ssm").get_parameter(Name="/shared/token")["Parameter"]
    with pytest.raises(ClientError) as raised:
        connect("kms").decrypt(CiphertextBlob=base64.b64decode(hidden["Value"]),
                               EncryptionContext={"PARAMETER_ARN": hidden["ARN"]})
    assert error_of(raised)[0] == "AccessDeniedException"


def test_secret_resource_policy_grants_another_principal(connect):
    admin = connect("secretsmanager")
    admin.create_secret(Name="team/db", SecretString="pw")
    outsider = user(connect, "outsider", "iam:GetUser")
    with pytest.raises(ClientError) as raised:
        outsider("secretsmanager").get_secret_value(SecretId="team/db")
    assert error_of(raised)[0] == "AccessDeniedException"
    admin.put_resource_policy(SecretId="team/db", ResourcePolicy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/outsider"},
            "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
    assert outsider("secretsmanager").get_secret_value(SecretId="team/db")["SecretString"] == "pw"


def test_secrets_manager_condition_keys(connect):
    connect("secretsmanager").create_secret(Name="prod/db", SecretString="pw")
    connect("secretsmanager").create_secret(Name="dev/db", SecretString="dev-pw")
    iam = connect("iam")
    iam.create_user(UserName="stage-reader")
    iam.put_user_policy(UserName="stage-reader", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
            "Condition": {"StringLike": {"secretsmanager:Name": "dev/*"}}}]}))
    key = iam.create_access_key(UserName="stage-reader")["AccessKey"]
    reader = connect("secretsmanager", key["AccessKeyId"], key["SecretAccessKey"])
    assert reader.get_secret_value(SecretId="dev/db")["SecretString"] == "dev-pw"
    with pytest.raises(ClientError) as raised:
        reader.get_secret_value(SecretId="prod/db")
    assert error_of(raised)[0] == "AccessDeniedException"
