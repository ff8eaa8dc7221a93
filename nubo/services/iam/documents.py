"""Policy documents as IAM checks, sizes and returns them.

IAM rejects a document it cannot use with ``MalformedPolicyDocument`` and its own wording (the
messages below are AWS's, as users meet them). Sizes count every character but whitespace.
Documents are stored as sent and returned URL-encoded, as IAM returns them (the SDKs and the
CLI decode them).
"""

from __future__ import annotations

import fnmatch
import json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from nubo.core.errors import ServiceError

MANAGED_POLICY_SIZE = 6144
TRUST_POLICY_SIZE = 2048
INLINE_POLICY_SIZES = {"user": 2048, "group": 5120, "role": 10240}  # all of an entity's inline

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_LEVEL = {"Version", "Id", "Statement"}
_STATEMENT = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
              "NotPrincipal", "Condition"}
_PRINCIPAL_TYPES = {"AWS", "Service", "Federated", "CanonicalUser"}
_PARTITIONS = {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f",
               "aws-eusc", "*"}
_SID = re.compile(r"[0-9A-Za-z]*")
_VENDOR = re.compile(r"[A-Za-z0-9*?-]+")
_WHITESPACE = re.compile(r"\s+")
_VARIABLE = re.compile(r"\$\{([^}*?$]+)\}")

SYNTAX_ERRORS = "Syntax errors in policy."


def malformed(message: str) -> ServiceError:
    return ServiceError("MalformedPolicyDocument", message, 400)


def size(text: str) -> int:
    return len(_WHITESPACE.sub("", text))


def url_encoded(text: str) -> str:
    return quote(text, safe="")


def identity_policy(text: str, limit: int | None = MANAGED_POLICY_SIZE) -> dict:
    """The parsed identity-based (permissions) policy; raises IAM's error when it is not one.
    ``limit``: the managed-policy size quota (inline sizes are checked per entity)."""
    if limit is not None and size(text) > limit:
        raise ServiceError("LimitExceeded", f"Cannot exceed quota for PolicySize: {limit}", 409)
    document = _parse(text)
    for statement in _statements(document):
        if "Principal" in statement or "NotPrincipal" in statement:
            raise malformed("Policy document should not specify a principal.")
        _check_actions(statement)
        _check_resources(statement)
    return document


def trust_policy(text: str) -> dict:
    """The parsed role trust policy (AssumeRolePolicyDocument)."""
    if size(text) > TRUST_POLICY_SIZE:
        raise ServiceError("LimitExceeded",
                           f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE}", 409)
    document = _parse(text)
    for statement in _statements(document):
        for field in ("Resource", "NotResource"):
            if field in statement:
                raise malformed(f"Has prohibited field {field}")
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise malformed("Missing required field Principal")
        _check_principal(statement.get("Principal", statement.get("NotPrincipal")))
        _check_actions(statement)
    return document


def aws_principals(document: dict) -> list[str]:
    """The "AWS" principals a (validated) policy names."""
    statements = document["Statement"]
    found = []
    for statement in [statements] if isinstance(statements, dict) else statements:
        principal = statement.get("Principal", statement.get("NotPrincipal"))
        if isinstance(principal, dict) and "AWS" in principal:
            found += _strings(principal["AWS"])
    return found


@lru_cache(maxsize=4096)
def parsed(text: str) -> dict:
    """A stored document, already validated; parsed once per distinct text (the evaluator
    reads the same few documents on every request). Shared: never modify it."""
    return json.loads(text)


def context_keys(texts: list[str]) -> list[str]:
    """The condition keys and policy variables the documents use, each once (first spelling),
    as GetContextKeysFor*Policy lists them."""
    found: dict[str, str] = {}
    for text in texts:
        for statement in _statements(_parse(text)):
            names = [key for entries in (statement.get("Condition") or {}).values()
                     for key in entries]
            for field in ("Resource", "NotResource"):
                values = statement.get(field, [])
                for value in [values] if isinstance(values, str) else values:
                    names += _VARIABLE.findall(value)
            for name in names:
                found.setdefault(name.lower(), name)
    return list(found.values())


