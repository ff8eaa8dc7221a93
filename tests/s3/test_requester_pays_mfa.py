"""Requester Pays buckets (other accounts must accept the charge, and are told they paid) and
MFA delete (version deletes and versioning changes need the owner's x-amz-mfa, checked
against IAM's virtual MFA devices)."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from tests.conftest import REGION, client_config, error_of

MFA_MESSAGE = "Mfa Authentication must be used for this request"


@pytest.fixture(scope="module")
def other_account(nubo_server):
    return boto3.client("s3", endpoint_url=nubo_server.endpoint, region_name=REGION,
                        aws_access_key_id="111111111111", aws_secret_access_key="x",
                        config=client_config())


def test_requester_pays(s3, bucket, other_account):
    s3.put_object(Bucket=bucket, Key="data", Body=b"paid")
    s3.put_bucket_request_payment(Bucket=bucket,
                                  RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    # the owner pays as before, and is not told of a charge
    owned = s3.get_object(Bucket=bucket, Key="data")
    assert "RequestCharged" not in owned
    for call in (lambda **kw: other_account.get_object(Bucket=bucket, Key="data", **kw),
                 lambda **kw: other_account.list_objects_v2(Bucket=bucket, **kw),
                 lambda **kw: other_account.put_object(Bucket=bucket, Key="up", Body=b"x",
                                                        **kw)):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught) == ("AccessDenied", "Access Denied", 403)
        assert call(RequestPayer="requester")["RequestCharged"] == "requester"
    got = other_account.get_object(Bucket=bucket, Key="data", RequestPayer="requester")
    assert got["Body"].read() == b"paid"
    head = other_account.head_object(Bucket=bucket, Key="data", RequestPayer="requester")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-charged"] == "requester"
    # copying out of the bucket into the requester's own bucket charges the requester too
    own = f"own-{bucket[-12:]}"
    other_account.create_bucket(Bucket=own)
    try:
        with pytest.raises(ClientError) as caught:
            other_account.copy_object(Bucket=own, Key="copy",
                                      CopySource={"Bucket": bucket, "Key": "data"})
        assert error_of(caught)[0::2] == ("AccessDenied", 403)
        copied = other_account.copy_object(Bucket=own, Key="copy", RequestPayer="requester",
                                           CopySource={"Bucket": bucket, "Key": "data"})
        assert copied["RequestCharged"] == "requester"
        other_account.delete_object(Bucket=own, Key="copy")
    finally:
        other_account.delete_bucket(Bucket=own)
    s3.put_bucket_request_payment(Bucket=bucket,
                                  RequestPaymentConfiguration={"Payer": "BucketOwner"})
    assert other_account.get_object(Bucket=bucket, Key="data")["Body"].read() == b"paid"


def _mfa_device(iam, name, server):
    """A virtual MFA device enabled for a new user: (serial, code()), codes by the server's
    clock (other tests move it)."""
    offset = server.get("/_nubo/clock")["offset"]
    iam.create_user(UserName=name)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    import base64
    seed = base64.b32decode(device["Base32StringSeed"])
    totp = TOTP(seed, 6, SHA1(), 30, enforce_key_length=False)

    def code(step=0):
        return totp.generate(time.time() + offset + step * 30).decode()
    iam.enable_mfa_device(UserName=name, SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=code(-1), AuthenticationCode2=code())
    return device["SerialNumber"], code


def test_mfa_delete(s3, make_client, nubo_server, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["VersionId"]
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={
            "Status": "Enabled", "MFADelete": "Enabled"})
    assert error_of(caught) == ("AccessDenied", MFA_MESSAGE, 403)
    serial, code = _mfa_device(make_client("iam"), f"mfa-{bucket[-8:]}", nubo_server)
    with pytest.raises(ClientError) as caught:  # a wrong code
        s3.put_bucket_versioning(Bucket=bucket, MFA=f"{serial} 000000", VersioningConfiguration={
            "Status": "Enabled", "MFADelete": "Enabled"})
    if code() != "000000":
        assert error_of(caught)[0:2] == ("AccessDenied", MFA_MESSAGE)
    s3.put_bucket_versioning(Bucket=bucket, MFA=f"{serial} {code()}", VersioningConfiguration={
        "Status": "Enabled", "MFADelete": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["MFADelete"] == "Enabled"
    # a plain delete still adds a marker; deleting a version takes the MFA
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    for call in (lambda **kw: s3.delete_object(Bucket=bucket, Key="k", VersionId=version, **kw),
                 lambda **kw: s3.put_bucket_versioning(
                     Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}, **kw)):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught) == ("AccessDenied", MFA_MESSAGE, 403)
    with pytest.raises(ClientError) as caught:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": marker}]})
    assert error_of(caught)[0:2] == ("AccessDenied", MFA_MESSAGE)
    s3.delete_object(Bucket=bucket, Key="k", VersionId=version, MFA=f"{serial} {code()}")
    s3.put_bucket_versioning(Bucket=bucket, MFA=f"{serial} {code()}", VersioningConfiguration={
        "Status": "Enabled", "MFADelete": "Disabled"})
    s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)
