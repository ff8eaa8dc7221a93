"""End-to-end: a nubo started with ``--iam enforce --verify-signatures``, driven by boto3 with
real IAM users, roles and STS sessions; SQS as the service under authorization."""

from __future__ import annotations

import datetime
import json
import urllib.error
import urllib.request
from unittest import mock

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.conftest import client_config

ACCOUNT = "000000000000"
OTHER = "111111111111"
REGION = "us-east-1"


def new_user(iam, connect, name: str, *policies: dict, boundary: str | None = None):
    iam.create_user(UserName=name, **({"PermissionsBoundary": boundary} if boundary else {}))
    for index, document in enumerate(policies):
        iam.put_user_policy(UserName=name, PolicyName=f"p{index}",
                            PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda service: connect(service, key["AccessKeyId"], key["SecretAccessKey"])


def allow(action, resource="*", **extra) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": action, "Resource": resource, **extra}]}


def error_of(call) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_default_credentials_are_the_account_root(connect):
    identity = connect("sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert connect("sqs").create_queue(QueueName="root-queue")["QueueUrl"]


def test_user_without_policy_is_denied_with_awss_message(iam, connect):
    alice = new_user(iam, connect, "alice")
    code, message = error_of(lambda: alice("sqs").create_queue(QueueName="alice-q"))
    assert code == "AccessDenied"
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: "
        f"sqs:CreateQueue on resource: arn:aws:sqs:{REGION}:{ACCOUNT}:alice-q because no "
        "identity-based policy allows the sqs:CreateQueue action")
    # GetCallerIdentity needs no permission (P37).
    assert alice("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"


def test_identity_policy_allows_and_explicit_deny_wins(iam, connect):
    bob = new_user(iam, connect, "bob", allow("sqs:*"),
                   {"Version": "2012-10-17", "Statement": [
                       {"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "*"}]})
    url = bob("sqs").create_queue(QueueName="bob-q")["QueueUrl"]
    bob("sqs").send_message(QueueUrl=url, MessageBody="hi")
    code, message = error_of(lambda: bob("sqs").delete_queue(QueueUrl=url))
    assert code == "AccessDenied"
    assert message.endswith("with an explicit deny in an identity-based policy")


def test_policy_changes_apply_to_the_next_request(iam, connect):
    carol = new_user(iam, connect, "carol")
    assert error_of(lambda: carol("sqs").list_queues())[0] == "AccessDenied"
    iam.put_user_policy(UserName="carol", PolicyName="list",
                        PolicyDocument=json.dumps(allow("sqs:ListQueues")))
    assert carol("sqs").list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200
    iam.delete_user_policy(UserName="carol", PolicyName="list")
    assert error_of(lambda: carol("sqs").list_queues())[0] == "AccessDenied"


def test_permissions_boundary_caps_identity_policy(iam, connect):
    policy_arn = iam.create_policy(PolicyName="only-send", PolicyDocument=json.dumps(
        allow(["sqs:SendMessage", "sqs:GetQueueUrl"])))["Policy"]["Arn"]
    dave = new_user(iam, connect, "dave", allow("sqs:*"), boundary=policy_arn)
    url = connect("sqs").create_queue(QueueName="dave-q")["QueueUrl"]
    dave("sqs").send_message(QueueUrl=url, MessageBody="ok")
    code, message = error_of(lambda: dave("sqs").purge_queue(QueueUrl=url))
    assert code == "AccessDenied" and "because no permissions boundary allows" in message


def test_cross_account_needs_the_queue_policy(connect):
    """P28: cross-account SendMessage is denied until the queue policy admits the account."""
    owner = connect("sqs")
    url = owner.create_queue(QueueName="shared-q")["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:shared-q"
    stranger = connect("sqs", OTHER, "test")  # account 111111111111's root
    code, message = error_of(lambda: stranger.send_message(QueueUrl=url, MessageBody="x"))
    assert code == "AccessDenied" and "because no resource-based policy allows" in message
    owner.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
            "Action": "sqs:SendMessage", "Resource": arn}]})})
    assert stranger.send_message(QueueUrl=url, MessageBody="x")["MessageId"]


def create_role(iam, name: str, trust: dict, *policies: dict, max_duration: int = 3600) -> str:
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust),
                          MaxSessionDuration=max_duration)["Role"]["Arn"]
    for index, document in enumerate(policies):
        iam.put_role_policy(RoleName=name, PolicyName=f"p{index}",
                            PolicyDocument=json.dumps(document))
    return arn


def trust(principal: dict, **condition) -> dict:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def session_client(connect, credentials: dict, service: str):
    return connect(service, credentials["AccessKeyId"], credentials["SecretAccessKey"],
                   credentials["SessionToken"])


