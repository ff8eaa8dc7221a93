"""Access keys, login profiles and the password policy, virtual MFA devices with real TOTP codes,
and the credential report."""

from __future__ import annotations

import base64
import csv
import io

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from tests.conftest import REGION
from tests.iam.conftest import error_of, unique


def totp_codes(seed: bytes, at: float, count: int = 2) -> list[str]:
    """Consecutive codes of a device at ``at`` (nubo's clock: the shared server's may have
    been advanced by other tests), computed independently of nubo."""
    generator = TOTP(base64.b32decode(seed), 6, SHA1(), 30, enforce_key_length=False)
    step = int(at) // 30
    return [generator.generate((step - count + 1 + i) * 30).decode() for i in range(count)]


def test_access_keys(iam, user):
    first = iam.create_access_key(UserName=user)["AccessKey"]
    assert first["AccessKeyId"].startswith("AKIA") and len(first["AccessKeyId"]) == 20
    assert len(first["SecretAccessKey"]) == 40 and first["Status"] == "Active"
    second = iam.create_access_key(UserName=user)["AccessKey"]
    with pytest.raises(ClientError) as raised:
        iam.create_access_key(UserName=user)
    assert error_of(raised) == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2",
                                409)
    iam.update_access_key(UserName=user, AccessKeyId=first["AccessKeyId"], Status="Inactive")
    listed = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert {k["AccessKeyId"]: k["Status"] for k in listed} == {
        first["AccessKeyId"]: "Inactive", second["AccessKeyId"]: "Active"}
    assert all("SecretAccessKey" not in k for k in listed)
    with pytest.raises(ClientError):  # an inactive key still counts
        iam.create_access_key(UserName=user)
    last_used = iam.get_access_key_last_used(AccessKeyId=second["AccessKeyId"])
    assert last_used["UserName"] == user
    assert last_used["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}
    iam.delete_access_key(UserName=user, AccessKeyId=first["AccessKeyId"])
    with pytest.raises(ClientError) as raised:
        iam.delete_access_key(UserName=user, AccessKeyId=first["AccessKeyId"])
    assert error_of(raised) == ("NoSuchEntity", f"The Access Key with id {first['AccessKeyId']} "
                                "cannot be found.", 404)


def test_user_acts_on_itself_with_its_own_key(iam, make_client, user):
    key = iam.create_access_key(UserName=user)["AccessKey"]
    session = boto3.Session(aws_access_key_id=key["AccessKeyId"],
                            aws_secret_access_key=key["SecretAccessKey"], region_name=REGION)
    own = make_client("iam", session=session)
    assert own.get_user()["User"]["UserName"] == user
    assert [k["AccessKeyId"] for k in own.list_access_keys()["AccessKeyMetadata"]] == [
        key["AccessKeyId"]]


def test_root_lists_no_iam_keys_or_devices(iam):
    assert iam.list_access_keys()["AccessKeyMetadata"] == []
    assert iam.list_mfa_devices()["MFADevices"] == []


def test_access_keys_need_a_user_for_non_user_callers(iam):
    with pytest.raises(ClientError) as raised:
        iam.create_access_key()
    assert error_of(raised) == ("ValidationError", "Must specify userName when calling with "
                                "non-User credentials", 400)


def test_login_profile(iam, user):
    created = iam.create_login_profile(UserName=user, Password="Initial-Passw0rd",
                                       PasswordResetRequired=True)["LoginProfile"]
    assert (created["UserName"], created["PasswordResetRequired"]) == (user, True)
    with pytest.raises(ClientError) as raised:
        iam.create_login_profile(UserName=user, Password="Another-Passw0rd")
    assert error_of(raised) == ("EntityAlreadyExists",
                                f"Login Profile for user {user} already exists.", 409)
    iam.update_login_profile(UserName=user, PasswordResetRequired=False)
    assert not iam.get_login_profile(UserName=user)["LoginProfile"]["PasswordResetRequired"]
    iam.delete_login_profile(UserName=user)
    with pytest.raises(ClientError) as raised:
        iam.get_login_profile(UserName=user)
    assert error_of(raised) == ("NoSuchEntity",
                                f"Login Profile for User {user} cannot be found.", 404)


def test_password_policy(fresh_iam):
    with pytest.raises(ClientError) as raised:
        fresh_iam.get_account_password_policy()
    account = fresh_iam.get_user()["User"]["UserId"]
    assert error_of(raised) == ("NoSuchEntity", f"The Password Policy with domain name {account} "
                                "cannot be found.", 404)
    fresh_iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True,
                                             RequireSymbols=True, MaxPasswordAge=90,
                                             AllowUsersToChangePassword=True)
    policy = fresh_iam.get_account_password_policy()["PasswordPolicy"]
    assert (policy["MinimumPasswordLength"], policy["RequireNumbers"], policy["ExpirePasswords"],
            policy["MaxPasswordAge"], policy["RequireUppercaseCharacters"]) == (12, True, True,
                                                                                 90, False)
    fresh_iam.create_user(UserName="pw")
    with pytest.raises(ClientError) as raised:
        fresh_iam.create_login_profile(UserName="pw", Password="short1!")
    assert error_of(raised) == ("PasswordPolicyViolation",
                                "Password should have a minimum length of 12", 400)
    with pytest.raises(ClientError) as raised:
        fresh_iam.create_login_profile(UserName="pw", Password="longenoughbutnonumber!")
    assert error_of(raised)[1] == "Password should have at least one number"
    fresh_iam.create_login_profile(UserName="pw", Password="long-enough-1!")
    fresh_iam.delete_account_password_policy()
    with pytest.raises(ClientError):
        fresh_iam.get_account_password_policy()


