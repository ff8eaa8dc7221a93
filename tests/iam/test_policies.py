"""Managed policies (customer and AWS), versions, attachments, inline policies, document
validation and size limits."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.iam.conftest import READ_BUCKET, doc, error_of, unique

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
WRITE_BUCKET = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::bucket/*"}]}


@pytest.fixture
def policy_arn(iam):
    arn = iam.create_policy(PolicyName=unique("pol"), PolicyDocument=doc(READ_BUCKET))[
        "Policy"]["Arn"]
    yield arn


def test_create_and_get_policy(iam):
    name = unique("Pol")
    created = iam.create_policy(PolicyName=name, Path="/app/", PolicyDocument=doc(READ_BUCKET),
                                Description="read the bucket",
                                Tags=[{"Key": "k", "Value": "v"}])["Policy"]
    assert created["Arn"] == f"arn:aws:iam::000000000000:policy/app/{name}"
    assert created["PolicyId"].startswith("ANPA")
    assert (created["DefaultVersionId"], created["AttachmentCount"], created["IsAttachable"]) == (
        "v1", 0, True)
    got = iam.get_policy(PolicyArn=created["Arn"])["Policy"]
    assert (got["Description"], got["Tags"]) == ("read the bucket", [{"Key": "k", "Value": "v"}])
    version = iam.get_policy_version(PolicyArn=created["Arn"], VersionId="v1")["PolicyVersion"]
    assert version["Document"] == READ_BUCKET and version["IsDefaultVersion"]
    with pytest.raises(ClientError) as raised:
        iam.create_policy(PolicyName=name.lower(), PolicyDocument=doc(READ_BUCKET))
    assert error_of(raised) == ("EntityAlreadyExists", f"A policy called {name.lower()} already "
                                "exists. Duplicate names are not allowed.", 409)


def test_missing_policy(iam):
    arn = "arn:aws:iam::000000000000:policy/missing"
    with pytest.raises(ClientError) as raised:
        iam.get_policy(PolicyArn=arn)
    assert error_of(raised) == ("NoSuchEntity", f"Policy {arn} was not found.", 404)


def test_policy_versions(iam, policy_arn):
    created = iam.create_policy_version(PolicyArn=policy_arn, PolicyDocument=doc(WRITE_BUCKET),
                                        SetAsDefault=True)["PolicyVersion"]
    assert (created["VersionId"], created["IsDefaultVersion"]) == ("v2", True)
    assert iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"] == "v2"
    for _ in range(3):
        iam.create_policy_version(PolicyArn=policy_arn, PolicyDocument=doc(READ_BUCKET))
    with pytest.raises(ClientError) as raised:
        iam.create_policy_version(PolicyArn=policy_arn, PolicyDocument=doc(READ_BUCKET))
    assert error_of(raised) == ("LimitExceeded", "A managed policy can have up to 5 versions. "
                                "Before you create a new version, you must delete an existing "
                                "version.", 409)
    versions = iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["IsDefaultVersion"] for v in versions] == [False, False, False, True, False]
    with pytest.raises(ClientError) as raised:
        iam.delete_policy_version(PolicyArn=policy_arn, VersionId="v2")
    assert error_of(raised) == ("DeleteConflict", "Cannot delete the default version of a "
                                "policy.", 409)
    iam.delete_policy_version(PolicyArn=policy_arn, VersionId="v1")
    iam.create_policy_version(PolicyArn=policy_arn, PolicyDocument=doc(READ_BUCKET))
    assert iam.list_policy_versions(PolicyArn=policy_arn)["Versions"][0]["VersionId"] == "v6"
    iam.set_default_policy_version(PolicyArn=policy_arn, VersionId="v6")
    assert iam.get_policy(PolicyArn=policy_arn)["Policy"]["DefaultVersionId"] == "v6"
    with pytest.raises(ClientError) as raised:
        iam.get_policy_version(PolicyArn=policy_arn, VersionId="v1")
    assert error_of(raised)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as raised:
        iam.delete_policy(PolicyArn=policy_arn)
    assert error_of(raised) == ("DeleteConflict", "This policy has more than one version. "
                                "Before you delete a policy, you must delete the policy's "
                                "versions. The default version is deleted with the policy.", 409)
    for version in ("v2", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=policy_arn, VersionId=version)
    iam.delete_policy(PolicyArn=policy_arn)


def test_attach_detach_and_entities(iam, user, role, policy_arn):
    group = unique("grp")
    iam.create_group(GroupName=group)
    iam.attach_user_policy(UserName=user, PolicyArn=policy_arn)
    iam.attach_group_policy(GroupName=group, PolicyArn=policy_arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
    assert iam.get_policy(PolicyArn=policy_arn)["Policy"]["AttachmentCount"] == 3
    entities = iam.list_entities_for_policy(PolicyArn=policy_arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == [user]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == [group]
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == [role]
    assert entities["PolicyUsers"][0]["UserId"].startswith("AIDA")
    only_roles = iam.list_entities_for_policy(PolicyArn=policy_arn, EntityFilter="Role")
    assert (only_roles["PolicyUsers"], len(only_roles["PolicyRoles"])) == ([], 1)
    attached = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    assert attached == [{"PolicyName": policy_arn.rsplit("/", 1)[1], "PolicyArn": policy_arn}]
    with pytest.raises(ClientError) as raised:
        iam.delete_policy(PolicyArn=policy_arn)
    assert error_of(raised) == ("DeleteConflict", "Cannot delete a policy attached to entities.",
                                409)
    iam.detach_user_policy(UserName=user, PolicyArn=policy_arn)
    iam.detach_group_policy(GroupName=group, PolicyArn=policy_arn)
    iam.detach_role_policy(RoleName=role, PolicyArn=policy_arn)
    with pytest.raises(ClientError) as raised:
        iam.detach_role_policy(RoleName=role, PolicyArn=policy_arn)
    assert error_of(raised) == ("NoSuchEntity", f"Policy {policy_arn} was not found.", 404)
    iam.delete_policy(PolicyArn=policy_arn)


def test_attach_missing_policy(iam, role):
    arn = "arn:aws:iam::aws:policy/AWSLambdaFullAccessThatDoesNotExist"
    with pytest.raises(ClientError) as raised:
        iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    assert error_of(raised) == ("NoSuchEntity",
                                f"Policy {arn} does not exist or is not attachable.", 404)


@pytest.mark.parametrize("arn", ["not-an-arn", "arn:aws:s3:::bucket",
                                 "arn:aws:iam::aws:role/Admin"])
def test_attach_invalid_policy_arn(iam, role, arn):
    with pytest.raises(ClientError) as raised:
        iam.attach_role_policy(RoleName=role, PolicyArn=arn.ljust(20, "x"))
    assert error_of(raised) == ("InvalidInput", f"ARN {arn.ljust(20, 'x')} is not valid.", 400)


def test_attached_policies_quota(iam, user):
    arns = [iam.create_policy(PolicyName=unique("q"), PolicyDocument=doc(READ_BUCKET))[
        "Policy"]["Arn"] for _ in range(11)]
    for arn in arns[:10]:
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
    with pytest.raises(ClientError) as raised:
        iam.attach_user_policy(UserName=user, PolicyArn=arns[10])
    assert error_of(raised) == ("LimitExceeded", "Cannot exceed quota for PoliciesPerUser: 10",
                                409)


@pytest.mark.parametrize("arn, needle", [
    ("arn:aws:iam::aws:policy/AdministratorAccess", '"Action": "*"'),
    ("arn:aws:iam::aws:policy/ReadOnlyAccess", "s3:Get*"),
    ("arn:aws:iam::aws:policy/PowerUserAccess", "NotAction"),
    ("arn:aws:iam::aws:policy/AmazonS3FullAccess", "s3:*"),
    ("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "s3:Get*"),
    ("arn:aws:iam::aws:policy/AmazonSQSFullAccess", "sqs:*"),
    ("arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess", "dynamodb:*"),
    ("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "logs:PutLogEvents"),
    ("arn:aws:iam::aws:policy/AWSLambda_FullAccess", "lambda:*"),
    ("arn:aws:iam::aws:policy/SecretsManagerReadWrite", "secretsmanager:*"),
    ("arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser", "kms:"),
    ("arn:aws:iam::aws:policy/IAMFullAccess", "iam:*"),
    ("arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess", "ssm:Describe*"),
    ("arn:aws:iam::aws:policy/CloudWatchLogsFullAccess", "logs:*"),
    ("arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess", "xray:PutTraceSegments"),
    ("arn:aws:iam::aws:policy/AmazonRDSFullAccess", "rds:*"),
])
def test_aws_managed_policies(iam, arn, needle):
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["Arn"] == arn and policy["PolicyName"] == arn.rsplit("/", 1)[1]
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    assert needle in json.dumps(version["PolicyVersion"]["Document"])


def test_list_aws_managed_policies(iam):
    names = set()
    for page in iam.get_paginator("list_policies").paginate(
            Scope="AWS", PaginationConfig={"PageSize": 500}):
        names.update(p["PolicyName"] for p in page["Policies"])
        assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in page["Policies"])
    assert len(names) > 1000
    assert {"AdministratorAccess", "ReadOnlyAccess", "AWSLambdaBasicExecutionRole"} <= names
    service_roles = iam.list_policies(Scope="AWS", PathPrefix="/service-role/")["Policies"]
    assert service_roles and all(p["Path"] == "/service-role/" for p in service_roles)


def test_list_policies_local_and_only_attached(fresh_iam):
    arns = [fresh_iam.create_policy(PolicyName=f"p{i}", PolicyDocument=doc(READ_BUCKET))[
        "Policy"]["Arn"] for i in range(3)]
    local = fresh_iam.list_policies(Scope="Local")["Policies"]
    assert [p["Arn"] for p in local] == arns
    fresh_iam.create_user(UserName="u")
    fresh_iam.attach_user_policy(UserName="u", PolicyArn=arns[1])
    fresh_iam.attach_user_policy(UserName="u", PolicyArn=ADMIN)
    attached = fresh_iam.list_policies(OnlyAttached=True)["Policies"]
    assert [p["Arn"] for p in attached] == [ADMIN, arns[1]]
    assert fresh_iam.get_policy(PolicyArn=ADMIN)["Policy"]["AttachmentCount"] == 1
    first = fresh_iam.list_policies(Scope="Local", MaxItems=2)
    rest = fresh_iam.list_policies(Scope="Local", Marker=first["Marker"])
    assert [p["Arn"] for p in first["Policies"] + rest["Policies"]] == arns


def test_aws_managed_policies_cannot_be_changed(iam):
    with pytest.raises(ClientError) as raised:
        iam.create_policy_version(PolicyArn=ADMIN, PolicyDocument=doc(READ_BUCKET))
    assert error_of(raised)[0] == "AccessDenied"


def test_inline_policies(iam, user, role):
    group = unique("grp")
    iam.create_group(GroupName=group)
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=doc(READ_BUCKET))
    iam.put_group_policy(GroupName=group, PolicyName="read", PolicyDocument=doc(READ_BUCKET))
    iam.put_role_policy(RoleName=role, PolicyName="write", PolicyDocument=doc(WRITE_BUCKET))
    got = iam.get_role_policy(RoleName=role, PolicyName="write")
    assert (got["RoleName"], got["PolicyName"], got["PolicyDocument"]) == (role, "write",
                                                                            WRITE_BUCKET)
    assert iam.get_user_policy(UserName=user, PolicyName="read")["PolicyDocument"] == READ_BUCKET
    assert iam.get_group_policy(GroupName=group, PolicyName="read")["GroupName"] == group
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == ["read"]
    iam.put_role_policy(RoleName=role, PolicyName="read", PolicyDocument=doc(READ_BUCKET))
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["read", "write"]
    iam.delete_role_policy(RoleName=role, PolicyName="write")
    with pytest.raises(ClientError) as raised:
        iam.get_role_policy(RoleName=role, PolicyName="write")
    assert error_of(raised) == ("NoSuchEntity",
                                "The role policy with name write cannot be found.", 404)


def _sized(count: int) -> str:
    return doc({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": [f"arn:aws:s3:::bucket-{i:04d}/*" for i in range(count)]}]})


def test_inline_size_limits_are_per_entity_aggregates(iam, user, role):
    one = _sized(40)  # ~1,150 characters without whitespace
    iam.put_user_policy(UserName=user, PolicyName="a", PolicyDocument=one)
    with pytest.raises(ClientError) as raised:
        iam.put_user_policy(UserName=user, PolicyName="b", PolicyDocument=one)
    assert error_of(raised) == ("LimitExceeded", f"Maximum policy size of 2048 bytes exceeded "
                                f"for user {user}", 409)
    iam.put_user_policy(UserName=user, PolicyName="a", PolicyDocument=one)  # replacing is fine
    for name in "abcdefgh":
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=one)
    with pytest.raises(ClientError) as raised:
        iam.put_role_policy(RoleName=role, PolicyName="i", PolicyDocument=one)
    assert error_of(raised)[1] == f"Maximum policy size of 10240 bytes exceeded for role {role}"


def test_managed_policy_size_limit_ignores_whitespace(iam):
    with pytest.raises(ClientError) as raised:
        iam.create_policy(PolicyName=unique(), PolicyDocument=_sized(230))
    assert error_of(raised) == ("LimitExceeded", "Cannot exceed quota for PolicySize: 6144", 409)
    spaced = json.dumps(json.loads(_sized(150)), indent=12)
    assert len(spaced) > 6144
    iam.create_policy(PolicyName=unique(), PolicyDocument=spaced)


@pytest.mark.parametrize("document, message", [
    ("{", "Syntax errors in policy."),
    ('{"Version": "2012-10-17"}', "Syntax errors in policy."),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                              "Resource": "*", "Principal": "*"}]},
     "Policy document should not specify a principal."),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]},
     "Policy statement must contain actions."),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]},
     "Policy statement must contain resources."),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": "s3:GetObject",
                                              "Resource": "*"}]},
     "The policy failed legacy parsing"),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "GetObject",
                                              "Resource": "*"}]},
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get:Object",
                                              "Resource": "*"}]},
     "Actions/Condition can contain only one colon."),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                              "Resource": "my-bucket"}]},
     'Resource my-bucket must be in ARN format or "*".'),
    ({"Version": "2012-10-17", "Statement": [{"Sid": "has space", "Effect": "Allow",
                                              "Action": "s3:GetObject", "Resource": "*"}]},
     "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
     "expression [0-9A-Za-z]*"),
])
def test_malformed_identity_policies(iam, user, document, message):
    text = document if isinstance(document, str) else doc(document)
    with pytest.raises(ClientError) as raised:
        iam.create_policy(PolicyName=unique(), PolicyDocument=text)
    assert error_of(raised) == ("MalformedPolicyDocument", message, 400)
    with pytest.raises(ClientError) as raised:
        iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=text)
    assert error_of(raised) == ("MalformedPolicyDocument", message, 400)


def test_policy_tags(iam, policy_arn):
    iam.tag_policy(PolicyArn=policy_arn, Tags=[{"Key": "owner", "Value": "me"}])
    assert iam.list_policy_tags(PolicyArn=policy_arn)["Tags"] == [{"Key": "owner",
                                                                  "Value": "me"}]
    iam.untag_policy(PolicyArn=policy_arn, TagKeys=["owner"])
    assert iam.list_policy_tags(PolicyArn=policy_arn)["Tags"] == []


def test_cli_policies(aws_cli, tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(doc(READ_BUCKET))
    name = unique("cli-pol")
    arn = aws_cli("iam", "create-policy", "--policy-name", name, "--policy-document",
                  f"file://{path}")["Policy"]["Arn"]
    version = aws_cli("iam", "get-policy-version", "--policy-arn", arn, "--version-id", "v1")
    assert version["PolicyVersion"]["Document"] == READ_BUCKET
    listed = aws_cli("iam", "list-policies", "--scope", "Local")["Policies"]
    assert arn in [p["Arn"] for p in listed]


def test_cli_paginates_aws_managed_policies(aws_cli):
    first = aws_cli("iam", "list-policies", "--scope", "AWS", "--max-items", "5")
    assert len(first["Policies"]) == 5 and first["NextToken"]
    second = aws_cli("iam", "list-policies", "--scope", "AWS", "--max-items", "5",
                     "--starting-token", first["NextToken"])
    names = [p["PolicyName"] for p in first["Policies"] + second["Policies"]]
    assert len(set(names)) == 10
    summary = aws_cli("iam", "get-account-summary")["SummaryMap"]
    assert summary["PolicySizeQuota"] == 6144


def test_older_versions_of_aws_managed_policies(iam):
    arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    versions = [v for page in iam.get_paginator("list_policy_versions").paginate(PolicyArn=arn)
                for v in page["Versions"]]
    default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    assert len(versions) > 100 and versions[0]["VersionId"] == default
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == [default]
    first = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert not first["IsDefaultVersion"]
    assert first["Document"]["Statement"] and first["Document"] != iam.get_policy_version(
        PolicyArn=arn, VersionId=default)["PolicyVersion"]["Document"]
    with pytest.raises(ClientError) as raised:
        iam.get_policy_version(PolicyArn=arn, VersionId="v9999")
    assert error_of(raised) == ("NoSuchEntity", f"Policy {arn} version v9999 does not exist or "
                                "is not attachable.", 404)


def test_list_policies_leaves_out_description_and_tags(fresh_iam):
    fresh_iam.create_policy(PolicyName="described", PolicyDocument=doc(READ_BUCKET),
                            Description="about it", Tags=[{"Key": "k", "Value": "v"}])
    listed = fresh_iam.list_policies(Scope="Local")["Policies"][0]
    assert "Description" not in listed and "Tags" not in listed
    got = fresh_iam.get_policy(PolicyArn=listed["Arn"])["Policy"]
    assert (got["Description"], got["Tags"]) == ("about it", [{"Key": "k", "Value": "v"}])
