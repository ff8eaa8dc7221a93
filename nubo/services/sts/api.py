"""AWS Security Token Service handlers."""

from __future__ import annotations

import asyncio

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.core.http import HttpRequest, HttpResponse
from nubo.core.ids import account_of_access_key, unique_id
from nubo.core.runtime import Runtime
from nubo.gateway.authorization import Caller, access_denied, denial_message
from nubo.policy import Principal, ResourcePolicy
from nubo.services.base import ServiceProvider, handler
from nubo.services.organizations.directory import OrganizationsDirectory
from nubo.services.sts import federation, models, oidc, web_tokens
from nubo.services.sts.messages import AuthorizationMessages
from nubo.services.sts.models import Sessions

DEFAULT_ROLE_DURATION = 3600
DEFAULT_TOKEN_DURATION = 43200
SWEEP_INTERVAL = 3600.0


class StsProvider(ServiceProvider):
    service_name = "sts"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.sessions = Sessions(runtime.store)
        self.signing_keys = oidc.SigningKeys()
        self.web_tokens = web_tokens.WebTokens(runtime.store)

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

    @handler("DecodeAuthorizationMessage")
    def decode_authorization_message(self, ctx: RequestContext, EncodedMessage: str) -> dict:
        return {"DecodedMessage": AuthorizationMessages(self.runtime.store).decode(
            EncodedMessage)}

    @handler("AssumeRole")
    def assume_role(self, ctx: RequestContext, RoleArn: str, RoleSessionName: str,
                    PolicyArns: list | None = None, Policy: str | None = None,
                    DurationSeconds: int | None = None, Tags: list | None = None,
                    TransitiveTagKeys: list | None = None, ExternalId: str | None = None,
                    SerialNumber: str | None = None, TokenCode: str | None = None,
                    SourceIdentity: str | None = None) -> dict:
        models.check_session_name(RoleSessionName)
        caller = self._authorizer.caller(ctx.access_key_id, ctx.account_id)
        account, role_name, role = self._role(ctx, caller, RoleArn, "sts:AssumeRole")
        duration = DurationSeconds or DEFAULT_ROLE_DURATION
        models.check_duration(duration, (role or {}).get("MaxSessionDuration", 43200),
                              chained=caller.principal.kind == "assumed-role")
        mfa = self._mfa(ctx, SerialNumber, TokenCode)
        actions = ("sts:AssumeRole",) + (("sts:TagSession",) if Tags else ()) + \
            (("sts:SetSourceIdentity",) if SourceIdentity else ())
        self._check_trust(ctx, caller, actions, RoleArn, account, role, {
            "sts:externalid": ExternalId, "sts:rolesessionname": RoleSessionName,
            "sts:sourceidentity": SourceIdentity,
            "aws:multifactorauthpresent": "true" if mfa else None})
        # Transitive tags of a chained session carry over to the next one.
        inherited = {k: v for k, v in caller.context.items()
                     if k.startswith("aws:principaltag/")} if caller.transitive else {}
        tags = {t["Key"]: t["Value"] for t in Tags or ()}
        return self._issue_role_session(
            ctx, account, role_name, role, RoleArn, RoleSessionName, duration, Policy,
            PolicyArns, tags, SourceIdentity, mfa, inherited_tags=inherited,
            transitive=list(TransitiveTagKeys or ()))

    @handler("AssumeRoleWithWebIdentity")
    async def assume_role_with_web_identity(self, ctx: RequestContext, RoleArn: str,
                                            RoleSessionName: str, WebIdentityToken: str,
                                            ProviderId: str | None = None,
                                            PolicyArns: list | None = None,
                                            Policy: str | None = None,
                                            DurationSeconds: int | None = None) -> dict:
        from nubo.services.iam.directory import IamDirectory

        models.check_session_name(RoleSessionName)
        account, _, role_name = models.parse_role_arn(RoleArn)
        identity = federation.parse_jwt(WebIdentityToken)
        provider_arn = identity.issuer if identity.issuer in federation.BUILT_IN_PROVIDERS \
            else f"arn:{ctx.partition}:iam::{account}:oidc-provider/{identity.issuer}"
        provider = IamDirectory(self.runtime.store).oidc_provider(account, provider_arn)
        federation.check_web_identity(identity, provider, self.runtime.clock.now())
        if provider is not None and self._authorizer.mode != "off":
            # The IdP's keys are fetched over the network: off the event loop, outside any
            # transaction. Drop-in use without IAM keeps to the claims.
            await asyncio.to_thread(self.signing_keys.verify, WebIdentityToken, provider["Url"],
                                    provider["ThumbprintList"])
        with self.runtime.store.transaction():
            caller = self._federated_caller(account, provider_arn)
            account, role_name, role = self._role(ctx, caller, RoleArn,
                                                  "sts:AssumeRoleWithWebIdentity")
            duration = DurationSeconds or DEFAULT_ROLE_DURATION
            models.check_duration(duration, (role or {}).get("MaxSessionDuration", 43200),
                                  chained=False)
            issuer = identity.issuer.lower()
            self._check_trust(ctx, caller, ("sts:AssumeRoleWithWebIdentity",), RoleArn, account,
                              role, {f"{issuer}:aud": identity.audience,
                                     f"{issuer}:sub": identity.subject,
                                     f"{issuer}:amr": identity.claims.get("amr")})
            result = self._issue_role_session(ctx, account, role_name, role, RoleArn,
                                              RoleSessionName, duration, Policy, PolicyArns, {},
                                              None, False)
        result.update(SubjectFromWebIdentityToken=identity.subject, Audience=identity.audience,
                      Provider=identity.issuer if provider is None else provider_arn)
        return result

    @handler("AssumeRoleWithSAML")
    def assume_role_with_saml(self, ctx: RequestContext, RoleArn: str, PrincipalArn: str,
                              SAMLAssertion: str, PolicyArns: list | None = None,
                              Policy: str | None = None,
                              DurationSeconds: int | None = None) -> dict:
        from nubo.services.iam.directory import IamDirectory

        account, _, role_name = models.parse_role_arn(RoleArn)
        document = federation.decode_saml(SAMLAssertion)
        provider = IamDirectory(self.runtime.store).saml_provider(account, PrincipalArn)
        verify = self._authorizer.mode != "off"  # drop-in use without IAM takes any assertion
        if verify and provider is None:
            raise federation.invalid_token(f"SAML provider {PrincipalArn} does not exist")
        assertion = federation.parse_saml(federation.saml_document(document, provider, verify))
        federation.check_saml(assertion, RoleArn, PrincipalArn, self.runtime.clock.now())
        models.check_session_name(assertion.session_name)
        caller = self._federated_caller(account, PrincipalArn)
        account, role_name, role = self._role(ctx, caller, RoleArn, "sts:AssumeRoleWithSAML")
        duration = DurationSeconds or assertion.session_duration or DEFAULT_ROLE_DURATION
        models.check_duration(duration, (role or {}).get("MaxSessionDuration", 43200),
                              chained=False)
        provider_name = PrincipalArn.rsplit("/", 1)[-1]
        qualifier = federation.name_qualifier(assertion.issuer, account, provider_name)
        self._check_trust(ctx, caller, ("sts:AssumeRoleWithSAML",), RoleArn, account, role, {
            "saml:aud": federation.SAML_AUDIENCE, "saml:sub": assertion.subject,
            "saml:sub_type": assertion.subject_type, "saml:iss": assertion.issuer,
            "saml:namequalifier": qualifier})
        result = self._issue_role_session(ctx, account, role_name, role, RoleArn,
                                          assertion.session_name, duration, Policy, PolicyArns,
                                          {}, None, False)
        result.update(Subject=assertion.subject, SubjectType=assertion.subject_type,
                      Issuer=assertion.issuer, Audience=federation.SAML_AUDIENCE,
                      NameQualifier=qualifier)
        return result

    # -- role sessions ---------------------------------------------------------------------

    def _role(self, ctx: RequestContext, caller: Caller, role_arn: str,
              action: str) -> tuple[str, str, dict | None]:
        """(account, name, IAM role) of a role ARN. A role that does not exist is AccessDenied
        when IAM is on; with IAM off, nubo assumes it anyway (drop-in use without IAM set up)."""
        from nubo.services.iam.directory import IamDirectory

        account, _, name = models.parse_role_arn(role_arn)
        role = IamDirectory(self.runtime.store).role(account, name)
        if role is None and self._authorizer.mode == "enforce":
            raise access_denied(ctx.protocol, f"User: {caller.principal.arn} is not authorized "
                                f"to perform: {action} on resource: {role_arn}")
        return account, name, role

    def _check_trust(self, ctx: RequestContext, caller: Caller, actions: tuple[str, ...],
                     role_arn: str, account: str, role: dict | None, context: dict) -> None:
        """The role's trust policy (with the caller's own policies across accounts) must
        allow each action; soft mode only logs."""
        if self._authorizer.mode == "off" or role is None:
            return
        trust = ResourcePolicy(role["AssumeRolePolicyDocument"], account, authoritative=True)
        present = {k: v for k, v in context.items() if v is not None}
        for action in actions:
            decision = self._authorizer.decide(ctx, caller, action, role_arn, context=present,
                                               resource_policy=trust)
            if not decision.allowed and self._authorizer.mode == "enforce":
                raise access_denied(ctx.protocol, denial_message(caller.principal, action,
                                                                 role_arn, decision))

    @staticmethod
    def _federated_caller(account: str, provider: str) -> Caller:
        """The identity provider as the principal a trust policy names (Federated)."""
        return Caller(Principal(account, provider, "federated", name=provider), secret="")

    def _issue_role_session(self, ctx: RequestContext, account: str, role_name: str,
                            role: dict | None, role_arn: str, session_name: str, duration: int,
                            policy: str | None, policy_arns: list | None, tags: dict,
                            source_identity: str | None, mfa: bool, *,
                            inherited_tags: dict | None = None,
                            transitive: list | None = None) -> dict:
        packed = models.packed_policy_size(policy, policy_arns,
                                           [{"Key": k, "Value": v} for k, v in tags.items()])
        role_id = (role or {}).get("RoleId") or unique_id("AROA")
        session_arn = f"arn:{ctx.partition}:sts::{account}:assumed-role/{role_name}/" \
                      f"{session_name}"
        principal_tags = {**(role or {}).get("Tags", {}), **tags}
        principal_tags.update({k.removeprefix("aws:principaltag/"): v
                               for k, v in (inherited_tags or {}).items()})
        record = self.sessions.issue(account=account, now=self.runtime.clock.now(),
                                     duration=duration, principal={
            "kind": "assumed-role", "arn": session_arn, "name": role_name,
            "user_id": f"{role_id}:{session_name}", "role_arn": (role or {}).get("Arn")
            or role_arn, "policies": [policy] if policy else [],
            "policy_arns": [p["arn"] for p in policy_arns or () if p.get("arn")],
            "principal_tags": principal_tags, "transitive": bool(transitive or inherited_tags),
            "source_identity": source_identity, "mfa": mfa})
        result = {"Credentials": models.credentials(record), "PackedPolicySize": packed,
                  "AssumedRoleUser": {"AssumedRoleId": record["user_id"], "Arn": session_arn}}
        if source_identity:
            result["SourceIdentity"] = source_identity
        return result

    @handler("AssumeRoot")
    def assume_root(self, ctx: RequestContext, TargetPrincipal: str, TaskPolicyArn: dict,
                    DurationSeconds: int | None = None) -> dict:
        """A privileged session as a member account's root user, limited by a root task
        policy, for the management account of an organization with centralized root access
        (RootSessions). With IAM off, the organization is not checked (drop-in use)."""
        policy_arn = TaskPolicyArn.get("arn", "")
        target = models.check_root_task(TargetPrincipal, policy_arn)
        caller = self._authorizer.caller(ctx.access_key_id, ctx.account_id)
        root_arn = f"arn:{ctx.partition}:iam::{target}:root"
        if self._authorizer.mode != "off" and not self._root_sessions_allowed(
                caller.principal, target):
            raise access_denied(ctx.protocol, f"User: {caller.principal.arn} is not authorized "
                                f"to perform: sts:AssumeRoot on resource: {root_arn}")
        record = self.sessions.issue(
            account=target, now=self.runtime.clock.now(),
            duration=DurationSeconds or models.ROOT_SESSION_LIMIT, principal={
                "kind": "root", "arn": root_arn, "name": "", "user_id": target,
                "policy_arns": [policy_arn]})
        return {"Credentials": models.credentials(record)}

    def _root_sessions_allowed(self, principal: Principal, target: str) -> bool:
        """Whether ``principal`` (not a root user) belongs to the management account, or to a
        delegated administrator for IAM, of the organization of ``target`` (another member),
        with root sessions enabled by the management account."""
        from nubo.services.iam.directory import IamDirectory

        organizations = OrganizationsDirectory(self.runtime.store)
        organization = organizations.organization_of(principal.account_id)
        if principal.is_root or organization is None or target == principal.account_id or \
                (organizations.organization_of(target) or {}).get("Id") != organization["Id"]:
            return False
        management = organization["MasterAccountId"]
        if principal.account_id != management and not organizations.delegated_administrator(
                principal.account_id, "iam.amazonaws.com"):
            return False
        return "RootSessions" in IamDirectory(self.runtime.store).organization_features(
            management, organization["Id"])

    def resource_names(self, ctx: RequestContext, operation: str, params: dict) -> dict:
        # AssumeRoot acts on the target account's root user (sts:AssumeRoot's resource).
        if operation == "AssumeRoot" and isinstance(params.get("TargetPrincipal"), str):
            return {"Account": models.root_target(params["TargetPrincipal"])}
        return {}

    def condition_context(self, ctx: RequestContext, operation: str,
                          params: dict) -> dict[str, object]:
        if operation == "AssumeRoot":
            return {"sts:taskpolicyarn": (params.get("TaskPolicyArn") or {}).get("arn")}
        if operation == "GetWebIdentityToken":
            return {"sts:identitytokenaudience": list(params.get("Audience") or ()),
                    "sts:signingalgorithm": params.get("SigningAlgorithm"),
                    "sts:durationseconds": str(params.get("DurationSeconds")
                                               or web_tokens.DEFAULT_DURATION)}
        return {}

    @handler("GetWebIdentityToken")
    def get_web_identity_token(self, ctx: RequestContext, Audience: list[str],
                               SigningAlgorithm: str, DurationSeconds: int | None = None,
                               Tags: list | None = None) -> dict:
        """A JWT asserting the caller's identity, for external services (outbound identity
        federation, enabled per account in IAM)."""
        from nubo.services.iam.directory import IamDirectory

        caller = self._authorizer.caller(ctx.access_key_id, ctx.account_id)
        principal = caller.principal
        directory = IamDirectory(self.runtime.store)
        issuer = directory.outbound_issuer(principal.account_id)
        if issuer is None:
            raise ServiceError("OutboundWebIdentityFederationDisabledException", "The outbound "
                               "web identity federation feature is not enabled for this "
                               "account. To use this feature, you must first enable it through "
                               "the Amazon Web Services Management Console or API.", 403)
        if SigningAlgorithm not in web_tokens.ALGORITHMS:
            raise models.validation_error(f"Unsupported signing algorithm: {SigningAlgorithm}. "
                                          "Supported values are RS256 and ES384.")
        now = self.runtime.clock.now()
        duration = DurationSeconds or web_tokens.DEFAULT_DURATION
        if caller.expires is not None and now + duration > caller.expires:
            raise ServiceError("SessionDurationEscalationException", "The requested token "
                               "duration would extend the session beyond its original "
                               "expiration time. You cannot use this operation to extend the "
                               "lifetime of a session beyond what was granted when the session "
                               "was originally created.", 403)
        claims: dict = {"aws_account": principal.account_id, "source_region": ctx.region}
        if caller.context.get("aws:principalorgid"):
            claims["org_id"] = caller.context["aws:principalorgid"]
            claims["ou_path"] = caller.context["aws:principalorgpaths"][0]
        tags = self._principal_tags(ctx, caller)
        if tags:
            claims["principal_tags"] = tags
        if Tags:
            claims["request_tags"] = {tag["Key"]: tag["Value"] for tag in Tags}
        token = self.web_tokens.issue(
            principal.account_id, issuer, SigningAlgorithm, web_tokens.claims_of(
                issuer, principal.role_arn or principal.arn, Audience, now, duration, claims))
        return {"WebIdentityToken": token, "Expiration": now + duration}

    def _principal_tags(self, ctx: RequestContext, caller: Caller) -> dict[str, str]:
        """The tags of the user, or of the role session, as they were written."""
        from nubo.services.iam.directory import IamDirectory

        if caller.expires is not None:
            return dict((self.sessions.get(ctx.access_key_id) or {}).get("principal_tags") or {})
        if caller.identity is not None and caller.identity[0] == "user":
            user = IamDirectory(self.runtime.store).user(caller.principal.account_id,
                                                          caller.identity[1])
            return dict((user or {}).get("Tags") or {})
        return {}

    async def serve_endpoint(self, request: HttpRequest) -> HttpResponse | None:
        """The OIDC discovery documents of outbound identity federation issuers."""
        return self.web_tokens.serve(request)

    @handler("GetSessionToken")
    def get_session_token(self, ctx: RequestContext, DurationSeconds: int | None = None,
                          SerialNumber: str | None = None, TokenCode: str | None = None) -> dict:
        caller = self._authorizer.caller(ctx.access_key_id, ctx.account_id)
        principal = caller.principal
        if caller.expires is not None:
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
        return {"Credentials": models.credentials(record)}

    @handler("GetFederationToken")
    def get_federation_token(self, ctx: RequestContext, Name: str, Policy: str | None = None,
                             PolicyArns: list | None = None, DurationSeconds: int | None = None,
                             Tags: list | None = None) -> dict:
        caller = self._authorizer.caller(ctx.access_key_id, ctx.account_id)
        principal = caller.principal
        if caller.expires is not None:
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
        return {"Credentials": models.credentials(record), "PackedPolicySize": packed,
                "FederatedUser": {"FederatedUserId": record["user_id"], "Arn": arn}}

    async def background(self) -> None:
        while True:
            with self.runtime.store.transaction():
                self.sessions.forget_expired(self.runtime.clock.now())
            await asyncio.sleep(SWEEP_INTERVAL)
