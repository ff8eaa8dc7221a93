"""Public access under IAM enforcement: canned ACL grants (AllUsers, AuthenticatedUsers) give
access to anonymous and other accounts' callers, and the public access block settings take it
away (IgnorePublicAcls, RestrictPublicBuckets) or refuse it (BlockPublicAcls,
BlockPublicPolicy)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import REGION, client_config, connector, error_of, private_server
from tests.s3.conftest import empty_and_delete, unique

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
OPEN = {name: False for name in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                 "RestrictPublicBuckets")}


@pytest.fixture(scope="module")
def server():
    with private_server("--iam", "enforce") as process:
        yield process


@pytest.fixture(scope="module")
def clients(server):
    client = connector(server)
    anonymous = boto3.client("s3", endpoint_url=server.endpoint, region_name=REGION,
                             config=client_config().merge(Config(signature_version=UNSIGNED)))
    return client("s3"), client("s3", key="111111111111"), anonymous


@pytest.fixture
def acl_bucket(clients):
    owner = clients[0]
    name = unique("public")
    owner.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    yield name
    owner.put_bucket_acl(Bucket=name, ACL="private")
    empty_and_delete(owner, name)


def _denied(call):
    with pytest.raises(ClientError) as caught:
        call()
    assert error_of(caught)[0::2] == ("AccessDenied", 403)


def test_public_acls_blocked_then_granting(clients, acl_bucket):
    owner, other, anonymous = clients
    _denied(lambda: owner.put_object(Bucket=acl_bucket, Key="k", Body=b"x", ACL="public-read"))
    _denied(lambda: owner.put_bucket_acl(Bucket=acl_bucket, ACL="public-read"))
    owner.put_public_access_block(Bucket=acl_bucket, PublicAccessBlockConfiguration=OPEN)
    owner.put_object(Bucket=acl_bucket, Key="open", Body=b"for all", ACL="public-read")
    owner.put_object(Bucket=acl_bucket, Key="members", Body=b"signed only",
                     ACL="authenticated-read")
    owner.put_object(Bucket=acl_bucket, Key="closed", Body=b"private")
    assert anonymous.get_object(Bucket=acl_bucket, Key="open")["Body"].read() == b"for all"
    assert other.get_object(Bucket=acl_bucket, Key="members")["Body"].read() == b"signed only"
    _denied(lambda: anonymous.get_object(Bucket=acl_bucket, Key="members"))
    _denied(lambda: anonymous.get_object(Bucket=acl_bucket, Key="closed"))
    _denied(lambda: other.get_object(Bucket=acl_bucket, Key="closed"))
    _denied(lambda: anonymous.list_objects_v2(Bucket=acl_bucket))
    owner.put_bucket_acl(Bucket=acl_bucket, ACL="public-read")
    keys = [o["Key"] for o in anonymous.list_objects_v2(Bucket=acl_bucket)["Contents"]]
    assert keys == ["closed", "members", "open"]
    # IgnorePublicAcls: the grants no longer count
    owner.put_public_access_block(Bucket=acl_bucket, PublicAccessBlockConfiguration={
        **OPEN, "IgnorePublicAcls": True})
    _denied(lambda: anonymous.get_object(Bucket=acl_bucket, Key="open"))
    _denied(lambda: anonymous.list_objects_v2(Bucket=acl_bucket))
    _denied(lambda: other.get_object(Bucket=acl_bucket, Key="members"))
    owner.put_public_access_block(Bucket=acl_bucket, PublicAccessBlockConfiguration=OPEN)
    owner.put_object_acl(Bucket=acl_bucket, Key="open", ACL="private")
    _denied(lambda: anonymous.get_object(Bucket=acl_bucket, Key="open"))


def test_public_policy_restricted(clients):
    owner, other, anonymous = clients
    name = unique("policy")
    owner.create_bucket(Bucket=name)
    try:
        owner.put_object(Bucket=name, Key="doc", Body=b"published")
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{name}/*"}, {
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{name}"}]})
        with pytest.raises(ClientError) as caught:
            owner.put_bucket_policy(Bucket=name, Policy=policy)
        assert "BlockPublicPolicy" in error_of(caught)[1]
        owner.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            **OPEN, "RestrictPublicBuckets": True})
        owner.put_bucket_policy(Bucket=name, Policy=policy)
        assert owner.get_bucket_policy_status(Bucket=name)["PolicyStatus"]["IsPublic"]
        _denied(lambda: anonymous.get_object(Bucket=name, Key="doc"))
        _denied(lambda: other.get_object(Bucket=name, Key="doc"))
        # a public policy restricted: its cross-account grants go too, not only the public one
        _denied(lambda: other.list_objects_v2(Bucket=name))
        assert owner.get_object(Bucket=name, Key="doc")["Body"].read() == b"published"
        owner.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=OPEN)
        assert anonymous.get_object(Bucket=name, Key="doc")["Body"].read() == b"published"
        assert other.get_object(Bucket=name, Key="doc")["Body"].read() == b"published"
        assert other.list_objects_v2(Bucket=name)["KeyCount"] == 1
    finally:
        owner.delete_bucket_policy(Bucket=name)
        empty_and_delete(owner, name)


def test_explicit_grants(clients, acl_bucket):
    owner, other, anonymous = clients
    other_id = other.list_buckets()["Owner"]["ID"]
    owner_id = owner.list_buckets()["Owner"]["ID"]
    stranger = boto3.client("s3", endpoint_url=owner.meta.endpoint_url, region_name=REGION,
                            aws_access_key_id="222222222222", aws_secret_access_key="x",
                            config=client_config())
    owner.put_object(Bucket=acl_bucket, Key="shared", Body=b"for one account",
                     GrantRead=f'id="{other_id}"', GrantFullControl=f'id="{owner_id}"')
    grants = owner.get_object_acl(Bucket=acl_bucket, Key="shared")["Grants"]
    assert {(g["Grantee"].get("ID"), g["Permission"]) for g in grants} == {
        (other_id, "READ"), (owner_id, "FULL_CONTROL")}
    assert other.get_object(Bucket=acl_bucket, Key="shared")["Body"].read() == \
        b"for one account"
    _denied(lambda: stranger.get_object(Bucket=acl_bucket, Key="shared"))
    _denied(lambda: anonymous.get_object(Bucket=acl_bucket, Key="shared"))
    # the bucket's ACL as a document: the other account may list, and write objects
    owner.put_bucket_acl(Bucket=acl_bucket, AccessControlPolicy={
        "Owner": {"ID": owner_id}, "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner_id}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "CanonicalUser", "ID": other_id}, "Permission": "READ"},
            {"Grantee": {"Type": "CanonicalUser", "ID": other_id}, "Permission": "WRITE"}]})
    assert len(owner.get_bucket_acl(Bucket=acl_bucket)["Grants"]) == 3
    assert [o["Key"] for o in other.list_objects_v2(Bucket=acl_bucket)["Contents"]] == ["shared"]
    other.put_object(Bucket=acl_bucket, Key="from-other", Body=b"x")
    _denied(lambda: stranger.list_objects_v2(Bucket=acl_bucket))

    def refused(**acl):
        with pytest.raises(ClientError) as caught:
            owner.put_bucket_acl(Bucket=acl_bucket, **acl)
        return error_of(caught)
    assert refused(GrantRead='uri="http://acs.amazonaws.com/groups/global/Nobody"')[0:2] == (
        "InvalidArgument", "Invalid group uri")
    assert refused(GrantRead='id="not-an-id"')[0:2] == ("InvalidArgument", "Invalid id")
    assert refused(GrantRead='emailAddress="someone@example.com"')[0] == \
        "UnresolvableGrantByEmailAddress"
    assert refused(ACL="private", GrantRead=f'id="{other_id}"')[0:2] == (
        "InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed")
    # a public grant is refused while BlockPublicAcls is on, as a public canned ACL is
    assert refused(GrantRead=f'uri="{ALL_USERS}"')[0:2] == ("AccessDenied", "Access Denied")


def test_create_bucket_with_public_acl(clients):
    owner = clients[0]
    with pytest.raises(ClientError) as caught:
        owner.create_bucket(Bucket=unique("created-public"), ObjectOwnership="ObjectWriter",
                            ACL="public-read")
    assert error_of(caught) == ("InvalidBucketAclWithBlockPublicAccessError", "Bucket cannot "
                                "have public ACLs set with BlockPublicAccess enabled", 400)
