"""Account-wide IAM: aliases, summary, authorization details, identity providers, server
certificates."""

from __future__ import annotations

import datetime
import re

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.iam.conftest import READ_BUCKET, TRUST_LAMBDA, doc, error_of



def saml_metadata() -> str:
    """IdP metadata with a signing certificate, as identity providers publish it."""
    certificate = "".join(self_signed()[0].splitlines()[1:-1])
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    entityID="https://idp.example.com/saml" validUntil="2030-01-01T00:00:00Z">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>{certificate}</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://idp.example.com/saml/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


def self_signed() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
                   .sign(key, hashes.SHA256()))
    return (certificate.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def test_account_alias(fresh_iam, account_iam):
    assert fresh_iam.list_account_aliases()["AccountAliases"] == []
    fresh_iam.create_account_alias(AccountAlias="my-company")
    assert fresh_iam.list_account_aliases()["AccountAliases"] == ["my-company"]
    with pytest.raises(ClientError) as raised:
        fresh_iam.delete_account_alias(AccountAlias="other")
    assert error_of(raised) == ("NoSuchEntity", "The account alias other cannot be found.", 404)
    fresh_iam.create_account_alias(AccountAlias="my-company")  # again: no change
    other = account_iam("864286428642")
    with pytest.raises(ClientError) as raised:
        other.create_account_alias(AccountAlias="my-company")
    assert error_of(raised) == ("EntityAlreadyExists",
                                "The account alias my-company already exists.", 409)
    fresh_iam.delete_account_alias(AccountAlias="my-company")
    assert fresh_iam.list_account_aliases()["AccountAliases"] == []
    other.create_account_alias(AccountAlias="my-company")  # free again
    other.delete_account_alias(AccountAlias="my-company")


def test_account_summary_counts(fresh_iam):
    fresh_iam.create_user(UserName="a")
    fresh_iam.create_user(UserName="b")
    fresh_iam.create_group(GroupName="g")
    fresh_iam.create_role(RoleName="r", AssumeRolePolicyDocument=doc(TRUST_LAMBDA))
    fresh_iam.create_policy(PolicyName="p", PolicyDocument=doc(READ_BUCKET))
    fresh_iam.delete_user(UserName="b")
    summary = fresh_iam.get_account_summary()["SummaryMap"]
    assert {k: summary[k] for k in ("Users", "Groups", "Roles", "Policies")} == {
        "Users": 1, "Groups": 1, "Roles": 1, "Policies": 1}
    assert (summary["UsersQuota"], summary["PolicySizeQuota"], summary["VersionsPerPolicyQuota"],
            summary["AccessKeysPerUserQuota"]) == (5000, 6144, 5, 2)


def test_account_authorization_details(fresh_iam):
    fresh_iam.create_user(UserName="u")
    fresh_iam.create_group(GroupName="g")
    fresh_iam.add_user_to_group(GroupName="g", UserName="u")
    fresh_iam.put_user_policy(UserName="u", PolicyName="inline", PolicyDocument=doc(READ_BUCKET))
    fresh_iam.create_role(RoleName="r", AssumeRolePolicyDocument=doc(TRUST_LAMBDA))
    fresh_iam.attach_role_policy(RoleName="r",
                                 PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    arn = fresh_iam.create_policy(PolicyName="p", PolicyDocument=doc(READ_BUCKET))["Policy"][
        "Arn"]
    fresh_iam.attach_group_policy(GroupName="g", PolicyArn=arn)
    details = fresh_iam.get_account_authorization_details()
    user = details["UserDetailList"][0]
    assert (user["UserName"], user["GroupList"]) == ("u", ["g"])
    assert user["UserPolicyList"] == [{"PolicyName": "inline", "PolicyDocument": READ_BUCKET}]
    assert details["GroupDetailList"][0]["AttachedManagedPolicies"] == [
        {"PolicyName": "p", "PolicyArn": arn}]
    role = details["RoleDetailList"][0]
    assert role["AssumeRolePolicyDocument"] == TRUST_LAMBDA
    assert {p["Arn"] for p in details["Policies"]} == {
        arn, "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    local = [p for p in details["Policies"] if p["Arn"] == arn][0]
    assert local["PolicyVersionList"][0]["Document"] == READ_BUCKET
    only_roles = fresh_iam.get_account_authorization_details(Filter=["Role"])
    assert (only_roles["UserDetailList"], len(only_roles["RoleDetailList"])) == ([], 1)
    paged = fresh_iam.get_account_authorization_details(MaxItems=2)
    assert paged["IsTruncated"] and paged["Marker"]


def test_saml_provider(fresh_iam):
    metadata = saml_metadata()
    assert len(metadata) >= 1000
    arn = fresh_iam.create_saml_provider(Name="corp", SAMLMetadataDocument=metadata,
                                         Tags=[{"Key": "k", "Value": "v"}])["SAMLProviderArn"]
    assert arn.endswith(":saml-provider/corp")
    got = fresh_iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == metadata
    assert [p["Arn"] for p in fresh_iam.list_saml_providers()["SAMLProviderList"]] == [arn]
    with pytest.raises(ClientError) as raised:
        fresh_iam.create_saml_provider(Name="bad", SAMLMetadataDocument="not xml " * 200)
    assert error_of(raised)[0] == "InvalidInput"
    fresh_iam.delete_saml_provider(SAMLProviderArn=arn)
    with pytest.raises(ClientError) as raised:
        fresh_iam.get_saml_provider(SAMLProviderArn=arn)
    assert error_of(raised)[0] == "NoSuchEntity"


def rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_saml_provider_encryption_settings(fresh_iam):
    """The private keys STS decrypts assertions with (two at most, listed by id and upload
    time, never returned) and the encryption mode."""
    arn = fresh_iam.create_saml_provider(Name="encrypted", SAMLMetadataDocument=saml_metadata(),
                                         AssertionEncryptionMode="Required",
                                         AddPrivateKey=rsa_pem())["SAMLProviderArn"]
    got = fresh_iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["AssertionEncryptionMode"] == "Required"
    [first] = got["PrivateKeyList"]
    assert re.fullmatch(r"[A-Z0-9]{22,64}", first["KeyId"]) and first["Timestamp"]
    fresh_iam.update_saml_provider(SAMLProviderArn=arn, AddPrivateKey=rsa_pem(),
                                   AssertionEncryptionMode="Allowed")
    got = fresh_iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["AssertionEncryptionMode"] == "Allowed" and len(got["PrivateKeyList"]) == 2
    with pytest.raises(ClientError) as raised:
        fresh_iam.update_saml_provider(SAMLProviderArn=arn, AddPrivateKey=rsa_pem())
    assert error_of(raised)[0] == "LimitExceeded"
    fresh_iam.update_saml_provider(SAMLProviderArn=arn, RemovePrivateKey=first["KeyId"])
    kept = fresh_iam.get_saml_provider(SAMLProviderArn=arn)["PrivateKeyList"]
    assert [k["KeyId"] for k in kept] != [first["KeyId"]] and len(kept) == 1
    with pytest.raises(ClientError) as raised:
        fresh_iam.update_saml_provider(SAMLProviderArn=arn, RemovePrivateKey=first["KeyId"])
    assert error_of(raised)[0] == "NoSuchEntity"
    ec_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    for wrong in ("not a key", ec_key):
        with pytest.raises(ClientError) as raised:
            fresh_iam.update_saml_provider(SAMLProviderArn=arn, AddPrivateKey=wrong)
        assert error_of(raised)[0] == "InvalidInput"
    assert len(fresh_iam.get_saml_provider(SAMLProviderArn=arn)["PrivateKeyList"]) == 1


def test_oidc_provider(fresh_iam):
    arn = fresh_iam.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"])["OpenIDConnectProviderArn"]
    assert arn.endswith(":oidc-provider/token.actions.githubusercontent.com")
    fresh_iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                                        ClientID="my-app")
    got = fresh_iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == "token.actions.githubusercontent.com"
    assert got["ClientIDList"] == ["sts.amazonaws.com", "my-app"]
    with pytest.raises(ClientError) as raised:
        fresh_iam.create_open_id_connect_provider(
            Url="https://token.actions.githubusercontent.com",
            ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"])
    assert error_of(raised)[0] == "EntityAlreadyExists"
    fresh_iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert fresh_iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_server_certificates(fresh_iam):
    body, key = self_signed()
    metadata = fresh_iam.upload_server_certificate(
        ServerCertificateName="site", Path="/cloudfront/", CertificateBody=body,
        PrivateKey=key)["ServerCertificateMetadata"]
    assert metadata["Arn"].endswith(":server-certificate/cloudfront/site")
    assert metadata["ServerCertificateId"].startswith("ASCA")
    got = fresh_iam.get_server_certificate(ServerCertificateName="site")["ServerCertificate"]
    assert got["CertificateBody"] == body
    with pytest.raises(ClientError) as raised:
        fresh_iam.upload_server_certificate(ServerCertificateName="bad",
                                            CertificateBody="garbage", PrivateKey=key)
    assert error_of(raised)[0] == "MalformedCertificate"
    with pytest.raises(ClientError) as raised:
        fresh_iam.upload_server_certificate(ServerCertificateName="other", CertificateBody=body,
                                            PrivateKey=self_signed()[1])
    assert error_of(raised)[0] == "KeyPairMismatch"
    fresh_iam.update_server_certificate(ServerCertificateName="site",
                                        NewServerCertificateName="renamed")
    listed = fresh_iam.list_server_certificates()["ServerCertificateMetadataList"]
    assert [c["ServerCertificateName"] for c in listed] == ["renamed"]
    fresh_iam.delete_server_certificate(ServerCertificateName="renamed")
    with pytest.raises(ClientError) as raised:
        fresh_iam.get_server_certificate(ServerCertificateName="renamed")
    assert error_of(raised) == ("NoSuchEntity", "The Server Certificate with name renamed "
                                "cannot be found.", 404)


def test_state_survives_restart(tmp_path):
    import boto3

    from tests.conftest import NuboProcess, client_config

    server = NuboProcess(tmp_path).start()
    try:
        iam = boto3.client("iam", endpoint_url=server.endpoint, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test",
                           config=client_config())
        iam.create_user(UserName="durable")
        key = iam.create_access_key(UserName="durable")["AccessKey"]["AccessKeyId"]
        iam.attach_user_policy(UserName="durable",
                               PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        server.kill()
        server.start()
        assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="durable")[
            "AccessKeyMetadata"]] == [key]
        assert iam.list_attached_user_policies(UserName="durable")["AttachedPolicies"][0][
            "PolicyName"] == "ReadOnlyAccess"
    finally:
        server.stop()


def test_context_keys(fresh_iam):
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::bucket/${aws:username}/*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                      "Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}
    keys = fresh_iam.get_context_keys_for_custom_policy(PolicyInputList=[doc(policy)])[
        "ContextKeyNames"]
    assert sorted(keys) == ["aws:MultiFactorAuthPresent", "aws:SourceIp", "aws:username"]
    arn = fresh_iam.create_user(UserName="ctx")["User"]["Arn"]
    fresh_iam.put_user_policy(UserName="ctx", PolicyName="p", PolicyDocument=doc(policy))
    principal = fresh_iam.get_context_keys_for_principal_policy(PolicySourceArn=arn)
    assert sorted(principal["ContextKeyNames"]) == sorted(keys)


def test_security_token_service_preferences(fresh_iam):
    fresh_iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    assert fresh_iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 2


def test_china_partition(account_iam):
    iam = account_iam("135791357913", "cn-north-1")
    user = iam.create_user(UserName="cn-user")["User"]
    assert user["Arn"] == "arn:aws-cn:iam::135791357913:user/cn-user"
    arn = "arn:aws-cn:iam::aws:policy/ReadOnlyAccess"
    iam.attach_user_policy(UserName="cn-user", PolicyArn=arn)
    assert iam.list_attached_user_policies(UserName="cn-user")["AttachedPolicies"] == [
        {"PolicyName": "ReadOnlyAccess", "PolicyArn": arn}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Arn"] == arn


def test_oidc_and_saml_updates(fresh_iam):
    arn = fresh_iam.create_open_id_connect_provider(
        Url="https://oidc.example.com/tenant", ClientIDList=["a", "b"],
        ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]
    assert arn.endswith(":oidc-provider/oidc.example.com/tenant")
    fresh_iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                                             ClientID="a")
    fresh_iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn,
                                                         ThumbprintList=["1" * 40, "2" * 40])
    fresh_iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                           Tags=[{"Key": "k", "Value": "v"}])
    got = fresh_iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert (got["ClientIDList"], got["ThumbprintList"], got["Tags"]) == (
        ["b"], ["1" * 40, "2" * 40], [{"Key": "k", "Value": "v"}])
    with pytest.raises(ClientError) as raised:
        fresh_iam.update_open_id_connect_provider_thumbprint(
            OpenIDConnectProviderArn=arn, ThumbprintList=[str(i) * 40 for i in range(6)])
    assert error_of(raised)[0] == "LimitExceeded"
    saml = fresh_iam.create_saml_provider(Name="idp", SAMLMetadataDocument=saml_metadata())[
        "SAMLProviderArn"]
    updated = saml_metadata()
    fresh_iam.update_saml_provider(SAMLProviderArn=saml, SAMLMetadataDocument=updated)
    assert fresh_iam.get_saml_provider(SAMLProviderArn=saml)["SAMLMetadataDocument"] == updated
    fresh_iam.tag_saml_provider(SAMLProviderArn=saml, Tags=[{"Key": "a", "Value": "b"}])
    fresh_iam.untag_saml_provider(SAMLProviderArn=saml, TagKeys=["a"])
    assert fresh_iam.list_saml_provider_tags(SAMLProviderArn=saml)["Tags"] == []


def test_authorization_details_pages_cover_everything(fresh_iam):
    for i in range(4):
        fresh_iam.create_user(UserName=f"u{i}")
        fresh_iam.create_role(RoleName=f"r{i}", AssumeRolePolicyDocument=doc(TRUST_LAMBDA))
    users, roles = [], []
    for page in fresh_iam.get_paginator("get_account_authorization_details").paginate(
            PaginationConfig={"PageSize": 3}):
        users += [u["UserName"] for u in page["UserDetailList"]]
        roles += [r["RoleName"] for r in page["RoleDetailList"]]
    assert (users, roles) == ([f"u{i}" for i in range(4)], [f"r{i}" for i in range(4)])


def test_instance_profile_tags(fresh_iam):
    fresh_iam.create_instance_profile(InstanceProfileName="ip",
                                      Tags=[{"Key": "a", "Value": "1"}])
    fresh_iam.tag_instance_profile(InstanceProfileName="ip", Tags=[{"Key": "b", "Value": "2"}])
    fresh_iam.untag_instance_profile(InstanceProfileName="ip", TagKeys=["a"])
    assert fresh_iam.list_instance_profile_tags(InstanceProfileName="ip")["Tags"] == [
        {"Key": "b", "Value": "2"}]
    assert fresh_iam.get_instance_profile(InstanceProfileName="ip")["InstanceProfile"][
        "Tags"] == [{"Key": "b", "Value": "2"}]
    assert [p["InstanceProfileName"] for p in
            fresh_iam.list_instance_profiles()["InstanceProfiles"]] == ["ip"]


def test_centralized_root_access(account_iam, make_client):
    import boto3

    from tests.conftest import REGION, SECRET_KEY

    management = "246824682468"
    iam = account_iam(management)
    with pytest.raises(ClientError) as raised:
        iam.list_organizations_features()
    assert error_of(raised)[0] == "OrganizationNotFoundException"
    orgs = make_client("organizations", session=boto3.Session(
        aws_access_key_id=management, aws_secret_access_key=SECRET_KEY, region_name=REGION))
    org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    with pytest.raises(ClientError) as raised:
        iam.enable_organizations_root_sessions()
    assert error_of(raised)[0] == "ServiceAccessNotEnabledException"
    orgs.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    enabled = iam.enable_organizations_root_credentials_management()
    assert (enabled["OrganizationId"], enabled["EnabledFeatures"]) == (
        org_id, ["RootCredentialsManagement"])
    iam.enable_organizations_root_sessions()
    features = iam.list_organizations_features()
    assert (features["OrganizationId"], features["EnabledFeatures"]) == (
        org_id, ["RootCredentialsManagement", "RootSessions"])
    iam.disable_organizations_root_sessions()
    assert iam.list_organizations_features()["EnabledFeatures"] == ["RootCredentialsManagement"]
    status = orgs.create_account(Email="member@example.com", AccountName="member")[
        "CreateAccountStatus"]
    status = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])[
        "CreateAccountStatus"]
    with pytest.raises(ClientError) as raised:
        account_iam(status["AccountId"]).list_organizations_features()
    assert error_of(raised)[0] == "AccountNotManagementOrDelegatedAdministratorException"


def test_server_certificate_and_oidc_tags(fresh_iam):
    body, key = self_signed()
    fresh_iam.upload_server_certificate(ServerCertificateName="tagged", CertificateBody=body,
                                        PrivateKey=key, Tags=[{"Key": "a", "Value": "1"}])
    fresh_iam.tag_server_certificate(ServerCertificateName="tagged",
                                     Tags=[{"Key": "b", "Value": "2"}])
    fresh_iam.untag_server_certificate(ServerCertificateName="tagged", TagKeys=["a"])
    assert fresh_iam.list_server_certificate_tags(ServerCertificateName="tagged")["Tags"] == [
        {"Key": "b", "Value": "2"}]
    arn = fresh_iam.create_open_id_connect_provider(
        Url="https://idp.example.org", ThumbprintList=["9" * 40],
        Tags=[{"Key": "a", "Value": "1"}])["OpenIDConnectProviderArn"]
    fresh_iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["a"])
    assert fresh_iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)[
        "Tags"] == []
    with pytest.raises(ClientError) as raised:
        fresh_iam.disable_organizations_root_credentials_management()
    assert error_of(raised)[0] == "OrganizationNotFoundException"
