"""The policy evaluation logic, as the IAM user guide documents it ("Policy evaluation logic",
"Cross-account policy evaluation logic"), in one function used for every decision nubo makes.

1. An explicit Deny in any applicable policy denies.
2. Every level of the organization path (root, OUs, account) must have an SCP that allows, unless
   the principal's account is the management account or the principal is a service-linked role;
   the same for RCPs of the resource's account. A VPC endpoint policy, for requests made
   through the endpoint, must allow as well (it names principals, but never grants).
3. Within one account, a resource-based policy that names the principal (a user, a role session,
   a federated user, or anyone) allows on its own; one naming a role allows within the role's
   boundary and session policies; one naming the account only delegates to IAM. Otherwise the
   identity policies must allow, within the permissions boundary and the session policies.
4. Across accounts, both the resource's policy and the principal's own side must allow.
5. Where the resource policy is authoritative (KMS key policies, role trust policies), it must
   allow; identity policies count only when it delegates to the account.
6. An account's root user can always manage the policy of its own buckets and queues, and the
   task policy of a root session (AssumeRoot) only denies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nubo.policy.document import Policy, Principals, Statement

__all__ = ["Principal", "AuthzRequest", "PolicySet", "Decision", "ResourcePolicy", "evaluate"]


@dataclass(frozen=True)
class Principal:
    """Who makes a request. ``arn`` is what AWS reports (a session ARN for role sessions);
    ``role_arn`` is the IAM role's ARN for sessions."""

    account_id: str
    arn: str
    kind: str  # root | user | assumed-role | federated-user | federated (an IdP) | service |
    #            anonymous
    user_id: str = ""
    name: str = ""  # user name, role name, service principal
    role_arn: str = ""
    service_linked: bool = False

    @property
    def is_root(self) -> bool:
        return self.kind == "root"


@dataclass
class AuthzRequest:
    principal: Principal
    action: str  # service:Action
    resource: str  # ARN, or "*" for actions on no resource
    resource_account: str | None  # the account owning the resource; None: the caller's
    context: dict = field(default_factory=dict)  # lower-case condition keys -> value(s)


@dataclass(frozen=True)
class ResourcePolicy:
    """A resource's own policy as its service reports it. ``authoritative``: the policy must
    allow by itself or delegate to the account (KMS key policies, role trust policies)."""

    document: str | dict | None  # None: the resource has no policy
    account: str  # the account owning the resource
    authoritative: bool = False
    tags: tuple[tuple[str, str], ...] = ()  # the resource's tags, for aws:ResourceTag/<key>


@dataclass
class PolicySet:
    identity: list[Policy] = field(default_factory=list)
    boundary: Policy | None = None
    session: list[Policy] | None = None  # None: the credentials carry no session policy
    scps: list[list[Policy]] | None = None  # one list per organization level; None: exempt
    rcps: list[list[Policy]] | None = None
    resource: Policy | None = None
    resource_authoritative: bool = False  # KMS key policy, role trust policy
    endpoint: Policy | None = None  # the VPC endpoint's policy, for requests through one

    @property
    def context_free(self) -> bool:
        """Whether no policy of the set reads the request context (see Policy.context_free)."""
        groups = [self.identity, [self.boundary, self.resource, self.endpoint],
                  self.session or [],
                  *(self.scps or []), *(self.rcps or [])]
        return all(p is None or p.context_free for group in groups for p in group)


@dataclass
class Decision:
    allowed: bool
    explicit: bool = False  # denied by an explicit Deny
    policy_type: str = ""  # which kind of policy decided a denial (for the message)
    matched: list[str] = field(default_factory=list)  # "<policy type> <sid> <effect>", for logs
    denied_by: Statement | None = None  # the statement of an explicit deny

    def reason(self, action: str) -> str:
        if self.allowed:
            return "allowed"
        article = "an" if self.policy_type[0] in "aeiou" else "a"
        if self.explicit:
            return f"with an explicit deny in {article} {self.policy_type}"
        return f"because no {self.policy_type} allows the {action} action"


# -- matching ------------------------------------------------------------------------------

def _names(principals: Principals, principal: Principal, *, for_role: bool = False) -> str:
    """How a Principal element names ``principal``: "" (not at all), "anyone", "direct"
    (the user/session/federated user/service itself), "role" (the role of a session) or
    "account" (the account, which delegates to its identity policies)."""
    if principals.anyone:
        return "anyone"
    if principal.kind == "service":
        return "direct" if principal.name in principals.service else ""
    if principal.kind == "federated":  # an identity provider, in trust policies
        return "direct" if principal.name in principals.federated else ""
    aws = principals.aws
    if principal.arn in aws or (principal.user_id and principal.user_id in aws):
        return "direct"
    if principal.role_arn and principal.role_arn in aws:
        return "role"
    if principal.account_id in aws or f"arn:aws:iam::{principal.account_id}:root" in aws or (
            principals.canonical and principal.account_id and
            _canonical_user_id(principal.account_id) in principals.canonical):
        return "direct" if principal.is_root else "account"
    return ""


def _canonical_user_id(account_id: str) -> str:
    """The account's canonical user id, as S3 shows it (Owner.ID): a CanonicalUser principal
    names the account, as its id does."""
    from nubo.services.s3.models import canonical_user_id  # S3's derivation, loaded when used

    return canonical_user_id(account_id)


