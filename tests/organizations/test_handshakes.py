"""Inviting existing accounts: InviteAccountToOrganization, then the invited account accepts or
declines, or the management account cancels; invitations expire after 15 days."""

from __future__ import annotations

import re

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import REGION, SECRET_KEY
from tests.organizations.conftest import create_account, error_of, invite_account, new_account


@pytest.fixture
def invited(org, client_of):
    """(management client, organization, invited account id, its client, the handshake)."""
    client, organization, _ = org
    account = new_account()
    handshake = client.invite_account_to_organization(
        Target={"Type": "ACCOUNT", "Id": account}, Notes="join us",
        Tags=[{"Key": "source", "Value": "invite"}])["Handshake"]
    return client, organization, account, client_of("organizations", account), handshake


def test_invitation_shape(invited):
    client, organization, account, _, handshake = invited
    assert re.fullmatch(r"h-[a-z0-9]{32}", handshake["Id"])
    assert handshake["Arn"] == (f"arn:aws:organizations::{organization['MasterAccountId']}:"
                                f"handshake/{organization['Id']}/invite/{handshake['Id']}")
    assert (handshake["State"], handshake["Action"]) == ("OPEN", "INVITE")
    assert handshake["Parties"] == [{"Id": organization["Id"], "Type": "ORGANIZATION"},
                                    {"Id": account, "Type": "ACCOUNT"}]
    lifetime = handshake["ExpirationTimestamp"] - handshake["RequestedTimestamp"]
    assert lifetime.days == 15
    assert {"Type": "NOTES", "Value": "join us"} in handshake["Resources"]
    listed = client.list_handshakes_for_organization()["Handshakes"]
    assert [h["Id"] for h in listed] == [handshake["Id"]]


def test_accept_joins_the_organization(invited):
    client, organization, account, invitee, handshake = invited
    assert [h["Id"] for h in invitee.list_handshakes_for_account()["Handshakes"]] == \
        [handshake["Id"]]
    assert invitee.describe_handshake(HandshakeId=handshake["Id"])["Handshake"]["State"] == \
        "OPEN"
    accepted = invitee.accept_handshake(HandshakeId=handshake["Id"])["Handshake"]
    assert accepted["State"] == "ACCEPTED"
    joined = client.describe_account(AccountId=account)["Account"]
    assert joined["JoinedMethod"] == "INVITED"
    assert client.list_tags_for_resource(ResourceId=account)["Tags"] == [
        {"Key": "source", "Value": "invite"}]
    assert invitee.describe_organization()["Organization"]["Id"] == organization["Id"]
    with pytest.raises(ClientError) as raised:
        invitee.accept_handshake(HandshakeId=handshake["Id"])
    assert error_of(raised)[0] == "HandshakeAlreadyInStateException"
    with pytest.raises(ClientError) as raised:
        client.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": account})
    assert error_of(raised)[0] == "HandshakeConstraintViolationException"
    assert raised.value.response["Reason"] == "ALREADY_IN_AN_ORGANIZATION"


def test_decline_and_cancel(invited, client_of):
    client, _, account, invitee, handshake = invited
    with pytest.raises(ClientError) as raised:
        client.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": account})
    assert error_of(raised)[0] == "DuplicateHandshakeException"
    declined = invitee.decline_handshake(HandshakeId=handshake["Id"])["Handshake"]
    assert declined["State"] == "DECLINED"
    with pytest.raises(ClientError) as raised:
        invitee.accept_handshake(HandshakeId=handshake["Id"])
    assert error_of(raised)[0] == "InvalidHandshakeTransitionException"
    with pytest.raises(ClientError) as raised:
        client.describe_account(AccountId=account)
    assert error_of(raised)[0] == "AccountNotFoundException"

    again = client.invite_account_to_organization(
        Target={"Type": "ACCOUNT", "Id": account})["Handshake"]
    assert client.cancel_handshake(HandshakeId=again["Id"])["Handshake"]["State"] == "CANCELED"
    with pytest.raises(ClientError) as raised:
        invitee.accept_handshake(HandshakeId=again["Id"])
    assert error_of(raised)[0] == "InvalidHandshakeTransitionException"
    # A stranger sees nothing.
    with pytest.raises(ClientError) as raised:
        client_of("organizations", new_account()).describe_handshake(HandshakeId=again["Id"])
    assert error_of(raised)[0] == "HandshakeNotFoundException"


