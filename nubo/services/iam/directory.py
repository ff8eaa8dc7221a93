"""What the authenticator and the policy evaluator read from IAM: pure reads from the store,
each a handful of key or index lookups (O(log n) in the stored data).

``IamDirectory(runtime.store)`` works before IAM ever served a request: the tables are created
on first use. Documents come back parsed; ARNs and names as IAM stores them.
"""

from __future__ import annotations

import weakref

from nubo.core.clock import Clock
from nubo.services.iam import documents
from nubo.services.iam.access_advisor import AccessAdvisor
from nubo.services.iam.credentials import is_recent_use
from nubo.services.iam.models import Iam
from nubo.store import Store


def _tags(record: dict) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in record.get("tags", [])}


# One domain object per store: a directory is cheap to make per request.
_MODELS: "weakref.WeakKeyDictionary[Store, Iam]" = weakref.WeakKeyDictionary()


class IamDirectory:
    """Documents returned are parsed once and shared: callers must not modify them."""

    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        iam = _MODELS.get(store)
        if iam is None:
            iam = _MODELS[store] = Iam(store, clock or Clock())
        self.iam = iam

    # -- credentials -----------------------------------------------------------------------

    def access_key(self, access_key_id: str) -> dict | None:
        key = self.iam.credentials.key(access_key_id)
        if key is None:
            return None
        user = self.iam.users.by_id(key["user_id"])
        if user is None:
            return None
        return {"AccessKeyId": key["access_key_id"], "SecretAccessKey": key["secret"],
                "Status": key["status"], "UserName": user["name"], "AccountId": key["account"],
                "UserArn": user["arn"], "UserId": user["id"]}

    def note_key_used(self, access_key_id: str, service: str, region: str,
                      when: float) -> None:
        """Record GetAccessKeyLastUsed's answer (service is the signing name, e.g. "s3"). Cheap
        to call on every request: it writes at most once a minute per key, service and region."""
        self.iam.credentials.note_key_used(access_key_id, service, region, when)

    def note_role_used(self, account_id: str, role_name: str, region: str,
                       when: float) -> None:
        """Record GetRole's RoleLastUsed (when a session of the role made a request)."""
        role = self.iam.roles.get(account_id, role_name)
        used = {"date": when, "region": region}
        if role is not None and not is_recent_use(role.get("last_used"), used):
            role["last_used"] = used
            self.iam.roles.save(role)

    def note_service_used(self, account_id: str, kind: str, name: str, namespace: str,
                          action: str, region: str, when: float) -> None:
        """Record Access Advisor's last access of a service action by a user or role."""
        AccessAdvisor(self.iam.store, self.iam.clock, self.iam).note_used(
            account_id, kind, name, namespace, action, region, when)

    def mfa_code_valid(self, account_id: str, serial_number: str, code: str,
                       when: float) -> bool:
        """Whether ``code`` is the current TOTP code (or the one before or after) of an MFA
        device enabled for a user of the account (GetSessionToken, AssumeRole with MFA)."""
        return self.iam.credentials.verify_code(account_id, serial_number, code, when)

    def mfa_device_user(self, account_id: str, serial_number: str) -> str | None:
        """The name of the user the MFA device is enabled for, if any."""
        device = self.iam.credentials.mfa.get((account_id, serial_number))
        if device is None or device["user_id"] is None:
            return None
        user = self.iam.users.by_id(device["user_id"])
        return user["name"] if user else None

    def organization_features(self, account_id: str, org_id: str) -> list[str]:
        """The centralized root access features (RootCredentialsManagement, RootSessions) the
        management account enabled for its organization."""
        return self.iam.accounts.get(account_id).get("org_features", {}).get(org_id, [])

    def outbound_issuer(self, account_id: str) -> str | None:
        """The account's outbound identity federation issuer URL, None unless enabled."""
        state = self.iam.accounts.get(account_id).get("outbound_federation") or {}
        return state["issuer"] if state.get("enabled") else None

    # -- identities ------------------------------------------------------------------------

    def user(self, account_id: str, user_name: str) -> dict | None:
        user = self.iam.users.get(account_id, user_name)
        if user is None:
            return None
        return {"Arn": user["arn"], "UserId": user["id"], "UserName": user["name"],
                "Path": user["path"], "Tags": _tags(user),
                "PermissionsBoundary": user.get("boundary")}

    def role(self, account_id: str, role_name: str) -> dict | None:
        role = self.iam.roles.get(account_id, role_name)
        if role is None:
            return None
        return {"Arn": role["arn"], "RoleId": role["id"], "RoleName": role["name"],
                "Path": role["path"],
                "AssumeRolePolicyDocument": documents.parsed(role["trust"]),
                "MaxSessionDuration": role["max_session"], "Tags": _tags(role),
                "PermissionsBoundary": role.get("boundary")}

    def saml_provider(self, account_id: str, arn: str) -> dict | None:
        provider = self.iam.providers.get((account_id, "saml", arn))
        if provider is None:
            return None
        return {"Arn": arn, "Metadata": provider["metadata"],
                "AssertionEncryptionMode": provider.get("encryption_mode", "Allowed"),
                "PrivateKeys": [key["pem"] for key in provider.get("private_keys", ())]}

    def oidc_provider(self, account_id: str, arn: str) -> dict | None:
        provider = self.iam.providers.get((account_id, "oidc", arn))
        if provider is None:
            return None
        return {"Arn": arn, "Url": provider["url"], "ClientIDList": provider["client_ids"],
                "ThumbprintList": provider["thumbprints"]}

    # -- policies --------------------------------------------------------------------------

    def managed_policy_document(self, account_id: str, policy_arn: str) -> dict | None:
        policy = self.iam.policies.find(account_id, policy_arn)
        if policy is None:
            return None
        return documents.parsed(self.iam.policies.default_document(policy))

    def identity_policies(self, account_id: str, kind: str, name: str) -> list[dict]:
        """Every identity-based policy of the user or role: inline ones, attached managed ones
        (default version) and, for a user, those of its groups."""
        entities = self.iam.users if kind == "user" else self.iam.roles
        entity = entities.get(account_id, name)
        if entity is None:
            return []
        return [documents.parsed(text)
                for _, text in self.iam.identity_policy_texts(account_id, kind, entity)]
