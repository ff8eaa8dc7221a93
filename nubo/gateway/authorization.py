"""Authorization: who a request's credentials belong to, which policies apply, and the decision.

``Authorizer.caller`` resolves an access key to a principal: the default keys (``test``, any
12-digit key, any key nubo did not issue) are their account's root user, as LocalStack users
expect; AKIA keys are IAM users' keys; ASIA keys are STS sessions. ``Authorizer.authorize`` is step
3 of the request path: it maps the operation to its IAM action(s) and resource ARN(s)
(nubo.policy.actions), gathers the caller's policies and the resource's policy, and evaluates them
with nubo.policy. Mode ``off`` skips it, ``soft`` logs denials, ``enforce`` answers AccessDenied.
Resolved callers are cached until an identity service (IAM, STS, Organizations) handles a request.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.core.http import HttpRequest
from nubo.gateway import signatures
from nubo.core.runtime import Runtime
from nubo.policy import (AuthzRequest, Decision, PolicySet, Principal, ResourcePolicy, evaluate,
                         parse_policy)
from nubo.policy.actions import SELF_AUTHORIZED, action_spec, iam_prefix, resources_of
from nubo.services.organizations.directory import OrganizationsDirectory

if TYPE_CHECKING:
    from nubo.services.base import ServiceProvider

log = logging.getLogger("nubo.iam")

USAGE_FLUSH_SECONDS = 5.0
# Operations of the identity services that change nothing: they keep the callers' caches.
READ_ONLY = ("Get", "List", "Describe", "Simulate", "Generate", "Decode")
IDENTITY_SERVICES = frozenset({"iam", "sts", "organizations"})
DEFAULT_SECRET = "test"  # the secret of the default keys, for signature checks


@dataclass
class Caller:
    principal: Principal
    secret: str  # the secret access key, for signature verification
    token: str = ""  # the session token temporary credentials must come with
    expires: float | None = None
    identity: tuple[str, str] | None = None  # ("user"|"role", name) whose policies apply
    session_policies: list[str] | None = None  # documents (texts), None if not a session
    session_policy_arns: list[str] = field(default_factory=list)
    active: bool = True
    known: bool = True  # False: a key nubo did not issue, accepted as root unless verifying
    transitive: bool = False  # a session whose tags pass on to the sessions it assumes
    context: dict[str, Any] = field(default_factory=dict)  # aws:* keys of the principal
    policies: PolicySet | None = None  # computed on first use
    decisions: dict = field(default_factory=dict)  # context-free decisions (see decide)


def root_of(account_id: str, partition: str = "aws") -> Principal:
    return Principal(account_id, f"arn:{partition}:iam::{account_id}:root", "root",
                     user_id=account_id)


def access_denied(protocol: str, message: str, *, query_compatible: bool = False) -> ServiceError:
    """AccessDenied as each protocol's services word it: XML services ``AccessDenied`` 403,
    JSON services ``AccessDeniedException`` (400 for Coral JSON, 403 behind REST); JSON
    services that were query services (SQS) keep the query code for their clients."""
    if query_compatible:
        return ServiceError("AccessDenied", message, 403 if protocol == "query" else 400)
    if protocol in ("json", "smithy-rpc-v2-cbor"):
        return ServiceError("AccessDeniedException", message, 400)
    if protocol == "rest-json":
        return ServiceError("AccessDeniedException", message, 403)
    return ServiceError("AccessDenied", message, 403)


ANONYMOUS = Principal("", "anonymous", "anonymous")


def denial_message(principal: Principal, action: str, resource: str, decision: Decision,
                   service: str = "") -> str:
    if principal.kind == "anonymous":
        return "Access Denied"  # S3 tells an anonymous caller nothing more
    quoted = f'"{resource}"' if service == "s3" else resource  # S3 quotes the ARN
    on = f" on resource: {quoted}" if resource != "*" else ""
    return (f"User: {principal.arn} is not authorized to perform: {action}{on} "
            f"{decision.reason(action)}")


class Authorizer:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.mode = runtime.config.iam
        self.verify = runtime.config.verify_signatures
        self._callers: dict[tuple[str, str], Caller] = {}
        # Last use of IAM users' keys and of roles (GetAccessKeyLastUsed, RoleLastUsed),
        # coalesced in memory and written every USAGE_FLUSH_SECONDS or before IAM answers.
        self._usage: dict[tuple, tuple] = {}
        # aws:ResourceAccount/OrgID/OrgPaths by owning account, until identity data changes.
        self._resource_owners: dict[str, dict[str, Any]] = {}

    # -- who is calling ----------------------------------------------------------------------

    def changed(self) -> None:
        """Identity data may have changed (a request to IAM, STS or Organizations that is not
        a read): forget the cached callers, their policies and decisions. New keys need no
        call: a key is cached only once it was looked up."""
        self._callers.clear()
        self._resource_owners.clear()

    def account_of(self, access_key_id: str, default_account: str) -> str:
        """The account of a request's key: that of the user or session for keys nubo issued."""
        if access_key_id[:4] not in ("AKIA", "ASIA"):
            return default_account
        return self.caller(access_key_id, default_account).principal.account_id

    def caller(self, access_key_id: str, account_id: str) -> Caller:
        cache_key = (access_key_id, account_id)
        found = self._callers.get(cache_key)
        if found is None:
            found = self._resolve(access_key_id, account_id)
            organizations = OrganizationsDirectory(self.runtime.store)
            account = found.principal.account_id
            organization = organizations.organization_of(account)
            if organization is not None:
                found.context["aws:principalorgid"] = organization["Id"]
                found.context["aws:principalorgpaths"] = [organizations.organization_path(
                    account)]
            if len(self._callers) > 100_000:
                self._callers.clear()
            self._callers[cache_key] = found
        return found

    def _resolve(self, key: str, account_id: str) -> Caller:
        if not key:
            return Caller(ANONYMOUS, secret="")
        from nubo.services.iam.directory import IamDirectory
        from nubo.services.sts.models import Sessions

        store = self.runtime.store
        if key[:4] == "ASIA":
            session = Sessions(store).get(key)
            if session is not None:
                return _session_caller(session)
        elif key[:4] == "AKIA":
            user_key = IamDirectory(store).access_key(key)
            if user_key is not None:
                principal = Principal(user_key["AccountId"], user_key["UserArn"], "user",
                                      user_id=user_key["UserId"], name=user_key["UserName"])
                user = IamDirectory(store).user(user_key["AccountId"], user_key["UserName"]) or {}
                return Caller(principal, user_key["SecretAccessKey"],
                              identity=("user", user_key["UserName"]),
                              active=user_key.get("Status", "Active") == "Active",
                              context=_principal_context(principal, user.get("Tags") or {}))
        principal = root_of(account_id)
        default_key = key == "test" or (len(key) == 12 and key.isdigit())
        return Caller(principal, DEFAULT_SECRET, known=default_key,
                      context=_principal_context(principal, {}))

    def authenticate(self, request: HttpRequest, ctx: RequestContext,
                     provider: "ServiceProvider") -> None:
        """Check the credentials themselves when signatures are verified or IAM is on: the key
        exists and is active, a session's token matches and has not expired, the signature.
        A presigned URL's expiry is always checked."""
        signatures.check_expiry(request, self.runtime.clock.now())
        if not ctx.access_key_id or (not self.verify and self.mode == "off"):
            return
        style = signatures.error_style(ctx.service, ctx.protocol,
                                       "awsQueryCompatible" in provider.model.metadata)
        caller = self.caller(ctx.access_key_id, ctx.account_id)
        if not caller.known or not caller.active:
            raise signatures.invalid_key(style)
        if caller.expires is not None:
            query = parse_qs(request.query_string)  # SigV4 presigned URLs, and S3's SigV2 ones
            token = request.headers.get("x-amz-security-token") or (
                query.get("X-Amz-Security-Token") or query.get("x-amz-security-token") or [""])[0]
            if token != caller.token:
                raise signatures.invalid_key(style)
            if self.runtime.clock.now() >= caller.expires:
                raise signatures.expired_token(style)
        if self.verify:
            legacy = getattr(provider, "verify_legacy_signature", None)  # S3's SigV2
            if legacy is None or not legacy(request, caller.secret):
                signatures.verify(request, caller.secret, style=style)

    # -- last use of credentials -----------------------------------------------------------

    def note_use(self, ctx: RequestContext, signing_name: str) -> None:
        if ctx.access_key_id[:4] not in ("AKIA", "ASIA"):  # only IAM users' and roles' keys
            return
        caller = self.caller(ctx.access_key_id, ctx.account_id)
        if caller.identity is None:
            return
        now = self.runtime.clock.now()
        kind, name = caller.identity
        if kind == "user" and caller.expires is None:
            self._usage[("key", ctx.access_key_id)] = (signing_name, ctx.region, now)
        elif kind == "role":
            self._usage[("role", caller.principal.account_id, name)] = (ctx.region, now)
        # IAM Access Advisor: the service action this user or role last used
        action = action_spec(ctx.service, signing_name, ctx.operation)[0].action
        self._usage[("service", caller.principal.account_id, kind, name, iam_prefix(signing_name),
                     action)] = (ctx.region, now)

    def flush_usage(self) -> None:
        from nubo.services.iam.directory import IamDirectory

        if not self._usage:
            return
        usage, self._usage = self._usage, {}
        directory = IamDirectory(self.runtime.store, self.runtime.clock)
        with self.runtime.store.transaction():
            for (kind, *names), (*where, when) in usage.items():
                if kind == "key":
                    directory.note_key_used(names[0], where[0], where[1], when)
                elif kind == "role":
                    directory.note_role_used(names[0], names[1], where[0], when)
                else:
                    directory.note_service_used(*names, where[0], when)

    async def background(self) -> None:
        while True:
            await asyncio.sleep(USAGE_FLUSH_SECONDS)
            self.flush_usage()

    # -- which policies apply ----------------------------------------------------------------

    def policies(self, caller: Caller) -> PolicySet:
        """The caller's own policies (kept with the cached caller until identity data
        changes)."""
        if caller.policies is None:
            caller.policies = self._policies(caller)
        return caller.policies

    def _policies(self, caller: Caller) -> PolicySet:
        from nubo.services.iam.directory import IamDirectory

        principal = caller.principal
        policies = PolicySet()
        directory = IamDirectory(self.runtime.store)
        if caller.identity is not None:
            kind, name = caller.identity
            policies.identity = [parse_policy(d) for d in
                                 directory.identity_policies(principal.account_id, kind, name)]
            entity = directory.user(principal.account_id, name) if kind == "user" else \
                directory.role(principal.account_id, name)
            boundary_arn = (entity or {}).get("PermissionsBoundary")
            if boundary_arn:
                document = directory.managed_policy_document(principal.account_id, boundary_arn)
                policies.boundary = parse_policy(document or {})
        if caller.session_policies is not None:  # a root session (AssumeRoot) has one too
            documents = list(caller.session_policies) + [
                d for arn in caller.session_policy_arns
                if (d := directory.managed_policy_document(principal.account_id, arn))]
            policies.session = [parse_policy(d) for d in documents]
        # Service control policies bound every principal of a member account, its root user
        # included, except service-linked roles.
        if principal.kind not in ("service", "federated", "anonymous") and \
                not principal.service_linked and ":role/aws-service-role/" not in \
                principal.role_arn:
            levels = OrganizationsDirectory(self.runtime.store).service_control_policies(
                principal.account_id)
            if levels is not None:
                policies.scps = [[parse_policy(text) for text in level] for level in levels]
        return policies

    # -- the decision ------------------------------------------------------------------------

    def decide(self, ctx: RequestContext, caller: Caller, action: str, resource: str, *,
               resource_policy: ResourcePolicy | None = None,
               context: dict | None = None) -> Decision:
        # Decisions that no condition or policy variable can change are remembered with the
        # caller (forgotten with it when identity data changes); the resource policy's text
        # is part of the key.
        if resource_policy is not None and resource_policy.tags:
            context = {**{f"aws:resourcetag/{k.lower()}": v for k, v in resource_policy.tags},
                       **(context or {})}
        remembered = (action, resource, resource_policy)
        cacheable = not context and (resource_policy is None or
                                     not isinstance(resource_policy.document, dict))
        decision = caller.decisions.get(remembered) if cacheable else None
        if decision is None:
            policies = self.policies(caller)
            if resource_policy is not None:
                policies = replace(policies)
                if resource_policy.document is not None or resource_policy.authoritative:
                    policies.resource = parse_policy(resource_policy.document or {})
                policies.resource_authoritative = resource_policy.authoritative
            owner = resource_policy.account if resource_policy else None
            if owner and caller.principal.kind != "service":
                # Resource control policies bound what the owner's resources allow.
                levels = OrganizationsDirectory(self.runtime.store).resource_control_policies(
                    owner)
                if levels is not None:
                    policies = replace(policies, rcps=[[parse_policy(text) for text in level]
                                                       for level in levels])
            request = self.authz_request(ctx, caller, action, resource, owner, context)
            decision = evaluate(request, policies)
            if cacheable and policies.context_free and len(caller.decisions) < 10_000:
                caller.decisions[remembered] = decision
        if not decision.allowed or log.isEnabledFor(logging.DEBUG):
            # soft mode exists to show what enforcement would deny: at the default log level
            level = logging.DEBUG if decision.allowed else \
                logging.WARNING if self.mode == "soft" else logging.INFO
            log.log(level,
                    "%s %s %s on %s: %s (%s)", "deny" if not decision.allowed else "allow",
                    caller.principal.arn, action, resource, decision.reason(action),
                    "; ".join(decision.matched) or "no statement matched")
        return decision

    def authz_request(self, ctx: RequestContext, caller: Caller, action: str, resource: str,
                      owner: str | None, context: dict | None) -> AuthzRequest:
        """The request as the evaluator sees it, with every condition key nubo knows: the
        request's, the resource owner's (aws:ResourceAccount, aws:ResourceOrgID/OrgPaths),
        the principal's and the service's."""
        return AuthzRequest(caller.principal, action, resource, owner,
                            {**self.request_context(ctx),
                             **self._resource_context(owner or _account_in(resource)),
                             **caller.context, **(context or {})})

    def _resource_context(self, account: str | None) -> dict[str, Any]:
        if not account:
            return {}
        found = self._resource_owners.get(account)
        if found is None:
            found = {"aws:resourceaccount": account}
            organizations = OrganizationsDirectory(self.runtime.store)
            organization = organizations.organization_of(account)
            if organization is not None:
                found["aws:resourceorgid"] = organization["Id"]
                found["aws:resourceorgpaths"] = [organizations.organization_path(account)]
            if len(self._resource_owners) > 10_000:
                self._resource_owners.clear()
            self._resource_owners[account] = found
        return found

    def request_context(self, ctx: RequestContext) -> dict[str, Any]:
        second = int(self.runtime.clock.now())
        context = {"aws:currenttime": _iso_time(second), "aws:epochtime": str(second),
                   "aws:sourceip": ctx.client_ip,
                   "aws:securetransport": "true" if ctx.scheme == "https" else "false",
                   "aws:requestedregion": ctx.region}
        for header, key in (("user-agent", "aws:useragent"), ("referer", "aws:referer")):
            if header in ctx.headers:
                context[key] = ctx.headers[header]
        return context

    def authorize(self, ctx: RequestContext, provider: "ServiceProvider", signing_name: str,
                  params: dict) -> None:
        """Step 3 of the request path: raise AccessDenied (enforce) or log (soft)."""
        if self.mode == "off" or (ctx.service, ctx.operation) in SELF_AUTHORIZED:
            return
        try:
            self._authorize(ctx, self.caller(ctx.access_key_id, ctx.account_id), provider,
                            signing_name, params, {**_request_tags(params), **provider
                                                   .condition_context(ctx, ctx.operation,
                                                                      params)})
        except ServiceError:
            # IAM's last-accessed data counts attempts, the denied ones too
            self.note_use(ctx, signing_name)
            raise

    def allows(self, ctx: RequestContext, provider: "ServiceProvider", operation: str,
               params: dict) -> bool:
        """Whether the caller may do one item of a request as ``operation`` with ``params``,
        for requests authorized item by item (S3 DeleteObjects: each object as DeleteObject);
        a denial is logged, and soft mode allows."""
        if self.mode == "off":
            return True
        try:
            self._authorize(ctx, self.caller(ctx.access_key_id, ctx.account_id), provider,
                            provider.model.signing_name, params,
                            provider.condition_context(ctx, operation, params), operation)
        except ServiceError:
            return False
        return True

    def authorize_call(self, ctx: RequestContext, provider: "ServiceProvider", params: dict, *,
                       service_principal: str | None, source_arn: str | None) -> None:
        """A service-to-service call (see ServiceRegistry.call): made for the caller through
        the calling service, or by the calling service's own principal."""
        if self.mode == "off":
            return
        calling = ctx.extras["called_by"].split(".", 1)[0]
        if service_principal is not None:
            caller = Caller(Principal(ctx.account_id, service_principal, "service",
                                      name=service_principal), secret="")
            context: dict[str, Any] = {"aws:principalisawsservice": "true",
                                       "aws:principalservicename": service_principal}
            if source_arn:
                context.update({"aws:sourcearn": source_arn,
                                "aws:sourceaccount": ctx.account_id})
        else:
            caller = self.caller(ctx.access_key_id, ctx.account_id)
            via = f"{calling}.amazonaws.com"
            context = {"aws:calledvia": [via], "aws:calledviafirst": via,
                       "aws:calledvialast": via, "aws:viaawsservice": "true",
                       "kms:viaservice": f"{calling}.{ctx.region}.amazonaws.com",
                       "kms:calleraccount": caller.principal.account_id}
        self._authorize(ctx, caller, provider, provider.model.signing_name, params,
                        {**_request_tags(params),
                         **provider.condition_context(ctx, ctx.operation, params), **context})

    def _authorize(self, ctx: RequestContext, caller: Caller, provider: "ServiceProvider",
                   signing_name: str, params: dict, context: dict[str, Any],
                   operation: str | None = None) -> None:
        operation = operation or ctx.operation
        names = {"Partition": ctx.partition, "Region": ctx.region, "Account": ctx.account_id,
                 **params, **provider.resource_names(ctx, operation, params)}
        for spec in action_spec(ctx.service, signing_name, operation, params):
            for resource in resources_of(spec, names):
                resource_policy = provider.resource_policy(ctx, resource)
                decision = self.decide(ctx, caller, spec.action, resource, context=context,
                                       resource_policy=resource_policy)
                if not decision.allowed and self.mode == "enforce":
                    message = denial_message(caller.principal, spec.action, resource, decision,
                                             ctx.service)
                    if ctx.protocol == "ec2":  # with an encoded message for STS to decode
                        from nubo.services.sts.messages import unauthorized_operation
                        request = self.authz_request(
                            ctx, caller, spec.action, resource,
                            resource_policy.account if resource_policy else None, context)
                        raise unauthorized_operation(self.runtime.store, ctx.operation, message,
                                                     request, decision)
                    raise access_denied(ctx.protocol, message, query_compatible=(
                        "awsQueryCompatible" in provider.model.metadata))