def test_assume_role_trust_external_id_and_session_permissions(iam, connect, server):
    role_arn = create_role(iam, "reader", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                                StringEquals={"sts:ExternalId": "secret-1"}),
                           allow(["sqs:ListQueues", "sqs:GetQueueUrl"]))
    sts = connect("sts")
    # P19: the external id is required and must match.
    assert error_of(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1"))[0] == \
        "AccessDenied"
    assert error_of(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1",
                                            ExternalId="wrong"))[0] == "AccessDenied"
    assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", ExternalId="secret-1")
    credentials = assumed["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert assumed["AssumedRoleUser"]["Arn"] == \
        f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1"
    session_sts = session_client(connect, credentials, "sts")
    assert session_sts.get_caller_identity()["Arn"] == assumed["AssumedRoleUser"]["Arn"]
    session_sqs = session_client(connect, credentials, "sqs")
    session_sqs.list_queues()
    code, message = error_of(lambda: session_sqs.create_queue(QueueName="nope"))
    assert code == "AccessDenied"
    assert message.startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1 is not "
                              "authorized to perform: sqs:CreateQueue")
    # P18: role chaining is capped at one hour.
    code, message = error_of(lambda: session_sts.assume_role(
        RoleArn=role_arn, RoleSessionName="chained", DurationSeconds=7200,
        ExternalId="secret-1"))
    assert (code, message) == ("ValidationError", "The requested DurationSeconds exceeds the "
                               "1 hour session limit for roles assumed by role chaining.")
    # Longer than the role's MaxSessionDuration.
    code, message = error_of(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="s1",
                                                     ExternalId="secret-1",
                                                     DurationSeconds=7200))
    assert message == "The requested DurationSeconds exceeds the MaxSessionDuration set for " \
                      "this role."


def test_trust_policy_must_name_the_caller(iam, connect):
    role_arn = create_role(iam, "private", trust({"AWS": f"arn:aws:iam::{OTHER}:root"}))
    code, message = error_of(lambda: connect("sts").assume_role(RoleArn=role_arn,
                                                                RoleSessionName="s1"))
    assert code == "AccessDenied" and "sts:AssumeRole" in message
    missing = f"arn:aws:iam::{ACCOUNT}:role/does-not-exist"
    assert error_of(lambda: connect("sts").assume_role(RoleArn=missing,
                                                       RoleSessionName="s1"))[0] == "AccessDenied"


def test_session_policy_narrows_the_role(iam, connect):
    role_arn = create_role(iam, "sqs-admin", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
                           allow("sqs:*"))
    credentials = connect("sts").assume_role(
        RoleArn=role_arn, RoleSessionName="narrow",
        Policy=json.dumps(allow("sqs:ListQueues")))["Credentials"]
    sqs = session_client(connect, credentials, "sqs")
    sqs.list_queues()
    code, message = error_of(lambda: sqs.create_queue(QueueName="narrow-q"))
    assert code == "AccessDenied" and "because no session policy allows" in message


def test_revoking_older_sessions_by_token_issue_time(iam, connect, server):
    role_arn = create_role(iam, "revocable", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
                           allow("sqs:ListQueues"))
    old = connect("sts").assume_role(RoleArn=role_arn, RoleSessionName="old")["Credentials"]
    server.advance_clock(120)
    cutoff = server.get("/_nubo/clock")["now"] - 60
    iam.put_role_policy(RoleName="revocable", PolicyName="AWSRevokeOlderSessions",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                            "Effect": "Deny", "Action": "*", "Resource": "*",
                            "Condition": {"DateLessThan": {"aws:TokenIssueTime":
                                datetime.datetime.fromtimestamp(cutoff, datetime.timezone.utc)
                                .strftime("%Y-%m-%dT%H:%M:%SZ")}}}]}))
    new = connect("sts").assume_role(RoleArn=role_arn, RoleSessionName="new")["Credentials"]
    assert error_of(lambda: session_client(connect, old, "sqs").list_queues())[0] == \
        "AccessDenied"
    session_client(connect, new, "sqs").list_queues()


def test_expired_session_and_bad_credentials(iam, connect, server):
    role_arn = create_role(iam, "short", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
                           allow("sqs:ListQueues"))
    credentials = connect("sts").assume_role(RoleArn=role_arn, RoleSessionName="short",
                                             DurationSeconds=900)["Credentials"]
    session_client(connect, credentials, "sqs").list_queues()
    server.advance_clock(901)
    code, message = error_of(lambda: session_client(connect, credentials, "sqs").list_queues())
    assert code == "ExpiredToken"
    # Signatures are checked: a wrong secret, an unknown key.
    assert error_of(lambda: connect("sqs", "test", "wrong").list_queues())[0] == \
        "SignatureDoesNotMatch"
    assert error_of(lambda: connect("sts", "AKIAUNKNOWNUNKNOWN00", "x")
                    .get_caller_identity())[0] == "InvalidClientTokenId"


def test_requests_signed_long_ago_are_refused(connect):
    client = connect("sqs")
    endpoint = client.meta.endpoint_url
    request = AWSRequest("POST", endpoint + "/", data=b"{}", headers={
        "X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"})
    stale = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=stale):
        SigV4Auth(Credentials("test", "test"), "sqs", REGION).add_auth(request)
    prepared = urllib.request.Request(endpoint + "/", data=b"{}", method="POST",
                                      headers=dict(request.headers))
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(prepared, timeout=10)
    assert caught.value.headers["x-amzn-query-error"].startswith("SignatureDoesNotMatch")


