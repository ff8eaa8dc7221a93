"""The seed demos through the AWS CLI: SecureString parameters read with and without
--with-decryption, and hierarchies read by path."""

from __future__ import annotations


def test_cli_seed_demo(aws_cli, root):
    aws_cli("ssm", "put-parameter", "--name", f"{root}/dev/db-url", "--value",
            "dev.database.subbu.com:3306", "--type", "String")
    aws_cli("ssm", "put-parameter", "--name", f"{root}/dev/db-password", "--value",
            "this is the dev password", "--type", "SecureString")
    names = [f"{root}/dev/db-url", f"{root}/dev/db-password"]
    hidden = aws_cli("ssm", "get-parameters", "--names", *names)["Parameters"]
    assert {p["Name"]: p["Value"] for p in hidden}[f"{root}/dev/db-password"] != \
        "this is the dev password"
    shown = aws_cli("ssm", "get-parameters", "--names", *names, "--with-decryption")
    assert {p["Name"]: p["Value"] for p in shown["Parameters"]}[f"{root}/dev/db-password"] == \
        "this is the dev password"
    by_path = aws_cli("ssm", "get-parameters-by-path", "--path", f"{root}/", "--recursive",
                      "--with-decryption")["Parameters"]
    assert {p["Name"] for p in by_path} == set(names)
    missing = aws_cli("ssm", "get-parameter", "--name", f"{root}/nope", check=False)
    assert missing.returncode != 0 and "ParameterNotFound" in missing.stderr
