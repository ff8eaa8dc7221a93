"""Organizational units: create, describe, rename, delete, the tree (children, parents), moving
accounts between parents."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from tests.organizations.conftest import create_account, error_of


def test_create_describe_update_delete(org):
    client, organization, root_id = org
    unit = client.create_organizational_unit(ParentId=root_id, Name="Workloads",
                                             Tags=[{"Key": "team", "Value": "a"}])
    unit = unit["OrganizationalUnit"]
    assert re.fullmatch(rf"ou-{root_id[2:]}-[a-z0-9]{{8}}", unit["Id"])
    master = organization["MasterAccountId"]
    assert unit["Arn"] == f"arn:aws:organizations::{master}:ou/{organization['Id']}/{unit['Id']}"
    assert unit["Name"] == "Workloads"
    assert unit["Path"] == f"{organization['Id']}/{root_id}/{unit['Id']}/"
    assert client.describe_organizational_unit(
        OrganizationalUnitId=unit["Id"])["OrganizationalUnit"] == unit
    assert client.list_tags_for_resource(ResourceId=unit["Id"])["Tags"] == [
        {"Key": "team", "Value": "a"}]
    renamed = client.update_organizational_unit(OrganizationalUnitId=unit["Id"],
                                                Name="Prod")["OrganizationalUnit"]
    assert renamed == {**unit, "Name": "Prod"}
    client.delete_organizational_unit(OrganizationalUnitId=unit["Id"])
    with pytest.raises(ClientError) as raised:
        client.describe_organizational_unit(OrganizationalUnitId=unit["Id"])
    assert error_of(raised) == ("OrganizationalUnitNotFoundException",
                                "You specified an organizational unit that doesn't exist.", 400)


def test_names_are_unique_among_siblings(org):
    client, _, root_id = org
    first = client.create_organizational_unit(ParentId=root_id, Name="Dev")["OrganizationalUnit"]
    with pytest.raises(ClientError) as raised:
        client.create_organizational_unit(ParentId=root_id, Name="Dev")
    assert error_of(raised) == ("DuplicateOrganizationalUnitException",
                                "An OU with the same name already exists.", 400)
    # The same name under another parent is fine; renaming onto a sibling's name is not.
    client.create_organizational_unit(ParentId=first["Id"], Name="Dev")
    other = client.create_organizational_unit(ParentId=root_id, Name="Test")["OrganizationalUnit"]
    with pytest.raises(ClientError) as raised:
        client.update_organizational_unit(OrganizationalUnitId=other["Id"], Name="Dev")
    assert error_of(raised)[0] == "DuplicateOrganizationalUnitException"


def test_depth_limit_is_five_levels(org):
    client, _, root_id = org
    parent = root_id
    for level in range(5):
        parent = client.create_organizational_unit(ParentId=parent,
                                                   Name=f"l{level}")["OrganizationalUnit"]["Id"]
    with pytest.raises(ClientError) as raised:
        client.create_organizational_unit(ParentId=parent, Name="too-deep")
    code, _, status = error_of(raised)
    assert (code, status) == ("ConstraintViolationException", 400)
    assert raised.value.response["Reason"] == "OU_DEPTH_LIMIT_EXCEEDED"


def test_unknown_and_malformed_parents(org):
    client, _, root_id = org
    with pytest.raises(ClientError) as raised:
        client.create_organizational_unit(ParentId=f"ou-{root_id[2:]}-zzzzzzzz", Name="x")
    assert error_of(raised) == ("ParentNotFoundException",
                                "You specified a parent that doesn't exist.", 400)
    with pytest.raises(ClientError) as raised:
        client.list_children(ParentId="r-0000", ChildType="ACCOUNT")
    assert error_of(raised)[0] == "ParentNotFoundException"
    with pytest.raises(ClientError) as raised:
        client.list_children(ParentId="not-an-id", ChildType="ACCOUNT")
    assert error_of(raised)[0] == "InvalidInputException"
    assert raised.value.response["Reason"] == "INVALID_PATTERN_TARGET_ID"


def test_tree_children_parents_and_move(org):
    client, organization, root_id = org
    unit = client.create_organizational_unit(ParentId=root_id, Name="A")["OrganizationalUnit"]
    child = client.create_organizational_unit(ParentId=unit["Id"], Name="B")["OrganizationalUnit"]
    member = create_account(client)
    assert {c["Id"] for c in client.list_children(ParentId=root_id, ChildType="ACCOUNT")[
        "Children"]} == {organization["MasterAccountId"], member}
    assert client.list_children(ParentId=root_id, ChildType="ORGANIZATIONAL_UNIT")[
        "Children"] == [{"Id": unit["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert [u["Id"] for u in client.list_organizational_units_for_parent(
        ParentId=unit["Id"])["OrganizationalUnits"]] == [child["Id"]]
    assert client.list_parents(ChildId=child["Id"])["Parents"] == [
        {"Id": unit["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert client.list_parents(ChildId=member)["Parents"] == [{"Id": root_id, "Type": "ROOT"}]

    client.move_account(AccountId=member, SourceParentId=root_id,
                        DestinationParentId=child["Id"])
    assert client.list_parents(ChildId=member)["Parents"] == [
        {"Id": child["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert [a["Id"] for a in client.list_accounts_for_parent(ParentId=child["Id"])[
        "Accounts"]] == [member]
    described = client.describe_account(AccountId=member)["Account"]
    assert described["Paths"] == [
        f"{organization['Id']}/{root_id}/{unit['Id']}/{child['Id']}/{member}/"]

    with pytest.raises(ClientError) as raised:
        client.move_account(AccountId=member, SourceParentId=root_id,
                            DestinationParentId=unit["Id"])
    assert error_of(raised)[0] == "SourceParentNotFoundException"
    with pytest.raises(ClientError) as raised:
        client.move_account(AccountId=member, SourceParentId=child["Id"],
                            DestinationParentId=child["Id"])
    assert error_of(raised) == ("DuplicateAccountException",
                                "That account is already present in the specified destination.",
                                400)
    with pytest.raises(ClientError) as raised:
        client.move_account(AccountId=member, SourceParentId=child["Id"],
                            DestinationParentId=f"ou-{root_id[2:]}-00000000")
    assert error_of(raised)[0] == "DestinationParentNotFoundException"
    with pytest.raises(ClientError) as raised:
        client.move_account(AccountId="999999999999", SourceParentId=root_id,
                            DestinationParentId=unit["Id"])
    assert error_of(raised) == ("AccountNotFoundException",
                                "You specified an account that doesn't exist.", 400)

    # An OU with an account or a child OU cannot be deleted.
    for busy in (unit["Id"], child["Id"]):
        with pytest.raises(ClientError) as raised:
            client.delete_organizational_unit(OrganizationalUnitId=busy)
        assert error_of(raised)[0] == "OrganizationalUnitNotEmptyException"
    client.move_account(AccountId=member, SourceParentId=child["Id"], DestinationParentId=root_id)
    client.delete_organizational_unit(OrganizationalUnitId=child["Id"])
    client.delete_organizational_unit(OrganizationalUnitId=unit["Id"])
    assert client.list_organizational_units_for_parent(ParentId=root_id)[
        "OrganizationalUnits"] == []


def test_paging_of_units(org):
    client, _, root_id = org
    created = {client.create_organizational_unit(ParentId=root_id, Name=f"u{i}")[
        "OrganizationalUnit"]["Id"] for i in range(7)}
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"NextToken": token} if token else {}
        answer = client.list_organizational_units_for_parent(ParentId=root_id, MaxResults=3,
                                                             **kwargs)
        seen += [u["Id"] for u in answer["OrganizationalUnits"]]
        pages += 1
        token = answer.get("NextToken")
        if not token:
            break
    assert pages == 3 and len(seen) == 7 and set(seen) == created
    paginator = client.get_paginator("list_children")
    ids = [c["Id"] for page in paginator.paginate(ParentId=root_id,
                                                  ChildType="ORGANIZATIONAL_UNIT",
                                                  PaginationConfig={"PageSize": 2})
           for c in page["Children"]]
    assert set(ids) == created and len(ids) == 7
    with pytest.raises(ClientError) as raised:
        client.list_organizational_units_for_parent(ParentId=root_id, NextToken="%%%")
    assert error_of(raised)[0] == "InvalidInputException"


def test_cli_tree(org, cli):
    client, organization, root_id = org
    account = organization["MasterAccountId"]
    unit = cli(account, "organizations", "create-organizational-unit", "--parent-id", root_id,
               "--name", "Security")["OrganizationalUnit"]
    listed = cli(account, "organizations", "list-organizational-units-for-parent",
                 "--parent-id", root_id)["OrganizationalUnits"]
    assert [u["Name"] for u in listed] == ["Security"]
    parents = cli(account, "organizations", "list-parents", "--child-id", unit["Id"])["Parents"]
    assert parents == [{"Id": root_id, "Type": "ROOT"}]