def totp(seed_base32: bytes, when: float) -> str:
    """RFC 6238 code (SHA-1, 6 digits, 30 s steps), as authenticator apps compute it."""
    import base64
    import hashlib
    import hmac
    import struct

    digest = hmac.new(base64.b32decode(seed_base32), struct.pack(">Q", int(when) // 30),
                      hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def test_mfa_protected_actions_need_a_session_with_mfa(iam, connect, server):
    require_mfa = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}
    erin = new_user(iam, connect, "erin", require_mfa)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="erin-phone")["VirtualMFADevice"]
    now = server.get("/_nubo/clock")["now"]
    iam.enable_mfa_device(UserName="erin", SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp(device["Base32StringSeed"], now - 30),
                          AuthenticationCode2=totp(device["Base32StringSeed"], now))
    assert error_of(lambda: erin("sqs").list_queues())[0] == "AccessDenied"
    code, message = error_of(lambda: erin("sts").get_session_token(
        SerialNumber=device["SerialNumber"], TokenCode="000000" if totp(
            device["Base32StringSeed"], now) != "000000" else "111111"))
    assert (code, message) == ("AccessDenied", "MultiFactorAuthentication failed with invalid "
                                               "MFA one time pass code.")
    credentials = erin("sts").get_session_token(
        SerialNumber=device["SerialNumber"],
        TokenCode=totp(device["Base32StringSeed"], now))["Credentials"]
    session_client(connect, credentials, "sqs").list_queues()


@pytest.fixture(scope="module")
def idp():
    from tests.iam_enforcement.identity_provider import IdentityProvider

    provider = IdentityProvider()
    yield provider
    provider.close()


NO_KEY = ("Couldn't retrieve verification key from your identity provider,  please reference "
          "AssumeRoleWithWebIdentity documentation for requirements")


def test_assume_role_with_web_identity(iam, connect, server, idp):
    """The token's signature is checked against the keys the IdP publishes (fetched from its
    discovery document's jwks_uri), then its claims and the role's trust policy."""
    from joserfc.jwk import RSAKey

    issuer = idp.issuer
    provider_arn = iam.create_open_id_connect_provider(
        Url=idp.url, ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=[idp.thumbprint])["OpenIDConnectProviderArn"]
    role_arn = create_role(iam, "github-deploy", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{issuer}:aud": "sts.amazonaws.com"},
                      "StringLike": {f"{issuer}:sub": "repo:acme/app:*"}}}]},
        allow("sqs:ListQueues"))
    now = server.get("/_nubo/clock")["now"]
    unsigned = boto3.client("sts", endpoint_url=server.endpoint, region_name=REGION,
                            config=client_config(), aws_access_key_id="x",
                            aws_secret_access_key="x")

    def assume(sub: str = "repo:acme/app:x", aud: str = "sts.amazonaws.com",
               exp: float = now + 600, key=None, token: str | None = None):
        token = token or idp.token({"sub": sub, "aud": aud, "exp": int(exp)}, key)
        return unsigned.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="gha",
                                                      WebIdentityToken=token)

    result = assume("repo:acme/app:ref:refs/heads/main")
    assert result["SubjectFromWebIdentityToken"] == "repo:acme/app:ref:refs/heads/main"
    assert result["AssumedRoleUser"]["Arn"] == \
        f"arn:aws:sts::{ACCOUNT}:assumed-role/github-deploy/gha"
    assert idp.requests[:2] == ["/.well-known/openid-configuration", "/keys.json"]
    session_client(connect, result["Credentials"], "sqs").list_queues()
    assert error_of(lambda: assume("repo:evil/app:ref:main"))[0] == "AccessDenied"
    assert error_of(lambda: assume(aud="other")) == (
        "InvalidIdentityToken", "Incorrect token audience")
    assert error_of(lambda: assume(exp=now - 10))[0] == "ExpiredTokenException"
    # Signed by a key that is not the IdP's (same kid), or not signed at all.
    forged = RSAKey.generate_key(2048, parameters={"kid": idp.signing_key.kid}, private=True)
    bad_signature = ("InvalidIdentityToken", "The web identity token that was passed could not "
                     "be validated by AWS. Get a new identity token from the identity provider "
                     "and then retry the request.")
    assert error_of(lambda: assume(key=forged)) == bad_signature
    good = idp.token({"sub": "repo:acme/app:x", "aud": "sts.amazonaws.com", "exp": int(now + 600)})
    header, payload, _ = good.split(".")
    assert error_of(lambda: assume(token=f"{header}.{payload}.c2lnbmF0dXJl")) == bad_signature
    # The IdP rotates its key: a token naming the new key makes nubo fetch the keys again.
    idp.rotate()
    assert assume()["AssumedRoleUser"]["Arn"].endswith("/gha")
    # A key the IdP does not publish.
    stranger = RSAKey.generate_key(2048, parameters={"kid": "unknown"}, private=True)
    assert error_of(lambda: assume(key=stranger)) == ("InvalidIdentityToken", NO_KEY)


