"""IAM Access Advisor on the shared server: the services (and tracked actions) users and roles
last used, per entity, group and policy, and per Organizations entity."""

from __future__ import annotations

import random

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import REGION, SECRET_KEY
from tests.iam.conftest import doc, error_of, unique
from tests.organizations.conftest import create_account


def allow(*actions: str) -> str:
    return doc({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(actions), "Resource": "*"}]})


@pytest.fixture
def client(make_client):
    """client(service, key=<account id>, secret, token): as an account's root by default."""
    return lambda service, key, secret=SECRET_KEY, token=None: make_client(
        service, session=boto3.Session(key, secret, token, region_name=REGION))


def new_account() -> str:
    return f"{random.randrange(10 ** 11, 10 ** 12):012d}"


def report(iam, arn: str, granularity: str = "SERVICE_LEVEL") -> dict:
    job = iam.generate_service_last_accessed_details(Arn=arn, Granularity=granularity)["JobId"]
    found = iam.get_service_last_accessed_details(JobId=job)
    assert found["JobStatus"] == "COMPLETED" and found["JobType"] == granularity
    return {"job": job, **{s["ServiceNamespace"]: s for s in found["ServicesLastAccessed"]}}


def test_service_last_accessed_by_user_group_policy_and_role(client):
    account = new_account()
    iam = client("iam", account)
    user = iam.create_user(UserName="analyst")["User"]
    iam.put_user_policy(UserName="analyst", PolicyName="work",
                        PolicyDocument=allow("s3:*", "sqs:ListQueues"))
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="read",
                         PolicyDocument=allow("s3:Get*", "s3:List*"))
    iam.add_user_to_group(GroupName="readers", UserName="analyst")
    key = iam.create_access_key(UserName="analyst")["AccessKey"]
    analyst = lambda service: client(service, key["AccessKeyId"], key["SecretAccessKey"])  # noqa: E731
    analyst("sqs").list_queues()
    analyst("s3").list_buckets()
    analyst("s3").create_bucket(Bucket=unique("advisor"))

    services = report(iam, user["Arn"])
    assert set(services) - {"job"} == {"s3", "sqs"}  # what the user's policies allow
    for namespace, name in (("s3", "Amazon S3"), ("sqs", "Amazon SQS")):
        entry = services[namespace]
        assert entry["ServiceName"] == name
        assert entry["TotalAuthenticatedEntities"] == 1
        assert entry["LastAuthenticatedEntity"] == user["Arn"]
        assert entry["LastAuthenticatedRegion"] == REGION
        assert "TrackedActionsLastAccessed" not in entry
    detailed = report(iam, user["Arn"], "ACTION_LEVEL")
    assert {a["ActionName"] for a in detailed["s3"]["TrackedActionsLastAccessed"]} == {
        "ListAllMyBuckets", "CreateBucket"}
    assert "TrackedActionsLastAccessed" not in detailed["sqs"]  # SQS actions are not tracked

    group = report(iam, iam.get_group(GroupName="readers")["Group"]["Arn"])
    assert set(group) - {"job"} == {"s3"}
    assert group["s3"]["LastAuthenticatedEntity"] == user["Arn"]
    entities = iam.get_service_last_accessed_details_with_entities(
        JobId=group["job"], ServiceNamespace="s3")["EntityDetailsList"]
    assert [(e["EntityInfo"]["Arn"], e["EntityInfo"]["Type"]) for e in entities] == [
        (user["Arn"], "USER")]
    assert entities[0]["LastAuthenticated"] == group["s3"]["LastAuthenticated"]

    # A managed policy attached to a role whose session used SQS; a never-used service shows
    # with no last access.
    policy = iam.create_policy(PolicyName="queues", PolicyDocument=allow(
        "sqs:*", "dynamodb:*"))["Policy"]["Arn"]
    role = iam.create_role(RoleName="worker", AssumeRolePolicyDocument=doc({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": account}}]}))["Role"]
    iam.attach_role_policy(RoleName="worker", PolicyArn=policy)
    credentials = client("sts", account).assume_role(RoleArn=role["Arn"],
                                                     RoleSessionName="job")["Credentials"]
    client("sqs", credentials["AccessKeyId"], credentials["SecretAccessKey"],
           credentials["SessionToken"]).list_queues()
    for arn in (policy, role["Arn"]):
        found = report(iam, arn)
        assert set(found) - {"job"} == {"sqs", "dynamodb"}
        assert found["sqs"]["LastAuthenticatedEntity"] == role["Arn"]
        assert found["sqs"]["TotalAuthenticatedEntities"] == 1
        assert "LastAuthenticated" not in found["dynamodb"]
        assert found["dynamodb"]["TotalAuthenticatedEntities"] == 0


def test_access_advisor_errors_and_paging(client):
    iam = client("iam", new_account())
    iam.create_user(UserName="admin")
    iam.attach_user_policy(UserName="admin",
                           PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    arn = iam.get_user(UserName="admin")["User"]["Arn"]
    job = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    first = iam.get_service_last_accessed_details(JobId=job, MaxItems=50)
    assert len(first["ServicesLastAccessed"]) == 50 and first["IsTruncated"]
    rest = iam.get_service_last_accessed_details(JobId=job, Marker=first["Marker"],
                                                 MaxItems=1000)
    assert not rest["IsTruncated"]
    names = [s["ServiceNamespace"] for s in first["ServicesLastAccessed"] +
             rest["ServicesLastAccessed"]]
    assert len(names) > 300 and {"s3", "iam", "sqs", "kms"} <= set(names)  # every service
    for call in (lambda: iam.get_service_last_accessed_details(JobId="0" * 36),
                 lambda: iam.generate_service_last_accessed_details(
                     Arn=arn.replace("admin", "nobody"))):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught)[0] == "NoSuchEntity"


def test_organizations_access_report(client):
    management = new_account()
    orgs = client("organizations", management)
    organization = orgs.create_organization(FeatureSet="ALL")["Organization"]
    root = orgs.list_roots()["Roots"][0]["Id"]
    member = create_account(orgs)
    member_iam = client("iam", member)
    member_iam.create_user(UserName="dev")
    key = member_iam.create_access_key(UserName="dev")["AccessKey"]
    client("sqs", key["AccessKeyId"], key["SecretAccessKey"]).list_queues()

    iam = client("iam", management)
    path = f"{organization['Id']}/{root}"
    job = iam.generate_organizations_access_report(EntityPath=path)["JobId"]
    found = iam.get_organizations_access_report(
        JobId=job, SortKey="LAST_AUTHENTICATED_TIME_DESCENDING", MaxItems=5)
    assert found["JobStatus"] == "COMPLETED"
    assert found["NumberOfServicesAccessible"] > 300
    assert found["NumberOfServicesNotAccessed"] == found["NumberOfServicesAccessible"] - 1
    used = {d["ServiceNamespace"]: d for d in found["AccessDetails"]
            if "LastAuthenticatedTime" in d}
    assert set(used) == {"sqs"}  # the user's ListQueues (the root user's calls do not count)
    assert used["sqs"]["EntityPath"] == f"{path}/{member}"
    assert used["sqs"]["Region"] == REGION and used["sqs"]["TotalAuthenticatedEntities"] == 1

    scp = orgs.create_policy(Name="queues-only", Description="", Type="SERVICE_CONTROL_POLICY",
                             Content=allow("sqs:*"))["Policy"]["PolicySummary"]["Id"]
    job = iam.generate_organizations_access_report(EntityPath=f"{path}/{member}",
                                                   OrganizationsPolicyId=scp)["JobId"]
    found = iam.get_organizations_access_report(JobId=job)
    assert (found["NumberOfServicesAccessible"], found["NumberOfServicesNotAccessed"]) == (1, 0)
    assert [d["ServiceNamespace"] for d in found["AccessDetails"]] == ["sqs"]

    with pytest.raises(ClientError) as caught:
        iam.generate_organizations_access_report(EntityPath=f"{organization['Id']}/r-nope")
    assert error_of(caught)[:2] == ("InvalidInput", f"Invalid Entity Path: "
                                                    f"{organization['Id']}/r-nope")
    with pytest.raises(ClientError) as caught:
        member_iam.generate_organizations_access_report(EntityPath=path)
    assert error_of(caught)[0] == "AccessDenied"


def test_cli_access_advisor(aws_cli):
    name = unique("cli-advised")
    role = aws_cli("iam", "create-role", "--role-name", name, "--assume-role-policy-document",
                   doc({"Version": "2012-10-17", "Statement": [{
                       "Effect": "Allow", "Action": "sts:AssumeRole",
                       "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]
    aws_cli("iam", "put-role-policy", "--role-name", name, "--policy-name", "p",
            "--policy-document", allow("logs:*"))
    job = aws_cli("iam", "generate-service-last-accessed-details", "--arn", role["Arn"],
                  "--granularity", "ACTION_LEVEL")["JobId"]
    report = aws_cli("iam", "get-service-last-accessed-details", "--job-id", job)
    assert report["JobStatus"] == "COMPLETED" and report["JobType"] == "ACTION_LEVEL"
    assert [(s["ServiceNamespace"], s["TotalAuthenticatedEntities"])
            for s in report["ServicesLastAccessed"]] == [("logs", 0)]