def _applies(statement: Statement, request: AuthzRequest, *, with_principal: bool) -> str:
    """"" if the statement does not apply; else how it names the principal ("any" for
    policies without a Principal element)."""
    if not statement.covers_action(request.action):
        return ""
    if not statement.covers_resource(request.resource, request.context):
        return ""
    how = "any"
    if with_principal:
        if statement.principal is not None:
            how = _names(statement.principal, request.principal)
        elif statement.not_principal is not None:
            how = "" if _names(statement.not_principal, request.principal) else "anyone"
        else:
            how = ""
        if not how:
            return ""
    if not all(c.holds(request.context) for c in statement.conditions):
        return ""
    return how


def _scan(policy: Policy, request: AuthzRequest, kind: str, decision: Decision, *,
          with_principal: bool = False) -> tuple[bool, set[str]]:
    """(denied, ways the allowing statements name the principal)."""
    allowed: set[str] = set()
    for statement in policy.statements:
        how = _applies(statement, request, with_principal=with_principal)
        if not how:
            continue
        decision.matched.append(f"{kind} {statement.sid} {'Allow' if statement.allow else 'Deny'}")
        if not statement.allow:
            decision.denied_by = statement
            return True, allowed
        allowed.add(how)
    return False, allowed


# Policy management the account's root user can always do on its own resources, even against
# a resource policy that denies everyone (S3 documents it for bucket policies; the root task
# policies S3UnlockBucketPolicy and SQSUnlockQueuePolicy exist to do it).
_ROOT_OVERRIDES = frozenset({"s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy",
                             "sqs:getqueueattributes", "sqs:setqueueattributes"})
_GUARDRAILS = frozenset({"service control policy", "resource control policy",
                        "VPC endpoint policy"})


# -- the decision --------------------------------------------------------------------------

def evaluate(request: AuthzRequest, policies: PolicySet) -> Decision:
    decision = Decision(allowed=False)
    principal = request.principal

    def deny(policy_type: str, explicit: bool) -> Decision:
        decision.allowed, decision.explicit, decision.policy_type = False, explicit, policy_type
        return decision

    # Gather what every policy says; any explicit Deny wins (1).
    scopes: dict[str, set[str]] = {}
    checks: list[tuple[str, list[Policy], bool]] = [("identity-based policy", policies.identity,
                                                      False)]
    if policies.boundary is not None:
        checks.append(("permissions boundary", [policies.boundary], False))
    if policies.session is not None:
        checks.append(("session policy", policies.session, False))
    same_account = request.resource_account in (None, principal.account_id)
    if policies.resource is not None and not (
            principal.is_root and same_account and request.action.lower() in _ROOT_OVERRIDES):
        checks.append(("resource-based policy", [policies.resource], True))
    if policies.endpoint is not None:
        checks.append(("VPC endpoint policy", [policies.endpoint], True))
    for level_kind, levels in (("service control policy", policies.scps),
                               ("resource control policy", policies.rcps)):
        for level in levels or ():
            checks.append((level_kind, level, False))
    level_allows: dict[str, list[bool]] = {}
    for kind, group, with_principal in checks:
        group_allows: set[str] = set()
        for policy in group:
            denied, allows = _scan(policy, request, kind, decision, with_principal=with_principal)
            if denied:
                return deny(kind, True)
            group_allows |= allows
        if kind in _GUARDRAILS:
            level_allows.setdefault(kind, []).append(bool(group_allows))
        else:
            scopes[kind] = scopes.get(kind, set()) | group_allows

    # Guardrails: every level of the organization, and the endpoint, must allow (2).
    for kind, levels in level_allows.items():
        if not all(levels):
            return deny(kind, False)

    identity = bool(scopes.get("identity-based policy")) or principal.is_root
    boundary = policies.boundary is None or bool(scopes.get("permissions boundary"))
    # A root user's session policy (AssumeRoot's task policy) can only deny.
    session = policies.session is None or principal.is_root or \
        bool(scopes.get("session policy"))
    granted = scopes.get("resource-based policy", set())
    own_side = identity and boundary and session

    def own_side_denial() -> Decision:
        if not identity and "role" not in granted:
            return deny("identity-based policy", False)
        return deny("permissions boundary" if not boundary else "session policy", False)

    if principal.kind in ("anonymous", "service"):  # only the resource's policy can let these in
        if granted & {"anyone", "direct"}:
            decision.allowed = True
            return decision
        return deny("resource-based policy", False)

    if policies.resource_authoritative:  # (5)
        if granted & {"anyone", "direct"} and same_account:
            decision.allowed = True
        elif granted & {"anyone", "direct", "role"} and (same_account or own_side):
            decision.allowed = boundary and session if "role" in granted else True
            if not decision.allowed:
                return own_side_denial()
        elif "account" in granted and own_side:
            decision.allowed = True
        elif not granted:
            return deny("resource-based policy", False)
        else:
            return own_side_denial()
        return decision

    if same_account:  # (3)
        if granted & {"anyone", "direct"}:
            decision.allowed = True
        elif "role" in granted and boundary and session:
            decision.allowed = True
        elif own_side:
            decision.allowed = True
        else:
            return own_side_denial()
        return decision

    # (4) across accounts: both sides
    if not granted:
        return deny("resource-based policy", False)
    if not own_side:
        return own_side_denial()
    decision.allowed = True
    return decision