def test_web_identity_provider_unreachable_or_untrusted(iam, server):
    """STS must fetch the IdP's keys: an IdP that does not answer, or whose certificate is
    neither from a public CA nor in the provider's ThumbprintList, admits no token."""
    from tests.conftest import free_port
    from tests.iam_enforcement.identity_provider import IdentityProvider

    now = server.get("/_nubo/clock")["now"]
    unsigned = boto3.client("sts", endpoint_url=server.endpoint, region_name=REGION,
                            config=client_config(), aws_access_key_id="x",
                            aws_secret_access_key="x")
    untrusted = IdentityProvider()
    try:
        for url, name in ((f"https://127.0.0.1:{free_port()}", "idp-down"),  # nothing listens
                          (untrusted.url, "idp-untrusted")):
            provider_arn = iam.create_open_id_connect_provider(
                Url=url, ClientIDList=["sts.amazonaws.com"],
                ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]
            role_arn = create_role(iam, name, {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity"}]})
            token = untrusted.token({"iss": url, "sub": "s", "aud": "sts.amazonaws.com",
                                     "exp": int(now + 600)})
            assert error_of(lambda: unsigned.assume_role_with_web_identity(
                RoleArn=role_arn, RoleSessionName="s1", WebIdentityToken=token)) == (
                "InvalidIdentityToken", NO_KEY)
        assert untrusted.requests == []  # refused at the TLS handshake
    finally:
        untrusted.close()


SAML_RESPONSE = """<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"
 xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_response1" Version="2.0">
 <saml:Issuer>https://idp.example.com/</saml:Issuer>
 <saml:Assertion ID="_assertion1" Version="2.0">
  <saml:Issuer>https://idp.example.com/</saml:Issuer>
  <saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
   >alice@example.com</saml:NameID></saml:Subject>
  <saml:Conditions NotOnOrAfter="{not_after}"><saml:AudienceRestriction>
   <saml:Audience>https://signin.aws.amazon.com/saml</saml:Audience>
  </saml:AudienceRestriction></saml:Conditions>
  <saml:AttributeStatement>
   <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">
    <saml:AttributeValue>{role},{provider}</saml:AttributeValue></saml:Attribute>
   <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName">
    <saml:AttributeValue>alice</saml:AttributeValue></saml:Attribute>
  </saml:AttributeStatement>
 </saml:Assertion>
</samlp:Response>"""

SAML_METADATA = """<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
 xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.com/">
 <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}
  </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
  <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
   Location="https://idp.example.com/sso"/>
 </md:IDPSSODescriptor></md:EntityDescriptor>"""


def test_assume_role_with_saml(iam, connect, server):
    """The assertion's XML signature is checked against the provider's metadata certificate."""
    import base64

    from lxml import etree
    from signxml import XMLSigner

    from tests.iam_enforcement.identity_provider import self_signed

    key_pem, cert_pem, _ = self_signed("idp.example.com")
    cert_body = "".join(cert_pem.decode().splitlines()[1:-1])
    provider_arn = iam.create_saml_provider(
        Name="corp-idp", SAMLMetadataDocument=SAML_METADATA.format(cert=cert_body)
    )["SAMLProviderArn"]
    role_arn = create_role(iam, "corp-admin", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithSAML",
        "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}]},
        allow("sqs:ListQueues"))
    now = server.get("/_nubo/clock")["now"]
    not_after = datetime.datetime.fromtimestamp(now + 300, datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")
    unsigned_xml = SAML_RESPONSE.format(not_after=not_after, role=role_arn,
                                        provider=provider_arn).encode()
    signed = etree.tostring(XMLSigner().sign(etree.fromstring(unsigned_xml), key=key_pem,
                                             cert=cert_pem.decode()))
    sts = boto3.client("sts", endpoint_url=server.endpoint, region_name=REGION,
                       config=client_config(), aws_access_key_id="x", aws_secret_access_key="x")

    def assume(document: bytes, role: str = role_arn):
        return sts.assume_role_with_saml(RoleArn=role, PrincipalArn=provider_arn,
                                         SAMLAssertion=base64.b64encode(document).decode())

    result = assume(signed)
    assert (result["Subject"], result["SubjectType"], result["Issuer"]) == (
        "alice@example.com", "persistent", "https://idp.example.com/")
    assert result["AssumedRoleUser"]["Arn"] == \
        f"arn:aws:sts::{ACCOUNT}:assumed-role/corp-admin/alice"
    session_client(connect, result["Credentials"], "sqs").list_queues()
    # Unsigned, or changed after signing: refused.
    assert error_of(lambda: assume(unsigned_xml))[0] == "InvalidIdentityToken"
    tampered = signed.replace(b"alice@example.com", b"mallory@example.com")
    assert error_of(lambda: assume(tampered))[0] == "InvalidIdentityToken"
    # The assertion must name the role with the provider.
    other_role = create_role(iam, "corp-other", trust({"AWS": ACCOUNT}))
    assert error_of(lambda: assume(signed, other_role))[0] == "InvalidIdentityToken"


def encrypted_assertion(assertion: bytes, public_key, content: str = "gcm") -> bytes:
    """An EncryptedAssertion as IdPs make it (XML Encryption): the assertion under a fresh
    AES-256 key (GCM or CBC), the key under the SP's RSA key (RSA-OAEP, MGF1-SHA1)."""
    import base64
    import os

    from cryptography.hazmat.primitives import hashes, padding as symmetric_padding
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = os.urandom(32)
    if content == "gcm":
        iv = os.urandom(12)
        data, algorithm = iv + AESGCM(key).encrypt(iv, assertion, None), \
            "http://www.w3.org/2009/xmlenc11#aes256-gcm"
    else:
        iv = os.urandom(16)
        padder = symmetric_padding.PKCS7(128).padder()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        data = iv + encryptor.update(padder.update(assertion) + padder.finalize()) + \
            encryptor.finalize()
        algorithm = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
    wrapped = public_key.encrypt(key, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()),
                                                   algorithm=hashes.SHA1(), label=None))
    return f"""<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">
 <xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"
   Type="http://www.w3.org/2001/04/xmlenc#Element">
  <xenc:EncryptionMethod Algorithm="{algorithm}"/>
  <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey>
   <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p">
    <ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>
   </xenc:EncryptionMethod>
   <xenc:CipherData><xenc:CipherValue>{base64.b64encode(wrapped).decode()}</xenc:CipherValue>
   </xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>
  <xenc:CipherData><xenc:CipherValue>{base64.b64encode(data).decode()}</xenc:CipherValue>
  </xenc:CipherData>
 </xenc:EncryptedData>
</saml:EncryptedAssertion>""".encode()


def test_assume_role_with_encrypted_saml(iam, server):
    """An encrypted assertion (signed by the IdP, then encrypted to the SAML provider's key)
    is decrypted with the private keys uploaded to IAM; a provider that requires encryption
    refuses plaintext assertions; an assertion for a key IAM does not hold is refused."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from lxml import etree
    from signxml import XMLSigner

    from tests.iam_enforcement.identity_provider import self_signed

    signing_key, cert_pem, _ = self_signed("idp.example.com")
    cert_body = "".join(cert_pem.decode().splitlines()[1:-1])
    sp_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sp_pem = sp_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode()
    provider_arn = iam.create_saml_provider(
        Name="encrypting-idp", SAMLMetadataDocument=SAML_METADATA.format(cert=cert_body),
        AssertionEncryptionMode="Required", AddPrivateKey=sp_pem)["SAMLProviderArn"]
    role_arn = create_role(iam, "encrypted-saml", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithSAML"}]})
    now = server.get("/_nubo/clock")["now"]
    not_after = datetime.datetime.fromtimestamp(now + 300, datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")
    response = etree.fromstring(SAML_RESPONSE.format(not_after=not_after, role=role_arn,
                                                     provider=provider_arn).encode())
    assertion = response.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    signed_assertion = XMLSigner().sign(assertion, key=signing_key, cert=cert_pem.decode())
    plaintext = etree.tostring(signed_assertion)
    sts = boto3.client("sts", endpoint_url=server.endpoint, region_name=REGION,
                       config=client_config(), aws_access_key_id="x", aws_secret_access_key="x")

    def with_assertion(inner: bytes) -> bytes:
        document = etree.fromstring(etree.tostring(response))
        old = document.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
        document.replace(old, etree.fromstring(inner))
        return etree.tostring(document)

    def assume(document: bytes):
        return sts.assume_role_with_saml(RoleArn=role_arn, PrincipalArn=provider_arn,
                                         SAMLAssertion=base64.b64encode(document).decode())

    for content in ("gcm", "cbc"):
        result = assume(with_assertion(encrypted_assertion(plaintext, sp_key.public_key(),
                                                           content)))
        assert result["Subject"] == "alice@example.com"
    # the IdP may sign the Response around the encrypted (unsigned) assertion instead
    unsigned_inside = with_assertion(encrypted_assertion(etree.tostring(assertion),
                                                         sp_key.public_key()))
    outer_signed = etree.tostring(XMLSigner().sign(etree.fromstring(unsigned_inside),
                                                   key=signing_key, cert=cert_pem.decode()))
    assert assume(outer_signed)["Subject"] == "alice@example.com"
    assert error_of(lambda: assume(unsigned_inside))[0] == "InvalidIdentityToken"
    assert error_of(lambda: assume(with_assertion(plaintext)))[0] == "InvalidIdentityToken"
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert error_of(lambda: assume(with_assertion(encrypted_assertion(
        plaintext, other_key.public_key()))))[0] == "InvalidIdentityToken"
    # a tampered assertion fails its signature once decrypted
    tampered = plaintext.replace(b"alice@example.com", b"mallory@example.com")
    assert error_of(lambda: assume(with_assertion(encrypted_assertion(
        tampered, sp_key.public_key()))))[0] == "InvalidIdentityToken"
    iam.update_saml_provider(SAMLProviderArn=provider_arn, AssertionEncryptionMode="Allowed")
    assert assume(with_assertion(plaintext))["Subject"] == "alice@example.com"


def test_kms_key_policy_decides(iam, connect):
    kms = connect("kms")
    frank = new_user(iam, connect, "frank", allow("kms:*"))
    # P24: the default key policy trusts the account, so IAM policies decide.
    default_key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = frank("kms").encrypt(KeyId=default_key, Plaintext=b"secret")["CiphertextBlob"]
    assert frank("kms").decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    # P23: a key policy without the account statement locks IAM out, whatever IAM allows.
    locked = kms.create_key(BypassPolicyLockoutSafetyCheck=True, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Sid": "only-root-admin", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["kms:DescribeKey", "kms:PutKeyPolicy"], "Resource": "*"}]}))
    key_id = locked["KeyMetadata"]["KeyId"]
    code, message = error_of(lambda: frank("kms").encrypt(KeyId=key_id, Plaintext=b"x"))
    assert code == "AccessDeniedException"
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/frank is not authorized to perform: "
                       f"kms:Encrypt on resource: {locked['KeyMetadata']['Arn']} because no "
                       "resource-based policy allows the kms:Encrypt action")
    frank("kms").describe_key(KeyId=key_id)


def test_calls_through_a_service_are_authorized_for_the_caller(iam, connect):
    """Secrets Manager encrypts with the caller's permissions on the key, via the service
    (kms:ViaService), as on AWS."""
    key_arn = connect("kms").create_key()["KeyMetadata"]["Arn"]
    grace = new_user(iam, connect, "grace", allow("secretsmanager:*"))
    code, message = error_of(lambda: grace("secretsmanager").create_secret(
        Name="db-password", SecretString="s3cr3t", KmsKeyId=key_arn))
    assert (code, message) == ("AccessDeniedException", "Access to KMS is not allowed")
    iam.put_user_policy(UserName="grace", PolicyName="kms-via-secrets", PolicyDocument=json.dumps(
        allow(["kms:GenerateDataKey", "kms:Decrypt"], key_arn, Condition={
            "StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}})))
    grace("secretsmanager").create_secret(Name="db-password", SecretString="s3cr3t",
                                          KmsKeyId=key_arn)
    assert grace("secretsmanager").get_secret_value(SecretId="db-password")["SecretString"] == \
        "s3cr3t"
    # The same permission does not let grace use the key directly.
    assert error_of(lambda: grace("kms").generate_data_key(KeyId=key_arn, KeySpec="AES_256")
                    )[0] == "AccessDeniedException"


def test_service_control_policies_bound_member_accounts(connect):
    """P8-P11: SCPs at every level of the organization bound member accounts, their root
    users included; the management account is exempt."""
    org = connect("organizations")
    org.create_organization(FeatureSet="ALL")
    root_id = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    status = org.create_account(Email="member@example.com", AccountName="member")
    request_id = status["CreateAccountStatus"]["Id"]
    for _ in range(100):
        status = org.describe_create_account_status(CreateAccountRequestId=request_id)
        if status["CreateAccountStatus"]["State"] != "IN_PROGRESS":
            break
    member = status["CreateAccountStatus"]["AccountId"]
    deny_delete = org.create_policy(
        Name="no-queue-deletes", Type="SERVICE_CONTROL_POLICY", Description="P8",
        Content=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "*"}]}))
    org.attach_policy(PolicyId=deny_delete["Policy"]["PolicySummary"]["Id"], TargetId=root_id)
    member_sqs = connect("sqs", member, "test")  # the member account's root user
    url = member_sqs.create_queue(QueueName="member-q")["QueueUrl"]
    code, message = error_of(lambda: member_sqs.delete_queue(QueueUrl=url))
    assert code == "AccessDenied"
    assert message.endswith("with an explicit deny in a service control policy")
    # P10: the management account is not bound by SCPs.
    own = connect("sqs").create_queue(QueueName="mgmt-q")["QueueUrl"]
    connect("sqs").delete_queue(QueueUrl=own)
    # P9: every level must allow; replacing FullAWSAccess on the account with an
    # EC2-only allow leaves SQS implicitly denied.
    ec2_only = org.create_policy(
        Name="ec2-only", Type="SERVICE_CONTROL_POLICY", Description="P9",
        Content=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}))
    org.attach_policy(PolicyId=ec2_only["Policy"]["PolicySummary"]["Id"], TargetId=member)
    org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=member)
    code, message = error_of(lambda: member_sqs.list_queues())
    assert code == "AccessDenied"
    assert message.endswith("because no service control policy allows the sqs:ListQueues "
                            "action")


@pytest.mark.parametrize("signature_version", ["s3v4", "s3"])
def test_presigned_url_expires(connect, server, signature_version):
    """P26: a presigned URL used after its expiry is refused with AccessDenied (SigV4's
    X-Amz-Expires and SigV2's Expires alike)."""
    from botocore.config import Config

    s3 = connect("s3")
    bucket = f"presigned-{signature_version.replace('3', 'three')}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="report.txt", Body=b"quarterly")
    signer = boto3.client("s3", endpoint_url=server.endpoint, region_name=REGION,
                          aws_access_key_id="test", aws_secret_access_key="test",
                          config=Config(signature_version=signature_version))
    # Clients sign with real time; nubo's clock may be ahead (tests advance it).
    ahead = int(server.get("/_nubo/clock")["offset"])
    url = signer.generate_presigned_url("get_object", ExpiresIn=180 + ahead, Params={
        "Bucket": bucket, "Key": "report.txt"})
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"quarterly"
    server.advance_clock(181)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=10)
    assert caught.value.code == 403
    body = caught.value.read().decode()
    assert "<Code>AccessDenied</Code>" in body and "<Message>Request has expired</Message>" in body


def signed_chunked_put(server, bucket: str, key: str, payload: bytes, *, tamper: bool = False):
    """PUT an object as SDKs that sign each chunk do (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)."""
    import hashlib
    import hmac
    import http.client
    from urllib.parse import urlsplit

    size = 64 * 1024
    url = f"{server.endpoint}/{bucket}/{key}"
    headers = {"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
               "Content-Encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(payload))}
    request = AWSRequest("PUT", url, headers=headers)
    SigV4Auth(Credentials("test", "test"), "s3", REGION).add_auth(request)
    seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    timestamp = request.headers["X-Amz-Date"]
    scope = f"{timestamp[:8]}/{REGION}/s3/aws4_request"
    signing_key = b"AWS4test"
    for part in (timestamp[:8], REGION, "s3", "aws4_request"):
        signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
    body, previous = b"", seed
    chunks = [payload[i:i + size] for i in range(0, len(payload), size)] + [b""]
    for index, chunk in enumerate(chunks):
        to_sign = "\n".join(("AWS4-HMAC-SHA256-PAYLOAD", timestamp, scope, previous,
                             hashlib.sha256(b"").hexdigest(), hashlib.sha256(chunk).hexdigest()))
        signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        previous = signature
        if tamper and index == 1:
            signature = "0" * 64
        body += f"{len(chunk):x};chunk-signature={signature}\r\n".encode() + chunk + b"\r\n"
    connection = http.client.HTTPConnection(urlsplit(server.endpoint).netloc, timeout=10)
    connection.request("PUT", f"/{bucket}/{key}", body=body,
                       headers={**dict(request.headers), "Content-Length": str(len(body))})
    response = connection.getresponse()
    return response.status, response.read()


def test_streaming_chunk_signatures_are_verified(connect, server):
    s3 = connect("s3")
    s3.create_bucket(Bucket="chunk-signatures")
    payload = bytes(range(256)) * 1024  # 256 KiB: four signed chunks and the final one
    status, _ = signed_chunked_put(server, "chunk-signatures", "good", payload)
    assert status == 200
    assert s3.get_object(Bucket="chunk-signatures", Key="good")["Body"].read() == payload
    status, body = signed_chunked_put(server, "chunk-signatures", "bad", payload, tamper=True)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    assert error_of(lambda: s3.head_object(Bucket="chunk-signatures", Key="bad"))[0] == "404"


def test_resource_tags_in_conditions(iam, connect):
    """Attribute-based access: aws:ResourceTag/<key> from the queue's tags."""
    owner = connect("sqs")
    mine = owner.create_queue(QueueName="team-red-q", tags={"team": "red"})["QueueUrl"]
    theirs = owner.create_queue(QueueName="team-blue-q", tags={"team": "blue"})["QueueUrl"]
    heidi = new_user(iam, connect, "heidi", allow("sqs:SendMessage", Condition={
        "StringEquals": {"aws:ResourceTag/team": "red"}}))
    heidi("sqs").send_message(QueueUrl=mine, MessageBody="ok")
    assert error_of(lambda: heidi("sqs").send_message(QueueUrl=theirs, MessageBody="no")
                    )[0] == "AccessDenied"
    owner.tag_queue(QueueUrl=theirs, Tags={"team": "red"})
    heidi("sqs").send_message(QueueUrl=theirs, MessageBody="now ok")


def test_iam_condition_keys_and_user_tags(iam, connect):
    """Delegated administration: ivan may create users only with the boundary the admins
    set (iam:PermissionsBoundary) and manage only users tagged for his team."""
    boundary = iam.create_policy(PolicyName="dev-boundary", PolicyDocument=json.dumps(
        allow("sqs:*")))["Policy"]["Arn"]
    ivan = new_user(iam, connect, "ivan", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*",
         "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}},
        {"Effect": "Allow", "Action": "iam:TagUser", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "dev"}}}]})
    assert error_of(lambda: ivan("iam").create_user(UserName="unbounded"))[0] == "AccessDenied"
    ivan("iam").create_user(UserName="bounded", PermissionsBoundary=boundary)
    iam.tag_user(UserName="bounded", Tags=[{"Key": "team", "Value": "dev"}])
    ivan("iam").tag_user(UserName="bounded", Tags=[{"Key": "owner", "Value": "ivan"}])
    iam.create_user(UserName="ops-user", Tags=[{"Key": "team", "Value": "ops"}])
    assert error_of(lambda: ivan("iam").tag_user(
        UserName="ops-user", Tags=[{"Key": "owner", "Value": "ivan"}]))[0] == "AccessDenied"


