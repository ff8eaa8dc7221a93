"""KMS keys: specs and usages, lookup forms, states and their errors, deletion, descriptions,
tags and key policies."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of
from tests.kms.conftest import unique_alias

SPEC_USAGES = [
    ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "EncryptionAlgorithms", ["SYMMETRIC_DEFAULT"]),
    ("RSA_2048", "ENCRYPT_DECRYPT", "EncryptionAlgorithms",
     ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]),
    ("RSA_3072", "SIGN_VERIFY", "SigningAlgorithms", None),
    ("ECC_NIST_P256", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_256"]),
    ("ECC_NIST_P384", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_384"]),
    ("ECC_NIST_P521", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_512"]),
    ("ECC_SECG_P256K1", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_256"]),
    ("ECC_NIST_P256", "KEY_AGREEMENT", "KeyAgreementAlgorithms", ["ECDH"]),
    ("HMAC_224", "GENERATE_VERIFY_MAC", "MacAlgorithms", ["HMAC_SHA_224"]),
    ("HMAC_512", "GENERATE_VERIFY_MAC", "MacAlgorithms", ["HMAC_SHA_512"]),
    ("ML_DSA_44", "SIGN_VERIFY", "SigningAlgorithms", ["ML_DSA_SHAKE_256"]),
]


def test_symmetric_key_defaults(kms, make_key):
    key = make_key(Description="first key")
    assert key["KeySpec"] == key["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert key["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert key["KeyState"] == "Enabled" and key["Enabled"] is True
    assert key["Origin"] == "AWS_KMS" and key["KeyManager"] == "CUSTOMER"
    assert key["Description"] == "first key"
    assert key["Arn"] == f"arn:aws:kms:us-east-1:{key['AWSAccountId']}:key/{key['KeyId']}"
    assert key["MultiRegion"] is False
    assert len(key["CurrentKeyMaterialId"]) == 64


@pytest.mark.parametrize("spec,usage,member,algorithms", SPEC_USAGES)
def test_key_specs_and_usages(make_key, spec, usage, member, algorithms):
    key = make_key(KeySpec=spec, KeyUsage=usage)
    assert (key["KeySpec"], key["KeyUsage"]) == (spec, usage)
    if algorithms is not None:
        assert key[member] == algorithms
    else:
        assert "RSASSA_PSS_SHA_256" in key[member] and "RSASSA_PKCS1_V1_5_SHA_512" in key[member]


@pytest.mark.parametrize("spec,usage", [("SYMMETRIC_DEFAULT", "SIGN_VERIFY"),
                                        ("ECC_SECG_P256K1", "KEY_AGREEMENT"),
                                        ("HMAC_256", "ENCRYPT_DECRYPT"),
                                        ("RSA_2048", "GENERATE_VERIFY_MAC")])
def test_incompatible_usage_is_rejected(kms, spec, usage):
    with pytest.raises(ClientError) as raised:
        kms.create_key(KeySpec=spec, KeyUsage=usage)
    assert error_of(raised)[0] == "ValidationException"


def test_asymmetric_key_needs_a_usage(kms):
    with pytest.raises(ClientError) as raised:
        kms.create_key(KeySpec="RSA_2048")
    assert error_of(raised)[:2] == ("ValidationException", "You must specify a KeyUsage value "
                                    "for all KMS keys except for symmetric encryption keys.")


def test_sm2_only_in_china(kms):
    with pytest.raises(ClientError) as raised:
        kms.create_key(KeySpec="SM2", KeyUsage="SIGN_VERIFY")
    assert error_of(raised)[0] == "ValidationException"


def test_key_specs_nubo_lacks_answer_501(kms, make_key):
    """ML-KEM-512 keys (cryptography has no ML-KEM-512 yet) and Ed25519 keys are not
    implemented: refused as such, never created as something else."""
    for spec, usage in (("ML_KEM_512", "ENCAPSULATE_DECAPSULATE"),
                        ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY")):
        with pytest.raises(ClientError) as raised:
            kms.create_key(KeySpec=spec, KeyUsage=usage)
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
        assert spec in error_of(raised)[1]
    with pytest.raises(ClientError) as raised:
        kms.generate_data_key_pair(KeyId=make_key()["KeyId"], KeyPairSpec="ML_KEM_512")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_lookup_by_id_arn_alias_and_alias_arn(kms, make_key):
    key = make_key()
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    alias_arn = key["Arn"].replace(f"key/{key['KeyId']}", alias)
    for key_id in (key["KeyId"], key["Arn"], alias, alias_arn):
        assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key["KeyId"]


def test_unknown_keys_and_aliases(kms, make_key):
    missing = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(ClientError) as raised:
        kms.describe_key(KeyId=missing)
    assert error_of(raised) == (
        "NotFoundException",
        f"Key 'arn:aws:kms:us-east-1:000000000000:key/{missing}' does not exist", 400)
    with pytest.raises(ClientError) as raised:
        kms.describe_key(KeyId="alias/does-not-exist")
    assert error_of(raised)[:2] == (
        "NotFoundException",
        "Alias arn:aws:kms:us-east-1:000000000000:alias/does-not-exist is not found.")
    with pytest.raises(ClientError) as raised:
        kms.describe_key(KeyId="aws/s3")
    assert error_of(raised)[:2] == ("NotFoundException", "Invalid keyId 'aws/s3'")


def test_list_keys_paginates(kms, make_key):
    created = {make_key()["KeyId"] for _ in range(3)}
    seen, marker = set(), None
    while True:
        page = kms.list_keys(Limit=2, **({"Marker": marker} if marker else {}))
        assert len(page["Keys"]) <= 2
        seen |= {k["KeyId"] for k in page["Keys"]}
        if not page["Truncated"]:
            break
        marker = page["NextMarker"]
    assert created <= seen


def test_disable_and_enable(kms, make_key):
    key = make_key()
    kms.disable_key(KeyId=key["KeyId"])
    described = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert (described["KeyState"], described["Enabled"]) == ("Disabled", False)
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert error_of(raised) == ("DisabledException", f"{key['Arn']} is disabled.", 400)
    with pytest.raises(ClientError) as raised:
        kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")
    assert error_of(raised)[0] == "DisabledException"
    kms.enable_key(KeyId=key["KeyId"])
    assert kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["KeyId"] == key["Arn"]


def test_schedule_and_cancel_deletion(kms, make_key):
    key = make_key()
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"keep")["CiphertextBlob"]
    scheduled = kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    assert scheduled["KeyState"] == "PendingDeletion" and scheduled["PendingWindowInDays"] == 7
    assert scheduled["KeyId"] == key["Arn"]
    described = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "PendingDeletion" and "DeletionDate" in described
    for call in (lambda: kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x"),
                 lambda: kms.decrypt(CiphertextBlob=blob),
                 lambda: kms.enable_key(KeyId=key["KeyId"]),
                 lambda: kms.schedule_key_deletion(KeyId=key["KeyId"])):
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == ("KMSInvalidStateException",
                                    f"{key['Arn']} is pending deletion.", 400)
    kms.cancel_key_deletion(KeyId=key["KeyId"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    kms.enable_key(KeyId=key["KeyId"])
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"keep"
    with pytest.raises(ClientError) as raised:
        kms.cancel_key_deletion(KeyId=key["KeyId"])
    assert error_of(raised)[0] == "KMSInvalidStateException"


@pytest.mark.parametrize("days", [6, 31])
def test_deletion_window_limits(kms, make_key, days):
    with pytest.raises(ClientError) as raised:
        kms.schedule_key_deletion(KeyId=make_key()["KeyId"], PendingWindowInDays=days)
    assert error_of(raised)[0] == "ValidationException"


def test_key_is_deleted_when_the_window_passes(kms, make_key, nubo_server):
    key = make_key()
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    nubo_server.advance_clock(7 * 86400 + 1)
    deadline_checks = 50
    for _ in range(deadline_checks):
        try:
            kms.describe_key(KeyId=key["KeyId"])
        except ClientError as error:
            assert error.response["Error"]["Code"] == "NotFoundException"
            break
        time.sleep(0.1)
    else:
        pytest.fail("the key was not deleted after its waiting period")
    aliases = kms.list_aliases()["Aliases"]
    assert alias not in {a["AliasName"] for a in aliases}


def test_description_and_tags(kms, make_key):
    key = make_key(Tags=[{"TagKey": "team", "TagValue": "a"}])
    kms.update_key_description(KeyId=key["KeyId"], Description="changed")
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Description"] == "changed"
    kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "env", "TagValue": "dev"},
                                               {"TagKey": "team", "TagValue": "b"}])
    tags = kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]
    assert {t["TagKey"]: t["TagValue"] for t in tags} == {"team": "b", "env": "dev"}
    kms.untag_resource(KeyId=key["KeyId"], TagKeys=["team"])
    assert kms.list_resource_tags(KeyId=key["KeyId"])["Tags"] == [
        {"TagKey": "env", "TagValue": "dev"}]
    with pytest.raises(ClientError) as raised:
        kms.tag_resource(KeyId=key["KeyId"], Tags=[{"TagKey": "aws:x", "TagValue": "y"}])
    assert error_of(raised)[0] == "TagException"


def test_default_key_policy(kms, make_key):
    key = make_key()
    answer = kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")
    policy = json.loads(answer["Policy"])
    assert policy["Id"] == "key-default-1"
    [statement] = policy["Statement"]
    assert statement == {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                         "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                         "Action": "kms:*", "Resource": "*"}
    assert kms.list_key_policies(KeyId=key["KeyId"])["PolicyNames"] == ["default"]


def test_put_key_policy_round_trip_and_validation(kms, make_key):
    key = make_key()
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Logs", "Effect": "Allow",
         "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
         "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"], "Resource": "*"}]})
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy)
    assert kms.get_key_policy(KeyId=key["KeyId"])["Policy"] == policy
    locked_out = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt",
         "Resource": "*"}]})
    with pytest.raises(ClientError) as raised:
        kms.put_key_policy(KeyId=key["KeyId"], Policy=locked_out)
    assert error_of(raised)[:2] == ("MalformedPolicyDocumentException", "The new key policy "
                                    "will not allow you to update the key policy in the future.")
    kms.put_key_policy(KeyId=key["KeyId"], Policy=locked_out,
                       BypassPolicyLockoutSafetyCheck=True)
    with pytest.raises(ClientError) as raised:
        kms.put_key_policy(KeyId=key["KeyId"], Policy="{not json")
    assert error_of(raised)[0] == "MalformedPolicyDocumentException"


def test_key_created_with_policy(kms, make_key):
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
         "Action": "kms:*", "Resource": "*"}]})
    key = make_key(Policy=policy)
    assert kms.get_key_policy(KeyId=key["KeyId"])["Policy"] == policy


def test_state_survives_restart(tmp_path):
    """Keys and their material are in the store: a ciphertext made before a kill -9 decrypts
    after the restart."""
    import boto3

    from tests.conftest import ACCESS_KEY, SECRET_KEY, NuboProcess, client_config

    server = NuboProcess(tmp_path).start()
    try:
        def client():
            return boto3.client("kms", endpoint_url=server.endpoint, region_name="us-east-1",
                                aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                                config=client_config())
        key = client().create_key()["KeyMetadata"]
        client().create_alias(AliasName="alias/durable", TargetKeyId=key["KeyId"])
        blob = client().encrypt(KeyId="alias/durable", Plaintext=b"durable")["CiphertextBlob"]
        server.kill()
        server.start()
        assert client().decrypt(CiphertextBlob=blob)["Plaintext"] == b"durable"
    finally:
        server.stop()


def test_describe_key_creates_an_aws_managed_key(kms):
    managed = kms.describe_key(KeyId="alias/aws/lambda")["KeyMetadata"]
    assert managed["KeyManager"] == "AWS"
    assert managed["Description"] == ("Default key that protects my Lambda functions when no "
                                      "other key is defined")
    assert kms.describe_key(KeyId="alias/aws/lambda")["KeyMetadata"]["KeyId"] == \
        managed["KeyId"]
    for call in (lambda: kms.schedule_key_deletion(KeyId=managed["KeyId"]),
                 lambda: kms.tag_resource(KeyId=managed["KeyId"],
                                          Tags=[{"TagKey": "a", "TagValue": "b"}]),
                 lambda: kms.put_key_policy(KeyId=managed["KeyId"], Policy="{}")):
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised)[0] == "UnsupportedOperationException"
    with pytest.raises(ClientError) as raised:  # only its service may use it
        kms.encrypt(KeyId="alias/aws/not-a-service", Plaintext=b"x")
    assert error_of(raised)[0] == "NotFoundException"
