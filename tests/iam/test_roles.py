"""Roles: trust policies, session duration, boundaries, tags, instance profiles, service-linked
roles, deletion rules."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.iam.conftest import READ_BUCKET, TRUST_LAMBDA, doc, error_of, unique


def test_create_role_returns_decoded_trust_policy(iam):
    name = unique("role")
    role = iam.create_role(RoleName=name, Path="/service/", Description="for lambda",
                           AssumeRolePolicyDocument=doc(TRUST_LAMBDA), MaxSessionDuration=7200,
                           Tags=[{"Key": "env", "Value": "test"}])["Role"]
    assert role["RoleId"].startswith("AROA")
    assert role["Arn"] == f"arn:aws:iam::000000000000:role/service/{name}"
    assert role["AssumeRolePolicyDocument"] == TRUST_LAMBDA
    got = iam.get_role(RoleName=name)["Role"]
    assert (got["MaxSessionDuration"], got["Description"], got["Tags"]) == (
        7200, "for lambda", [{"Key": "env", "Value": "test"}])
    assert got["RoleLastUsed"] == {}
    assert got["AssumeRolePolicyDocument"] == TRUST_LAMBDA


def test_trust_policy_is_returned_url_encoded_on_the_wire(iam, role, nubo_server):
    # boto3 decodes policy documents; on the wire IAM sends them URL-encoded.
    import urllib.parse

    raw = []
    iam.meta.events.register("after-call.iam.GetRole",
                             lambda http_response, **_: raw.append(http_response.text))
    try:
        iam.get_role(RoleName=role)
    finally:
        iam.meta.events.unregister("after-call.iam.GetRole")
    encoded = raw[0].split("<AssumeRolePolicyDocument>")[1].split("<")[0]
    assert "%22Statement%22" in encoded
    assert json.loads(urllib.parse.unquote(encoded)) == TRUST_LAMBDA


@pytest.mark.parametrize("duration", [3599, 43201])
def test_max_session_duration_range(unchecked_iam, duration):
    with pytest.raises(ClientError) as raised:
        unchecked_iam.create_role(RoleName=unique(), AssumeRolePolicyDocument=doc(TRUST_LAMBDA),
                        MaxSessionDuration=duration)
    code, message, _ = error_of(raised)
    assert code == "ValidationError" and "maxSessionDuration" in message


@pytest.mark.parametrize("document, message", [
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                              "Principal": {"Service": "ec2.amazonaws.com"},
                                              "Resource": "*"}]},
     "Has prohibited field Resource"),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]},
     "Missing required field Principal"),
    ("{not json", "Syntax errors in policy."),
])
def test_malformed_trust_policies(iam, document, message):
    text = document if isinstance(document, str) else doc(document)
    with pytest.raises(ClientError) as raised:
        iam.create_role(RoleName=unique(), AssumeRolePolicyDocument=text)
    assert error_of(raised) == ("MalformedPolicyDocument", message, 400)


def test_trust_policy_principals_of_the_account_must_exist(iam, user):
    def trusting(arn: str) -> str:
        return doc({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"}]})

    ghost = "arn:aws:iam::000000000000:user/ghost-user"
    with pytest.raises(ClientError) as raised:
        iam.create_role(RoleName=unique(), AssumeRolePolicyDocument=trusting(ghost))
    assert error_of(raised) == ("MalformedPolicyDocument",
                                f'Invalid principal in policy: "AWS":"{ghost}"', 400)
    existing = f"arn:aws:iam::000000000000:user/{user}"
    for principal in (existing, "arn:aws:iam::000000000000:root", "123456789012",
                      "arn:aws:iam::123456789012:role/elsewhere"):
        iam.create_role(RoleName=unique(), AssumeRolePolicyDocument=trusting(principal))


def test_trust_policy_size_limit_ignores_whitespace(iam, role):
    statement = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                 "Action": "sts:AssumeRole"}
    big = {"Version": "2012-10-17", "Statement": [statement] * 24}
    assert len(json.dumps(big, separators=(",", ":"))) > 2048
    with pytest.raises(ClientError) as raised:
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=doc(big))
    assert error_of(raised) == ("LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048",
                                409)
    padded = json.dumps({"Version": "2012-10-17", "Statement": [statement] * 10}, indent=40)
    assert len(padded) > 2048
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=padded)
    assert len(iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]["Statement"]) == 10


def test_update_role(iam, role):
    iam.update_role(RoleName=role, Description="new", MaxSessionDuration=43200)
    got = iam.get_role(RoleName=role)["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("new", 43200)
    assert iam.update_role_description(RoleName=role, Description="again")["Role"][
        "Description"] == "again"


def test_permissions_boundary(iam, role):
    boundary = "arn:aws:iam::aws:policy/PowerUserAccess"
    iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)
    assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": boundary}
    policy = iam.get_policy(PolicyArn=boundary)["Policy"]
    assert policy["PermissionsBoundaryUsageCount"] >= 1
    roles = iam.list_entities_for_policy(PolicyArn=boundary,
                                         PolicyUsageFilter="PermissionsBoundary")["PolicyRoles"]
    assert role in [r["RoleName"] for r in roles]
    iam.delete_role_permissions_boundary(RoleName=role)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=role)["Role"]
    with pytest.raises(ClientError) as raised:
        iam.put_role_permissions_boundary(
            RoleName=role, PermissionsBoundary="arn:aws:iam::000000000000:policy/none")
    assert error_of(raised) == ("NoSuchEntity", "Scope ARN: arn:aws:iam::000000000000:policy/"
                                "none does not exist or is not attachable.", 404)


def test_create_user_with_boundary(iam):
    name = unique()
    arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    user = iam.create_user(UserName=name, PermissionsBoundary=arn)["User"]
    assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    iam.delete_user_permissions_boundary(UserName=name)
    assert "PermissionsBoundary" not in iam.get_user(UserName=name)["User"]


def test_delete_role_conflicts(iam, role):
    iam.put_role_policy(RoleName=role, PolicyName="inline", PolicyDocument=doc(READ_BUCKET))
    with pytest.raises(ClientError) as raised:
        iam.delete_role(RoleName=role)
    assert error_of(raised) == ("DeleteConflict",
                                "Cannot delete entity, must delete policies first.", 409)
    iam.delete_role_policy(RoleName=role, PolicyName="inline")
    iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    with pytest.raises(ClientError) as raised:
        iam.delete_role(RoleName=role)
    assert error_of(raised)[1] == "Cannot delete entity, must detach all policies first."
    iam.detach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.delete_role(RoleName=role)
    with pytest.raises(ClientError) as raised:
        iam.get_role(RoleName=role)
    assert error_of(raised) == ("NoSuchEntity", f"The role with name {role} cannot be found.",
                                404)


def test_instance_profiles(iam, role):
    name = unique("profile")
    profile = iam.create_instance_profile(InstanceProfileName=name, Path="/ec2/")[
        "InstanceProfile"]
    assert profile["InstanceProfileId"].startswith("AIPA") and profile["Roles"] == []
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    got = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == [role]
    other = unique("role")
    iam.create_role(RoleName=other, AssumeRolePolicyDocument=doc(TRUST_LAMBDA))
    with pytest.raises(ClientError) as raised:
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=other)
    assert error_of(raised) == ("LimitExceeded",
                                "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
                                409)
    assert [p["InstanceProfileName"] for p in
            iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]] == [name]
    with pytest.raises(ClientError) as raised:
        iam.delete_role(RoleName=role)
    assert error_of(raised)[1] == ("Cannot delete entity, must remove roles from instance "
                                   "profile first.")
    with pytest.raises(ClientError) as raised:
        iam.delete_instance_profile(InstanceProfileName=name)
    assert error_of(raised)[0] == "DeleteConflict"
    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=name)
    iam.delete_role(RoleName=role)


def test_service_linked_role(iam, fresh_iam):
    role = fresh_iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")[
        "Role"]
    assert role["RoleName"] == "AWSServiceRoleForAutoScaling"
    assert role["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": ["autoscaling.amazonaws.com"]}
    attached = fresh_iam.list_attached_role_policies(RoleName=role["RoleName"])
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [
        "arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy"]
    with pytest.raises(ClientError) as raised:
        fresh_iam.delete_role(RoleName=role["RoleName"])
    assert error_of(raised)[0] == "UnmodifiableEntity"
    with pytest.raises(ClientError) as raised:
        fresh_iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
    assert error_of(raised)[0] == "InvalidInput"
    task = fresh_iam.delete_service_linked_role(RoleName=role["RoleName"])["DeletionTaskId"]
    assert fresh_iam.get_service_linked_role_deletion_status(DeletionTaskId=task)[
        "Status"] == "SUCCEEDED"


def test_service_role_policies_cannot_be_attached_to_customer_roles(iam, role):
    with pytest.raises(ClientError) as raised:
        iam.attach_role_policy(RoleName=role, PolicyArn=(
            "arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy"))
    assert error_of(raised) == ("PolicyNotAttachable",
                                "Cannot attach a Service Role Policy to a Customer Role.", 400)


def test_cli_role(aws_cli, tmp_path):
    name = unique("cli-role")
    trust = tmp_path / "trust.json"
    trust.write_text(doc(TRUST_LAMBDA))
    created = aws_cli("iam", "create-role", "--role-name", name,
                      "--assume-role-policy-document", f"file://{trust}")["Role"]
    assert created["AssumeRolePolicyDocument"] == TRUST_LAMBDA
    aws_cli("iam", "attach-role-policy", "--role-name", name, "--policy-arn",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    attached = aws_cli("iam", "list-attached-role-policies", "--role-name", name)
    assert attached["AttachedPolicies"][0]["PolicyName"] == "AWSLambdaBasicExecutionRole"


def test_role_tags_listing_and_group_policies(iam, role):
    iam.tag_role(RoleName=role, Tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "b"}])
    iam.untag_role(RoleName=role, TagKeys=["env"])
    assert iam.list_role_tags(RoleName=role)["Tags"] == [{"Key": "team", "Value": "a"}]
    prefix = f"/{unique('roles')}/"
    iam.create_role(RoleName=unique("listed"), Path=prefix,
                    AssumeRolePolicyDocument=doc(TRUST_LAMBDA), Description="listed")
    listed = iam.list_roles(PathPrefix=prefix)["Roles"]
    assert len(listed) == 1 and listed[0]["Description"] == "listed"
    assert listed[0]["AssumeRolePolicyDocument"] == TRUST_LAMBDA and "Tags" not in listed[0]
    group = unique("grp")
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="read", PolicyDocument=doc(READ_BUCKET))
    iam.attach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == ["read"]
    assert [p["PolicyName"] for p in iam.list_attached_group_policies(GroupName=group)[
        "AttachedPolicies"]] == ["ReadOnlyAccess"]
    iam.delete_group_policy(GroupName=group, PolicyName="read")
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == []


def test_user_boundary_put_and_credentials_status(iam, user):
    arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=arn)
    assert iam.get_user(UserName=user)["User"]["PermissionsBoundary"][
        "PermissionsBoundaryArn"] == arn
    credential = iam.create_service_specific_credential(
        UserName=user, ServiceName="cassandra.amazonaws.com")["ServiceSpecificCredential"]
    iam.update_service_specific_credential(
        UserName=user, ServiceSpecificCredentialId=credential["ServiceSpecificCredentialId"],
        Status="Inactive")
    assert iam.list_service_specific_credentials(UserName=user)[
        "ServiceSpecificCredentials"][0]["Status"] == "Inactive"
