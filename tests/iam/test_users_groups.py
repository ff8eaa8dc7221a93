"""Users and groups: names, paths, ids, listing, renaming, tags, membership, deletion rules."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.iam.conftest import READ_BUCKET, doc, error_of, unique


def test_create_get_user(iam):
    name = unique("User")
    created = iam.create_user(UserName=name, Path="/division/team/",
                              Tags=[{"Key": "team", "Value": "core"}])["User"]
    assert created["Arn"] == f"arn:aws:iam::000000000000:user/division/team/{name}"
    assert created["UserId"].startswith("AIDA") and len(created["UserId"]) == 21
    assert created["Tags"] == [{"Key": "team", "Value": "core"}]
    got = iam.get_user(UserName=name.lower())["User"]  # names are case-insensitive
    assert (got["UserName"], got["UserId"], got["Path"]) == (name, created["UserId"],
                                                            "/division/team/")


def test_user_names_are_unique_regardless_of_case(iam):
    name = unique("Dup")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as raised:
        iam.create_user(UserName=name.upper())
    assert error_of(raised) == ("EntityAlreadyExists",
                                f"User with name {name.upper()} already exists.", 409)


def test_missing_user(iam):
    with pytest.raises(ClientError) as raised:
        iam.get_user(UserName="nobody-here")
    assert error_of(raised) == ("NoSuchEntity",
                                "The user with name nobody-here cannot be found.", 404)


@pytest.mark.parametrize("name", ["has space", "slash/name", "arn:aws:iam::1:user/x",
                                  "\u00fcber"])
def test_invalid_user_names(iam, name):
    with pytest.raises(ClientError) as raised:
        iam.create_user(UserName=name)
    assert error_of(raised) == ("ValidationError", "The specified value for userName is invalid. "
                                "It must contain only alphanumeric characters and/or the "
                                "following: +=,.@_-", 400)


def test_too_long_user_name(iam):
    with pytest.raises(ClientError) as raised:
        iam.create_user(UserName="x" * 65)
    assert error_of(raised) == ("ValidationError", f"1 validation error detected: Value "
                                f"'{'x' * 65}' at 'userName' failed to satisfy constraint: Member "
                                "must have length less than or equal to 64", 400)


def test_invalid_path(iam):
    with pytest.raises(ClientError) as raised:
        iam.create_user(UserName=unique(), Path="no-slashes")
    assert error_of(raised) == ("ValidationError", "The specified value for path is invalid. It "
                                "must begin and end with / and contain only alphanumeric "
                                "characters and/or / characters.", 400)


def test_list_users_by_path_prefix_with_paging(iam):
    prefix = f"/{unique('p')}/"
    names = sorted(unique("u") for _ in range(5))
    for name in names:
        iam.create_user(UserName=name, Path=prefix)
    first = iam.list_users(PathPrefix=prefix, MaxItems=2)
    assert first["IsTruncated"] and [u["UserName"] for u in first["Users"]] == names[:2]
    assert "Tags" not in first["Users"][0]
    seen = [u["UserName"] for u in first["Users"]]
    marker = first["Marker"]
    while marker:
        more = iam.list_users(PathPrefix=prefix, MaxItems=2, Marker=marker)
        seen += [u["UserName"] for u in more["Users"]]
        marker = more.get("Marker")
    assert seen == names
    paginated = [u["UserName"] for p in iam.get_paginator("list_users").paginate(
        PathPrefix=prefix, PaginationConfig={"PageSize": 3}) for u in p["Users"]]
    assert paginated == names


def test_rename_user_keeps_id_keys_and_groups(iam):
    old, new, group = unique("old"), unique("new"), unique("grp")
    user_id = iam.create_user(UserName=old)["User"]["UserId"]
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=old)
    key = iam.create_access_key(UserName=old)["AccessKey"]["AccessKeyId"]
    iam.update_user(UserName=old, NewUserName=new, NewPath="/moved/")
    got = iam.get_user(UserName=new)["User"]
    assert (got["UserId"], got["Path"], got["Arn"].endswith(f"user/moved/{new}")) == (
        user_id, "/moved/", True)
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName=new)["AccessKeyMetadata"]] \
        == [key]
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [new]
    with pytest.raises(ClientError):
        iam.get_user(UserName=old)


def test_user_tags(iam, user):
    iam.tag_user(UserName=user, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.tag_user(UserName=user, Tags=[{"Key": "a", "Value": "3"}])
    assert iam.list_user_tags(UserName=user)["Tags"] == [{"Key": "a", "Value": "3"},
                                                         {"Key": "b", "Value": "2"}]
    iam.tag_user(UserName=user, Tags=[{"Key": "B", "Value": "4"}])  # keys ignore case
    assert iam.list_user_tags(UserName=user)["Tags"] == [{"Key": "a", "Value": "3"},
                                                         {"Key": "B", "Value": "4"}]
    with pytest.raises(ClientError) as raised:
        iam.tag_user(UserName=user, Tags=[{"Key": "x", "Value": "1"}, {"Key": "X", "Value": "2"}])
    assert error_of(raised) == ("InvalidInput", "Duplicate tag keys found. Please note that Tag "
                                "keys are case insensitive.", 400)
    iam.untag_user(UserName=user, TagKeys=["A"])
    assert iam.get_user(UserName=user)["User"]["Tags"] == [{"Key": "B", "Value": "4"}]
    with pytest.raises(ClientError) as raised:
        iam.tag_user(UserName=user, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_of(raised)[0] == "LimitExceeded"


def test_groups_and_membership(iam, user):
    group = unique("grp")
    created = iam.create_group(GroupName=group, Path="/teams/")["Group"]
    assert created["GroupId"].startswith("AGPA")
    assert created["Arn"] == f"arn:aws:iam::000000000000:group/teams/{group}"
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)  # idempotent
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    assert group in [g["GroupName"] for g in iam.list_groups(PathPrefix="/teams/")["Groups"]]
    with pytest.raises(ClientError) as raised:
        iam.delete_group(GroupName=group)
    assert error_of(raised) == ("DeleteConflict",
                                "Cannot delete entity, must remove users from group first.", 409)
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.delete_group(GroupName=group)
    with pytest.raises(ClientError) as raised:
        iam.get_group(GroupName=group)
    assert error_of(raised) == ("NoSuchEntity",
                                f"The group with name {group} cannot be found.", 404)


def test_groups_per_user_quota(iam, user):
    groups = [unique("g") for _ in range(11)]
    for group in groups:
        iam.create_group(GroupName=group)
    for group in groups[:10]:
        iam.add_user_to_group(GroupName=group, UserName=user)
    with pytest.raises(ClientError) as raised:
        iam.add_user_to_group(GroupName=groups[10], UserName=user)
    assert error_of(raised) == ("LimitExceeded", "Cannot exceed quota for GroupsPerUser: 10",
                                409)


@pytest.mark.parametrize("blocker, message", [
    ("access_key", "Cannot delete entity, must delete access keys first."),
    ("login_profile", "Cannot delete entity, must delete login profile first."),
    ("inline", "Cannot delete entity, must delete policies first."),
    ("attached", "Cannot delete entity, must detach all policies first."),
    ("group", "Cannot delete entity, must remove users from group first."),
])
def test_delete_user_conflicts(iam, user, blocker, message):
    if blocker == "access_key":
        iam.create_access_key(UserName=user)
    elif blocker == "login_profile":
        iam.create_login_profile(UserName=user, Password="Str0ng!Passw0rd")
    elif blocker == "inline":
        iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=doc(READ_BUCKET))
    elif blocker == "attached":
        iam.attach_user_policy(UserName=user,
                               PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    else:
        group = unique("g")
        iam.create_group(GroupName=group)
        iam.add_user_to_group(GroupName=group, UserName=user)
    with pytest.raises(ClientError) as raised:
        iam.delete_user(UserName=user)
    assert error_of(raised) == ("DeleteConflict", message, 409)
    assert iam.get_user(UserName=user)["User"]["UserName"] == user


def test_delete_user(iam):
    name = unique()
    iam.create_user(UserName=name)
    iam.delete_user(UserName=name)
    assert name not in [u["UserName"] for u in iam.list_users()["Users"]]
    iam.create_user(UserName=name)  # the name is free again


def test_iam_is_global(account_iam):
    account = "210987654321"
    east, west = account_iam(account, "us-east-1"), account_iam(account, "eu-west-3")
    name = unique()
    east.create_user(UserName=name)
    assert west.get_user(UserName=name)["User"]["Arn"] == f"arn:aws:iam::{account}:user/{name}"
    other = account_iam("123412341234")
    with pytest.raises(ClientError):
        other.get_user(UserName=name)


def test_get_user_without_name_as_root(iam):
    user = iam.get_user()["User"]
    assert user["Arn"] == "arn:aws:iam::000000000000:root"
    assert user["UserId"] == "000000000000"


def test_cli_users(aws_cli):
    name = unique("cli")
    created = aws_cli("iam", "create-user", "--user-name", name, "--tags", "Key=k,Value=v")
    assert created["User"]["UserName"] == name
    listed = aws_cli("iam", "list-users")["Users"]
    assert name in [u["UserName"] for u in listed]
    failed = aws_cli("iam", "get-user", "--user-name", "missing-cli-user", check=False)
    assert failed.returncode != 0
    assert "NoSuchEntity" in failed.stderr
    assert "The user with name missing-cli-user cannot be found." in failed.stderr
    aws_cli("iam", "delete-user", "--user-name", name)


def test_rename_group_and_page_its_users(iam):
    group, renamed = unique("grp"), unique("renamed")
    iam.create_group(GroupName=group)
    users = sorted(unique("m") for _ in range(3))
    for name in users:
        iam.create_user(UserName=name)
        iam.add_user_to_group(GroupName=group, UserName=name)
    iam.update_group(GroupName=group, NewGroupName=renamed, NewPath="/moved/")
    first = iam.get_group(GroupName=renamed, MaxItems=2)
    assert first["Group"]["Path"] == "/moved/" and first["IsTruncated"]
    rest = iam.get_group(GroupName=renamed, Marker=first["Marker"])
    assert [u["UserName"] for u in first["Users"] + rest["Users"]] == users
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=users[0])["Groups"]] == [
        renamed]
    with pytest.raises(ClientError) as raised:
        iam.remove_user_from_group(GroupName=renamed, UserName=unique("nobody"))
    assert error_of(raised)[0] == "NoSuchEntity"


def test_invalid_marker(iam):
    group = unique("grp")
    iam.create_group(GroupName=group)
    with pytest.raises(ClientError) as raised:
        iam.get_group(GroupName=group, Marker="bm90LWEtbnVtYmVy")
    assert error_of(raised) == ("ValidationError", "Invalid Marker.", 400)


def test_get_user_with_temporary_credentials(iam, make_client):
    import boto3

    from tests.conftest import REGION
    from tests.iam.conftest import doc

    role = unique("assumable")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=doc({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
            "Action": "sts:AssumeRole"}]}))
    credentials = make_client("sts").assume_role(
        RoleArn=f"arn:aws:iam::000000000000:role/{role}", RoleSessionName="session")["Credentials"]
    session = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"], region_name=REGION)
    with pytest.raises(ClientError) as raised:
        make_client("iam", session=session).get_user()
    assert error_of(raised) == ("ValidationError", "Must specify userName when calling with "
                                "non-User credentials", 400)
