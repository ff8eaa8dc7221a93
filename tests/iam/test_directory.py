"""IamDirectory: what the authenticator and the policy evaluator read. IAM is driven through its
handlers in-process (the same dispatch the gateway uses) on a store the directory then reads."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from nubo.config import Config
from nubo.core.context import RequestContext
from nubo.core.runtime import Runtime
from nubo.services.iam import IamProvider
from nubo.services.iam.directory import IamDirectory
from nubo.store import Store
from tests.iam.conftest import READ_BUCKET, TRUST_LAMBDA

ACCOUNT = "111122223333"
WRITE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                                                 "Resource": "*"}]}
DENY = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:DeleteObject",
                                                "Resource": "*"}]}


@pytest.fixture
def store():
    store = Store(None)
    yield store
    store.close()


@pytest.fixture
def call(store):
    provider = IamProvider(Runtime(Config(ephemeral=True), store))

    def call(operation: str, **params):
        ctx = RequestContext(request_id="r", service="iam", operation=operation,
                             account_id=ACCOUNT, region="us-east-1", access_key_id=ACCOUNT,
                             protocol="query", host="localhost")
        with store.transaction():
            return provider.dispatch(ctx, operation, params)

    return call


def test_empty_store(store):
    directory = IamDirectory(store)
    assert directory.access_key("AKIAAAAAAAAAAAAAAAAA") is None
    assert directory.user(ACCOUNT, "nobody") is None
    assert directory.role(ACCOUNT, "nobody") is None
    assert directory.identity_policies(ACCOUNT, "user", "nobody") == []
    assert directory.managed_policy_document(
        ACCOUNT, "arn:aws:iam::aws:policy/AdministratorAccess")["Statement"][0]["Action"] == "*"


def test_access_key_and_last_used(store, call):
    user = call("CreateUser", UserName="alice", Tags=[{"Key": "team", "Value": "a"}])["User"]
    key = call("CreateAccessKey", UserName="alice")["AccessKey"]
    directory = IamDirectory(store)
    assert directory.access_key(key["AccessKeyId"]) == {
        "AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"],
        "Status": "Active", "UserName": "alice", "AccountId": ACCOUNT,
        "UserArn": user["Arn"], "UserId": user["UserId"]}
    directory.note_key_used(key["AccessKeyId"], "s3", "eu-west-1", 1_700_000_000.0)
    used = call("GetAccessKeyLastUsed", AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert used == {"LastUsedDate": 1_700_000_000.0, "ServiceName": "s3", "Region": "eu-west-1"}
    directory.note_key_used(key["AccessKeyId"], "s3", "eu-west-1", 1_700_000_030.0)
    used = call("GetAccessKeyLastUsed", AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert used["LastUsedDate"] == 1_700_000_000.0  # kept to the minute
    directory.note_key_used(key["AccessKeyId"], "sqs", "eu-west-1", 1_700_000_031.0)
    used = call("GetAccessKeyLastUsed", AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert (used["LastUsedDate"], used["ServiceName"]) == (1_700_000_031.0, "sqs")
    call("UpdateAccessKey", UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert directory.access_key(key["AccessKeyId"])["Status"] == "Inactive"


def test_user_and_role(store, call):
    boundary = "arn:aws:iam::aws:policy/PowerUserAccess"
    call("CreateUser", UserName="bob", Path="/dev/", PermissionsBoundary=boundary,
         Tags=[{"Key": "team", "Value": "x"}])
    call("CreateRole", RoleName="worker", AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA),
         MaxSessionDuration=7200, Tags=[{"Key": "env", "Value": "prod"}])
    directory = IamDirectory(store)
    user = directory.user(ACCOUNT, "BOB")
    assert (user["UserName"], user["Path"], user["Tags"], user["PermissionsBoundary"]) == (
        "bob", "/dev/", {"team": "x"}, boundary)
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/dev/bob"
    role = directory.role(ACCOUNT, "worker")
    assert role["AssumeRolePolicyDocument"] == TRUST_LAMBDA
    assert (role["MaxSessionDuration"], role["Tags"], role["PermissionsBoundary"]) == (
        7200, {"env": "prod"}, None)
    assert role["RoleId"].startswith("AROA")
    directory.note_role_used(ACCOUNT, "worker", "us-west-2", 1_700_000_000.0)
    assert call("GetRole", RoleName="worker")["Role"]["RoleLastUsed"] == {
        "LastUsedDate": 1_700_000_000.0, "Region": "us-west-2"}


def test_identity_policies_of_a_user_include_its_groups(store, call):
    call("CreateUser", UserName="carol")
    call("CreateGroup", GroupName="devs")
    call("AddUserToGroup", GroupName="devs", UserName="carol")
    call("PutUserPolicy", UserName="carol", PolicyName="read",
         PolicyDocument=json.dumps(READ_BUCKET))
    call("PutGroupPolicy", GroupName="devs", PolicyName="deny",
         PolicyDocument=json.dumps(DENY))
    arn = call("CreatePolicy", PolicyName="write", PolicyDocument=json.dumps(READ_BUCKET))[
        "Policy"]["Arn"]
    call("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=json.dumps(WRITE),
         SetAsDefault=True)
    call("AttachGroupPolicy", GroupName="devs", PolicyArn=arn)
    call("AttachUserPolicy", UserName="carol",
         PolicyArn="arn:aws:iam::aws:policy/AmazonSQSFullAccess")
    policies = IamDirectory(store).identity_policies(ACCOUNT, "user", "carol")
    assert READ_BUCKET in policies and DENY in policies and WRITE in policies
    assert any("sqs:*" in json.dumps(p) for p in policies)
    assert len(policies) == 4
    assert IamDirectory(store).managed_policy_document(ACCOUNT, arn) == WRITE


def test_identity_policies_of_a_role(store, call):
    call("CreateRole", RoleName="fn", AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))
    call("PutRolePolicy", RoleName="fn", PolicyName="w", PolicyDocument=json.dumps(WRITE))
    call("AttachRolePolicy", RoleName="fn",
         PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    policies = IamDirectory(store).identity_policies(ACCOUNT, "role", "fn")
    assert policies[0] == WRITE
    assert "logs:CreateLogGroup" in json.dumps(policies[1])


def test_mfa_codes(store, call):
    call("CreateUser", UserName="dave")
    device = call("CreateVirtualMFADevice", VirtualMFADeviceName="dave")["VirtualMFADevice"]
    generator = TOTP(base64.b32decode(device["Base32StringSeed"]), 6, SHA1(), 30,
                     enforce_key_length=False)
    now = time.time()
    step = int(now) // 30
    call("EnableMFADevice", UserName="dave", SerialNumber=device["SerialNumber"],
         AuthenticationCode1=generator.generate((step - 1) * 30).decode(),
         AuthenticationCode2=generator.generate(step * 30).decode())
    directory = IamDirectory(store)
    assert directory.mfa_device_user(ACCOUNT, device["SerialNumber"]) == "dave"
    code = generator.generate(now).decode()
    assert directory.mfa_code_valid(ACCOUNT, device["SerialNumber"], code, now)
    stale = generator.generate(now - 600).decode()
    assert stale == code or not directory.mfa_code_valid(ACCOUNT, device["SerialNumber"],
                                                         stale, now)