def test_requests_naming_several_resources_need_each(iam, connect):
    ssm = connect("ssm")
    for name in ("/app/a", "/other/b"):
        ssm.put_parameter(Name=name, Value="v", Type="String")
    judy = new_user(iam, connect, "judy", allow(
        "ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/*"))
    assert [p["Name"] for p in judy("ssm").get_parameters(Names=["/app/a"])["Parameters"]] == \
        ["/app/a"]
    code, message = error_of(lambda: judy("ssm").get_parameters(Names=["/app/a", "/other/b"]))
    assert code == "AccessDeniedException" and "parameter/other/b" in message


def test_dynamodb_fine_grained_access_by_leading_keys(iam, connect):
    """Each user reads and writes only the items under their own partition key."""
    ddb = connect("dynamodb")
    ddb.create_table(TableName="notes", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "user", "AttributeType": "S"},
                                           {"AttributeName": "id", "AttributeType": "N"}],
                     KeySchema=[{"AttributeName": "user", "KeyType": "HASH"},
                                {"AttributeName": "id", "KeyType": "RANGE"}])
    kim = new_user(iam, connect, "kim", allow(
        ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"],
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/notes", Condition={
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}}))
    kim("dynamodb").put_item(TableName="notes", Item={"user": {"S": "kim"}, "id": {"N": "1"}})
    assert error_of(lambda: kim("dynamodb").put_item(
        TableName="notes", Item={"user": {"S": "lee"}, "id": {"N": "1"}}))[0] == \
        "AccessDeniedException"
    mine = kim("dynamodb").query(TableName="notes", KeyConditionExpression="#u = :me",
                                 ExpressionAttributeNames={"#u": "user"},
                                 ExpressionAttributeValues={":me": {"S": "kim"}})
    assert mine["Count"] == 1
    assert error_of(lambda: kim("dynamodb").get_item(
        TableName="notes", Key={"user": {"S": "lee"}, "id": {"N": "1"}}))[0] == \
        "AccessDeniedException"