def test_default_password_policy(fresh_iam):
    fresh_iam.create_user(UserName="u")
    with pytest.raises(ClientError) as raised:
        fresh_iam.create_login_profile(UserName="u", Password="Sh0rt!")
    assert error_of(raised) == ("PasswordPolicyViolation",
                                "Password should have a minimum length of 8", 400)
    with pytest.raises(ClientError) as raised:
        fresh_iam.create_login_profile(UserName="u", Password="onlylowercase1")
    assert error_of(raised)[0] == "PasswordPolicyViolation"
    fresh_iam.create_login_profile(UserName="u", Password="Mixed-case1")


def test_change_password(iam, make_client, user):
    iam.update_account_password_policy(AllowUsersToChangePassword=True)
    iam.create_login_profile(UserName=user, Password="First-Passw0rd")
    key = iam.create_access_key(UserName=user)["AccessKey"]
    own = make_client("iam", session=boto3.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        region_name=REGION))
    with pytest.raises(ClientError):
        own.change_password(OldPassword="wrong-Passw0rd", NewPassword="Second-Passw0rd")
    own.change_password(OldPassword="First-Passw0rd", NewPassword="Second-Passw0rd")
    with pytest.raises(ClientError) as raised:
        iam.change_password(OldPassword="x", NewPassword="y")  # root is not an IAM user
    assert error_of(raised)[0] == "InvalidUserType"


def test_virtual_mfa_device_with_real_codes(iam, user, nubo_server):
    name = unique("mfa")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::000000000000:mfa/{name}"
    seed = device["Base32StringSeed"]
    assert len(base64.b32decode(seed)) == 20
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert serial in [d["SerialNumber"] for d in unassigned]
    now = nubo_server.get("/_nubo/clock")["now"]
    wrong = totp_codes(seed, now - 3600)
    with pytest.raises(ClientError) as raised:
        iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1=wrong[0],
                              AuthenticationCode2=wrong[1])
    assert error_of(raised) == ("InvalidAuthenticationCode",
                                "Authentication code for device is not valid.", 403)
    reversed_codes = totp_codes(seed, now)[::-1]
    if reversed_codes[0] != reversed_codes[1]:
        with pytest.raises(ClientError):  # the two codes must be consecutive, in order
            iam.enable_mfa_device(UserName=user, SerialNumber=serial,
                                  AuthenticationCode1=reversed_codes[0],
                                  AuthenticationCode2=reversed_codes[1])
    code1, code2 = totp_codes(seed, now)
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1=code1,
                          AuthenticationCode2=code2)
    devices = iam.list_mfa_devices(UserName=user)["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in devices] == [(user, serial)]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    mine = [d for d in assigned if d["SerialNumber"] == serial][0]
    assert mine["User"]["UserName"] == user and "EnableDate" in mine
    with pytest.raises(ClientError) as raised:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(raised)[0] == "DeleteConflict"
    with pytest.raises(ClientError) as raised:
        iam.delete_user(UserName=user)
    assert error_of(raised)[1] == "Cannot delete entity, must delete MFA device first."
    iam.deactivate_mfa_device(UserName=user, SerialNumber=serial)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    iam.delete_user(UserName=user)


def test_credential_report(fresh_iam):
    with pytest.raises(ClientError) as raised:
        fresh_iam.get_credential_report()
    assert error_of(raised)[0] == "ReportNotPresent"
    fresh_iam.create_user(UserName="reported")
    fresh_iam.create_login_profile(UserName="reported", Password="Passw0rd-123")
    fresh_iam.create_access_key(UserName="reported")
    assert fresh_iam.generate_credential_report()["State"] == "STARTED"
    assert fresh_iam.generate_credential_report()["State"] == "COMPLETE"
    report = fresh_iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(report["Content"].decode())))
    assert [r["user"] for r in rows] == ["<root_account>", "reported"]
    user_row = rows[1]
    assert (user_row["password_enabled"], user_row["access_key_1_active"],
            user_row["access_key_2_active"], user_row["mfa_active"]) == ("true", "true",
                                                                        "false", "false")
    assert user_row["arn"].endswith(":user/reported")