def test_invitation_expires_after_15_days(private_server):
    def client(account: str):
        return boto3.client("organizations", endpoint_url=private_server.endpoint,
                            region_name=REGION, aws_access_key_id=account,
                            aws_secret_access_key=SECRET_KEY)

    management, account = new_account(), new_account()
    client(management).create_organization()
    handshake = client(management).invite_account_to_organization(
        Target={"Type": "ACCOUNT", "Id": account})["Handshake"]
    private_server.advance_clock(15 * 86400 - 60)
    assert client(account).describe_handshake(
        HandshakeId=handshake["Id"])["Handshake"]["State"] == "OPEN"
    private_server.advance_clock(61)
    assert client(account).describe_handshake(
        HandshakeId=handshake["Id"])["Handshake"]["State"] == "EXPIRED"
    with pytest.raises(ClientError) as raised:
        client(account).accept_handshake(HandshakeId=handshake["Id"])
    assert error_of(raised)[0] == "InvalidHandshakeTransitionException"


def test_a_member_of_another_organization_cannot_accept(invited, client_of):
    _, _, _, invitee, handshake = invited
    invitee.create_organization()
    with pytest.raises(ClientError) as raised:
        invitee.accept_handshake(HandshakeId=handshake["Id"])
    assert error_of(raised)[0] == "HandshakeConstraintViolationException"
    assert raised.value.response["Reason"] == "ALREADY_IN_AN_ORGANIZATION"


def test_cli_invite_and_accept(org, cli):
    _, organization, _ = org
    account = new_account()
    handshake = cli(organization["MasterAccountId"], "organizations",
                    "invite-account-to-organization", "--target",
                    f"Id={account},Type=ACCOUNT")["Handshake"]
    accepted = cli(account, "organizations", "accept-handshake", "--handshake-id",
                   handshake["Id"])["Handshake"]
    assert accepted["State"] == "ACCEPTED"


def test_enable_all_features_with_invited_members(management, client_of):
    management.create_organization(FeatureSet="CONSOLIDATED_BILLING")
    invited = invite_account(management, client_of)
    create_account(management)  # created accounts consent implicitly
    parent = management.enable_all_features()["Handshake"]
    assert (parent["Action"], parent["State"]) == ("ENABLE_ALL_FEATURES", "OPEN")
    assert "/enable_all_features/" in parent["Arn"]
    children = management.list_handshakes_for_organization(
        Filter={"ParentHandshakeId": parent["Id"]})["Handshakes"]
    assert [(c["Action"], c["Parties"][1]["Id"]) for c in children] == [
        ("ENABLE_ALL_FEATURES", invited)]
    member = client_of("organizations", invited)
    assert [h["Id"] for h in member.list_handshakes_for_account(
        Filter={"ActionType": "ENABLE_ALL_FEATURES"})["Handshakes"]] == [children[0]["Id"]]

    # Not yet: the invited member has not consented; no invitations meanwhile.
    with pytest.raises(ClientError) as raised:
        management.accept_handshake(HandshakeId=parent["Id"])
    assert error_of(raised)[0] == "InvalidHandshakeTransitionException"
    for call, reason in (
            (lambda: management.invite_account_to_organization(
                Target={"Type": "ACCOUNT", "Id": new_account()}),
             "INVITE_DISABLED_DURING_ENABLE_ALL_FEATURES"),
            (management.enable_all_features,
             "ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION")):
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["Reason"] == reason

    member.accept_handshake(HandshakeId=children[0]["Id"])
    approvals = management.list_handshakes_for_account(
        Filter={"ActionType": "APPROVE_ALL_FEATURES"})["Handshakes"]
    assert len(approvals) == 1 and approvals[0]["State"] == "OPEN"
    accepted = management.accept_handshake(HandshakeId=approvals[0]["Id"])["Handshake"]
    assert accepted["State"] == "ACCEPTED"
    assert management.describe_organization()["Organization"]["FeatureSet"] == "ALL"
    assert management.describe_handshake(HandshakeId=parent["Id"])["Handshake"]["State"] == \
        "ACCEPTED"
    root_id = management.list_roots()["Roots"][0]["Id"]
    management.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    with pytest.raises(ClientError) as raised:
        management.enable_all_features()
    assert raised.value.response["Reason"] == "ORGANIZATION_ALREADY_HAS_ALL_FEATURES"


def test_enable_all_features_without_invited_members_and_cancel(management):
    management.create_organization(FeatureSet="CONSOLIDATED_BILLING")
    parent = management.enable_all_features()["Handshake"]
    management.cancel_handshake(HandshakeId=parent["Id"])
    assert management.describe_organization()["Organization"]["FeatureSet"] == \
        "CONSOLIDATED_BILLING"
    parent = management.enable_all_features()["Handshake"]
    assert management.accept_handshake(HandshakeId=parent["Id"])["Handshake"]["State"] == \
        "ACCEPTED"
    assert management.describe_organization()["Organization"]["FeatureSet"] == "ALL"
