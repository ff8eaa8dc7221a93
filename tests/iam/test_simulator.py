"""The policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy, decided by nubo's
policy evaluator."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.iam.conftest import READ_BUCKET, doc, error_of

DENY_DELETE = {"Version": "2012-10-17", "Statement": [{
    "Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]}
ALL_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                  "Resource": "*"}]}


def decisions(results) -> dict:
    return {(r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in results}


def test_simulate_principal_policy(fresh_iam):
    arn = fresh_iam.create_user(UserName="sim")["User"]["Arn"]
    fresh_iam.create_group(GroupName="g")
    fresh_iam.add_user_to_group(GroupName="g", UserName="sim")
    fresh_iam.put_user_policy(UserName="sim", PolicyName="all", PolicyDocument=doc(ALL_S3))
    fresh_iam.put_group_policy(GroupName="g", PolicyName="deny",
                               PolicyDocument=doc(DENY_DELETE))
    results = fresh_iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:DeleteObject", "sqs:SendMessage"],
        ResourceArns=["arn:aws:s3:::bucket/key"])["EvaluationResults"]
    assert decisions(results) == {
        ("s3:GetObject", "arn:aws:s3:::bucket/key"): "allowed",
        ("s3:DeleteObject", "arn:aws:s3:::bucket/key"): "explicitDeny",
        ("sqs:SendMessage", "arn:aws:s3:::bucket/key"): "implicitDeny"}
    assert results[0]["MatchedStatements"][0]["SourcePolicyId"] == "all"


def test_simulate_with_permissions_boundary(fresh_iam):
    policy = fresh_iam.create_policy(PolicyName="read", PolicyDocument=doc(READ_BUCKET))[
        "Policy"]["Arn"]
    arn = fresh_iam.create_user(UserName="bounded", PermissionsBoundary=policy)["User"]["Arn"]
    fresh_iam.put_user_policy(UserName="bounded", PolicyName="all", PolicyDocument=doc(ALL_S3))
    results = fresh_iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::bucket/key"])["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "implicitDeny"]
    assert [r["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"]
            for r in results] == [True, False]


def test_simulate_custom_policy_with_context(iam):
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}
    inside = iam.simulate_custom_policy(
        PolicyInputList=[doc(policy)], ActionNames=["s3:ListBucket"],
        ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.1.2.3"],
                         "ContextKeyType": "ip"}])["EvaluationResults"]
    outside = iam.simulate_custom_policy(
        PolicyInputList=[doc(policy)], ActionNames=["s3:ListBucket"],
        ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["192.0.2.1"],
                         "ContextKeyType": "ip"}])["EvaluationResults"]
    assert (inside[0]["EvalDecision"], outside[0]["EvalDecision"]) == ("allowed",
                                                                       "implicitDeny")
    assert inside[0]["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"


def test_simulate_rejects_malformed_policies(iam):
    with pytest.raises(ClientError) as raised:
        iam.simulate_custom_policy(PolicyInputList=["{nope"], ActionNames=["s3:GetObject"])
    assert error_of(raised) == ("MalformedPolicyDocument", "Syntax errors in policy.", 400)


def test_simulate_unknown_principal(iam):
    with pytest.raises(ClientError) as raised:
        iam.simulate_principal_policy(PolicySourceArn="arn:aws:iam::000000000000:user/ghost",
                                      ActionNames=["s3:GetObject"])
    assert error_of(raised)[0] == "NoSuchEntity"


def test_policies_granting_service_access(fresh_iam):
    arn = fresh_iam.create_user(UserName="svc")["User"]["Arn"]
    fresh_iam.create_group(GroupName="readers")
    fresh_iam.add_user_to_group(GroupName="readers", UserName="svc")
    fresh_iam.put_user_policy(UserName="svc", PolicyName="s3all", PolicyDocument=doc(ALL_S3))
    fresh_iam.attach_group_policy(GroupName="readers",
                                  PolicyArn="arn:aws:iam::aws:policy/AmazonSQSFullAccess")
    entries = fresh_iam.list_policies_granting_service_access(
        Arn=arn, ServiceNamespaces=["s3", "sqs", "kms"])["PoliciesGrantingServiceAccess"]
    by_namespace = {e["ServiceNamespace"]: e["Policies"] for e in entries}
    assert by_namespace["s3"] == [{"PolicyName": "s3all", "PolicyType": "INLINE",
                                   "EntityType": "USER", "EntityName": "svc"}]
    assert by_namespace["sqs"] == [{"PolicyName": "AmazonSQSFullAccess", "PolicyType": "MANAGED",
                                    "PolicyArn": "arn:aws:iam::aws:policy/AmazonSQSFullAccess"}]
    assert by_namespace["kms"] == []


def test_simulation_applies_service_control_policies(account_iam, make_client):
    import boto3

    from tests.conftest import REGION, SECRET_KEY

    management = "135713571357"
    orgs = make_client("organizations", session=boto3.Session(
        aws_access_key_id=management, aws_secret_access_key=SECRET_KEY, region_name=REGION))
    orgs.create_organization(FeatureSet="ALL")
    root_id = orgs.list_roots()["Roots"][0]["Id"]
    orgs.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    status = orgs.create_account(Email="sim@example.com", AccountName="sim")["CreateAccountStatus"]
    member = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])[
        "CreateAccountStatus"]["AccountId"]
    scp = orgs.create_policy(Name="no-s3-delete", Type="SERVICE_CONTROL_POLICY",
                             Description="deny deletes", Content=doc(DENY_DELETE))
    orgs.attach_policy(PolicyId=scp["Policy"]["PolicySummary"]["Id"], TargetId=member)
    iam = account_iam(member)
    arn = iam.create_user(UserName="under-scp")["User"]["Arn"]
    iam.put_user_policy(UserName="under-scp", PolicyName="all", PolicyDocument=doc(ALL_S3))
    results = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:DeleteObject"])["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "explicitDeny"]
    assert [r["OrganizationsDecisionDetail"]["AllowedByOrganizations"] for r in results] == [
        True, False]
