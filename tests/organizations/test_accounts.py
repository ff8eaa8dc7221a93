"""Member accounts: CreateAccount (asynchronous, with its access role in IAM), describe, list,
remove, close; trusted service access and delegated administrators."""

from __future__ import annotations

import re

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import REGION, SECRET_KEY
from tests.organizations.conftest import (create_account, error_of, invite_account,
                                          new_account)


def test_create_account_is_asynchronous(org):
    client, organization, root_id = org
    email = f"dev-{new_account()}@example.com"
    started = client.create_account(Email=email, AccountName="Dev",
                                    Tags=[{"Key": "env", "Value": "dev"}])["CreateAccountStatus"]
    assert re.fullmatch(r"car-[a-z0-9]{32}", started["Id"])
    assert (started["State"], started["AccountName"]) == ("IN_PROGRESS", "Dev")
    assert "AccountId" not in started and "RequestedTimestamp" in started
    done = client.describe_create_account_status(
        CreateAccountRequestId=started["Id"])["CreateAccountStatus"]
    assert done["State"] == "SUCCEEDED"
    assert re.fullmatch(r"\d{12}", done["AccountId"])
    assert done["CompletedTimestamp"] >= done["RequestedTimestamp"]
    account = client.describe_account(AccountId=done["AccountId"])["Account"]
    assert account == {
        "Id": done["AccountId"], "Email": email, "Name": "Dev", "Status": "ACTIVE",
        "State": "ACTIVE", "JoinedMethod": "CREATED",
        "JoinedTimestamp": account["JoinedTimestamp"],
        "Arn": f"arn:aws:organizations::{organization['MasterAccountId']}:account/"
               f"{organization['Id']}/{done['AccountId']}",
        "Paths": [f"{organization['Id']}/{root_id}/{done['AccountId']}/"]}
    assert client.list_tags_for_resource(ResourceId=done["AccountId"])["Tags"] == [
        {"Key": "env", "Value": "dev"}]
    statuses = client.list_create_account_status()["CreateAccountStatuses"]
    assert [s["Id"] for s in statuses] == [started["Id"]]
    assert client.list_create_account_status(States=["FAILED"])["CreateAccountStatuses"] == []


def test_email_already_used_fails_the_request(org):
    client, _, _ = org
    email = f"taken-{new_account()}@example.com"
    client.create_account(Email=email, AccountName="first")
    started = client.create_account(Email=email, AccountName="second")["CreateAccountStatus"]
    assert started["State"] == "IN_PROGRESS"
    status = client.describe_create_account_status(
        CreateAccountRequestId=started["Id"])["CreateAccountStatus"]
    assert (status["State"], status["FailureReason"]) == ("FAILED", "EMAIL_ALREADY_EXISTS")
    assert "AccountId" not in status
    failed = client.list_create_account_status(States=["FAILED"])["CreateAccountStatuses"]
    assert [s["Id"] for s in failed] == [started["Id"]]


def test_invalid_email_fails_the_request(org):
    client, _, _ = org
    started = client.create_account(Email="no-at-sign.example.com",
                                    AccountName="x")["CreateAccountStatus"]
    status = client.describe_create_account_status(
        CreateAccountRequestId=started["Id"])["CreateAccountStatus"]
    assert (status["State"], status["FailureReason"]) == ("FAILED", "INVALID_EMAIL")


def test_unknown_create_account_request(org):
    client, _, _ = org
    with pytest.raises(ClientError) as raised:
        client.describe_create_account_status(CreateAccountRequestId="car-0123456789abcdef")
    assert error_of(raised)[0] == "CreateAccountStatusNotFoundException"


