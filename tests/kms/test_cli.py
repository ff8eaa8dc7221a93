"""The seed demo through the AWS CLI: encrypt a file under alias/tutorial, decrypt it without
naming the key, byte for byte."""

from __future__ import annotations

import base64
import os

from tests.kms.conftest import unique_alias


def test_cli_encrypt_file_then_decrypt_without_key_id(aws_cli, tmp_path):
    key = aws_cli("kms", "create-key", "--description", "tutorial")["KeyMetadata"]
    alias = unique_alias("tutorial")
    aws_cli("kms", "create-alias", "--alias-name", alias, "--target-key-id", key["KeyId"])
    secret = tmp_path / "ExampleSecretFile.txt"
    secret.write_bytes(b"my password is hunter2\n" + os.urandom(64))
    encrypted = aws_cli("kms", "encrypt", "--key-id", alias, "--plaintext",
                        f"fileb://{secret}")
    assert encrypted["KeyId"] == key["Arn"]
    blob = tmp_path / "ExampleSecretFileEncrypted"
    blob.write_bytes(base64.b64decode(encrypted["CiphertextBlob"]))
    decrypted = aws_cli("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}")
    assert base64.b64decode(decrypted["Plaintext"]) == secret.read_bytes()
    assert decrypted["KeyId"] == key["Arn"]


def test_cli_sign_and_public_key(aws_cli, tmp_path):
    key = aws_cli("kms", "create-key", "--key-spec", "ECC_NIST_P256", "--key-usage",
                  "SIGN_VERIFY")["KeyMetadata"]
    message = tmp_path / "message"
    message.write_bytes(b"release v1")
    signed = aws_cli("kms", "sign", "--key-id", key["KeyId"], "--message", f"fileb://{message}",
                     "--signing-algorithm", "ECDSA_SHA_256")
    signature = tmp_path / "signature"
    signature.write_bytes(base64.b64decode(signed["Signature"]))
    verified = aws_cli("kms", "verify", "--key-id", key["KeyId"], "--message",
                       f"fileb://{message}", "--signature", f"fileb://{signature}",
                       "--signing-algorithm", "ECDSA_SHA_256")
    assert verified["SignatureValid"] is True


def test_cli_disabled_key_error(aws_cli):
    key = aws_cli("kms", "create-key")["KeyMetadata"]
    aws_cli("kms", "disable-key", "--key-id", key["KeyId"])
    result = aws_cli("kms", "encrypt", "--key-id", key["KeyId"], "--plaintext", "aGk=",
                     check=False)
    assert result.returncode != 0
    assert "DisabledException" in result.stderr and f"{key['Arn']} is disabled." in result.stderr
