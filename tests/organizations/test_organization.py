"""The organization itself: create, describe, delete, the root, who may call what."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from botocore.exceptions import ClientError

from tests.organizations.conftest import (create_account, error_of, invite_account,
                                          new_account)


def test_create_organization_makes_the_caller_the_management_account(management):
    account = management._request_signer._credentials.access_key
    created = management.create_organization()["Organization"]
    assert re.fullmatch(r"o-[a-z0-9]{10}", created["Id"])
    assert created["Arn"] == f"arn:aws:organizations::{account}:organization/{created['Id']}"
    assert created["FeatureSet"] == "ALL"
    assert created["MasterAccountId"] == account
    assert created["MasterAccountArn"] == \
        f"arn:aws:organizations::{account}:account/{created['Id']}/{account}"
    assert created["AvailablePolicyTypes"] == [{"Type": "SERVICE_CONTROL_POLICY",
                                                "Status": "ENABLED"}]
    assert management.describe_organization()["Organization"] == created
    accounts = management.list_accounts()["Accounts"]
    assert [(a["Id"], a["Status"], a["JoinedMethod"]) for a in accounts] == [
        (account, "ACTIVE", "INVITED")]


def test_consolidated_billing_has_no_policy_types(management):
    created = management.create_organization(FeatureSet="CONSOLIDATED_BILLING")["Organization"]
    assert (created["FeatureSet"], created["AvailablePolicyTypes"]) == ("CONSOLIDATED_BILLING", [])
    root_id = management.list_roots()["Roots"][0]["Id"]
    with pytest.raises(ClientError) as raised:
        management.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    assert error_of(raised)[0] == "PolicyTypeNotAvailableForOrganizationException"


def test_second_organization_is_refused(org):
    client, _, _ = org
    with pytest.raises(ClientError) as raised:
        client.create_organization()
    assert error_of(raised) == ("AlreadyInOrganizationException",
                                "The AWS account is already a member of an organization.", 400)


@pytest.mark.parametrize("call", [
    lambda c: c.describe_organization(), lambda c: c.list_roots(), lambda c: c.list_accounts(),
    lambda c: c.delete_organization(),
    lambda c: c.list_policies(Filter="SERVICE_CONTROL_POLICY")])
def test_account_outside_any_organization(management, call):
    with pytest.raises(ClientError) as raised:
        call(management)
    assert error_of(raised) == ("AWSOrganizationsNotInUseException",
                                "Your account is not a member of an organization.", 400)


def test_list_roots(org):
    client, organization, root_id = org
    roots = client.list_roots()["Roots"]
    assert re.fullmatch(r"r-[a-z0-9]{4}", root_id)
    assert roots == [{"Id": root_id, "Name": "Root", "PolicyTypes": [],
                      "Arn": f"arn:aws:organizations::{organization['MasterAccountId']}:root/"
                             f"{organization['Id']}/{root_id}"}]
    answer = client.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    assert answer["Root"]["PolicyTypes"] == [{"Type": "SERVICE_CONTROL_POLICY",
                                             "Status": "ENABLED"}]
    assert client.list_roots()["Roots"][0]["PolicyTypes"] == answer["Root"]["PolicyTypes"]


def test_members_describe_the_organization_but_cannot_manage_it(org, client_of):
    client, organization, root_id = org
    member = client_of("organizations", create_account(client))
    assert member.describe_organization()["Organization"]["Id"] == organization["Id"]
    for call in (lambda: member.list_accounts(), lambda: member.list_roots(),
                 lambda: member.create_organizational_unit(ParentId=root_id, Name="x"),
                 lambda: member.delete_organization()):
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == ("AccessDeniedException",
                                    "You don't have permissions to access this resource.", 400)


def test_delete_organization_only_without_members(org, client_of):
    client, organization, root_id = org
    member_id = invite_account(client, client_of)
    client.create_organizational_unit(ParentId=root_id, Name="unit")
    with pytest.raises(ClientError) as raised:
        client.delete_organization()
    assert error_of(raised)[0] == "OrganizationNotEmptyException"
    client.remove_account_from_organization(AccountId=member_id)
    client.delete_organization()
    with pytest.raises(ClientError) as raised:
        client.describe_organization()
    assert error_of(raised)[0] == "AWSOrganizationsNotInUseException"
    # The former member and the former management account may start organizations of their own.
    assert client_of("organizations", member_id).create_organization()["Organization"]["Id"]
    assert client.create_organization()["Organization"]["Id"] != organization["Id"]


def test_leave_organization(org, client_of):
    client, organization, _ = org
    member_id = invite_account(client, client_of)
    client_of("organizations", member_id).leave_organization()
    assert [a["Id"] for a in client.list_accounts()["Accounts"]] == \
        [organization["MasterAccountId"]]
    with pytest.raises(ClientError) as raised:
        client.leave_organization()
    assert error_of(raised)[0] == "MasterCannotLeaveOrganizationException"


def test_cli_create_describe_delete(cli):
    account = new_account()
    created = cli(account, "organizations", "create-organization", "--feature-set", "ALL")
    described = cli(account, "organizations", "describe-organization")
    assert described["Organization"]["Id"] == created["Organization"]["Id"]
    roots = cli(account, "organizations", "list-roots")["Roots"]
    assert roots[0]["Name"] == "Root"
    assert cli(account, "organizations", "delete-organization") is None
    with pytest.raises(subprocess.CalledProcessError) as raised:
        cli(account, "organizations", "describe-organization")
    assert "AWSOrganizationsNotInUseException" in raised.value.stderr


def test_resource_policy(org):
    client, organization, _ = org
    with pytest.raises(ClientError) as raised:
        client.describe_resource_policy()
    assert error_of(raised)[0] == "ResourcePolicyNotFoundException"
    document = {"Version": "2012-10-17", "Statement": [{
        "Sid": "DelegateReads", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": ["organizations:Describe*", "organizations:List*"], "Resource": "*"}]}
    put = client.put_resource_policy(Content=json.dumps(document))["ResourcePolicy"]
    summary = put["ResourcePolicySummary"]
    assert re.fullmatch(r"rp-[a-z0-9]{8}", summary["Id"])
    assert summary["Arn"] == (f"arn:aws:organizations::{organization['MasterAccountId']}:"
                              f"resourcepolicy/{organization['Id']}/{summary['Id']}")
    assert client.describe_resource_policy()["ResourcePolicy"] == put
    with pytest.raises(ClientError) as raised:
        client.put_resource_policy(Content="{not json")
    assert raised.value.response["Reason"] == "INVALID_RESOURCE_POLICY_JSON"
    client.delete_resource_policy()
    with pytest.raises(ClientError) as raised:
        client.delete_resource_policy()
    assert error_of(raised)[0] == "ResourcePolicyNotFoundException"