def test_signing_certificates(iam, user):
    from tests.iam.test_account import self_signed

    body = self_signed()[0]
    cert = iam.upload_signing_certificate(UserName=user, CertificateBody=body)["Certificate"]
    assert (cert["UserName"], cert["Status"], cert["CertificateBody"]) == (user, "Active", body)
    with pytest.raises(ClientError) as raised:
        iam.upload_signing_certificate(UserName=user, CertificateBody=body)
    assert error_of(raised)[0] == "DuplicateCertificate"
    iam.upload_signing_certificate(UserName=user, CertificateBody=self_signed()[0])
    with pytest.raises(ClientError) as raised:
        iam.upload_signing_certificate(UserName=user, CertificateBody=self_signed()[0])
    assert error_of(raised) == ("LimitExceeded", "Cannot exceed quota for CertificatesPerUser: 2",
                                409)
    iam.update_signing_certificate(UserName=user, CertificateId=cert["CertificateId"],
                                   Status="Inactive")
    listed = iam.list_signing_certificates(UserName=user)["Certificates"]
    assert [c["Status"] for c in listed] == ["Inactive", "Active"]
    with pytest.raises(ClientError) as raised:
        iam.delete_user(UserName=user)
    assert error_of(raised) == ("DeleteConflict", "Cannot delete entity, must remove referenced "
                                "objects first.", 409)
    for listed_cert in listed:
        iam.delete_signing_certificate(UserName=user, CertificateId=listed_cert["CertificateId"])
    iam.delete_user(UserName=user)


def test_ssh_public_keys(iam, user):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    public = ed25519.Ed25519PrivateKey.generate().public_key()
    body = public.public_bytes(serialization.Encoding.OpenSSH,
                               serialization.PublicFormat.OpenSSH).decode()
    key = iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=body)["SSHPublicKey"]
    assert key["SSHPublicKeyId"].startswith("APKA") and key["Fingerprint"].count(":") == 15
    pem = iam.get_ssh_public_key(UserName=user, SSHPublicKeyId=key["SSHPublicKeyId"],
                                 Encoding="PEM")["SSHPublicKey"]["SSHPublicKeyBody"]
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    for garbage in ("ssh-rsa garbage", '{"Version": "2012-10-17"}', "ssh-unknown AAAA"):
        with pytest.raises(ClientError) as raised:
            iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=garbage)
        assert error_of(raised)[0] == "UnrecognizedPublicKeyEncoding"
    iam.update_ssh_public_key(UserName=user, SSHPublicKeyId=key["SSHPublicKeyId"],
                              Status="Inactive")
    assert iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"][0]["Status"] == "Inactive"
    iam.delete_ssh_public_key(UserName=user, SSHPublicKeyId=key["SSHPublicKeyId"])
    assert iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"] == []


