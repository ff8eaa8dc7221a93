"""Organizations under IAM enforcement (its own server started with --iam enforce): requests are
authorized against the ARNs of the roots, OUs, accounts and policies they name, as the Service
Authorization Reference shapes them."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import REGION, SECRET_KEY, NuboProcess, client_config
from tests.organizations.conftest import create_account, error_of, new_account


@pytest.fixture(scope="module")
def server():
    server = NuboProcess(None, options=("--iam", "enforce")).start()
    yield server
    server.stop()


def _client(server, service: str, key: str, secret: str = SECRET_KEY):
    return boto3.client(service, endpoint_url=server.endpoint, region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=client_config())


def test_user_policy_scoped_to_one_account_arn(server):
    management = new_account()
    orgs = _client(server, "organizations", management)
    organization = orgs.create_organization()["Organization"]
    member = create_account(orgs)
    other = create_account(orgs, "other")

    iam = _client(server, "iam", management)
    iam.create_user(UserName="auditor")
    account_arn = f"arn:aws:organizations::{management}:account/{organization['Id']}/{member}"
    iam.put_user_policy(UserName="auditor", PolicyName="one-account", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "organizations:DescribeAccount",
            "Resource": account_arn}]}))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    auditor = _client(server, "organizations", key["AccessKeyId"], key["SecretAccessKey"])

    assert auditor.describe_account(AccountId=member)["Account"]["Arn"] == account_arn
    with pytest.raises(ClientError) as raised:
        auditor.describe_account(AccountId=other)
    code, message, status = error_of(raised)
    assert (code, status) == ("AccessDeniedException", 400)
    assert "organizations:DescribeAccount" in message and other in message
    with pytest.raises(ClientError) as raised:
        auditor.list_accounts()
    assert error_of(raised)[0] == "AccessDeniedException"


def test_create_account_provisions_the_role_under_enforcement(server):
    management = new_account()
    orgs = _client(server, "organizations", management)
    orgs.create_organization()
    member = create_account(orgs)
    role = _client(server, "iam", member).get_role(RoleName="OrganizationAccountAccessRole")
    assert role["Role"]["Arn"] == f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
