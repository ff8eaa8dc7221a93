"""Imported key material (wrapped outside nubo with the `cryptography` package) and
multi-Region keys."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from tests.conftest import ACCESS_KEY, SECRET_KEY, client_config, error_of

OAEP_256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(),
                        label=None)


def wrap_for_import(kms, key_id: str, material: bytes, algorithm: str = "RSAES_OAEP_SHA_256"):
    parameters = kms.get_parameters_for_import(KeyId=key_id, WrappingAlgorithm=algorithm,
                                               WrappingKeySpec="RSA_2048")
    public = serialization.load_der_public_key(parameters["PublicKey"])
    if algorithm == "RSAES_OAEP_SHA_256":
        wrapped = public.encrypt(material, OAEP_256)
    else:  # RSA_AES_KEY_WRAP_SHA_256: RSA-OAEP(ephemeral AES key) || AES-KWP(material)
        aes_key = os.urandom(32)
        wrapped = public.encrypt(aes_key, OAEP_256) + \
            keywrap.aes_key_wrap_with_padding(aes_key, material)
    return parameters["ImportToken"], wrapped


def test_symmetric_import_life_cycle(kms):
    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    assert (key["KeyState"], key["Origin"]) == ("PendingImport", "EXTERNAL")
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert error_of(raised)[:2] == ("KMSInvalidStateException",
                                    f"{key['Arn']} is pending import.")
    material = os.urandom(32)
    token, wrapped = wrap_for_import(kms, key["KeyId"], material)
    kms.import_key_material(KeyId=key["KeyId"], ImportToken=token,
                            EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    described = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "Enabled"
    assert described["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"imported")["CiphertextBlob"]
    with pytest.raises(ClientError) as raised:  # the token is single-use
        kms.import_key_material(KeyId=key["KeyId"], ImportToken=token,
                                EncryptedKeyMaterial=wrapped)
    assert error_of(raised)[0] == "InvalidImportTokenException"
    kms.delete_imported_key_material(KeyId=key["KeyId"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingImport"
    token, wrapped = wrap_for_import(kms, key["KeyId"], os.urandom(32))
    with pytest.raises(ClientError) as raised:
        kms.import_key_material(KeyId=key["KeyId"], ImportToken=token,
                                EncryptedKeyMaterial=wrapped)
    assert error_of(raised)[0] == "IncorrectKeyMaterialException"
    token, wrapped = wrap_for_import(kms, key["KeyId"], material)
    kms.import_key_material(KeyId=key["KeyId"], ImportToken=token, EncryptedKeyMaterial=wrapped)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"imported"


def test_imported_material_expires(kms, nubo_server):
    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    token, wrapped = wrap_for_import(kms, key["KeyId"], os.urandom(32))
    # nubo's clock (other tests move it forward), not this machine's
    now = datetime.fromtimestamp(nubo_server.get("/_nubo/clock")["now"], timezone.utc)
    valid_to = now + timedelta(days=1)
    kms.import_key_material(KeyId=key["KeyId"], ImportToken=token, EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=valid_to)
    assert "ValidTo" in kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    nubo_server.advance_clock(2 * 86400)
    for _ in range(50):
        if kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingImport":
            break
        time.sleep(0.1)
    else:
        pytest.fail("expired key material was not deleted")


def test_imported_ecc_signing_key_signs_as_the_original(kms):
    private = ec.generate_private_key(ec.SECP256R1())
    material = private.private_bytes(serialization.Encoding.DER,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    key = kms.create_key(Origin="EXTERNAL", KeySpec="ECC_NIST_P256",
                         KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    with pytest.raises(ClientError) as raised:
        kms.get_parameters_for_import(KeyId=key["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                      WrappingKeySpec="RSA_2048")
    assert error_of(raised)[0] == "ValidationException"
    token, wrapped = wrap_for_import(kms, key["KeyId"], material, "RSA_AES_KEY_WRAP_SHA_256")
    kms.import_key_material(KeyId=key["KeyId"], ImportToken=token, EncryptedKeyMaterial=wrapped)
    signature = kms.sign(KeyId=key["KeyId"], Message=b"hello",
                         SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    private.public_key().verify(signature, b"hello", ec.ECDSA(hashes.SHA256()))


def test_import_needs_an_external_key(kms):
    key = kms.create_key()["KeyMetadata"]
    with pytest.raises(ClientError) as raised:
        kms.get_parameters_for_import(KeyId=key["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                      WrappingKeySpec="RSA_2048")
    assert error_of(raised)[0] == "UnsupportedOperationException"


@pytest.fixture
def kms_west(make_client):
    session = boto3.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            region_name="us-west-2")
    return make_client("kms", session=session, config=client_config())


def test_multi_region_keys(kms, kms_west):
    primary = kms.create_key(MultiRegion=True, Description="global")["KeyMetadata"]
    assert primary["KeyId"].startswith("mrk-") and primary["MultiRegion"] is True
    assert primary["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    replicated = kms.replicate_key(KeyId=primary["KeyId"], ReplicaRegion="us-west-2")
    replica = replicated["ReplicaKeyMetadata"]
    assert replica["KeyId"] == primary["KeyId"]
    assert replica["Arn"] == primary["Arn"].replace("us-east-1", "us-west-2")
    assert replica["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert replica["Description"] == "global"
    configuration = kms.describe_key(KeyId=primary["KeyId"])["KeyMetadata"][
        "MultiRegionConfiguration"]
    assert configuration["ReplicaKeys"] == [{"Arn": replica["Arn"], "Region": "us-west-2"}]
    # A ciphertext of one region decrypts in the other, also after the primary rotates.
    blob = kms.encrypt(KeyId=primary["KeyId"], Plaintext=b"east")["CiphertextBlob"]
    assert kms_west.decrypt(CiphertextBlob=blob)["Plaintext"] == b"east"
    kms.rotate_key_on_demand(KeyId=primary["KeyId"])
    blob = kms.encrypt(KeyId=primary["KeyId"], Plaintext=b"rotated")["CiphertextBlob"]
    assert kms_west.decrypt(CiphertextBlob=blob)["Plaintext"] == b"rotated"
    west_blob = kms_west.encrypt(KeyId=replica["KeyId"], Plaintext=b"west")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=west_blob)["Plaintext"] == b"west"
    with pytest.raises(ClientError) as raised:
        kms.schedule_key_deletion(KeyId=primary["KeyId"])
    assert error_of(raised)[0] == "UnsupportedOperationException"
    with pytest.raises(ClientError) as raised:
        kms.replicate_key(KeyId=primary["KeyId"], ReplicaRegion="us-west-2")
    assert error_of(raised)[0] == "AlreadyExistsException"
    # Swap the primary region.
    kms.update_primary_region(KeyId=primary["KeyId"], PrimaryRegion="us-west-2")
    east = kms.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]["MultiRegionConfiguration"]
    assert east["MultiRegionKeyType"] == "REPLICA"
    assert east["PrimaryKey"]["Region"] == "us-west-2"
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"rotated"
    kms.schedule_key_deletion(KeyId=primary["KeyId"], PendingWindowInDays=7)  # now a replica


def test_single_region_keys_do_not_replicate(kms):
    key = kms.create_key()["KeyMetadata"]
    with pytest.raises(ClientError) as raised:
        kms.replicate_key(KeyId=key["KeyId"], ReplicaRegion="us-west-2")
    assert error_of(raised)[0] == "UnsupportedOperationException"
