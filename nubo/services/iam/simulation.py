"""The IAM policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy): every action on
every resource, decided by nubo's one policy evaluator (nubo.policy), the same that authorizes
requests."""

from __future__ import annotations

from dataclasses import dataclass

from nubo.core.errors import ServiceError
from nubo.policy import AuthzRequest, Policy, PolicySet, Principal, evaluate, parse_policy
from nubo.services.iam import documents

DECISIONS = {(True, False): "allowed", (False, True): "explicitDeny",
             (False, False): "implicitDeny"}


@dataclass
class SimulationInput:
    principal: Principal
    identity: list[tuple[str, str]]  # (SourcePolicyId, document text)
    boundary: str | None = None
    resource_policy: str | None = None
    resource_owner: str | None = None
    context: dict | None = None
    scps: list[list[str]] | None = None  # per organization level, None when none apply


def context_of(entries: list[dict] | None, principal: Principal) -> dict:
    """ContextEntries as the evaluator reads them (lower-case keys), with what IAM knows of the
    simulated principal."""
    context: dict = {"aws:principalarn": principal.arn,
                     "aws:principalaccount": principal.account_id}
    if principal.kind == "user":
        context.update({"aws:username": principal.name, "aws:userid": principal.user_id})
    for number, entry in enumerate(entries or [], 1):
        if "ContextKeyName" not in entry:  # optional in the model, but a key needs its name
            raise ServiceError("ValidationError", "1 validation error detected: Value null at "
                               f"'contextEntries.{number}.member.contextKeyName' failed to "
                               "satisfy constraint: Member must not be null", 400)
        values = entry.get("ContextKeyValues") or []
        list_type = entry.get("ContextKeyType", "").endswith("List")
        context[entry["ContextKeyName"].lower()] = values if list_type or len(values) != 1 \
            else values[0]
    return context


def _parsed(text: str, source: str) -> Policy:
    try:
        return parse_policy(documents.parsed(text) if isinstance(text, str) else text)
    except (ValueError, TypeError, KeyError):
        raise ServiceError("InvalidInput", f"The policy {source} is not valid.", 400) from None


def _statements(policy: Policy, request: AuthzRequest, with_principal: bool = False) -> list:
    """The statements of the policy that apply to the request."""
    return [statement for statement in policy.statements
            if statement.covers_action(request.action)
            and statement.covers_resource(request.resource, request.context)
            and all(c.holds(request.context) for c in statement.conditions)
            and (not with_principal or statement.principal is not None)]


def simulate(spec: SimulationInput, actions: list[str], resources: list[str] | None) -> list[dict]:
    for _, text in spec.identity:
        documents.identity_policy(text, limit=None)
    identity = [(source, _parsed(text, source)) for source, text in spec.identity]
    boundary = _parsed(spec.boundary, "PermissionsBoundary") if spec.boundary else None
    resource_policy = (_parsed(spec.resource_policy, "ResourcePolicy")
                       if spec.resource_policy else None)
    scps = None if spec.scps is None else [[_parsed(text, "SCP") for text in level]
                                            for level in spec.scps]
    policies = PolicySet(identity=[p for _, p in identity], boundary=boundary,
                         resource=resource_policy, scps=scps)
    results = []
    for action in actions:
        for resource in resources or ["*"]:
            request = AuthzRequest(spec.principal, action, resource,
                                   resource_account=spec.resource_owner,
                                   context=spec.context or {})
            decision = evaluate(request, policies)
            matched = [{"SourcePolicyId": source, "SourcePolicyType": "IAM Policy"}
                       for source, policy in identity for _ in _statements(policy, request)]
            if resource_policy is not None:
                matched += [{"SourcePolicyId": "ResourcePolicy", "SourcePolicyType": "Resource"}
                            for _ in _statements(resource_policy, request, with_principal=True)]
            result = {"EvalActionName": action, "EvalResourceName": resource,
                      "EvalDecision": DECISIONS[(decision.allowed, decision.explicit)],
                      "MatchedStatements": matched, "MissingContextValues": []}
            if scps is not None:
                result["OrganizationsDecisionDetail"] = {
                    "AllowedByOrganizations": decision.policy_type != "service control policy"}
            if boundary is not None:
                effects = [s.allow for s in _statements(boundary, request)]
                result["PermissionsBoundaryDecisionDetail"] = {
                    "AllowedByPermissionsBoundary": any(effects) and all(effects)}
            results.append(result)
    return results
