"""The account-level public access block (S3 Control Get/Put/DeletePublicAccessBlock) and its
effect on every bucket of the account, together with each bucket's own setting."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import REGION, client_config, error_of
from tests.s3.conftest import unique

ACCOUNT = "000000000000"
OPEN = {name: False for name in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                 "RestrictPublicBuckets")}


@pytest.fixture(scope="module")
def s3control(nubo_server):
    """An S3 Control client of the server. S3 Control's endpoint puts the account id in the
    host name (<account>.s3-control...), which does not resolve here: requests are sent to the
    server's address with that Host header kept."""
    client = boto3.client("s3control", endpoint_url=nubo_server.endpoint, region_name=REGION,
                          aws_access_key_id=ACCOUNT, aws_secret_access_key="x",
                          config=client_config())
    address = urlsplit(nubo_server.endpoint).netloc

    def to_server(request, **_):
        parts = urlsplit(request.url)
        request.headers["Host"] = parts.netloc
        request.url = parts._replace(netloc=address).geturl()
    client.meta.events.register("before-send.s3-control", to_server)
    return client


def test_account_public_access_block(s3control, make_client):
    s3 = make_client("s3", aws_access_key_id=ACCOUNT, aws_secret_access_key="x")
    with pytest.raises(ClientError) as caught:
        s3control.get_public_access_block(AccountId=ACCOUNT)
    assert error_of(caught) == ("NoSuchPublicAccessBlockConfiguration", "The public access "
                                "block configuration was not found", 404)
    with pytest.raises(ClientError) as caught:
        s3control.get_public_access_block(AccountId="111111111111")
    assert error_of(caught)[0::2] == ("AccessDenied", 403)
    name = unique("account-block")
    s3.create_bucket(Bucket=name)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=OPEN)
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{name}/*"}]})
    try:
        s3control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration={
            "BlockPublicPolicy": True})
        stored = s3control.get_public_access_block(AccountId=ACCOUNT)
        assert stored["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False}
        # the bucket's own setting allows it; the account's does not
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_policy(Bucket=name, Policy=policy)
        assert error_of(caught)[0] == "AccessDenied" and "BlockPublicPolicy" in \
            error_of(caught)[1]
        assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == OPEN
        s3control.delete_public_access_block(AccountId=ACCOUNT)
        s3.put_bucket_policy(Bucket=name, Policy=policy)
    finally:
        s3control.delete_public_access_block(AccountId=ACCOUNT)
        s3.delete_bucket(Bucket=name)


@pytest.mark.parametrize("operation, params", [
    ("list_access_points", {}), ("create_access_point", {"Name": "reader", "Bucket": "shared"}),
    ("list_jobs", {}), ("list_storage_lens_configurations", {}),
    ("list_multi_region_access_points", {}),
    ("list_tags_for_resource", {"ResourceArn": "arn:aws:s3:::b"})])
def test_other_account_operations_are_not_implemented(s3control, operation, params):
    """S3 Control beyond the account's public access block answers 501 naming the operation
    (nubo does not pretend to have access points, batch jobs or Storage Lens)."""
    with pytest.raises(ClientError) as caught:
        getattr(s3control, operation)(AccountId=ACCOUNT, **params)
    code, message, status = error_of(caught)
    name = s3control.meta.method_to_api_mapping[operation]
    assert (code, status) == ("NotImplemented", 501) and name in message
