"""Acknowledged writes survive kill -9: SecureString parameters, secrets and the KMS keys that
encrypt them are all in the store."""

from __future__ import annotations

import boto3

from tests.conftest import ACCESS_KEY, SECRET_KEY, NuboProcess, client_config


def test_secure_values_survive_kill_9(tmp_path):
    server = NuboProcess(tmp_path).start()
    try:
        def client(service: str):
            return boto3.client(service, endpoint_url=server.endpoint, region_name="us-east-1",
                                aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                                config=client_config())
        client("ssm").put_parameter(Name="/durable/password", Value="p4ss",
                                    Type="SecureString")
        client("ssm").put_parameter(Name="/durable/password", Value="p4ss-2",
                                    Type="SecureString", Overwrite=True)
        client("secretsmanager").create_secret(Name="durable/secret", SecretString="s3cret")
        server.kill()
        server.start()
        parameter = client("ssm").get_parameter(Name="/durable/password",
                                                WithDecryption=True)["Parameter"]
        assert (parameter["Value"], parameter["Version"]) == ("p4ss-2", 2)
        assert client("ssm").get_parameter(Name="/durable/password:1",
                                           WithDecryption=True)["Parameter"]["Value"] == "p4ss"
        assert client("secretsmanager").get_secret_value(
            SecretId="durable/secret")["SecretString"] == "s3cret"
    finally:
        server.stop()


def test_secret_values_are_encrypted_at_rest(nubo_server, make_client):
    """Neither a secret nor a SecureString appears in nubo's data files: both are stored only
    as ciphertexts under KMS keys."""
    import uuid

    secret, secure, plain = (f"{kind}-{uuid.uuid4().hex}" for kind in ("secret", "secure",
                                                                        "plain"))
    make_client("secretsmanager").create_secret(Name=f"at-rest/{uuid.uuid4().hex}",
                                                SecretString=secret)
    ssm = make_client("ssm")
    ssm.put_parameter(Name=f"/at-rest/{uuid.uuid4().hex}", Value=secure, Type="SecureString")
    ssm.put_parameter(Name=f"/at-rest/{uuid.uuid4().hex}", Value=plain, Type="String")
    stored = b"".join(path.read_bytes() for path in nubo_server.data_dir.iterdir()
                      if path.is_file())
    assert plain.encode() in stored  # the files do hold what is not secret
    assert secret.encode() not in stored and secure.encode() not in stored
