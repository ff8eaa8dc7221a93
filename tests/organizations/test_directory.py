"""OrganizationsDirectory: what the policy evaluator reads (SCPs and RCPs per level, the
organization of an account). Organizations is driven through its handlers in-process (the same
dispatch the gateway uses) on a store the directory then reads."""

from __future__ import annotations

import json

import pytest

from nubo.config import Config
from nubo.core.clock import Clock
from nubo.core.context import RequestContext
from nubo.core.runtime import Runtime
from nubo.gateway.authorization import Authorizer
from nubo.services import ServiceRegistry
from nubo.services.organizations.directory import OrganizationsDirectory
from nubo.store import Store
from tests.organizations.conftest import ALLOW_EC2, DENY_DELETE_BUCKET

MANAGEMENT = "111111111111"
OUTSIDER = "222222222222"
FULL_ACCESS = {"Version": "2012-10-17",
               "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture
def store():
    store = Store(None)
    yield store
    store.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def call(store, clock):
    runtime = Runtime(Config(ephemeral=True), store, clock)
    runtime.authorizer = Authorizer(runtime)
    registry = ServiceRegistry(runtime)

    def call(operation: str, account: str = MANAGEMENT, **params):
        ctx = RequestContext(request_id="r", service="organizations", operation=operation,
                             account_id=account, region="us-east-1", access_key_id=account,
                             protocol="json", host="localhost")
        with store.transaction():
            return registry.call(ctx, "organizations", operation, params)

    return call


def _new_account(call, name: str) -> str:
    started = call("CreateAccount", Email=f"{name}@example.com", AccountName=name)
    return call("DescribeCreateAccountStatus", CreateAccountRequestId=started[
        "CreateAccountStatus"]["Id"])["CreateAccountStatus"]["AccountId"]


def _documents(levels):
    return [[json.loads(text) for text in level] for level in levels]


def test_works_on_an_empty_store(store):
    directory = OrganizationsDirectory(store)
    assert directory.service_control_policies(MANAGEMENT) is None
    assert directory.resource_control_policies(MANAGEMENT) is None
    assert directory.organization_of(MANAGEMENT) is None
    assert directory.organization_path(MANAGEMENT) is None


def test_levels_from_the_root_down(store, call, clock):
    org = call("CreateOrganization")["Organization"]
    root_id = call("ListRoots")["Roots"][0]["Id"]
    member = _new_account(call, "member")
    directory = OrganizationsDirectory(store)
    expected_org = {"Id": org["Id"], "Arn": org["Arn"], "MasterAccountId": MANAGEMENT}
    assert directory.organization_of(member) == expected_org
    assert directory.organization_of(MANAGEMENT) == expected_org
    assert directory.organization_of(OUTSIDER) is None
    # SCPs not enabled yet: nothing bounds the member.
    assert directory.service_control_policies(member) is None

    call("EnablePolicyType", RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    assert _documents(directory.service_control_policies(member)) == [[FULL_ACCESS],
                                                                      [FULL_ACCESS]]
    # The management account is never bound by SCPs, nor an account outside the organization.
    assert directory.service_control_policies(MANAGEMENT) is None
    assert directory.service_control_policies(OUTSIDER) is None

    # P8/P9: an OU with a deny, and FullAWSAccess replaced by an ec2-only allow on another.
    outer = call("CreateOrganizationalUnit", ParentId=root_id, Name="outer")[
        "OrganizationalUnit"]["Id"]
    inner = call("CreateOrganizationalUnit", ParentId=outer, Name="inner")[
        "OrganizationalUnit"]["Id"]
    call("MoveAccount", AccountId=member, SourceParentId=root_id, DestinationParentId=inner)
    deny = call("CreatePolicy", Name="deny", Description="", Type="SERVICE_CONTROL_POLICY",
                Content=json.dumps(DENY_DELETE_BUCKET))["Policy"]["PolicySummary"]["Id"]
    ec2 = call("CreatePolicy", Name="ec2", Description="", Type="SERVICE_CONTROL_POLICY",
               Content=json.dumps(ALLOW_EC2))["Policy"]["PolicySummary"]["Id"]
    call("AttachPolicy", PolicyId=deny, TargetId=outer)
    call("AttachPolicy", PolicyId=ec2, TargetId=inner)
    call("DetachPolicy", PolicyId="p-FullAWSAccess", TargetId=inner)
    assert directory.organization_path(member) == f"{org['Id']}/{root_id}/{outer}/{inner}/"
    assert directory.organization_path(MANAGEMENT) == f"{org['Id']}/{root_id}/"
    assert directory.organization_path(OUTSIDER) is None
    levels = _documents(directory.service_control_policies(member))
    assert len(levels) == 4  # root, outer, inner, the account
    assert levels[0] == [FULL_ACCESS]
    assert sorted(levels[1], key=json.dumps) == sorted([FULL_ACCESS, DENY_DELETE_BUCKET],
                                                       key=json.dumps)
    assert levels[2] == [ALLOW_EC2]
    assert levels[3] == [FULL_ACCESS]

    # Updating a policy is seen at once; leaving the organization frees the account.
    call("UpdatePolicy", PolicyId=ec2, Content=json.dumps(DENY_DELETE_BUCKET))
    assert _documents(directory.service_control_policies(member))[2] == [DENY_DELETE_BUCKET]
    clock.advance(7 * 86400)  # a created account may leave after seven days
    call("RemoveAccountFromOrganization", AccountId=member)
    assert directory.service_control_policies(member) is None
    assert directory.organization_of(member) is None


def test_resource_control_policies(store, call):
    call("CreateOrganization")
    root_id = call("ListRoots")["Roots"][0]["Id"]
    member = _new_account(call, "member")
    directory = OrganizationsDirectory(store)
    assert directory.resource_control_policies(member) is None
    call("EnablePolicyType", RootId=root_id, PolicyType="RESOURCE_CONTROL_POLICY")
    levels = _documents(directory.resource_control_policies(member))
    assert [[d["Statement"][0]["Principal"] for d in level] for level in levels] == [["*"],
                                                                                    ["*"]]
    assert directory.service_control_policies(member) is None  # only RCPs are enabled
    assert directory.resource_control_policies(MANAGEMENT) is None


def test_created_account_role_is_in_iam(store, call):
    from nubo.services.iam.directory import IamDirectory

    call("CreateOrganization")
    member = _new_account(call, "member")
    role = IamDirectory(store).role(member, "OrganizationAccountAccessRole")
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{MANAGEMENT}:root"}
    assert IamDirectory(store).identity_policies(member, "role",
                                                 "OrganizationAccountAccessRole")[0][
        "Statement"][0]["Action"] == "*"
