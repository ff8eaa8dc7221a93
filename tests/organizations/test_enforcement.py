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


def test_scps_bound_users_roles_and_the_root_of_a_member(server):
    """P8 (an OU's deny binds an administrator), P11 (the member's root user is bound too), and
    the management account administering the member through OrganizationAccountAccessRole,
    whose sessions the SCPs bound as well."""
    management = new_account()
    orgs = _client(server, "organizations", management)
    orgs.create_organization()
    root_id = orgs.list_roots()["Roots"][0]["Id"]
    orgs.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    unit = orgs.create_organizational_unit(ParentId=root_id, Name="prod")[
        "OrganizationalUnit"]["Id"]
    member = create_account(orgs)
    orgs.move_account(AccountId=member, SourceParentId=root_id, DestinationParentId=unit)

    member_iam = _client(server, "iam", member)  # the member's root user
    member_iam.create_user(UserName="admin")
    member_iam.attach_user_policy(UserName="admin",
                                  PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = member_iam.create_access_key(UserName="admin")["AccessKey"]
    admin_s3 = _client(server, "s3", key["AccessKeyId"], key["SecretAccessKey"])
    admin_s3.create_bucket(Bucket=f"p8-{member}")

    def scp(name: str, action: str) -> str:
        return orgs.create_policy(Name=name, Description="", Type="SERVICE_CONTROL_POLICY",
                                  Content=json.dumps({"Version": "2012-10-17", "Statement": [{
                                      "Effect": "Deny", "Action": action,
                                      "Resource": "*"}]}))["Policy"]["PolicySummary"]["Id"]

    orgs.attach_policy(PolicyId=scp("no-bucket-deletes", "s3:DeleteBucket"), TargetId=unit)
    orgs.attach_policy(PolicyId=scp("no-iam", "iam:*"), TargetId=member)

    with pytest.raises(ClientError) as raised:  # P8
        admin_s3.delete_bucket(Bucket=f"p8-{member}")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert raised.value.response["Error"]["Message"].endswith(
        "with an explicit deny in a service control policy")
    with pytest.raises(ClientError) as raised:  # P11
        member_iam.create_user(UserName="another")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert "service control policy" in raised.value.response["Error"]["Message"]

    # The management account steps into the member through the role CreateAccount made.
    credentials = _client(server, "sts", management).assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
        RoleSessionName="ops")["Credentials"]
    session = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"], region_name=REGION)
    role_s3 = session.client("s3", endpoint_url=server.endpoint, config=client_config())
    role_s3.create_bucket(Bucket=f"ops-{member}")
    with pytest.raises(ClientError) as raised:
        role_s3.delete_bucket(Bucket=f"ops-{member}")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    # P10: the management account itself is not bound.
    own_s3 = _client(server, "s3", management)
    own_s3.create_bucket(Bucket=f"mgmt-{management}")
    orgs.attach_policy(PolicyId=scp("root-wide", "s3:DeleteBucket"), TargetId=root_id)
    own_s3.delete_bucket(Bucket=f"mgmt-{management}")


def test_an_administrator_user_creates_accounts_whatever_the_scps(server):
    """CreateAccount provisions the new account's role as AWS does, governed neither by the
    caller's own policies on the new account's IAM nor by the SCPs the account lands under."""
    management = new_account()
    iam = _client(server, "iam", management)
    iam.create_user(UserName="admin")
    iam.attach_user_policy(UserName="admin",
                           PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    orgs = _client(server, "organizations", key["AccessKeyId"], key["SecretAccessKey"])
    orgs.create_organization()
    root_id = orgs.list_roots()["Roots"][0]["Id"]
    orgs.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    no_iam = orgs.create_policy(Name="no-iam", Description="", Type="SERVICE_CONTROL_POLICY",
                                Content=json.dumps({"Version": "2012-10-17", "Statement": [{
                                    "Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}))
    orgs.attach_policy(PolicyId=no_iam["Policy"]["PolicySummary"]["Id"], TargetId=root_id)
    member = create_account(orgs)
    # The role is there, though the member's own root may not even read it now.
    with pytest.raises(ClientError) as raised:
        _client(server, "iam", member).get_role(RoleName="OrganizationAccountAccessRole")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    credentials = _client(server, "sts", management).assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
        RoleSessionName="ops")["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
