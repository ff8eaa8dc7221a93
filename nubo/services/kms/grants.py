"""KMS grants: CreateGrant (idempotent by name), ListGrants, ListRetirableGrants, RetireGrant
and RevokeGrant. Under IAM enforcement a key's grants count as statements of its key policy:
each allows its grantee the granted operations (under its encryption context and source ARN
constraints). A grantee or retiring principal is an IAM principal or an AWS service principal
(``GranteeServicePrincipal``, which AWS allows only with a ``SourceArn`` constraint)."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass

from nubo.core.clock import Clock
from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.services.kms import schema
from nubo.services.kms.models import Key, Keys, listing
from nubo.services.kms.validation import validation_error
from nubo.store import Store

_TOKEN_PREFIX = b"nubo-grant:"
_USAGE_OPERATIONS = {
    "ENCRYPT_DECRYPT": {"Decrypt", "Encrypt", "GenerateDataKey",
                        "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo",
                        "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"},
    "SIGN_VERIFY": {"Sign", "Verify", "GetPublicKey"},
    "GENERATE_VERIFY_MAC": {"GenerateMac", "VerifyMac"},
    "KEY_AGREEMENT": {"DeriveSharedSecret", "GetPublicKey"},
    "ENCAPSULATE_DECAPSULATE": {"Encapsulate", "Decapsulate", "GetPublicKey"},
}
_ANY_KEY_OPERATIONS = {"CreateGrant", "RetireGrant", "DescribeKey"}


@dataclass(frozen=True)
class Principal:
    """A grant's grantee or retiring principal: an IAM principal or a service principal."""

    name: str
    is_service: bool

    @classmethod
    def one_of(cls, member: str, principal: str | None, service_member: str,
               service: str | None, *, required: bool = True) -> "Principal | None":
        """The principal a request names in one of the two members, which exclude each other."""
        if principal is not None and service is not None:
            raise validation_error(f"You must specify either {member} or {service_member}, "
                                   "but not both.")
        if principal is None and service is None:
            if required:
                raise validation_error(f"You must specify either {member} or "
                                       f"{service_member}.")
            return None
        return cls(service, True) if service is not None else cls(principal, False)


