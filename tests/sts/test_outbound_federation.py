"""Outbound identity federation on the shared server: IAM turns it on per account, STS
GetWebIdentityToken signs JWTs about the caller, and nubo serves the issuer's discovery
documents so that a relying party verifies them as it would verify AWS's."""

from __future__ import annotations

import json
import random
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tests.conftest import REGION, SECRET_KEY


@pytest.fixture
def client(make_client):
    """client(service, key=<account id>, secret, token): as an account's root by default."""
    return lambda service, key, secret=SECRET_KEY, token=None: make_client(
        service, session=boto3.Session(key, secret, token, region_name=REGION))


def error_of(call) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response
    return error["Error"]["Code"], error["Error"]["Message"], \
        error["ResponseMetadata"]["HTTPStatusCode"]


def discovery(nubo_server, issuer: str, path: str) -> dict:
    """GET an issuer's document from nubo, as a relying party resolving the issuer would."""
    request = urllib.request.Request(nubo_server.endpoint + path,
                                     headers={"Host": issuer.removeprefix("https://")})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_enable_and_disable(client):
    iam = client("iam", f"{random.randrange(10 ** 11, 10 ** 12)}")
    assert error_of(iam.get_outbound_web_identity_federation_info)[::2] == ("FeatureDisabled", 404)
    assert error_of(iam.disable_outbound_web_identity_federation) == (
        "FeatureDisabled", "The request failed because outbound identity federation is already "
        "disabled for your Amazon Web Services account. You cannot disable the feature multiple "
        "times", 404)
    issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
    assert issuer.startswith("https://") and issuer.endswith(".tokens.sts.global.api.aws")
    assert error_of(iam.enable_outbound_web_identity_federation) == (
        "FeatureEnabled", "The request failed because outbound identity federation is already "
        "enabled for your Amazon Web Services account. You cannot enable the feature multiple "
        "times. To fetch the current configuration (including the unique issuer URL), use the "
        "GetOutboundWebIdentityFederationInfo operation.", 409)
    info = iam.get_outbound_web_identity_federation_info()
    assert (info["IssuerIdentifier"], info["JwtVendingEnabled"]) == (issuer, True)
    iam.disable_outbound_web_identity_federation()
    assert iam.get_outbound_web_identity_federation_info()["JwtVendingEnabled"] is False
    # The issuer stays the account's: trust configured elsewhere keeps working.
    assert iam.enable_outbound_web_identity_federation()["IssuerIdentifier"] == issuer


def test_tokens_verify_against_the_issuers_keys(client, nubo_server):
    account = f"{random.randrange(10 ** 11, 10 ** 12)}"
    iam = client("iam", account)
    sts = client("sts", account)
    assert error_of(lambda: sts.get_web_identity_token(
        Audience=["https://api.example.com"], SigningAlgorithm="RS256")) == (
        "OutboundWebIdentityFederationDisabledException", "The outbound web identity federation "
        "feature is not enabled for this account. To use this feature, you must first enable it "
        "through the Amazon Web Services Management Console or API.", 403)
    issuer = iam.enable_outbound_web_identity_federation()["IssuerIdentifier"]
    user = iam.create_user(UserName="exporter", Tags=[{"Key": "Team", "Value": "Data"}])["User"]
    key = iam.create_access_key(UserName="exporter")["AccessKey"]
    exporter = client("sts", key["AccessKeyId"], key["SecretAccessKey"])

    tokens = {}
    for algorithm in ("RS256", "ES384"):
        issued = exporter.get_web_identity_token(
            Audience=["https://api.example.com"], SigningAlgorithm=algorithm,
            Tags=[{"Key": "job", "Value": "nightly"}])
        tokens[algorithm] = issued["WebIdentityToken"]
    configuration = discovery(nubo_server, issuer, "/.well-known/openid-configuration")
    assert configuration["issuer"] == issuer
    assert configuration["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    keys = KeySet.import_key_set(discovery(nubo_server, issuer, "/.well-known/jwks.json"))
    for algorithm, token in tokens.items():
        decoded = jwt.decode(token, keys, algorithms=[algorithm])
        claims = decoded.claims
        assert decoded.header["alg"] == algorithm
        assert (claims["iss"], claims["aud"], claims["sub"]) == (
            issuer, "https://api.example.com", user["Arn"])
        assert claims["exp"] - claims["iat"] == 300
        assert claims["https://sts.amazonaws.com/"] == {
            "aws_account": account, "source_region": REGION,
            "principal_tags": {"Team": "Data"}, "request_tags": {"job": "nightly"}}
    # Another account's issuer has keys of its own: they do not verify this token.
    other = f"{random.randrange(10 ** 11, 10 ** 12)}"
    other_issuer = client("iam", other).enable_outbound_web_identity_federation()[
        "IssuerIdentifier"]
    client("sts", other).get_web_identity_token(Audience=["x"], SigningAlgorithm="RS256")
    other_keys = KeySet.import_key_set(discovery(nubo_server, other_issuer,
                                                 "/.well-known/jwks.json"))
    with pytest.raises(JoseError):
        jwt.decode(tokens["RS256"], other_keys, algorithms=["RS256"])

    # A role session: the role is the subject; a token may not outlive the session.
    role = iam.create_role(RoleName="exporter-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": account}}]}))["Role"]
    credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="export",
                                  DurationSeconds=900)["Credentials"]
    session = client("sts", credentials["AccessKeyId"], credentials["SecretAccessKey"],
                     credentials["SessionToken"])
    token = session.get_web_identity_token(Audience=["a", "b"], SigningAlgorithm="RS256",
                                           DurationSeconds=600)["WebIdentityToken"]
    claims = jwt.decode(token, keys, algorithms=["RS256"]).claims
    assert (claims["sub"], claims["aud"]) == (role["Arn"], ["a", "b"])
    assert error_of(lambda: session.get_web_identity_token(
        Audience=["a"], SigningAlgorithm="RS256", DurationSeconds=3600)) == (
        "SessionDurationEscalationException", "The requested token duration would extend the "
        "session beyond its original expiration time. You cannot use this operation to extend "
        "the lifetime of a session beyond what was granted when the session was originally "
        "created.", 403)
    assert error_of(lambda: exporter.get_web_identity_token(
        Audience=["a"], SigningAlgorithm="HS256"))[0] == "ValidationError"
    iam.disable_outbound_web_identity_federation()
    assert error_of(lambda: exporter.get_web_identity_token(
        Audience=["a"], SigningAlgorithm="RS256"))[0] == \
        "OutboundWebIdentityFederationDisabledException"
