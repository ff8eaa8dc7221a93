"""Encoded authorization failure messages: what EC2 appends to UnauthorizedOperation
("Encoded authorization failure message: ...") and STS DecodeAuthorizationMessage reads back.

The decoded form is AWS's JSON: ``allowed``, ``explicitDeny``, ``matchedStatements`` (the
statement of an explicit deny), ``failures`` and ``context`` (principal, action, resource and
the request's condition keys, each list wrapped as ``{"items": [...]}``). AWS encrypts it because
it can reveal policies the caller may not read; nubo seals it with AES-GCM under a key kept in
the store (made on first use), so only DecodeAuthorizationMessage of the same installation,
after its own sts:DecodeAuthorizationMessage check, can open it.
"""

from __future__ import annotations

import base64
import binascii
import os
import zlib
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nubo.core.errors import ServiceError
from nubo.policy import AuthzRequest, Decision
from nubo.policy.document import Statement
from nubo.services.sts.schema import SECRETS
from nubo.store import Store

_KEY_NAME = "authorization-messages"
_ASSOCIATED = b"nubo authorization message v1"
# Condition keys as AWS spells them (the evaluator keeps them lower-case).
_KEY_NAMES = {name.lower(): name for name in (
    "aws:CurrentTime", "aws:EpochTime", "aws:SourceIp", "aws:SecureTransport",
    "aws:RequestedRegion", "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalType",
    "aws:PrincipalIsAWSService", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:userid",
    "aws:username", "aws:TokenIssueTime", "aws:MultiFactorAuthPresent", "aws:SourceIdentity",
    "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:ViaAWSService",
    "aws:TagKeys", "aws:SourceArn", "aws:SourceAccount")}
_PREFIXED_NAMES = {"aws:principaltag/": "aws:PrincipalTag/", "aws:requesttag/": "aws:RequestTag/",
                   "aws:resourcetag/": "aws:ResourceTag/"}


def invalid_message() -> ServiceError:
    return ServiceError("InvalidAuthorizationMessageException",
                        "The encoded authorization message is not valid.", 400)


class AuthorizationMessages:
    def __init__(self, store: Store) -> None:
        self.table = store.table(SECRETS)

    def _cipher(self) -> AESGCM:
        record = self.table.get((_KEY_NAME,))
        if record is None:
            self.table.insert({"name": _KEY_NAME, "secret": AESGCM.generate_key(256)})
            record = self.table.get((_KEY_NAME,))
        return AESGCM(record["secret"])

    def encode(self, request: AuthzRequest, decision: Decision) -> str:
        """The sealed message of a denied request."""
        plain = zlib.compress(orjson.dumps(decoded_message(request, decision)))
        nonce = os.urandom(12)
        sealed = nonce + self._cipher().encrypt(nonce, plain, _ASSOCIATED)
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def decode(self, encoded: str) -> str:
        """The message's JSON text; InvalidAuthorizationMessageException if it is not one of
        ours (altered, truncated, line breaks)."""
        try:
            sealed = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            if len(sealed) < 29 or not encoded.isascii() or any(c.isspace() for c in encoded):
                raise invalid_message()
            plain = self._cipher().decrypt(sealed[:12], sealed[12:], _ASSOCIATED)
            return zlib.decompress(plain).decode()
        except (binascii.Error, ValueError, InvalidTag, zlib.error):
            raise invalid_message() from None


def _items(values: list) -> dict:
    return {"items": values}


def _values(value: Any) -> dict:
    values = value if isinstance(value, list) else [value]
    return _items([{"value": str(v)} for v in values])


def _key_name(key: str) -> str:
    for prefix, spelled in _PREFIXED_NAMES.items():
        if key.startswith(prefix):
            return spelled + key[len(prefix):]
    return _KEY_NAMES.get(key, key)


def _statement(statement: Statement, principal_id: str) -> dict:
    source = statement.source

    def listed(*members: str) -> dict:
        for member in members:
            if member in source:
                return _values(source[member])
        return _items([])

    conditions = [{"key": key, "values": _values(values)}
                  for block in (source.get("Condition") or {}).values() if isinstance(block, dict)
                  for key, values in block.items()]
    return {"statementId": "" if statement.sid.startswith("#") else statement.sid,
            "effect": "ALLOW" if statement.allow else "DENY",
            "principals": _items([{"value": principal_id}]), "principalGroups": _items([]),
            "actions": listed("Action", "NotAction"),
            "resources": listed("Resource", "NotResource"),
            "conditions": _items(conditions)}


def decoded_message(request: AuthzRequest, decision: Decision) -> dict:
    """AWS's decoded authorization message for ``request`` and its decision."""
    principal = request.principal
    who: dict[str, str] = {"id": principal.user_id}
    if principal.kind == "user":
        who["name"] = principal.name
    who["arn"] = principal.arn
    service, _, _ = request.action.partition(":")
    resource = request.resource.split(":", 5)[-1] if request.resource != "*" else "*"
    conditions = [{"key": "aws:Region", "values": _values(request.context.get(
                      "aws:requestedregion", ""))},
                  {"key": "aws:Service", "values": _values(service)},
                  {"key": "aws:Resource", "values": _values(resource)},
                  {"key": "aws:Account", "values": _values(
                      request.resource_account or principal.account_id)}]
    conditions += [{"key": _key_name(key), "values": _values(value)}
                   for key, value in sorted(request.context.items())
                   if key != "aws:requestedregion" and value is not None]
    matched = [_statement(decision.denied_by, principal.user_id.split(":")[0])] \
        if decision.explicit and decision.denied_by is not None else []
    return {"allowed": decision.allowed, "explicitDeny": decision.explicit,
            "matchedStatements": _items(matched), "failures": _items([]),
            "context": {"principal": who, "action": request.action,
                        "resource": request.resource, "conditions": _items(conditions)}}


def unauthorized_operation(store: Store, operation: str, message: str, request: AuthzRequest,
                           decision: Decision) -> ServiceError:
    """EC2's denial: UnauthorizedOperation, with the encoded message except for Describe
    operations, which EC2 answers without one."""
    text = f"You are not authorized to perform this operation. {message}"
    if not operation.startswith("Describe"):
        encoded = AuthorizationMessages(store).encode(request, decision)
        text += f". Encoded authorization failure message: {encoded}"
    return ServiceError("UnauthorizedOperation", text, 403)
