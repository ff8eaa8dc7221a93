"""KMS cryptography on the `cryptography` package: key material by key spec, the symmetric
ciphertext blob, asymmetric encryption, signatures, MACs and key agreement.

Functions here take and return bytes; they know nothing of the store or of requests. Failures a
caller can cause raise ``ServiceError`` with AWS's codes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, mlkem, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nubo.core.errors import ServiceError

RSA_ENCRYPTION = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")
RSA_SIGNING = ("RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
               "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384",
               "RSASSA_PKCS1_V1_5_SHA_512")
MAX_MESSAGE = 4096  # Sign, Verify, GenerateMac, VerifyMac


@dataclass(frozen=True)
class Spec:
    """What a KeySpec is: its usages (first = default when the caller names none), and the
    algorithms DescribeKey lists for each usage."""

    name: str
    usages: tuple[str, ...]
    family: str  # aes | rsa | ec | hmac | mldsa | mlkem
    bits: int = 0
    curve: ec.EllipticCurve | None = None
    signing: tuple[str, ...] = ()
    mac: str | None = None

    def algorithms(self, usage: str) -> dict[str, list[str]]:
        if usage == "ENCRYPT_DECRYPT":
            return {"EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"] if self.family == "aes"
                    else list(RSA_ENCRYPTION)}
        if usage == "SIGN_VERIFY":
            return {"SigningAlgorithms": list(self.signing)}
        if usage == "GENERATE_VERIFY_MAC":
            return {"MacAlgorithms": [self.mac]}
        if usage == "ENCAPSULATE_DECAPSULATE":
            return {"EncapsulationAlgorithms": ["ML_KEM"]}
        return {"KeyAgreementAlgorithms": ["ECDH"]}


def _ecc(name: str, curve: ec.EllipticCurve, digest: str, agreement: bool = True) -> Spec:
    usages = ("SIGN_VERIFY", "KEY_AGREEMENT") if agreement else ("SIGN_VERIFY",)
    return Spec(name, usages, "ec", curve=curve, signing=(f"ECDSA_SHA_{digest}",))


SPECS: dict[str, Spec] = {spec.name: spec for spec in (
    Spec("SYMMETRIC_DEFAULT", ("ENCRYPT_DECRYPT",), "aes", 256),
    *(Spec(f"RSA_{bits}", ("ENCRYPT_DECRYPT", "SIGN_VERIFY"), "rsa", bits, signing=RSA_SIGNING)
      for bits in (2048, 3072, 4096)),
    _ecc("ECC_NIST_P256", ec.SECP256R1(), "256"),
    _ecc("ECC_NIST_P384", ec.SECP384R1(), "384"),
    _ecc("ECC_NIST_P521", ec.SECP521R1(), "512"),
    _ecc("ECC_SECG_P256K1", ec.SECP256K1(), "256", agreement=False),
    *(Spec(f"HMAC_{bits}", ("GENERATE_VERIFY_MAC",), "hmac", bits, mac=f"HMAC_SHA_{bits}")
      for bits in (224, 256, 384, 512)),
    *(Spec(f"ML_DSA_{level}", ("SIGN_VERIFY",), "mldsa", level, signing=("ML_DSA_SHAKE_256",))
      for level in (44, 65, 87)),
    # ML_KEM_512 waits for cryptography, which implements ML-KEM-768 and -1024 only
    *(Spec(f"ML_KEM_{level}", ("ENCAPSULATE_DECAPSULATE",), "mlkem", level)
      for level in (768, 1024)),
)}
CHINA_ONLY_SPECS = {"SM2"}

_MLDSA = {44: mldsa.MLDSA44PrivateKey, 65: mldsa.MLDSA65PrivateKey, 87: mldsa.MLDSA87PrivateKey}
_MLKEM = {768: mlkem.MLKEM768PrivateKey, 1024: mlkem.MLKEM1024PrivateKey}
_HASHES = {"1": hashes.SHA1, "224": hashes.SHA224, "256": hashes.SHA256, "384": hashes.SHA384,
           "512": hashes.SHA512}
_HASHLIB = {"HMAC_SHA_224": hashlib.sha224, "HMAC_SHA_256": hashlib.sha256,
            "HMAC_SHA_384": hashlib.sha384, "HMAC_SHA_512": hashlib.sha512}


def _hash_of(algorithm: str) -> hashes.HashAlgorithm:
    """The hash an algorithm name ends with (RSAES_OAEP_SHA_1, ECDSA_SHA_384, ...)."""
    return _HASHES[algorithm.rpartition("_")[2]]()


# -- key material ------------------------------------------------------------------------------

def _pkcs8(private) -> bytes:
    return private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


def new_rsa_key(bits: int) -> bytes:
    """A PKCS#8 DER RSA private key (slow for large keys: see keypool.py)."""
    return _pkcs8(rsa.generate_private_key(public_exponent=65537, key_size=bits))


