"""What STS and IAM's Access Advisor keep survives kill -9 and a restart: the issuer signing
keys (tokens issued before still verify against the JWKS served after), reports and the
recorded last use of services."""

from __future__ import annotations

import json
import urllib.request

import boto3
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.conftest import REGION, SECRET_KEY, NuboProcess, client_config

ACCOUNT = "135713571357"


def test_keys_reports_and_usage_survive_kill_9(tmp_path):
    server = NuboProcess(tmp_path).start()

    def client(service: str, key: str = ACCOUNT, secret: str = SECRET_KEY):
        return boto3.client(service, endpoint_url=server.endpoint, region_name=REGION,
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            config=client_config())

    def jwks(issuer: str) -> KeySet:
        request = urllib.request.Request(f"{server.endpoint}/.well-known/jwks.json",
                                         headers={"Host": issuer.removeprefix("https://")})
        with urllib.request.urlopen(request, timeout=10) as response:
            return KeySet.import_key_set(json.loads(response.read()))

    try:
        iam = client("iam")
        issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
        user = iam.create_user(UserName="worker")["User"]
        iam.put_user_policy(UserName="worker", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["sqs:*", "sts:*"], "Resource": "*"}]}))
        key = iam.create_access_key(UserName="worker")["AccessKey"]
        worker = lambda service: client(service, key["AccessKeyId"],  # noqa: E731
                                        key["SecretAccessKey"])
        token = worker("sts").get_web_identity_token(Audience=["https://x.example"],
                                                     SigningAlgorithm="RS256")
        worker("sqs").list_queues()
        job = iam.generate_service_last_accessed_details(Arn=user["Arn"])["JobId"]
        server.kill()

        server.start()
        iam = client("iam")
        claims = jwt.decode(token["WebIdentityToken"], jwks(issuer),
                            algorithms=["RS256"]).claims
        assert claims["sub"] == user["Arn"]
        before = iam.get_service_last_accessed_details(JobId=job)["ServicesLastAccessed"]
        fresh = iam.get_service_last_accessed_details(
            JobId=iam.generate_service_last_accessed_details(Arn=user["Arn"])["JobId"])
        assert before == fresh["ServicesLastAccessed"]
        assert {s["ServiceNamespace"] for s in before if "LastAuthenticated" in s} == {
            "sqs", "sts"}
    finally:
        server.stop()
