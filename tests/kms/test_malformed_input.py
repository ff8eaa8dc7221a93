"""Bad input of every KMS operation gets KMS's 4xx error, never a 500 or a dropped connection,
and leaves the account's keys as they were."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of
from tests.fuzzing import Fuzzer, account_client, known_choice

ACCOUNT = "700000000003"
# Strings KMS reads for their content: key policies, key material, signatures, grant tokens
ODD_STRINGS = ['{"Version": "2012-10-17", "Statement": {}}', '{"Statement": [{"Effect": 1}]}',
               '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": [[]]}, "Action": "*",'
               ' "Resource": "*", "Condition": {"StringLike": {"a": {"b": 1}}}}]}',
               "[]", "{", "alias/", "alias/aws/", "alias/" + "a" * 300,
               "arn:aws:kms:us-east-1:700000000003:key/", "arn:aws:kms:::alias/x", "mrk-",
               "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"]


@pytest.fixture(scope="module")
def kms(make_client):
    return account_client(make_client, "kms", ACCOUNT)


def test_bad_input_gets_client_errors(nubo_server, kms):
    kept = kms.create_key(Description="kept")["KeyMetadata"]
    sealed = kms.encrypt(KeyId=kept["KeyId"], Plaintext=b"kept")["CiphertextBlob"]
    target = kms.create_key(Description="fuzzed")["KeyMetadata"]["KeyId"]
    ciphertext = kms.encrypt(KeyId=target, Plaintext=b"x")["CiphertextBlob"]
    fuzzer = Fuzzer(nubo_server, "kms", account=ACCOUNT, strings=ODD_STRINGS,
                    known={"KeyId": known_choice(target, target, "alias/aws/s3", "alias/nope"),
                           "CiphertextBlob": known_choice(ciphertext, ciphertext[:20],
                                                          b"\x01" * 200)})
    fuzzer.assert_answers(per_operation=10)
    assert kms.describe_key(KeyId=kept["KeyId"])["KeyMetadata"] == kept
    assert kms.decrypt(CiphertextBlob=sealed)["Plaintext"] == b"kept"


def test_decrypt_without_ciphertext_is_a_validation_error(kms):
    # optional in the model only for a dry run that ignores the ciphertext
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for call in (lambda: kms.decrypt(KeyId=key),
                 lambda: kms.re_encrypt(DestinationKeyId=key)):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught) == ("ValidationException", "1 validation error detected: Value "
                                    "null at 'ciphertextBlob' failed to satisfy constraint: "
                                    "Member must not be null", 400)
    with pytest.raises(ClientError) as caught:
        kms.decrypt(KeyId=key, DryRun=True, DryRunModifiers=["IGNORE_CIPHERTEXT"])
    assert error_of(caught)[0] == "DryRunOperationException"