def new_material(spec: Spec) -> bytes:
    """Fresh secret material: AES/HMAC key bytes, or a PKCS#8 DER private key."""
    if spec.family in ("aes", "hmac"):
        return os.urandom(spec.bits // 8)
    if spec.family == "rsa":
        return new_rsa_key(spec.bits)
    if spec.family == "ec":
        return _pkcs8(ec.generate_private_key(spec.curve))
    if spec.family == "mlkem":
        return _pkcs8(_MLKEM[spec.bits].generate())
    return _pkcs8(_MLDSA[spec.bits].generate())


@lru_cache(maxsize=256)
def private_key(der: bytes):
    """The loaded private key (parsing RSA keys is costly; keys are immutable, so cache)."""
    return serialization.load_der_private_key(der, password=None)


def public_key_der(private_der: bytes) -> bytes:
    """The DER-encoded SubjectPublicKeyInfo (what GetPublicKey returns, OpenSSL reads)."""
    return private_key(private_der).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)




# -- symmetric ciphertext blobs ----------------------------------------------------------------
# version (1) | account (12 ASCII digits) | key id (36 ASCII: a UUID or mrk-<32 hex>) |
# material version (4) | nonce (12) |
# AES-256-GCM ciphertext and tag. The header and the encryption context are the GCM AAD, so a
# blob decrypts only under its key, material version and exact context.

_BLOB_VERSION = 1
_HEADER = struct.Struct(">B12s36sI")
_NONCE = 12
_TAG = 16


def _context_aad(context: dict[str, str] | None) -> bytes:
    return json.dumps(context or {}, sort_keys=True, separators=(",", ":")).encode()


def seal(account: str, key_id: str, version: int, material: bytes, plaintext: bytes,
         context: dict[str, str] | None) -> bytes:
    header = _HEADER.pack(_BLOB_VERSION, account.encode(), key_id.encode(), version)
    nonce = os.urandom(_NONCE)
    return header + nonce + AESGCM(material).encrypt(nonce, plaintext,
                                                      header + _context_aad(context))


def blob_key(blob: bytes) -> tuple[str, str, int]:
    """(account, key id, material version) a symmetric blob names; InvalidCiphertextException
    if the bytes are not one of our blobs."""
    if len(blob) < _HEADER.size + _NONCE + _TAG or blob[0] != _BLOB_VERSION:
        raise invalid_ciphertext()
    _, account, key_id, version = _HEADER.unpack_from(blob)
    try:
        return account.decode("ascii"), key_id.decode("ascii"), version
    except UnicodeDecodeError:
        raise invalid_ciphertext() from None


def unseal(blob: bytes, material: bytes, context: dict[str, str] | None) -> bytes:
    header, nonce = blob[:_HEADER.size], blob[_HEADER.size:_HEADER.size + _NONCE]
    try:
        return AESGCM(material).decrypt(nonce, blob[_HEADER.size + _NONCE:],
                                        header + _context_aad(context))
    except InvalidTag:
        raise invalid_ciphertext() from None


def invalid_ciphertext() -> ServiceError:
    # AWS answers a blob it cannot decrypt (wrong context, tampered, foreign) without a message.
    return ServiceError("InvalidCiphertextException", "")


# -- asymmetric encryption ---------------------------------------------------------------------

def _oaep(algorithm: str) -> padding.OAEP:
    digest = _hash_of(algorithm)
    return padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)


def rsa_max_plaintext(bits: int, algorithm: str) -> int:
    return bits // 8 - 2 * _hash_of(algorithm).digest_size - 2


def rsa_encrypt(private_der: bytes, algorithm: str, plaintext: bytes) -> bytes:
    return private_key(private_der).public_key().encrypt(plaintext, _oaep(algorithm))