def test_s3_bucket_policies_anonymous_and_cross_account(iam, connect, server):
    s3 = connect("s3")
    s3.create_bucket(Bucket="policy-bucket")
    s3.put_object(Bucket="policy-bucket", Key="public/readme.txt", Body=b"hello")
    s3.put_object(Bucket="policy-bucket", Key="private/secret.txt", Body=b"secret")
    public_url = f"{server.endpoint}/policy-bucket/public/readme.txt"
    # Anonymous requests are AccessDenied (not MissingAuthenticationToken) until a policy
    # opens the objects to anyone.
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(public_url, timeout=10)
    assert caught.value.code == 403 and b"<Code>AccessDenied</Code>" in caught.value.read()
    s3.delete_public_access_block(Bucket="policy-bucket")
    s3.put_bucket_policy(Bucket="policy-bucket", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Sid": "public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::policy-bucket/public/*"},
            {"Sid": "partner", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::policy-bucket/private/*"},
            {"Sid": "no-deletes", "Effect": "Deny", "Principal": "*",
             "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::policy-bucket/*"}]}))
    with urllib.request.urlopen(public_url, timeout=10) as response:
        assert response.read() == b"hello"
    # P2 through the bucket policy: its Deny beats the root user's own rights.
    code, _ = error_of(lambda: s3.delete_object(Bucket="policy-bucket", Key="public/readme.txt"))
    assert code == "AccessDenied"
    # Cross-account: a role of the partner account reads the private objects only when both
    # the bucket policy (which trusts the partner account) and the role's policy allow.
    partner_iam = connect("iam", OTHER, "test")
    partner_iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(
        trust({"AWS": f"arn:aws:iam::{OTHER}:root"})))
    role_arn = f"arn:aws:iam::{OTHER}:role/reader"
    credentials = connect("sts", OTHER, "test").assume_role(
        RoleArn=role_arn, RoleSessionName="partner")["Credentials"]
    partner = session_client(connect, credentials, "s3")
    code, message = error_of(lambda: partner.get_object(Bucket="policy-bucket",
                                                        Key="private/secret.txt"))
    assert code == "AccessDenied" and message.startswith(
        f"User: arn:aws:sts::{OTHER}:assumed-role/reader/partner is not authorized to "
        'perform: s3:GetObject on resource: "arn:aws:s3:::policy-bucket/private/secret.txt"')
    partner_iam.put_role_policy(RoleName="reader", PolicyName="read", PolicyDocument=json.dumps(
        allow("s3:GetObject", "arn:aws:s3:::policy-bucket/*")))
    partner = session_client(connect, connect("sts", OTHER, "test").assume_role(
        RoleArn=role_arn, RoleSessionName="partner2")["Credentials"], "s3")
    assert partner.get_object(Bucket="policy-bucket",
                              Key="private/secret.txt")["Body"].read() == b"secret"
