"""KMS under IAM enforcement: grants give their grantee the granted operations on a key
whose key policy and the grantee's IAM policies give nothing."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conftest import connector, error_of, private_server


@pytest.fixture(scope="module")
def connect():
    with private_server("--iam", "enforce") as server:
        yield connector(server)


def test_grant_allows_its_grantee_until_revoked(connect):
    iam = connect("iam")
    arn = iam.create_user(UserName="app")["User"]["Arn"]
    iam.put_user_policy(UserName="app", PolicyName="nothing-kms", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}))
    secret = iam.create_access_key(UserName="app")["AccessKey"]
    app = connect("kms", secret["AccessKeyId"], secret["SecretAccessKey"])
    kms = connect("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as raised:
        app.encrypt(KeyId=key_id, Plaintext=b"x")
    assert error_of(raised)[0] == "AccessDeniedException"
    grant = kms.create_grant(KeyId=key_id, GranteePrincipal=arn,
                             Operations=["Encrypt", "Decrypt"])
    blob = app.encrypt(KeyId=key_id, Plaintext=b"granted")["CiphertextBlob"]
    assert app.decrypt(CiphertextBlob=blob)["Plaintext"] == b"granted"
    with pytest.raises(ClientError) as raised:  # not a granted operation
        app.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert error_of(raised)[0] == "AccessDeniedException"
    kms.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"])
    with pytest.raises(ClientError) as raised:
        app.decrypt(CiphertextBlob=blob)
    assert error_of(raised)[0] == "AccessDeniedException"


def test_grant_constraints_bind_the_encryption_context(connect):
    iam = connect("iam")
    arn = iam.create_user(UserName="tenant")["User"]["Arn"]
    secret = iam.create_access_key(UserName="tenant")["AccessKey"]
    tenant = connect("kms", secret["AccessKeyId"], secret["SecretAccessKey"])
    kms = connect("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_grant(KeyId=key_id, GranteePrincipal=arn, Operations=["Encrypt", "Decrypt"],
                     Constraints={"EncryptionContextSubset": {"tenant": "a"}})
    blob = tenant.encrypt(KeyId=key_id, Plaintext=b"mine",
                          EncryptionContext={"tenant": "a", "file": "x"})["CiphertextBlob"]
    assert tenant.decrypt(CiphertextBlob=blob, EncryptionContext={
        "tenant": "a", "file": "x"})["Plaintext"] == b"mine"
    for context in ({"tenant": "b"}, {}):
        with pytest.raises(ClientError) as raised:
            tenant.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext=context)
        assert error_of(raised)[0] == "AccessDeniedException"