def rsa_decrypt(private_der: bytes, algorithm: str, ciphertext: bytes) -> bytes:
    try:
        return private_key(private_der).decrypt(ciphertext, _oaep(algorithm))
    except ValueError:
        raise invalid_ciphertext() from None


# -- signatures --------------------------------------------------------------------------------

def _signing_inputs(spec: Spec, algorithm: str, message: bytes, message_type: str):
    """(data, algorithm object or padding+hash) for cryptography's sign/verify calls."""
    digest = _hash_of(algorithm)
    if message_type == "DIGEST":
        if len(message) != digest.digest_size:
            raise ServiceError("ValidationException",
                               f"Digest is invalid length for algorithm {algorithm}.")
        digest = utils.Prehashed(digest)
    if spec.family == "ec":
        return message, (ec.ECDSA(digest),)
    salt = _hash_of(algorithm).digest_size
    pad = padding.PSS(mgf=padding.MGF1(_hash_of(algorithm)), salt_length=salt) \
        if "_PSS_" in algorithm else padding.PKCS1v15()
    return message, (pad, digest)


def _check_message_type(spec: Spec, message_type: str) -> None:
    if message_type == "EXTERNAL_MU" or (spec.family == "mldsa" and message_type != "RAW"):
        if spec.family != "mldsa":
            raise ServiceError("ValidationException",
                               "The EXTERNAL_MU message type is only valid for ML-DSA keys.")
        raise ServiceError("NotImplemented", f"MessageType {message_type} for ML-DSA keys is "
                           "not implemented by nubo yet.", 501, sender_fault=False)


def sign(spec: Spec, private_der: bytes, algorithm: str, message: bytes,
         message_type: str) -> bytes:
    _check_message_type(spec, message_type)
    private = private_key(private_der)
    if spec.family == "mldsa":
        return private.sign(message)
    data, args = _signing_inputs(spec, algorithm, message, message_type)
    return private.sign(data, *args)


def verify(spec: Spec, private_der: bytes, algorithm: str, message: bytes, message_type: str,
           signature: bytes) -> bool:
    _check_message_type(spec, message_type)
    public = private_key(private_der).public_key()
    try:
        if spec.family == "mldsa":
            public.verify(signature, message)
        else:
            data, args = _signing_inputs(spec, algorithm, message, message_type)
            public.verify(signature, data, *args)
    except (InvalidSignature, ValueError):
        return False
    return True


# -- MACs and key agreement --------------------------------------------------------------------

def mac(key: bytes, algorithm: str, message: bytes) -> bytes:
    return hmac.new(key, message, _HASHLIB[algorithm]).digest()


def mac_matches(key: bytes, algorithm: str, message: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(mac(key, algorithm, message), expected)


def encapsulate(private_der: bytes) -> tuple[bytes, bytes]:
    """ML-KEM with the key pair's public key: (the 32-byte shared secret, its ciphertext)."""
    return private_key(private_der).public_key().encapsulate()


def decapsulate(private_der: bytes, ciphertext: bytes) -> bytes:
    """The shared secret of an ML-KEM ciphertext; a ciphertext of the right length but not
    made for this key gives a pseudo-random secret (ML-KEM's implicit rejection), one of
    another length is InvalidCiphertextException."""
    try:
        return private_key(private_der).decapsulate(ciphertext)
    except ValueError:
        raise ServiceError("InvalidCiphertextException", "The ciphertext is not valid for the "
                           "KMS key's ML-KEM parameter set.") from None


def shared_secret(spec: Spec, private_der: bytes, peer_public_der: bytes) -> bytes:
    """ECDH with the peer's DER SubjectPublicKeyInfo (the raw shared secret, as KMS returns)."""
    try:
        peer = serialization.load_der_public_key(peer_public_der)
    except (ValueError, UnsupportedAlgorithm):
        raise ServiceError("ValidationException", "KMS cannot parse the specified public key. "
                           "Specify a DER-encoded X.509 public key.") from None
    if not isinstance(peer, ec.EllipticCurvePublicKey) or peer.curve.name != spec.curve.name:
        raise ServiceError("ValidationException", "The public key does not use the same curve "
                           "as the specified KMS key.")
    return private_key(private_der).exchange(ec.ECDH(), peer)