@lru_cache(maxsize=4)
def _iso_time(second: int) -> str:
    return datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _account_in(arn: str) -> str | None:
    """The account field of an ARN (none for S3's, which the bucket's owner supplies)."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and len(parts[4]) == 12 and parts[4].isdigit() else None


def _principal_context(principal: Principal, tags: dict[str, str]) -> dict[str, Any]:
    kinds = {"root": "Account", "user": "User", "assumed-role": "AssumedRole",
             "federated-user": "FederatedUser"}
    context: dict[str, Any] = {
        "aws:principalarn": principal.role_arn or principal.arn,
        "aws:principalaccount": principal.account_id,
        "aws:principaltype": kinds.get(principal.kind, principal.kind),
        "aws:userid": principal.user_id,
        "aws:principalisawsservice": "false",
    }
    if principal.kind == "user":
        context["aws:username"] = principal.name
    for key, value in tags.items():
        context[f"aws:principaltag/{key.lower()}"] = value
    return context


def _session_caller(session: dict) -> Caller:
    principal = Principal(session["account"], session["arn"], session["kind"],
                          user_id=session["user_id"], name=session.get("name", ""),
                          role_arn=session.get("role_arn", ""))
    context = _principal_context(principal, session.get("principal_tags") or {})
    context["aws:tokenissuetime"] = datetime.fromtimestamp(
        session["issued"], timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    context["aws:multifactorauthpresent"] = "true" if session.get("mfa") else "false"
    if session.get("source_identity"):
        context["aws:sourceidentity"] = session["source_identity"]
    identity = None
    if session["kind"] == "assumed-role":
        identity = ("role", session["name"])
    elif session.get("parent_user"):
        identity = ("user", session["parent_user"])
    has_session_policy = session["kind"] in ("assumed-role", "federated-user", "root") and (
        session.get("policies") or session.get("policy_arns") or session["kind"] == "federated-user")
    return Caller(principal, session["secret"], token=session["token"],
                  transitive=bool(session.get("transitive")),
                  expires=session["expires"], identity=identity,
                  session_policies=list(session.get("policies") or []) if has_session_policy
                  else None,
                  session_policy_arns=list(session.get("policy_arns") or []), context=context)


def _request_tags(params: dict) -> dict[str, Any]:
    """aws:RequestTag/<key> and aws:TagKeys from a request's Tags member (a list of Key/Value
    pairs, or a map, as services model them)."""
    tags = params.get("Tags") or params.get("tags")
    if isinstance(tags, list):
        pairs = {t.get("Key") or t.get("TagKey"): t.get("Value") or t.get("TagValue") or ""
                 for t in tags if isinstance(t, dict)}
    elif isinstance(tags, dict):
        pairs = tags
    else:
        return {}
    context: dict[str, Any] = {f"aws:requesttag/{k.lower()}": v for k, v in pairs.items() if k}
    context["aws:tagkeys"] = [k for k in pairs if k]
    return context
