"""Imported key material: GetParametersForImport (an RSA wrapping key and a single-use import
token), ImportKeyMaterial (unwrap, check, install; optional expiry) and
DeleteImportedKeyMaterial."""

from __future__ import annotations

import hashlib
import secrets

from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.services.kms import crypto
from nubo.services.kms.models import DAY, Key, Keys, _material
from nubo.services.kms.validation import validation_error

IMPORT_PARAMETERS_LIFETIME = DAY  # an import token and its wrapping key last 24 hours
MAX_VALID_TO = 365 * DAY
_OAEP_HASHES = {"1": hashes.SHA1, "256": hashes.SHA256}
MATERIAL_MISMATCH = ("The key material doesn't match the key material previously imported "
                     "into this KMS key.")


def _oaep(algorithm: str) -> padding.OAEP:
    digest = _OAEP_HASHES[algorithm.rpartition("SHA_")[2]]()
    return padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)


class KeyImports:
    def __init__(self, keys: Keys, clock: Clock) -> None:
        self.keys = keys
        self.clock = clock

    @staticmethod
    def _require_external(key: Key) -> None:
        if key.record["origin"] != "EXTERNAL":
            raise ServiceError("UnsupportedOperationException",
                               f"{key.arn} origin is {key.record['origin']} which is not "
                               "valid for this operation.")
        if key.state == "PendingDeletion":
            Keys.require_state(key)

    def parameters(self, key: Key, algorithm: str, wrapping_spec: str) -> dict:
        self._require_external(key)
        if algorithm == "RSAES_PKCS1_V1_5" or wrapping_spec == "SM2" or algorithm == "SM2PKE":
            raise validation_error(f"The wrapping algorithm {algorithm} with wrapping key spec "
                                   f"{wrapping_spec} is not supported in this Region.")
        if key.spec.family in ("rsa", "ec") and not algorithm.startswith("RSA_AES_KEY_WRAP"):
            raise validation_error(f"Key material for {key.record['spec']} KMS keys must be "
                                   "wrapped with RSA_AES_KEY_WRAP_SHA_1 or "
                                   "RSA_AES_KEY_WRAP_SHA_256.")
        wrapping = self.keys.pool.rsa_key(int(wrapping_spec.split("_")[1]))
        token = secrets.token_bytes(64)
        valid_to = self.clock.now() + IMPORT_PARAMETERS_LIFETIME
        self.keys.save(key, import_parameters={
            "token": token, "algorithm": algorithm, "valid_to": valid_to,
            "wrapping": wrapping})
        public = crypto.public_key_der(wrapping)
        return {"KeyId": key.arn, "ImportToken": token, "PublicKey": public,
                "ParametersValidTo": valid_to}

    def import_material(self, key: Key, token: bytes, encrypted: bytes, valid_to: float | None,
                        expiration_model: str | None, import_type: str | None) -> str:
        self._require_external(key)
        pending = key.record.get("import_parameters")
        if pending is None or not secrets.compare_digest(pending["token"], token):
            raise ServiceError("InvalidImportTokenException",
                               "The import token is invalid or was not issued for this KMS key.")
        now = self.clock.now()
        if pending["valid_to"] < now:
            raise ServiceError("ExpiredImportTokenException", "The import token has expired.")
        expiration_model = expiration_model or ("KEY_MATERIAL_EXPIRES" if valid_to
                                                else "KEY_MATERIAL_DOES_NOT_EXPIRE")
        if (expiration_model == "KEY_MATERIAL_EXPIRES") != (valid_to is not None):
            raise validation_error("ValidTo is required when ExpirationModel is "
                                   "KEY_MATERIAL_EXPIRES, and not allowed otherwise.")
        if valid_to is not None and not now < valid_to <= now + MAX_VALID_TO:
            raise validation_error("ValidTo must be in the future and at most 365 days away.")
        material = self._unwrap(pending, encrypted)
        self._check(key, material)
        fingerprint = hashlib.sha256(material).hexdigest()
        previous = key.record.get("material_fingerprint")
        if previous is not None and previous != fingerprint:
            if import_type == "NEW_KEY_MATERIAL":
                raise ServiceError("NotImplemented", "Importing new key material for rotation "
                                   "is not implemented by nubo yet.", 501, sender_fault=False)
            raise ServiceError("IncorrectKeyMaterialException", MATERIAL_MISMATCH)
        materials = key.record["materials"] or [_material(material, now, None)]
        key = self.keys.save(key, materials=materials, material_fingerprint=fingerprint,
                             import_parameters=None, expiration_model=expiration_model,
                             valid_to=valid_to, material_expires=valid_to,
                             state="Enabled" if key.state == "PendingImport" else key.state)
        return key.material_id()

    @staticmethod
    def _unwrap(pending: dict, encrypted: bytes) -> bytes:
        wrapping = crypto.private_key(pending["wrapping"])
        algorithm = pending["algorithm"]
        try:
            if not algorithm.startswith("RSA_AES_KEY_WRAP"):
                return wrapping.decrypt(encrypted, _oaep(algorithm))
            split = wrapping.key_size // 8  # RSA-OAEP(AES key) || AES-KWP(material)
            aes_key = wrapping.decrypt(encrypted[:split], _oaep(algorithm))
            return keywrap.aes_key_unwrap_with_padding(aes_key, encrypted[split:])
        except (ValueError, keywrap.InvalidUnwrap):
            raise ServiceError("InvalidCiphertextException", "") from None

    @staticmethod
    def _check(key: Key, material: bytes) -> None:
        spec = key.spec
        if spec.family in ("aes", "hmac"):
            if len(material) != spec.bits // 8:
                raise ServiceError("IncorrectKeyMaterialException",
                                   f"Key material for {spec.name} must be {spec.bits // 8} "
                                   "bytes.")
            return
        try:
            private = serialization.load_der_private_key(material, password=None)
        except ValueError:
            raise ServiceError("IncorrectKeyMaterialException", "The key material is not a "
                               "DER-encoded PKCS#8 private key.") from None
        matches = (isinstance(private, rsa.RSAPrivateKey) and private.key_size == spec.bits) \
            if spec.family == "rsa" else (isinstance(private, ec.EllipticCurvePrivateKey)
                                          and private.curve.name == spec.curve.name)
        if not matches:
            raise ServiceError("IncorrectKeyMaterialException",
                               f"The key material is not a {spec.name} private key.")

    def delete_material(self, key: Key) -> None:
        self._require_external(key)
        self.keys.save(key, materials=[], state="PendingImport", material_expires=None,
                       valid_to=None)
