"""KMS grants: CreateGrant (idempotent by name), ListGrants, ListRetirableGrants, RetireGrant
and RevokeGrant. Under IAM enforcement a key's grants count as statements of its key policy:
each allows its grantee the granted operations (under its encryption context constraints)."""

from __future__ import annotations

import base64
import binascii
import json
import secrets

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
}
_ANY_KEY_OPERATIONS = {"CreateGrant", "RetireGrant", "DescribeKey"}


class Grants:
    def __init__(self, store: Store, clock: Clock, keys: Keys) -> None:
        self.clock = clock
        self.keys = keys
        self.grants = store.table(schema.GRANTS)

    def create(self, ctx: RequestContext, key: Key, grantee: str, operations: list[str],
               retiring: str | None, constraints: dict | None, name: str | None) -> dict:
        self.keys.require_state(key)
        allowed = _USAGE_OPERATIONS[key.usage] | _ANY_KEY_OPERATIONS
        invalid = [op for op in operations if op not in allowed]
        if invalid:
            raise validation_error(f"Grant operations {', '.join(invalid)} are not valid for "
                                   f"key usage {key.usage}")
        if constraints and key.spec.family != "aes":
            raise validation_error("Grant constraints are supported only for symmetric "
                                   "encryption KMS keys.")
        fields = {"grantee": grantee, "operations": sorted(set(operations)),
                  "retiring_principal": retiring, "constraints": constraints or None}
        if name:
            for existing in self.grants.find("by_key", eq=(ctx.account_id, ctx.region, key.id)):
                same = {k: existing.get(k) for k in fields} == fields
                if existing.get("name") == name and same:
                    return self._answer(existing["grant_id"])
        grant_id = secrets.token_hex(32)
        self.grants.put({"account": ctx.account_id, "region": ctx.region, "grant_id": grant_id,
                         "key_id": key.id, "retiring": retiring, "name": name,
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
        entry = {"KeyId": ctx.arn("kms", f"key/{record['key_id']}"),
                 "GrantId": record["grant_id"], "CreationDate": record["created"],
                 "GranteePrincipal": record["grantee"],
                 "IssuingAccount": f"arn:{ctx.partition}:iam::{record['issuer']}:root",
                 "Operations": record["operations"]}
        for member, field in (("Name", "name"), ("RetiringPrincipal", "retiring_principal"),
                              ("Constraints", "constraints")):
            if record.get(field):
                entry[member] = record[field]
        return entry

    def list(self, ctx: RequestContext, key: Key, grant_id: str | None, grantee: str | None,
             size: int, marker: str | None) -> dict:
        found = self.grants.find("by_key", eq=(ctx.account_id, ctx.region, key.id), lo=marker)
        found = [g for g in found if (grant_id is None or g["grant_id"] == grant_id)
                 and (grantee is None or g["grantee"] == grantee)]
        more = found[size:]
        return listing([self._entry(ctx, g) for g in found[:size]], "Grants",
                       more[0]["grant_id"] if more else None)

    def list_retirable(self, ctx: RequestContext, principal: str, size: int,
                       marker: str | None) -> dict:
        found = self.grants.find("by_retiring", eq=(ctx.account_id, ctx.region, principal),
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


def _grant_statement(grant: dict) -> dict:
    grantee = grant["grantee"]
    principal = {"AWS": grantee} if grantee.startswith("arn:") or grantee.isdigit() \
        else {"Service": grantee}
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
    return statement