class Grants:
    def __init__(self, store: Store, clock: Clock, keys: Keys) -> None:
        self.clock = clock
        self.keys = keys
        self.grants = store.table(schema.GRANTS)

    def create(self, ctx: RequestContext, key: Key, grantee: Principal, operations: list[str],
               retiring: Principal | None, constraints: dict | None, name: str | None) -> dict:
        self.keys.require_state(key)
        if grantee.is_service and not (constraints or {}).get("SourceArn"):
            raise validation_error("A grant for a service principal requires a SourceArn "
                                   "grant constraint.")
        allowed = _USAGE_OPERATIONS[key.usage] | _ANY_KEY_OPERATIONS
        invalid = [op for op in operations if op not in allowed]
        if invalid:
            raise validation_error(f"Grant operations {', '.join(invalid)} are not valid for "
                                   f"key usage {key.usage}")
        if _context_constraints(constraints) and key.spec.family != "aes":
            raise validation_error("Grant constraints are supported only for symmetric "
                                   "encryption KMS keys.")
        fields = {"grantee": grantee.name, "grantee_is_service": grantee.is_service,
                  "operations": sorted(set(operations)),
                  "retiring_principal": retiring.name if retiring else None,
                  "retiring_is_service": bool(retiring and retiring.is_service),
                  "constraints": constraints or None}
        if name:
            for existing in self.grants.find("by_key", eq=(ctx.account_id, ctx.region, key.id)):
                same = {k: existing.get(k) for k in fields} == fields
                if existing.get("name") == name and same:
                    return self._answer(existing["grant_id"])
        grant_id = secrets.token_hex(32)
        self.grants.put({"account": ctx.account_id, "region": ctx.region, "grant_id": grant_id,
                         "key_id": key.id, "retiring": fields["retiring_principal"],
                         "name": name,
                         "created": self.clock.now(), "issuer": ctx.account_id, **fields})
        return self._answer(grant_id)

    @staticmethod
    def _answer(grant_id: str) -> dict:
        token = _TOKEN_PREFIX + grant_id.encode() + b":" + secrets.token_bytes(24)
        return {"GrantToken": base64.b64encode(token).decode(), "GrantId": grant_id}

    @staticmethod
    def _grant_of_token(token: str) -> str:
        try:
            raw = base64.b64decode(token, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if not raw.startswith(_TOKEN_PREFIX):
            raise ServiceError("InvalidGrantTokenException", "Invalid grant token")
        return raw[len(_TOKEN_PREFIX):].split(b":", 1)[0].decode("ascii", "replace")

    def _entry(self, ctx: RequestContext, record: dict) -> dict:
        grantee = "GranteeServicePrincipal" if record.get("grantee_is_service") \
            else "GranteePrincipal"
        entry = {"KeyId": ctx.arn("kms", f"key/{record['key_id']}"),
                 "GrantId": record["grant_id"], "CreationDate": record["created"],
                 grantee: record["grantee"],
                 "IssuingAccount": f"arn:{ctx.partition}:iam::{record['issuer']}:root",
                 "Operations": record["operations"]}
        retiring = "RetiringServicePrincipal" if record.get("retiring_is_service") \
            else "RetiringPrincipal"
        for member, field in (("Name", "name"), (retiring, "retiring_principal"),
                              ("Constraints", "constraints")):
            if record.get(field):
                entry[member] = record[field]
        return entry

    def list(self, ctx: RequestContext, key: Key, grant_id: str | None,
             grantee: Principal | None, size: int, marker: str | None) -> dict:
        found = self.grants.find("by_key", eq=(ctx.account_id, ctx.region, key.id), lo=marker)
        found = [g for g in found if (grant_id is None or g["grant_id"] == grant_id)
                 and (grantee is None or (g["grantee"], bool(g.get("grantee_is_service")))
                      == (grantee.name, grantee.is_service))]
        more = found[size:]
        return listing([self._entry(ctx, g) for g in found[:size]], "Grants",
                       more[0]["grant_id"] if more else None)

    def list_retirable(self, ctx: RequestContext, principal: Principal, size: int,
                       marker: str | None) -> dict:
        found = self.grants.find("by_retiring", eq=(ctx.account_id, ctx.region, principal.name),
                                 lo=marker, limit=size + 1)
        return listing([self._entry(ctx, g) for g in found[:size]], "Grants",
                       found[size]["grant_id"] if len(found) > size else None)

    def retire(self, ctx: RequestContext, token: str | None, key: Key | None,
               grant_id: str | None) -> None:
        if token is not None:
            grant_id = self._grant_of_token(token)
        elif key is None or grant_id is None:
            raise validation_error("Either GrantToken or both KeyId and GrantId must be "
                                   "specified.")
        grant = self._get(ctx, grant_id)
        if key is not None and grant["key_id"] != key.id:
            raise ServiceError("NotFoundException", "Grant ID not found")
        self.grants.delete((ctx.account_id, ctx.region, grant_id))

    def revoke(self, ctx: RequestContext, key: Key, grant_id: str) -> None:
        grant = self._get(ctx, grant_id)
        if grant["key_id"] != key.id:
            raise ServiceError("NotFoundException", "Grant ID not found")
        self.grants.delete((ctx.account_id, ctx.region, grant_id))

    def policy_with_grants(self, account: str, region: str, key_id: str, policy: str) -> str:
        """The key policy, with one Allow statement per grant of the key (the authorizer's
        view of grants); the policy text itself when the key has no grants."""
        grants = self.grants.find("by_key", eq=(account, region, key_id))
        if not grants:
            return policy
        document = json.loads(policy)
        statements = document.get("Statement", [])
        document["Statement"] = (statements if isinstance(statements, list)
                                 else [statements]) + [_grant_statement(g) for g in grants]
        return json.dumps(document)

    def _get(self, ctx: RequestContext, grant_id: str) -> dict:
        grant = self.grants.get((ctx.account_id, ctx.region, grant_id))
        if grant is None:
            raise ServiceError("NotFoundException", "Grant ID not found")
        return grant


def _context_constraints(constraints: dict | None) -> dict:
    return {k: v for k, v in (constraints or {}).items() if k != "SourceArn"}


def _grant_statement(grant: dict) -> dict:
    grantee = grant["grantee"]
    service = grant.get("grantee_is_service") or not (grantee.startswith("arn:")
                                                     or grantee.isdigit())
    principal = {"Service": grantee} if service else {"AWS": grantee}
    statement = {"Sid": f"grant-{grant['grant_id']}", "Effect": "Allow",
                 "Principal": principal, "Resource": "*",
                 "Action": [f"kms:{operation}" for operation in grant["operations"]]}
    constraints = grant.get("constraints") or {}
    context = constraints.get("EncryptionContextEquals") or \
        constraints.get("EncryptionContextSubset")
    if context:
        condition = {"StringEquals": {f"kms:EncryptionContext:{k}": v
                                      for k, v in context.items()}}
        if "EncryptionContextEquals" in constraints:
            condition["ForAllValues:StringEquals"] = {"kms:EncryptionContextKeys":
                                                      sorted(context)}
        statement["Condition"] = condition
    if constraints.get("SourceArn"):
        statement.setdefault("Condition", {})["ArnEquals"] = {
            "aws:SourceArn": constraints["SourceArn"]}
    return statement