def grants_service(text: str, namespace: str) -> bool:
    """Whether a stored identity policy allows some action of the service (the test of
    ListPoliciesGrantingServiceAccess)."""
    probe = f"{namespace}:*".lower()
    for statement in _statements(parsed(text)):
        if statement["Effect"] != "Allow":
            continue
        if "Action" in statement:
            if any(fnmatch.fnmatchcase(namespace.lower(), action.lower().partition(":")[0])
                   for action in _strings(statement["Action"])):
                return True
        elif not any(action.lower() in ("*", probe)
                     for action in _strings(statement["NotAction"])):
            return True
    return False


# -- grammar ---------------------------------------------------------------------------------

def _parse(text: str) -> dict:
    try:
        document = json.loads(text)
    except ValueError:
        raise malformed(SYNTAX_ERRORS) from None
    if not isinstance(document, dict) or set(document) - _TOP_LEVEL or "Statement" not in document:
        raise malformed(SYNTAX_ERRORS)
    if "Version" in document and document["Version"] not in VERSIONS:
        raise malformed("The policy failed legacy parsing")
    return document


def _statements(document: dict) -> list[dict]:
    statements = document["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise malformed(SYNTAX_ERRORS)
    sids = set()
    for statement in statements:
        if not isinstance(statement, dict) or set(statement) - _STATEMENT:
            raise malformed(SYNTAX_ERRORS)
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise malformed("The policy failed legacy parsing" if "Effect" in statement
                            else SYNTAX_ERRORS)
        sid = statement.get("Sid")
        if sid is not None:
            if not isinstance(sid, str) or not _SID.fullmatch(sid):
                raise malformed("Statement IDs (SID) must be alpha-numeric. Check that your "
                                "input satisfies the regular expression [0-9A-Za-z]*")
            if sid and sid in sids:
                raise malformed("Statement IDs (SID) in a single policy must be unique.")
            sids.add(sid)
        _check_condition(statement.get("Condition"))
    return statements


def _strings(value: Any) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise malformed(SYNTAX_ERRORS)
    return values


def _one_of(statement: dict, field: str, missing: str) -> list[str]:
    both = field in statement and f"Not{field}" in statement
    if both:
        raise malformed(SYNTAX_ERRORS)
    value = statement.get(field, statement.get(f"Not{field}"))
    if value is None:
        raise malformed(missing)
    values = _strings(value)
    if not values:
        raise malformed(missing)
    return values


def _check_actions(statement: dict) -> None:
    for action in _one_of(statement, "Action", "Policy statement must contain actions."):
        if action == "*":
            continue
        vendor, colon, rest = action.partition(":")
        if not colon:
            raise malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, "
                            "ec2, etc.")
        if ":" in rest:
            raise malformed("Actions/Condition can contain only one colon.")
        if not _VENDOR.fullmatch(vendor):
            raise malformed(f"Vendor {vendor} is not valid")


def _check_resources(statement: dict) -> None:
    for resource in _one_of(statement, "Resource", "Policy statement must contain resources."):
        if resource == "*":
            continue
        parts = resource.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn":
            raise malformed(f'Resource {resource} must be in ARN format or "*".')
        if parts[1] not in _PARTITIONS and not any(c in parts[1] for c in "*?$"):
            raise malformed(f'Partition "{parts[1]}" is not valid for resource "{resource}".')
        if parts[2] == "iam" and parts[3] not in ("", "*"):
            raise malformed(f"IAM resource {resource} cannot contain region information.")


def _check_principal(principal: Any) -> None:
    if principal == "*":
        return
    if not isinstance(principal, dict) or not principal or set(principal) - _PRINCIPAL_TYPES:
        raise malformed(f"Invalid principal in policy: {json.dumps(principal)}")
    for kind, value in principal.items():
        for name in _strings(value):
            if not name:
                raise malformed(f'Invalid principal in policy: "{kind}":""')


def _check_condition(condition: Any) -> None:
    if condition is None:
        return
    if not isinstance(condition, dict):
        raise malformed(SYNTAX_ERRORS)
    for operator, entries in condition.items():
        if not isinstance(entries, dict):
            raise malformed(SYNTAX_ERRORS)
        for key, value in entries.items():
            if ":" not in key:
                raise malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, "
                                "sdb, ec2, etc.")
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(v, (str, bool, int, float)) for v in values):
                raise malformed(SYNTAX_ERRORS)
