"""KMS cryptography, checked with the `cryptography` package outside nubo: symmetric blobs and
encryption context, data keys and key pairs, RSA encryption, every signing algorithm, HMAC,
ECDH, public keys, rotation."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import time

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

from tests.conftest import error_of

HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
SIGNING = [(spec, algorithm) for spec in ("RSA_2048", "RSA_3072", "RSA_4096")
           for algorithm in ("RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
                             "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384",
                             "RSASSA_PKCS1_V1_5_SHA_512")] + [
    ("ECC_NIST_P256", "ECDSA_SHA_256"), ("ECC_NIST_P384", "ECDSA_SHA_384"),
    ("ECC_NIST_P521", "ECDSA_SHA_512"), ("ECC_SECG_P256K1", "ECDSA_SHA_256")]


@pytest.fixture(scope="module")
def symmetric(kms):
    return kms.create_key()["KeyMetadata"]


@pytest.fixture(scope="module")
def signing_keys(kms):
    """One SIGN_VERIFY key per spec, made once (RSA 4096 generation is slow)."""
    cache = {}

    def get(spec: str) -> dict:
        if spec not in cache:
            cache[spec] = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
        return cache[spec]

    return get


def public_key_of(kms, key_id: str):
    return serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])


# -- symmetric ----------------------------------------------------------------------------------

def test_decrypt_needs_no_key_id(kms, symmetric):
    blob = kms.encrypt(KeyId=symmetric["KeyId"], Plaintext=b"secret bytes \x00\xff")
    assert blob["KeyId"] == symmetric["Arn"]
    assert blob["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    answer = kms.decrypt(CiphertextBlob=blob["CiphertextBlob"])
    assert answer["Plaintext"] == b"secret bytes \x00\xff"
    assert answer["KeyId"] == symmetric["Arn"]
    assert answer["KeyMaterialId"] == symmetric["CurrentKeyMaterialId"]


def test_ciphertexts_differ_each_time(kms, symmetric):
    first = kms.encrypt(KeyId=symmetric["KeyId"], Plaintext=b"same")["CiphertextBlob"]
    second = kms.encrypt(KeyId=symmetric["KeyId"], Plaintext=b"same")["CiphertextBlob"]
    assert first != second


def test_encryption_context_is_bound(kms, symmetric):
    context = {"LambdaFunctionName": "hello", "stage": "prod"}
    blob = kms.encrypt(KeyId=symmetric["KeyId"], Plaintext=b"env var",
                       EncryptionContext=context)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=dict(reversed(
        context.items())))["Plaintext"] == b"env var"
    for wrong in ({}, {"LambdaFunctionName": "other", "stage": "prod"},
                  {"LambdaFunctionName": "hello"}):
        with pytest.raises(ClientError) as raised:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=wrong)
        assert error_of(raised)[0] == "InvalidCiphertextException"


def test_tampered_or_foreign_ciphertext(kms, symmetric):
    blob = bytearray(kms.encrypt(KeyId=symmetric["KeyId"], Plaintext=b"x")["CiphertextBlob"])
    blob[-1] ^= 1
    for bad in (bytes(blob), b"not a ciphertext at all", b"\x01" * 80):
        with pytest.raises(ClientError) as raised:
            kms.decrypt(CiphertextBlob=bad)
        assert error_of(raised)[0] == "InvalidCiphertextException"


def test_decrypt_with_the_wrong_key_id(kms, symmetric):
    other = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=symmetric["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, KeyId=symmetric["Arn"])["Plaintext"] == b"x"
    with pytest.raises(ClientError) as raised:
        kms.decrypt(CiphertextBlob=blob, KeyId=other["KeyId"])
    assert error_of(raised)[0] == "IncorrectKeyException"


def test_plaintext_limit_is_4096_bytes(kms, symmetric):
    blob = kms.encrypt(KeyId=symmetric["KeyId"], Plaintext=b"a" * 4096)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"a" * 4096
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId=symmetric["KeyId"], Plaintext=b"a" * 4097)
    assert error_of(raised)[0] == "ValidationException"


def test_re_encrypt_moves_a_ciphertext_to_another_key(kms, symmetric):
    target = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=symmetric["KeyId"], Plaintext=b"move me",
                       EncryptionContext={"a": "1"})["CiphertextBlob"]
    moved = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"a": "1"},
                           DestinationKeyId=target["KeyId"],
                           DestinationEncryptionContext={"b": "2"})
    assert (moved["SourceKeyId"], moved["KeyId"]) == (symmetric["Arn"], target["Arn"])
    answer = kms.decrypt(CiphertextBlob=moved["CiphertextBlob"], EncryptionContext={"b": "2"})
    assert (answer["Plaintext"], answer["KeyId"]) == (b"move me", target["Arn"])


def test_data_keys(kms, symmetric):
    data_key = kms.generate_data_key(KeyId=symmetric["KeyId"], KeySpec="AES_256",
                                     EncryptionContext={"file": "a"})
    assert len(data_key["Plaintext"]) == 32
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"],
                       EncryptionContext={"file": "a"})["Plaintext"] == data_key["Plaintext"]
    assert len(kms.generate_data_key(KeyId=symmetric["KeyId"],
                                     KeySpec="AES_128")["Plaintext"]) == 16
    assert len(kms.generate_data_key(KeyId=symmetric["KeyId"],
                                     NumberOfBytes=64)["Plaintext"]) == 64
    deferred = kms.generate_data_key_without_plaintext(KeyId=symmetric["KeyId"],
                                                       KeySpec="AES_256")
    assert "Plaintext" not in deferred
    assert len(kms.decrypt(CiphertextBlob=deferred["CiphertextBlob"])["Plaintext"]) == 32
    for params in ({}, {"KeySpec": "AES_256", "NumberOfBytes": 32}):
        with pytest.raises(ClientError) as raised:
            kms.generate_data_key(KeyId=symmetric["KeyId"], **params)
        assert error_of(raised)[0] == "ValidationException"


@pytest.mark.parametrize("pair_spec", ["RSA_2048", "ECC_NIST_P256", "ECC_NIST_P521",
                                       "ECC_SECG_P256K1", "ML_KEM_768"])
def test_data_key_pairs(kms, symmetric, pair_spec):
    pair = kms.generate_data_key_pair(KeyId=symmetric["KeyId"], KeyPairSpec=pair_spec)
    private = serialization.load_der_private_key(pair["PrivateKeyPlaintext"], None)
    public_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert public_der == pair["PublicKey"]
    assert kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"])["Plaintext"] == \
        pair["PrivateKeyPlaintext"]
    without = kms.generate_data_key_pair_without_plaintext(KeyId=symmetric["KeyId"],
                                                           KeyPairSpec=pair_spec)
    assert "PrivateKeyPlaintext" not in without and without["KeyPairSpec"] == pair_spec


def test_generate_random(kms):
    first = kms.generate_random(NumberOfBytes=1024)["Plaintext"]
    assert len(first) == 1024 and first != kms.generate_random(NumberOfBytes=1024)["Plaintext"]
    with pytest.raises(ClientError) as raised:
        kms.generate_random(NumberOfBytes=1025)
    assert error_of(raised)[0] == "ValidationException"


# -- asymmetric encryption ----------------------------------------------------------------------

@pytest.mark.parametrize("algorithm,digest", [("RSAES_OAEP_SHA_1", hashes.SHA1),
                                              ("RSAES_OAEP_SHA_256", hashes.SHA256)])
def test_rsa_encryption_interoperates(kms, algorithm, digest):
    key = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    oaep = padding.OAEP(mgf=padding.MGF1(digest()), algorithm=digest(), label=None)
    outside = public_key_of(kms, key["KeyId"]).encrypt(b"sealed outside", oaep)
    answer = kms.decrypt(CiphertextBlob=outside, KeyId=key["KeyId"],
                         EncryptionAlgorithm=algorithm)
    assert answer["Plaintext"] == b"sealed outside"
    inside = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"sealed inside",
                         EncryptionAlgorithm=algorithm)["CiphertextBlob"]
    assert len(inside) == 256
    assert kms.decrypt(CiphertextBlob=inside, KeyId=key["KeyId"],
                       EncryptionAlgorithm=algorithm)["Plaintext"] == b"sealed inside"
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")  # SYMMETRIC_DEFAULT on an RSA key
    assert error_of(raised)[0] == "InvalidKeyUsageException"


def test_signing_key_cannot_encrypt(kms, signing_keys):
    key = signing_keys("RSA_2048")
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    assert error_of(raised)[:2] == ("InvalidKeyUsageException", f"{key['Arn']} key usage is "
                                    "SIGN_VERIFY which is not valid for Encrypt.")


# -- signatures ---------------------------------------------------------------------------------

def _verify_outside(public, spec: str, algorithm: str, message: bytes, signature: bytes,
                    prehashed: bool) -> None:
    digest = HASHES[algorithm[-3:]]()
    chosen = utils.Prehashed(digest) if prehashed else digest
    if spec.startswith("ECC"):
        public.verify(signature, message, ec.ECDSA(chosen))
    elif "_PSS_" in algorithm:
        public.verify(signature, message, padding.PSS(mgf=padding.MGF1(digest),
                                                      salt_length=digest.digest_size), chosen)
    else:
        public.verify(signature, message, padding.PKCS1v15(), chosen)


@pytest.mark.parametrize("spec,algorithm", SIGNING)
@pytest.mark.parametrize("message_type", ["RAW", "DIGEST"])
def test_signatures_verify_outside_nubo(kms, signing_keys, spec, algorithm, message_type):
    key = signing_keys(spec)
    message = b"the message to sign"
    if message_type == "DIGEST":
        message = hashlib.new("sha" + algorithm[-3:], message).digest()
    signed = kms.sign(KeyId=key["KeyId"], Message=message, MessageType=message_type,
                      SigningAlgorithm=algorithm)
    assert signed["KeyId"] == key["Arn"] and signed["SigningAlgorithm"] == algorithm
    _verify_outside(public_key_of(kms, key["KeyId"]), spec, algorithm, message,
                    signed["Signature"], message_type == "DIGEST")
    verified = kms.verify(KeyId=key["KeyId"], Message=message, MessageType=message_type,
                          Signature=signed["Signature"], SigningAlgorithm=algorithm)
    assert verified["SignatureValid"] is True


def test_bad_signatures_and_digests(kms, signing_keys):
    key = signing_keys("ECC_NIST_P256")
    signature = kms.sign(KeyId=key["KeyId"], Message=b"m",
                         SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    with pytest.raises(ClientError) as raised:
        kms.verify(KeyId=key["KeyId"], Message=b"other", Signature=signature,
                   SigningAlgorithm="ECDSA_SHA_256")
    assert error_of(raised)[0] == "KMSInvalidSignatureException"
    with pytest.raises(ClientError) as raised:
        kms.sign(KeyId=key["KeyId"], Message=b"short", MessageType="DIGEST",
                 SigningAlgorithm="ECDSA_SHA_256")
    assert error_of(raised)[0] == "ValidationException"
    with pytest.raises(ClientError) as raised:
        kms.sign(KeyId=key["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_384")
    assert error_of(raised)[0] == "InvalidKeyUsageException"


def test_ml_dsa_signatures(kms):
    from cryptography.hazmat.primitives.asymmetric import mldsa

    key = kms.create_key(KeySpec="ML_DSA_65", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    signed = kms.sign(KeyId=key["KeyId"], Message=b"post-quantum",
                      SigningAlgorithm="ML_DSA_SHAKE_256")
    public = public_key_of(kms, key["KeyId"])
    assert isinstance(public, mldsa.MLDSA65PublicKey)
    public.verify(signed["Signature"], b"post-quantum")


def test_public_key_is_der_that_openssl_reads(kms, signing_keys, tmp_path):
    key = signing_keys("ECC_NIST_P384")
    answer = kms.get_public_key(KeyId=key["KeyId"])
    assert answer["KeySpec"] == "ECC_NIST_P384" and answer["KeyUsage"] == "SIGN_VERIFY"
    assert answer["SigningAlgorithms"] == ["ECDSA_SHA_384"]
    der = tmp_path / "public.der"
    der.write_bytes(answer["PublicKey"])
    result = subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", str(der),
                             "-noout", "-text"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "384 bit" in result.stdout


def test_symmetric_key_has_no_public_key(kms, symmetric):
    with pytest.raises(ClientError) as raised:
        kms.get_public_key(KeyId=symmetric["KeyId"])
    assert error_of(raised)[0] == "UnsupportedOperationException"


# -- MACs and key agreement ---------------------------------------------------------------------

@pytest.mark.parametrize("bits", [224, 256, 384, 512])
def test_hmac(kms, bits):
    key = kms.create_key(KeySpec=f"HMAC_{bits}", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    algorithm = f"HMAC_SHA_{bits}"
    made = kms.generate_mac(KeyId=key["KeyId"], Message=b"data", MacAlgorithm=algorithm)
    assert len(made["Mac"]) == bits // 8
    assert kms.verify_mac(KeyId=key["KeyId"], Message=b"data", MacAlgorithm=algorithm,
                          Mac=made["Mac"])["MacValid"] is True
    with pytest.raises(ClientError) as raised:
        kms.verify_mac(KeyId=key["KeyId"], Message=b"data!", MacAlgorithm=algorithm,
                       Mac=made["Mac"])
    assert error_of(raised)[0] == "KMSInvalidMacException"
    assert made["Mac"] != hmac.new(b"", b"data", "sha" + str(bits)).digest()


def test_derive_shared_secret_matches_the_peer(kms):
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    peer = ec.generate_private_key(ec.SECP256R1())
    peer_public = peer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    answer = kms.derive_shared_secret(KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH",
                                      PublicKey=peer_public)
    expected = peer.exchange(ec.ECDH(), public_key_of(kms, key["KeyId"]))
    assert answer["SharedSecret"] == expected and answer["KeyOrigin"] == "AWS_KMS"
    other_curve = ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ClientError) as raised:
        kms.derive_shared_secret(KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH",
                                 PublicKey=other_curve)
    assert error_of(raised)[0] == "ValidationException"


@pytest.mark.parametrize("spec", ["ML_KEM_768", "ML_KEM_1024"])
def test_ml_kem_encapsulation(kms, spec):
    """ML-KEM keys: Encapsulate's shared secret is what Decapsulate recovers from the
    ciphertext, and what a holder of the public key encapsulates KMS decapsulates too."""
    key = kms.create_key(KeySpec=spec, KeyUsage="ENCAPSULATE_DECAPSULATE")["KeyMetadata"]
    assert key["EncapsulationAlgorithms"] == ["ML_KEM"]
    public = kms.get_public_key(KeyId=key["KeyId"])
    assert public["EncapsulationAlgorithms"] == ["ML_KEM"] and public["KeySpec"] == spec
    sealed = kms.encapsulate(KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM")
    assert len(sealed["SharedSecret"]) == 32 and sealed["KeyId"] == key["Arn"]
    opened = kms.decapsulate(KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM",
                             SharedSecretCiphertextBlob=sealed["SharedSecretCiphertextBlob"])
    assert opened["SharedSecret"] == sealed["SharedSecret"]
    secret, ciphertext = serialization.load_der_public_key(public["PublicKey"]).encapsulate()
    assert kms.decapsulate(KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM",
                           SharedSecretCiphertextBlob=ciphertext)["SharedSecret"] == secret
    with pytest.raises(ClientError) as raised:
        kms.decapsulate(KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM",
                        SharedSecretCiphertextBlob=b"too short")
    assert error_of(raised)[0] == "InvalidCiphertextException"
    symmetric = kms.create_key()["KeyMetadata"]
    with pytest.raises(ClientError) as raised:
        kms.encapsulate(KeyId=symmetric["KeyId"], EncapsulationAlgorithm="ML_KEM")
    assert error_of(raised)[0] == "InvalidKeyUsageException"


# -- rotation -----------------------------------------------------------------------------------

def test_rotation_keeps_old_ciphertexts_readable(kms):
    key = kms.create_key()["KeyMetadata"]
    before = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"old")["CiphertextBlob"]
    kms.rotate_key_on_demand(KeyId=key["KeyId"])
    after = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"new")["CiphertextBlob"]
    old_answer = kms.decrypt(CiphertextBlob=before)
    new_answer = kms.decrypt(CiphertextBlob=after)
    assert (old_answer["Plaintext"], new_answer["Plaintext"]) == (b"old", b"new")
    assert old_answer["KeyMaterialId"] != new_answer["KeyMaterialId"]
    rotations = kms.list_key_rotations(KeyId=key["KeyId"])["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"]
    assert "OnDemandRotationStartDate" in kms.get_key_rotation_status(KeyId=key["KeyId"])


def test_automatic_rotation_with_period(kms, nubo_server):
    key = kms.create_key()["KeyMetadata"]
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key["KeyId"], RotationPeriodInDays=90)
    status = kms.get_key_rotation_status(KeyId=key["KeyId"])
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    before = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"before")["CiphertextBlob"]
    nubo_server.advance_clock(90 * 86400 + 1)
    for _ in range(50):
        rotations = kms.list_key_rotations(KeyId=key["KeyId"])["Rotations"]
        if rotations:
            break
        time.sleep(0.1)
    assert [r["RotationType"] for r in rotations] == ["AUTOMATIC"]
    assert kms.decrypt(CiphertextBlob=before)["Plaintext"] == b"before"
    kms.disable_key_rotation(KeyId=key["KeyId"])
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is False


def test_asymmetric_keys_do_not_rotate(kms, signing_keys):
    key_id = signing_keys("ECC_NIST_P256")["KeyId"]
    for call in (kms.enable_key_rotation, kms.get_key_rotation_status, kms.list_key_rotations,
                 kms.rotate_key_on_demand):
        with pytest.raises(ClientError) as raised:
            call(KeyId=key_id)
        assert error_of(raised)[0] == "UnsupportedOperationException"


def test_dry_run(kms, symmetric):
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId=symmetric["KeyId"], Plaintext=b"x", DryRun=True)
    assert error_of(raised)[:2] == ("DryRunOperationException", "The request would have "
                                    "succeeded, but the DryRun option is set.")


def test_cross_account_decrypt_without_key_id(kms, make_client):
    """The ciphertext names its key's account: another account allowed by the key policy
    decrypts it without naming the key."""
    import boto3

    from tests.conftest import SECRET_KEY

    other = make_client("kms", session=boto3.Session(
        aws_access_key_id="111111111111", aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1"))
    key = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"shared")["CiphertextBlob"]
    answer = other.decrypt(CiphertextBlob=blob)
    assert (answer["Plaintext"], answer["KeyId"]) == (b"shared", key["Arn"])
    assert other.encrypt(KeyId=key["Arn"], Plaintext=b"x")["KeyId"] == key["Arn"]
