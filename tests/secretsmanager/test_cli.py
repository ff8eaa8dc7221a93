"""Secrets Manager through the AWS CLI, as the seed's hands-on does."""

from __future__ import annotations

import json

from tests.secretsmanager.conftest import unique


def test_cli_create_get_and_delete(aws_cli):
    name = unique("prod/my-key-api")
    created = aws_cli("secretsmanager", "create-secret", "--name", name, "--secret-string",
                      json.dumps({"username": "admin", "password": "s3cr3t"}))
    assert created["Name"] == name
    value = aws_cli("secretsmanager", "get-secret-value", "--secret-id", name)
    assert json.loads(value["SecretString"])["password"] == "s3cr3t"
    password = aws_cli("secretsmanager", "get-random-password", "--password-length", "20",
                       "--exclude-punctuation")["RandomPassword"]
    assert len(password) == 20 and password.isalnum()
    deleted = aws_cli("secretsmanager", "delete-secret", "--secret-id", created["ARN"],
                      "--force-delete-without-recovery")
    assert deleted["Name"] == name
    result = aws_cli("secretsmanager", "get-secret-value", "--secret-id", name, check=False)
    assert result.returncode != 0 and "ResourceNotFoundException" in result.stderr
