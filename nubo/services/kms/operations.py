"""The cryptographic operations of KMS on resolved keys: Encrypt, Decrypt, ReEncrypt, data keys
and data key pairs, Sign/Verify, GenerateMac/VerifyMac, GetPublicKey, DeriveSharedSecret."""

from __future__ import annotations

import os

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.services.kms import crypto
from nubo.services.kms.models import Key, Keys
from nubo.services.kms.validation import KEY_ID, validation_error

DATA_KEY_BYTES = {"AES_256": 32, "AES_128": 16}


def algorithm_error(key: Key, algorithm: str) -> ServiceError:
    return ServiceError("InvalidKeyUsageException",
                        f"Algorithm {algorithm} is incompatible with key spec "
                        f"{key.record['spec']}.")


class Operations:
    def __init__(self, keys: Keys) -> None:
        self.keys = keys

    def usable(self, ctx: RequestContext, key_id: str, operation: str, usage: str) -> Key:
        """The key for a cryptographic operation: it must be enabled and made for ``usage``."""
        return self.check_usable(self.keys.resolve(ctx, key_id), operation, usage)

    def check_usable(self, key: Key, operation: str, usage: str) -> Key:
        self.keys.require_state(key)
        if key.usage != usage:
            raise ServiceError("InvalidKeyUsageException",
                               f"{key.arn} key usage is {key.usage} which is not valid for "
                               f"{operation}.")
        return key

    def _symmetric(self, ctx: RequestContext, key_id: str, operation: str) -> Key:
        key = self.usable(ctx, key_id, operation, "ENCRYPT_DECRYPT")
        if key.spec.family != "aes":
            raise ServiceError("InvalidKeyUsageException",
                               f"{key.arn} key spec is {key.record['spec']} which is not valid "
                               f"for {operation}.")
        return key

    # -- encryption -----------------------------------------------------------------------

    def encrypt(self, ctx: RequestContext, key_id: str, plaintext: bytes,
                context: dict | None, algorithm: str | None,
                operation: str = "Encrypt") -> dict:
        key = self.usable(ctx, key_id, operation, "ENCRYPT_DECRYPT")
        algorithm = algorithm or "SYMMETRIC_DEFAULT"
        if key.spec.family == "aes":
            if algorithm != "SYMMETRIC_DEFAULT":
                raise algorithm_error(key, algorithm)
            blob = crypto.seal(key.account, key.id, key.version, key.material(), plaintext,
                               context)
        else:
            if algorithm not in crypto.RSA_ENCRYPTION:
                raise algorithm_error(key, algorithm)
            if context:
                raise validation_error("EncryptionContext is not supported with asymmetric "
                                       "KMS keys.")
            limit = crypto.rsa_max_plaintext(key.spec.bits, algorithm)
            if len(plaintext) > limit:
                raise validation_error(f"Plaintext length {len(plaintext)} exceeds the "
                                       f"maximum of {limit} bytes for {key.record['spec']} "
                                       f"with {algorithm}.")
            blob = crypto.rsa_encrypt(key.material(), algorithm, plaintext)
        return {"CiphertextBlob": blob, "KeyId": key.arn, "EncryptionAlgorithm": algorithm}

    def decrypt(self, ctx: RequestContext, blob: bytes, context: dict | None,
                key_id: str | None, algorithm: str | None,
                operation: str = "Decrypt") -> dict:
        algorithm = algorithm or "SYMMETRIC_DEFAULT"
        if algorithm in crypto.RSA_ENCRYPTION:
            if key_id is None:
                raise validation_error("KeyId is required for asymmetric decryption.")
            key = self.usable(ctx, key_id, operation, "ENCRYPT_DECRYPT")
            if key.spec.family != "rsa":
                raise algorithm_error(key, algorithm)
            plaintext = crypto.rsa_decrypt(key.material(), algorithm, blob)
            return {"KeyId": key.arn, "Plaintext": plaintext, "EncryptionAlgorithm": algorithm}
        blob_key_arn, version = self.key_of_blob(ctx, blob)
        key = self.keys.resolve(ctx, blob_key_arn, aliases=False)
        if key_id is not None and self.keys.resolve(ctx, key_id).id != key.id:
            raise ServiceError("IncorrectKeyException", "The key ID in the request does not "
                               "identify a CMK that can perform this operation.")
        self.check_usable(key, operation, "ENCRYPT_DECRYPT")
        if key.spec.family != "aes":
            raise algorithm_error(key, algorithm)
        if version >= len(key.record["materials"]):
            raise crypto.invalid_ciphertext()
        plaintext = crypto.unseal(blob, key.material(version), context)
        return {"KeyId": key.arn, "Plaintext": plaintext, "EncryptionAlgorithm": algorithm,
                "KeyMaterialId": key.material_id(version)}

    @staticmethod
    def key_of_blob(ctx: RequestContext, blob: bytes) -> tuple[str, int]:
        """(key ARN, material version) of a symmetric ciphertext: the key may belong to
        another account (cross-account use, as the key policy allows)."""
        account, key_id, version = crypto.blob_key(blob)
        if not (account.isdigit() and len(account) == 12 and KEY_ID.match(key_id)):
            raise crypto.invalid_ciphertext()
        return ctx.arn("kms", f"key/{key_id}", account_id=account), version

    def re_encrypt(self, ctx: RequestContext, blob: bytes, source_context: dict | None,
                   source_key_id: str | None, destination_key_id: str,
                   destination_context: dict | None, source_algorithm: str | None,
                   destination_algorithm: str | None) -> dict:
        source = self.decrypt(ctx, blob, source_context, source_key_id, source_algorithm,
                              "ReEncrypt")
        target = self.encrypt(ctx, destination_key_id, source["Plaintext"],
                              destination_context, destination_algorithm, "ReEncrypt")
        result = {"CiphertextBlob": target["CiphertextBlob"], "SourceKeyId": source["KeyId"],
                  "KeyId": target["KeyId"],
                  "SourceEncryptionAlgorithm": source["EncryptionAlgorithm"],
                  "DestinationEncryptionAlgorithm": target["EncryptionAlgorithm"]}
        if "KeyMaterialId" in source:
            result["SourceKeyMaterialId"] = source["KeyMaterialId"]
        return result

    # -- data keys ------------------------------------------------------------------------

    def generate_data_key(self, ctx: RequestContext, key_id: str, key_spec: str | None,
                          number_of_bytes: int | None, context: dict | None,
                          operation: str) -> dict:
        if (key_spec is None) == (number_of_bytes is None):
            raise validation_error("Please specify either number of bytes or key spec.")
        key = self._symmetric(ctx, key_id, operation)
        plaintext = os.urandom(number_of_bytes or DATA_KEY_BYTES[key_spec])
        return {"CiphertextBlob": crypto.seal(key.account, key.id, key.version,
                                              key.material(), plaintext, context),
                "Plaintext": plaintext, "KeyId": key.arn, "KeyMaterialId": key.material_id()}

    def generate_data_key_pair(self, ctx: RequestContext, key_id: str, pair_spec: str,
                               context: dict | None, operation: str) -> dict:
        key = self._symmetric(ctx, key_id, operation)
        spec = self.keys._spec(ctx, pair_spec)
        private, public = self.keys.pool.key_pair(spec)
        return {"PrivateKeyCiphertextBlob": crypto.seal(key.account, key.id, key.version,
                                                        key.material(), private, context),
                "PrivateKeyPlaintext": private, "PublicKey": public, "KeyId": key.arn,
                "KeyPairSpec": pair_spec, "KeyMaterialId": key.material_id()}

    # -- signatures, MACs, public keys, key agreement --------------------------------------

    def _signing_key(self, ctx: RequestContext, key_id: str, operation: str,
                     algorithm: str, message: bytes) -> Key:
        key = self.usable(ctx, key_id, operation, "SIGN_VERIFY")
        if algorithm not in key.spec.signing:
            raise algorithm_error(key, algorithm)
        if len(message) > crypto.MAX_MESSAGE:
            raise validation_error("1 validation error detected: Value at 'message' failed to "
                                   "satisfy constraint: Member must have length less than or "
                                   "equal to 4096")
        return key

    def sign(self, ctx: RequestContext, key_id: str, message: bytes, message_type: str,
             algorithm: str) -> dict:
        key = self._signing_key(ctx, key_id, "Sign", algorithm, message)
        signature = crypto.sign(key.spec, key.material(), algorithm, message, message_type)
        return {"KeyId": key.arn, "Signature": signature, "SigningAlgorithm": algorithm}

    def verify(self, ctx: RequestContext, key_id: str, message: bytes, message_type: str,
               signature: bytes, algorithm: str) -> dict:
        key = self._signing_key(ctx, key_id, "Verify", algorithm, message)
        if not crypto.verify(key.spec, key.material(), algorithm, message, message_type,
                             signature):
            raise ServiceError("KMSInvalidSignatureException", "")
        return {"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": algorithm}

    def _mac_key(self, ctx: RequestContext, key_id: str, operation: str,
                 algorithm: str) -> Key:
        key = self.usable(ctx, key_id, operation, "GENERATE_VERIFY_MAC")
        if algorithm != key.spec.mac:
            raise algorithm_error(key, algorithm)
        return key

    def generate_mac(self, ctx: RequestContext, key_id: str, message: bytes,
                     algorithm: str) -> dict:
        key = self._mac_key(ctx, key_id, "GenerateMac", algorithm)
        return {"Mac": crypto.mac(key.material(), algorithm, message),
                "MacAlgorithm": algorithm, "KeyId": key.arn}

    def verify_mac(self, ctx: RequestContext, key_id: str, message: bytes, algorithm: str,
                   mac: bytes) -> dict:
        key = self._mac_key(ctx, key_id, "VerifyMac", algorithm)
        if not crypto.mac_matches(key.material(), algorithm, message, mac):
            raise ServiceError("KMSInvalidMacException", "")
        return {"KeyId": key.arn, "MacValid": True, "MacAlgorithm": algorithm}

    def get_public_key(self, ctx: RequestContext, key_id: str) -> dict:
        key = self.keys.resolve(ctx, key_id)
        self.keys.require_state(key)
        if key.spec.family in ("aes", "hmac"):
            raise ServiceError("UnsupportedOperationException",
                               f"{key.arn} key usage is {key.usage} which is not valid for "
                               "GetPublicKey.")
        return {"KeyId": key.arn, "PublicKey": crypto.public_key_der(key.material()),
                "CustomerMasterKeySpec": key.record["spec"], "KeySpec": key.record["spec"],
                "KeyUsage": key.usage, **key.spec.algorithms(key.usage)}

    def encapsulate(self, ctx: RequestContext, key_id: str, algorithm: str) -> dict:
        key = self.usable(ctx, key_id, "Encapsulate", "ENCAPSULATE_DECAPSULATE")
        secret, ciphertext = crypto.encapsulate(key.material())
        return {"KeyId": key.arn, "SharedSecret": secret,
                "SharedSecretCiphertextBlob": ciphertext, "EncapsulationAlgorithm": algorithm}

    def decapsulate(self, ctx: RequestContext, key_id: str, ciphertext: bytes,
                    algorithm: str) -> dict:
        key = self.usable(ctx, key_id, "Decapsulate", "ENCAPSULATE_DECAPSULATE")
        return {"KeyId": key.arn, "SharedSecret": crypto.decapsulate(key.material(), ciphertext),
                "EncapsulationAlgorithm": algorithm}

    def derive_shared_secret(self, ctx: RequestContext, key_id: str, algorithm: str,
                             public_key: bytes) -> dict:
        key = self.usable(ctx, key_id, "DeriveSharedSecret", "KEY_AGREEMENT")
        secret = crypto.shared_secret(key.spec, key.material(), public_key)
        return {"KeyId": key.arn, "SharedSecret": secret, "KeyAgreementAlgorithm": algorithm,
                "KeyOrigin": key.record["origin"]}