def test_service_specific_credentials(iam, user):
    created = iam.create_service_specific_credential(
        UserName=user, ServiceName="codecommit.amazonaws.com")["ServiceSpecificCredential"]
    assert created["ServiceUserName"] == f"{user}-at-000000000000"
    assert len(created["ServicePassword"]) >= 40
    reset = iam.reset_service_specific_credential(
        UserName=user, ServiceSpecificCredentialId=created["ServiceSpecificCredentialId"])
    assert reset["ServiceSpecificCredential"]["ServicePassword"] != created["ServicePassword"]
    iam.create_service_specific_credential(UserName=user, ServiceName="codecommit.amazonaws.com")
    with pytest.raises(ClientError) as raised:
        iam.create_service_specific_credential(UserName=user,
                                               ServiceName="codecommit.amazonaws.com")
    assert error_of(raised)[0] == "LimitExceeded"
    with pytest.raises(ClientError) as raised:
        iam.create_service_specific_credential(UserName=user, ServiceName="s3.amazonaws.com")
    assert error_of(raised)[0] == "NotSupportedService"
    listed = iam.list_service_specific_credentials(UserName=user)["ServiceSpecificCredentials"]
    assert len(listed) == 2 and all("ServicePassword" not in c for c in listed)
    bedrock = iam.create_service_specific_credential(
        UserName=user, ServiceName="bedrock.amazonaws.com", CredentialAgeDays=30)[
        "ServiceSpecificCredential"]
    assert bedrock["ServiceCredentialSecret"] and "ExpirationDate" in bedrock
    iam.delete_service_specific_credential(
        UserName=user, ServiceSpecificCredentialId=created["ServiceSpecificCredentialId"])
    assert len(iam.list_service_specific_credentials(
        UserName=user, ServiceName="codecommit.amazonaws.com")["ServiceSpecificCredentials"]) == 1


def test_cli_virtual_mfa_device_files(aws_cli, tmp_path):
    name = unique("cli-mfa")
    png, seed = tmp_path / "qr.png", tmp_path / "seed.txt"
    created = aws_cli("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", name,
                      "--outfile", str(png), "--bootstrap-method", "QRCodePNG")
    assert created["VirtualMFADevice"]["SerialNumber"].endswith(f":mfa/{name}")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    other = unique("cli-mfa")
    aws_cli("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", other,
            "--outfile", str(seed), "--bootstrap-method", "Base32StringSeed")
    assert len(base64.b32decode(seed.read_text().strip())) == 20


def test_mfa_device_details_and_resync(iam, user, nubo_server):
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=unique("mfa"), Path="/ops/",
                                           Tags=[{"Key": "k", "Value": "v"}])["VirtualMFADevice"]
    serial, seed = device["SerialNumber"], device["Base32StringSeed"]
    assert ":mfa/ops/" in serial
    now = nubo_server.get("/_nubo/clock")["now"]
    code1, code2 = totp_codes(seed, now)
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1=code1,
                          AuthenticationCode2=code2)
    got = iam.get_mfa_device(SerialNumber=serial)
    assert (got["UserName"], got["SerialNumber"]) == (user, serial)
    code1, code2 = totp_codes(seed, now)
    iam.resync_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1=code1,
                          AuthenticationCode2=code2)
    with pytest.raises(ClientError) as raised:
        iam.resync_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1="000000",
                              AuthenticationCode2="000001")
    assert error_of(raised)[0] == "InvalidAuthenticationCode"
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "x", "Value": "y"}])
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["k"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "x", "Value": "y"}]
    second = iam.create_virtual_mfa_device(VirtualMFADeviceName=unique("mfa"))[
        "VirtualMFADevice"]
    with pytest.raises(ClientError) as raised:
        iam.enable_mfa_device(UserName=unique("ghost"), SerialNumber=second["SerialNumber"],
                              AuthenticationCode1="123456", AuthenticationCode2="654321")
    assert error_of(raised)[0] == "NoSuchEntity"


def test_virtual_mfa_device_serial_length(iam):
    with pytest.raises(ClientError) as raised:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="x" * 300)
    assert error_of(raised)[0] == "InvalidInput"


def test_keys_of_users_in_other_accounts_act_in_that_account(account_iam, make_client):
    iam = account_iam("222233334444")
    name = unique("carol")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    own = make_client("iam", session=boto3.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        region_name=REGION))
    assert own.get_user()["User"]["Arn"] == f"arn:aws:iam::222233334444:user/{name}"
