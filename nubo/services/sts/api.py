"""AWS Security Token Service handlers."""

from __future__ import annotations

import asyncio

from nubo.core.context import RequestContext
from nubo.core.ids import account_of_access_key, unique_id
from nubo.core.runtime import Runtime
from nubo.gateway.authorization import access_denied, denial_message
from nubo.policy import ResourcePolicy
from nubo.services.base import ServiceProvider, handler
from nubo.services.sts import models
from nubo.services.sts.models import Sessions

DEFAULT_ROLE_DURATION = 3600
DEFAULT_TOKEN_DURATION = 43200
SWEEP_INTERVAL = 3600.0


class StsProvider(ServiceProvider):
    service_name = "sts"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.sessions = Sessions(runtime.store)

    @property
    def _authorizer(self):
        return self.runtime.authorizer

    def _mfa(self, ctx: RequestContext, SerialNumber: str | None,
             TokenCode: str | None) -> bool:
        """Whether the request proves MFA: the code must be the device's current TOTP code.
        With IAM off, a device nubo does not know is taken on trust (drop-in use)."""
        from nubo.services.iam.directory import IamDirectory

        if not TokenCode and not SerialNumber:
            return False
        if not TokenCode or not SerialNumber:
            raise models.validation_error("MultiFactorAuthentication failed, must provide both "
                                          "MFA serial number and one time pass code.")
        account = SerialNumber.split(":")[4] if SerialNumber.count(":") >= 5 else ctx.account_id
        directory = IamDirectory(self.runtime.store, self.runtime.clock)
        known = directory.mfa_device_user(account, SerialNumber) is not None
        if not known and self._authorizer.mode == "off":
            return True
        if not known or not directory.mfa_code_valid(account, SerialNumber, TokenCode,
                                                     self.runtime.clock.now()):
            raise access_denied(ctx.protocol, "MultiFactorAuthentication failed with invalid "
                                "MFA one time pass code.")
        return True

    @handler("GetCallerIdentity")
    def get_caller_identity(self, ctx: RequestContext) -> dict:
        principal = self._authorizer.caller(ctx.access_key_id, ctx.account_id).principal
        return {"UserId": principal.user_id, "Account": principal.account_id,
                "Arn": principal.arn}

    @handler("GetAccessKeyInfo")
    def get_access_key_info(self, ctx: RequestContext, AccessKeyId: str) -> dict:
        account = account_of_access_key(AccessKeyId)
        if account is None:
            if len(AccessKeyId) == 12 and AccessKeyId.isdigit():
                account = AccessKeyId
            else:
                raise models.validation_error(f"Invalid access key id: {AccessKeyId}")
        return {"Account": account}

    @handler("AssumeRole")
    def assume_role(self, ctx: RequestContext, RoleArn: str, RoleSessionName: str,
                    PolicyArns: list | None = None, Policy: str | None = None,
                    DurationSeconds: int | None = None, Tags: list | None = None,
                    TransitiveTagKeys: list | None = None, ExternalId: str | None = None,
                    SerialNumber: str | None = None, TokenCode: str | None = None,
                    SourceIdentity: str | None = None) -> dict:
        from nubo.services.iam.directory import IamDirectory

        models.check_session_name(RoleSessionName)
        account, _, role_name = models.parse_role_arn(RoleArn)
        caller = self._authorizer.caller(ctx.access_key_id, ctx.account_id)
        role = IamDirectory(self.runtime.store).role(account, role_name)
        enforcing = self._authorizer.mode != "off"
        if role is None and enforcing:
            raise access_denied(ctx.protocol, f"User: {caller.principal.arn} is not authorized "
                                f"to perform: sts:AssumeRole on resource: {RoleArn}")
        duration = DurationSeconds or DEFAULT_ROLE_DURATION
        chained = caller.principal.kind == "assumed-role"
        models.check_duration(duration, (role or {}).get("MaxSessionDuration", 43200),
                              chained=chained)
        if enforcing:
            context = {"sts:externalid": ExternalId, "sts:rolesessionname": RoleSessionName,
                       "sts:sourceidentity": SourceIdentity,
                       "aws:multifactorauthpresent": "true" if self._mfa(
                           ctx, SerialNumber, TokenCode) else None}
            for action in ("sts:AssumeRole",) + (("sts:TagSession",) if Tags else ()) + \
                    (("sts:SetSourceIdentity",) if SourceIdentity else ()):
                decision = self._authorizer.decide(
                    ctx, caller, action, RoleArn, context={k: v for k, v in context.items()
                                                           if v is not None},
                    resource_policy=ResourcePolicy(role["AssumeRolePolicyDocument"], account,
                                                   authoritative=True))
                if not decision.allowed and self._authorizer.mode == "enforce":
                    raise access_denied(ctx.protocol, denial_message(
                        caller.principal, action, RoleArn, decision))
        mfa = self._mfa(ctx, SerialNumber, TokenCode)
        packed = models.packed_policy_size(Policy, PolicyArns, Tags)
        role_id = (role or {}).get("RoleId") or unique_id("AROA")
        session_arn = f"arn:{ctx.partition}:sts::{account}:assumed-role/{role_name}/" \
                      f"{RoleSessionName}"
        record = self.sessions.issue(account=account, now=self.runtime.clock.now(),
                                     duration=duration, principal={
            "kind": "assumed-role", "arn": session_arn, "name": role_name,
            "user_id": f"{role_id}:{RoleSessionName}", "role_arn": (role or {}).get("Arn")
            or RoleArn, "policies": [Policy] if Policy else [],
            "policy_arns": [p["arn"] for p in PolicyArns or () if p.get("arn")],
            "principal_tags": {**(role or {}).get("Tags", {}),
                               **{t["Key"]: t["Value"] for t in Tags or ()}},
            "source_identity": SourceIdentity, "mfa": mfa})
        self._authorizer.changed()
        result = {"Credentials": models.credentials(record), "PackedPolicySize": packed,
                  "AssumedRoleUser": {"AssumedRoleId": record["user_id"], "Arn": session_arn}}
        if SourceIdentity:
            result["SourceIdentity"] = SourceIdentity
        return result

    @handler("GetSessionToken")
    def get_session_token(self, ctx: RequestContext, DurationSeconds: int | None = None,
                          SerialNumber: str | None = None, TokenCode: str | None = None) -> dict:
        caller = self._authorizer.caller(ctx.access_key_id, ctx.account_id)
        principal = caller.principal
        if principal.kind not in ("user", "root"):
            raise access_denied(ctx.protocol, "Cannot call GetSessionToken with session "
                                "credentials")
        mfa = self._mfa(ctx, SerialNumber, TokenCode)
        duration = DurationSeconds or DEFAULT_TOKEN_DURATION
        if principal.is_root and duration > 3600:
            duration = 3600  # root sessions are capped at one hour
        record = self.sessions.issue(account=principal.account_id, now=self.runtime.clock.now(),
                                     duration=duration, principal={
            "kind": principal.kind, "arn": principal.arn, "name": principal.name,
            "user_id": principal.user_id, "parent_user": principal.name
            if principal.kind == "user" else None, "mfa": mfa})
        self._authorizer.changed()
        return {"Credentials": models.credentials(record)}

    @handler("GetFederationToken")
    def get_federation_token(self, ctx: RequestContext, Name: str, Policy: str | None = None,
                             PolicyArns: list | None = None, DurationSeconds: int | None = None,
                             Tags: list | None = None) -> dict:
        caller = self._authorizer.caller(ctx.access_key_id, ctx.account_id)
        principal = caller.principal
        if principal.kind not in ("user", "root"):
            raise access_denied(ctx.protocol, "Cannot call GetFederationToken with session "
                                "credentials")
        models.check_session_name(Name, "name")
        packed = models.packed_policy_size(Policy, PolicyArns, Tags)
        duration = DurationSeconds or DEFAULT_TOKEN_DURATION
        if principal.is_root and duration > 3600:
            duration = 3600
        account = principal.account_id
        arn = f"arn:{ctx.partition}:sts::{account}:federated-user/{Name}"
        record = self.sessions.issue(account=account, now=self.runtime.clock.now(),
                                     duration=duration, principal={
            "kind": "federated-user", "arn": arn, "name": Name, "user_id": f"{account}:{Name}",
            "parent_user": principal.name if principal.kind == "user" else None,
            "policies": [Policy] if Policy else [],
            "policy_arns": [p["arn"] for p in PolicyArns or () if p.get("arn")],
            "principal_tags": {t["Key"]: t["Value"] for t in Tags or ()}})
        self._authorizer.changed()
        return {"Credentials": models.credentials(record), "PackedPolicySize": packed,
                "FederatedUser": {"FederatedUserId": record["user_id"], "Arn": arn}}

    async def background(self) -> None:
        while True:
            with self.runtime.store.transaction():
                self.sessions.forget_expired(self.runtime.clock.now())
            await asyncio.sleep(SWEEP_INTERVAL)