def test_new_account_has_the_access_role_in_iam(org, client_of):
    client, organization, _ = org
    member = create_account(client)
    role = client_of("iam", member).get_role(RoleName="OrganizationAccountAccessRole")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
    assert role["AssumeRolePolicyDocument"]["Statement"] == [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": f"arn:aws:iam::{organization['MasterAccountId']}:root"}}]
    attached = client_of("iam", member).list_attached_role_policies(
        RoleName="OrganizationAccountAccessRole")["AttachedPolicies"]
    assert attached == [{"PolicyName": "AdministratorAccess",
                         "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]


def test_role_name_and_cli_get_role(org, cli):
    client, _, _ = org
    started = client.create_account(Email=f"ops-{new_account()}@example.com", AccountName="ops",
                                    RoleName="OrgAdmin")["CreateAccountStatus"]
    member = client.describe_create_account_status(
        CreateAccountRequestId=started["Id"])["CreateAccountStatus"]["AccountId"]
    role = cli(member, "iam", "get-role", "--role-name", "OrgAdmin")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{member}:role/OrgAdmin"
    with pytest.raises(ClientError) as raised:
        client.create_account(Email=f"x-{new_account()}@example.com", AccountName="x",
                              RoleName="bad role!")
    assert error_of(raised)[0] == "InvalidInputException"
    assert raised.value.response["Reason"] == "INVALID_ROLE_NAME"


def test_cli_create_account_and_list(org, cli):
    client, organization, _ = org
    account = organization["MasterAccountId"]
    started = cli(account, "organizations", "create-account", "--email",
                  f"cli-{new_account()}@example.com", "--account-name", "cli")
    status = cli(account, "organizations", "describe-create-account-status",
                 "--create-account-request-id", started["CreateAccountStatus"]["Id"])
    member = status["CreateAccountStatus"]["AccountId"]
    listed = cli(account, "organizations", "list-accounts")["Accounts"]
    assert {a["Id"] for a in listed} == {account, member}
    # The new account's own credentials (its 12-digit id as access key) see the access role.
    role = cli(member, "iam", "get-role", "--role-name", "OrganizationAccountAccessRole")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{account}:root"}


def test_list_accounts_pages(org):
    client, organization, _ = org
    members = {create_account(client, f"m{i}") for i in range(4)}
    pages = list(client.get_paginator("list_accounts").paginate(
        PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    assert {a["Id"] for page in pages for a in page["Accounts"]} == \
        members | {organization["MasterAccountId"]}


def test_remove_account(org, client_of):
    client, organization, _ = org
    member = invite_account(client, client_of)
    client.remove_account_from_organization(AccountId=member)
    with pytest.raises(ClientError) as raised:
        client.describe_account(AccountId=member)
    assert error_of(raised) == ("AccountNotFoundException",
                                "You specified an account that doesn't exist.", 400)
    with pytest.raises(ClientError) as raised:
        client_of("organizations", member).describe_organization()
    assert error_of(raised)[0] == "AWSOrganizationsNotInUseException"
    with pytest.raises(ClientError) as raised:
        client.remove_account_from_organization(AccountId=organization["MasterAccountId"])
    assert error_of(raised)[0] == "MasterCannotLeaveOrganizationException"


def test_close_account(org):
    client, organization, _ = org
    member = create_account(client)
    client.close_account(AccountId=member)
    account = client.describe_account(AccountId=member)["Account"]
    assert (account["Status"], account["State"]) == ("SUSPENDED", "SUSPENDED")
    with pytest.raises(ClientError) as raised:
        client.close_account(AccountId=member)
    assert error_of(raised)[0] == "AccountAlreadyClosedException"
    with pytest.raises(ClientError) as raised:
        client.close_account(AccountId=organization["MasterAccountId"])
    assert error_of(raised)[0] == "ConstraintViolationException"
    assert raised.value.response["Reason"] == "CANNOT_CLOSE_MANAGEMENT_ACCOUNT"


def test_close_account_quota_and_feature_set(org, client_of):
    client, _, _ = org
    members = [create_account(client, f"c{i}") for i in range(11)]
    for member in members[:10]:
        client.close_account(AccountId=member)
    with pytest.raises(ClientError) as raised:
        client.close_account(AccountId=members[10])
    assert raised.value.response["Reason"] == "CLOSE_ACCOUNT_QUOTA_EXCEEDED"
    management = client_of("organizations", new_account())
    management.create_organization(FeatureSet="CONSOLIDATED_BILLING")
    member = create_account(management)
    with pytest.raises(ClientError) as raised:
        management.close_account(AccountId=member)
    assert raised.value.response["Reason"] == "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE"


def test_trusted_service_access(org):
    client, _, _ = org
    client.enable_aws_service_access(ServicePrincipal="sso.amazonaws.com")
    client.enable_aws_service_access(ServicePrincipal="config.amazonaws.com")
    client.enable_aws_service_access(ServicePrincipal="sso.amazonaws.com")  # idempotent
    listed = client.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert [s["ServicePrincipal"] for s in listed] == ["config.amazonaws.com",
                                                       "sso.amazonaws.com"]
    client.disable_aws_service_access(ServicePrincipal="config.amazonaws.com")
    listed = client.list_aws_service_access_for_organization()["EnabledServicePrincipals"]
    assert [s["ServicePrincipal"] for s in listed] == ["sso.amazonaws.com"]
    with pytest.raises(ClientError) as raised:
        client.enable_aws_service_access(ServicePrincipal="nonsense")
    assert raised.value.response["Reason"] == "UNRECOGNIZED_SERVICE_PRINCIPAL"


def test_delegated_administrators(org, client_of):
    client, organization, _ = org
    admin = invite_account(client, client_of)
    with pytest.raises(ClientError) as raised:
        client.register_delegated_administrator(AccountId=admin,
                                                ServicePrincipal="guardduty.amazonaws.com")
    assert raised.value.response["Reason"] == "SERVICE_ACCESS_NOT_ENABLED"
    client.enable_aws_service_access(ServicePrincipal="guardduty.amazonaws.com")
    client.register_delegated_administrator(AccountId=admin,
                                            ServicePrincipal="guardduty.amazonaws.com")
    with pytest.raises(ClientError) as raised:
        client.register_delegated_administrator(AccountId=admin,
                                                ServicePrincipal="guardduty.amazonaws.com")
    assert error_of(raised)[0] == "AccountAlreadyRegisteredException"
    with pytest.raises(ClientError) as raised:
        client.register_delegated_administrator(AccountId=organization["MasterAccountId"],
                                                ServicePrincipal="guardduty.amazonaws.com")
    assert raised.value.response["Reason"] == \
        "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR"
    admins = client.list_delegated_administrators()["DelegatedAdministrators"]
    assert [(a["Id"], a["JoinedMethod"]) for a in admins] == [(admin, "INVITED")]
    assert client.list_delegated_administrators(
        ServicePrincipal="config.amazonaws.com")["DelegatedAdministrators"] == []
    services = client.list_delegated_services_for_account(AccountId=admin)["DelegatedServices"]
    assert [s["ServicePrincipal"] for s in services] == ["guardduty.amazonaws.com"]

    # A delegated administrator reads the organization but does not manage it.
    delegate = client_of("organizations", admin)
    assert {a["Id"] for a in delegate.list_accounts()["Accounts"]} == \
        {admin, organization["MasterAccountId"]}
    with pytest.raises(ClientError) as raised:
        delegate.create_organizational_unit(ParentId=delegate.list_roots()["Roots"][0]["Id"],
                                            Name="x")
    assert error_of(raised)[0] == "AccessDeniedException"

    with pytest.raises(ClientError) as raised:
        client.remove_account_from_organization(AccountId=admin)
    assert raised.value.response["Reason"] == "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG"
    client.deregister_delegated_administrator(AccountId=admin,
                                              ServicePrincipal="guardduty.amazonaws.com")
    with pytest.raises(ClientError) as raised:
        client.list_delegated_services_for_account(AccountId=admin)
    assert error_of(raised)[0] == "AccountNotRegisteredException"
    client.remove_account_from_organization(AccountId=admin)


def test_tags_on_root_account_and_limits(org):
    client, _, root_id = org
    client.tag_resource(ResourceId=root_id, Tags=[{"Key": "a", "Value": "1"},
                                                  {"Key": "b", "Value": "2"}])
    client.tag_resource(ResourceId=root_id, Tags=[{"Key": "a", "Value": "3"}])
    assert client.list_tags_for_resource(ResourceId=root_id)["Tags"] == [
        {"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    client.untag_resource(ResourceId=root_id, TagKeys=["a"])
    assert client.list_tags_for_resource(ResourceId=root_id)["Tags"] == [
        {"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as raised:
        client.tag_resource(ResourceId=root_id,
                            Tags=[{"Key": f"k{i}", "Value": ""} for i in range(50)])
    assert raised.value.response["Reason"] == "MAX_TAG_LIMIT_EXCEEDED"
    with pytest.raises(ClientError) as raised:
        client.tag_resource(ResourceId=root_id, Tags=[{"Key": "aws:x", "Value": ""}])
    assert raised.value.response["Reason"] == "INVALID_SYSTEM_TAGS_PARAMETER"
    with pytest.raises(ClientError) as raised:
        client.tag_resource(ResourceId="999999999999", Tags=[{"Key": "a", "Value": ""}])
    assert error_of(raised) == ("TargetNotFoundException",
                                "You specified a target that doesn't exist.", 400)


def test_created_accounts_leave_only_after_seven_days(private_server):
    def client(service: str, account: str):
        return boto3.client(service, endpoint_url=private_server.endpoint, region_name=REGION,
                            aws_access_key_id=account, aws_secret_access_key=SECRET_KEY)

    management = client("organizations", new_account())
    management.create_organization()
    member = create_account(management)
    for remove in (lambda: management.remove_account_from_organization(AccountId=member),
                   lambda: client("organizations", member).leave_organization()):
        with pytest.raises(ClientError) as raised:
            remove()
        assert error_of(raised)[0] == "ConstraintViolationException"
        assert raised.value.response["Reason"] == "WAIT_PERIOD_ACTIVE"
    private_server.advance_clock(7 * 86400)
    management.remove_account_from_organization(AccountId=member)
    assert member not in [a["Id"] for a in management.list_accounts()["Accounts"]]
