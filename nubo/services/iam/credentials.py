"""Users' credentials: access keys, console passwords (login profiles) under the account's
password policy, virtual MFA devices with real TOTP codes, and the credential report."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import secrets
from datetime import UTC, datetime
from typing import Callable
from urllib.parse import quote

import segno
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from nubo.core import ids
from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.services.iam import schema
from nubo.services.iam.entities import Accounts, limit_exceeded, no_such_entity
from nubo.services.iam.validation import (check_path, merge_tags,
                                          secret_access_key)
from nubo.store import Store

ACCESS_KEYS_PER_USER = 2
TOTP_STEP = 30
TOTP_WINDOW = 10  # steps back (5 minutes) a pair of consecutive codes may come from
REPORT_TTL = 4 * 3600
LAST_USED_RESOLUTION = 60  # seconds
MAX_SERIAL_NUMBER = 256  # the model's serialNumberType  # a credential report is fresh for four hours
UPDATE_PASSWORD_POLICY_DEFAULTS = {
    "MinimumPasswordLength": 6, "RequireSymbols": False, "RequireNumbers": False,
    "RequireUppercaseCharacters": False, "RequireLowercaseCharacters": False,
    "AllowUsersToChangePassword": False, "ExpirePasswords": False, "HardExpiry": False,
}
SYMBOLS = set("!@#$%^&*()_+-=[]{}|'")
DEFAULT_MINIMUM_LENGTH = 8  # with no password policy set
REPORT_COLUMNS = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
)


def is_recent_use(recorded: dict | None, used: dict) -> bool:
    """Whether a use is already on record: same place, less than a minute ago (last-used
    dates are kept to the minute so that recording them does not cost a write per request)."""
    return (recorded is not None and used["date"] - recorded["date"] < LAST_USED_RESOLUTION
            and all(recorded.get(k) == v for k, v in used.items() if k != "date"))


def _iso(moment: float | None, missing: str = "N/A") -> str:
    if not moment:
        return missing
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def totp(seed: bytes) -> TOTP:
    # cryptography's RFC 6238 implementation (already a dependency for KMS): audited,
    # constant-time verification, no hand-rolled HMAC truncation.
    return TOTP(seed, 6, SHA1(), TOTP_STEP, enforce_key_length=False)


def qr_code_png(device_name: str, account_name: str, seed: str) -> bytes:
    """The PNG an authenticator app scans, encoding what IAM's does:
    otpauth://totp/<device name>@<account name>?secret=<base32 seed>. segno: a maintained,
    dependency-free QR encoder."""
    uri = f"otpauth://totp/{quote(device_name)}@{quote(account_name)}?secret={seed}"
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="png", scale=4)
    return out.getvalue()


def codes_match(seed: bytes, codes: list[str], now: float, window: int = TOTP_WINDOW) -> bool:
    """Whether ``codes`` are consecutive TOTP codes of the device, the last one from the last
    ``window`` steps (AWS asks for two consecutive codes to enable or resync a device)."""
    generator = totp(seed)
    step = int(now) // TOTP_STEP
    for first in range(step - window - len(codes) + 1, step + 1):
        try:
            for offset, code in enumerate(codes):
                generator.verify(code.encode(), (first + offset) * TOTP_STEP)
        except InvalidToken:
            continue
        return True
    return False


def _hash_password(password: str, salt: bytes | None = None) -> dict:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 100_000)
    return {"salt": salt, "hash": digest}


def _password_matches(stored: dict, password: str) -> bool:
    return hmac.compare_digest(_hash_password(password, stored["salt"])["hash"], stored["hash"])


class Credentials:
    def __init__(self, store: Store, clock: Clock, accounts: Accounts) -> None:
        self.clock = clock
        self.accounts = accounts
        self.keys = store.table(schema.ACCESS_KEYS)
        self.mfa = store.table(schema.MFA_DEVICES)

    # -- access keys -----------------------------------------------------------------------

    def create_key(self, user: dict) -> dict:
        if len(self.user_keys(user)) >= ACCESS_KEYS_PER_USER:
            raise limit_exceeded("AccessKeysPerUser", ACCESS_KEYS_PER_USER)
        key = {"access_key_id": ids.access_key_id("AKIA", user["account"]),
               "account": user["account"],
               "user_id": user["id"], "secret": secret_access_key(), "status": "Active",
               "created": self.clock.now(), "last_used": None}
        self.keys.insert(key)
        return key

    def user_keys(self, user: dict) -> list[dict]:
        return self.keys.find("by_user", (user["account"], user["id"]))

    def user_key(self, user: dict, key_id: str) -> dict:
        key = self.keys.get((key_id,))
        if key is None or key["user_id"] != user["id"]:
            raise no_such_entity(f"The Access Key with id {key_id} cannot be found.")
        return key

    def set_key_status(self, user: dict, key_id: str, status: str) -> None:
        key = self.user_key(user, key_id)
        key["status"] = status
        self.keys.put(key)

    def delete_key(self, user: dict, key_id: str) -> None:
        self.keys.delete((self.user_key(user, key_id)["access_key_id"],))

    def key(self, key_id: str) -> dict | None:
        return self.keys.get((key_id,))

    def note_key_used(self, key_id: str, service: str, region: str, when: float) -> None:
        key = self.keys.get((key_id,))
        if key is None:
            return
        used = {"date": when, "service": service, "region": region}
        if not is_recent_use(key.get("last_used"), used):
            key["last_used"] = used
            self.keys.put(key)

    # -- passwords -------------------------------------------------------------------------

    def password_policy(self, account: str) -> dict | None:
        return self.accounts.get(account).get("password_policy")

    def set_password_policy(self, account: str, settings: dict) -> None:
        policy = UPDATE_PASSWORD_POLICY_DEFAULTS | {k: v for k, v in settings.items()
                                                    if v is not None}
        policy["ExpirePasswords"] = bool(policy.get("MaxPasswordAge"))
        self.accounts.update(account, password_policy=policy)

    def delete_password_policy(self, account: str) -> None:
        if self.password_policy(account) is None:
            raise no_such_entity(f"The Password Policy with domain name {account} cannot be "
                                 "found.")
        self.accounts.update(account, password_policy=None)

    def check_password(self, account: str, password: str) -> None:
        policy = self.password_policy(account)
        if policy is None:
            # IAM's default policy: 8 to 128 characters, three of the four character types.
            kinds = sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                         any(c.isdigit() for c in password), any(c in SYMBOLS for c in password)))
            if len(password) < DEFAULT_MINIMUM_LENGTH:
                raise ServiceError("PasswordPolicyViolation", "Password should have a minimum "
                                   f"length of {DEFAULT_MINIMUM_LENGTH}", 400)
            if kinds < 3:
                raise ServiceError("PasswordPolicyViolation", "Password should contain at least "
                                   "three of the character types: uppercase letters, lowercase "
                                   "letters, numbers and symbols", 400)
            return
        rules = (
            (len(password) >= policy["MinimumPasswordLength"],
             f"Password should have a minimum length of {policy['MinimumPasswordLength']}"),
            (not policy["RequireLowercaseCharacters"] or any(c.islower() for c in password),
             "Password should have at least one lowercase letter"),
            (not policy["RequireUppercaseCharacters"] or any(c.isupper() for c in password),
             "Password should have at least one uppercase letter"),
            (not policy["RequireNumbers"] or any(c.isdigit() for c in password),
             "Password should have at least one number"),
            (not policy["RequireSymbols"] or any(c in SYMBOLS for c in password),
             "Password should have at least one symbol"),
        )
        for satisfied, message in rules:
            if not satisfied:
                raise ServiceError("PasswordPolicyViolation", message, 400)

    def create_login_profile(self, user: dict, password: str, reset_required: bool) -> dict:
        if user.get("login_profile"):
            raise ServiceError("EntityAlreadyExists",
                               f"Login Profile for user {user['name']} already exists.", 409)
        self.check_password(user["account"], password)
        user["login_profile"] = {"created": self.clock.now(), "reset": bool(reset_required),
                                 "password": _hash_password(password)}
        return user["login_profile"]

    def login_profile(self, user: dict) -> dict:
        profile = user.get("login_profile")
        if not profile:
            raise no_such_entity(f"Login Profile for User {user['name']} cannot be found.")
        return profile

    def update_login_profile(self, user: dict, password: str | None,
                             reset_required: bool | None) -> None:
        profile = self.login_profile(user)
        if password is not None:
            self.check_password(user["account"], password)
            profile["password"] = _hash_password(password)
            profile["changed"] = self.clock.now()
        if reset_required is not None:
            profile["reset"] = reset_required

    def change_password(self, user: dict, old: str, new: str) -> None:
        # Whether the user may (iam:ChangePassword, AllowUsersToChangePassword) is the
        # authorizer's decision, made before the handler runs.
        profile = self.login_profile(user)
        if not _password_matches(profile["password"], old):
            raise ServiceError("InvalidUserType", "The old password is incorrect.", 400)
        self.check_password(user["account"], new)
        profile.update(password=_hash_password(new), changed=self.clock.now(), reset=False)

    # -- MFA -------------------------------------------------------------------------------

    def create_virtual_device(self, account: str, partition: str, path: str | None,
                              name: str, tags: list[dict] | None) -> dict:
        serial = f"arn:{partition}:iam::{account}:mfa{check_path(path)}{name}"
        if len(serial) > MAX_SERIAL_NUMBER:
            raise ServiceError("InvalidInput", f"The serial number of the MFA device, {serial}, "
                               f"is longer than {MAX_SERIAL_NUMBER} characters.", 400)
        if self.mfa.get((account, serial)) is not None:
            raise ServiceError("EntityAlreadyExists", "MFADevice entity at the same path and "
                               "name already exists.", 409)
        device = {"account": account, "serial": serial, "user_id": None,
                  "seed": base64.b32encode(secrets.token_bytes(20)).decode(),
                  "tags": merge_tags([], tags), "enabled": None}
        self.mfa.insert(device)
        return device

    def device(self, account: str, serial: str) -> dict:
        device = self.mfa.get((account, serial))
        if device is None:
            raise no_such_entity(f"VirtualMFADevice with serial number {serial} doesn't exist.")
        return device

    def save_device(self, device: dict) -> None:
        self.mfa.put(device)

    def enable_device(self, user: dict, serial: str, code1: str, code2: str) -> None:
        device = self.device(user["account"], serial)
        if device["user_id"] is not None:
            raise ServiceError("EntityAlreadyExists", "MFA Device is already in use.", 409)
        self._check_codes(device, [code1, code2])
        device.update(user_id=user["id"], enabled=self.clock.now())
        self.mfa.put(device)

    def resync_device(self, user: dict, serial: str, code1: str, code2: str) -> None:
        device = self.user_device(user, serial)
        self._check_codes(device, [code1, code2])

    def _check_codes(self, device: dict, codes: list[str]) -> None:
        if not codes_match(base64.b32decode(device["seed"]), codes, self.clock.now()):
            raise ServiceError("InvalidAuthenticationCode",
                               "Authentication code for device is not valid.", 403)

    def verify_code(self, account: str, serial: str, code: str, when: float) -> bool:
        device = self.mfa.get((account, serial))
        return (device is not None and device["user_id"] is not None
                and codes_match(base64.b32decode(device["seed"]), [code], when, window=1))

    def user_device(self, user: dict, serial: str) -> dict:
        device = self.mfa.get((user["account"], serial))
        if device is None or device["user_id"] != user["id"]:
            raise no_such_entity(f"MFA Device with serial number {serial} does not exist.")
        return device

    def deactivate_device(self, user: dict, serial: str) -> None:
        device = self.user_device(user, serial)
        device.update(user_id=None, enabled=None)
        self.mfa.put(device)

    def delete_virtual_device(self, account: str, serial: str) -> None:
        device = self.device(account, serial)
        if device["user_id"] is not None:
            raise ServiceError("DeleteConflict", "MFA device is still in use.", 409)
        self.mfa.delete((account, serial))

    def user_devices(self, user: dict) -> list[dict]:
        return self.mfa.find("by_user", (user["account"], user["id"]))

    def virtual_devices(self, account: str, status: str | None) -> list[dict]:
        devices = self.mfa.find(None, (account,))
        if status == "Assigned":
            return [d for d in devices if d["user_id"] is not None]
        if status == "Unassigned":
            return [d for d in devices if d["user_id"] is None]
        return devices

    # -- credential report -----------------------------------------------------------------

    def generate_report(self, account: str, partition: str, users: list[dict],
                        certificates: Callable[[dict], list[dict]]) -> str:
        """Builds the report now; answers STARTED the first time, as AWS does, then
        COMPLETE while the report is fresh."""
        now = self.clock.now()
        previous = self.accounts.get(account).get("report")
        fresh = previous is not None and now - previous["generated"] < REPORT_TTL
        if not fresh:
            self.accounts.update(account, report={"generated": now,
                                                  "content": self._report(
                                                      account, partition, users, certificates)})
        return "COMPLETE" if previous is not None else "STARTED"

    def report(self, account: str) -> dict:
        report = self.accounts.get(account).get("report")
        if report is None:
            raise ServiceError("ReportNotPresent", "Credential report not present. Please "
                               "generate a credential report first.", 410)
        if self.clock.now() - report["generated"] >= REPORT_TTL:
            raise ServiceError("ReportExpired", "Credential report has expired. Please "
                               "generate a new credential report.", 410)
        return report

    def _report(self, account: str, partition: str, users: list[dict],
                certificates: Callable[[dict], list[dict]]) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(REPORT_COLUMNS)
        writer.writerow(["<root_account>", f"arn:{partition}:iam::{account}:root", "N/A",
                         "not_supported", "N/A", "not_supported", "not_supported", "false",
                         "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "N/A", "N/A",
                         "N/A", "false", "N/A", "false", "N/A"])
        for user in users:
            profile = user.get("login_profile")
            row = [user["name"], user["arn"], _iso(user["created"]),
                   "true" if profile else "false",
                   _iso(user.get("password_used"), "no_information"),
                   _iso(profile.get("changed", profile["created"])) if profile else "N/A", "N/A",
                   "true" if self.user_devices(user) else "false"]
            keys = self.user_keys(user)
            for index in range(ACCESS_KEYS_PER_USER):
                key = keys[index] if index < len(keys) else None
                used = (key or {}).get("last_used") or {}
                row += ["true" if key and key["status"] == "Active" else "false",
                        _iso(key["created"]) if key else "N/A", _iso(used.get("date")),
                        used.get("region", "N/A"), used.get("service", "N/A")]
            certs = certificates(user)
            for index in range(2):
                cert = certs[index] if index < len(certs) else None
                row += ["true" if cert and cert["status"] == "Active" else "false",
                        _iso(cert["created"]) if cert else "N/A"]
            writer.writerow(row)
        return out.getvalue()
