"""Envelope encryption under a KMS key, as AWS services do for values KMS cannot encrypt
directly (over 4 KB) or should not send each time: a KMS data key (GenerateDataKey) bound to an
encryption context, the value sealed under it with AES-256-GCM, and the data key's KMS
ciphertext kept with it. Used in-process by Secrets Manager and Parameter Store.

``kms(operation, params)`` calls KMS for the caller (``runtime.services.call`` bound to the
request); KMS's errors pass through for the caller to translate.
"""

from __future__ import annotations

import os
import struct
from typing import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nubo.services.kms.crypto import invalid_ciphertext

KmsCall = Callable[[str, dict], dict]
_LENGTH = struct.Struct(">H")
_NONCE = 12


def seal(kms: KmsCall, key_id: str, context: dict[str, str], plaintext: bytes) -> bytes:
    """length of the wrapped data key (2) | wrapped data key | nonce (12) | AES-GCM sealed."""
    data_key = kms("GenerateDataKey", {"KeyId": key_id, "KeySpec": "AES_256",
                                       "EncryptionContext": context})
    wrapped = data_key["CiphertextBlob"]
    nonce = os.urandom(_NONCE)
    return (_LENGTH.pack(len(wrapped)) + wrapped + nonce +
            AESGCM(data_key["Plaintext"]).encrypt(nonce, plaintext, None))


def open_sealed(kms: KmsCall, context: dict[str, str], blob: bytes) -> bytes:
    (size,) = _LENGTH.unpack_from(blob)
    start = _LENGTH.size + size
    data_key = kms("Decrypt", {"CiphertextBlob": blob[_LENGTH.size:start],
                               "EncryptionContext": context})
    try:
        return AESGCM(data_key["Plaintext"]).decrypt(blob[start:start + _NONCE],
                                                     blob[start + _NONCE:], None)
    except InvalidTag:
        raise invalid_ciphertext() from None
