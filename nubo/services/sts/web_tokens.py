"""Outbound identity federation: JWTs that say who an IAM principal is (GetWebIdentityToken),
signed with a key of the account's issuer, and the issuer's OIDC discovery documents
(``https://<id>.tokens.sts.global.api.aws/.well-known/openid-configuration`` and
``/.well-known/jwks.json``) that relying parties verify them with.

The account's issuer URL comes from IAM (EnableOutboundWebIdentityFederation). Signing keys
(RS256: RSA 2048; ES384: P-384) are made on first use per account and algorithm and kept in the
store, with the issuer host -> account mapping, so that nubo serves the JWKS of every issuer it
signed for, on any request whose Host is the issuer's.
"""

from __future__ import annotations

import uuid

import orjson
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from nubo.core.http import HttpRequest, HttpResponse
from nubo.services.sts.schema import SECRETS
from nubo.store import Store

ISSUER_DOMAIN = ".tokens.sts.global.api.aws"
ALGORITHMS = ("RS256", "ES384")
CLAIMS_NAMESPACE = "https://sts.amazonaws.com/"
DEFAULT_DURATION = 300


class WebTokens:
    def __init__(self, store: Store) -> None:
        self.table = store.table(SECRETS)

    def _key(self, account: str, issuer: str, algorithm: str) -> RSAKey | ECKey:
        name = f"outbound:{account}:{algorithm}"
        record = self.table.get((name,))
        if record is None:
            key = RSAKey.generate_key(2048, parameters={"kid": uuid.uuid4().hex}, private=True) \
                if algorithm == "RS256" else \
                ECKey.generate_key("P-384", parameters={"kid": uuid.uuid4().hex}, private=True)
            self.table.put({"name": name, "jwk": key.as_dict(private=True)})
            self.table.put({"name": f"issuer:{_host(issuer)}", "account": account})
            return key
        return (RSAKey if algorithm == "RS256" else ECKey).import_key(record["jwk"])

    def issue(self, account: str, issuer: str, algorithm: str, claims: dict) -> str:
        key = self._key(account, issuer, algorithm)
        return jwt.encode({"alg": algorithm, "kid": key.kid, "typ": "JWT"}, claims, key,
                          algorithms=[algorithm])

    def serve(self, request: HttpRequest) -> HttpResponse | None:
        """The discovery documents of an issuer nubo signed for; None for other requests."""
        host = request.host.split(":", 1)[0]
        if not host.endswith(ISSUER_DOMAIN) or request.method not in ("GET", "HEAD"):
            return None
        found = self.table.get((f"issuer:{host}",))
        if found is None:
            return HttpResponse(404, {"Content-Type": "application/json"}, b"{}")
        issuer = f"https://{host}"
        if request.path == "/.well-known/openid-configuration":
            document: dict = {"issuer": issuer, "jwks_uri": f"{issuer}/.well-known/jwks.json",
                              "response_types_supported": ["id_token"],
                              "subject_types_supported": ["public"],
                              "id_token_signing_alg_values_supported": list(ALGORITHMS)}
        elif request.path == "/.well-known/jwks.json":
            keys = [self.table.get((f"outbound:{found['account']}:{a}",)) for a in ALGORITHMS]
            document = {"keys": [_public(record["jwk"]) for record in keys if record]}
        else:
            return HttpResponse(404, {"Content-Type": "application/json"}, b"{}")
        return HttpResponse(200, {"Content-Type": "application/json"}, orjson.dumps(document))


def claims_of(issuer: str, subject: str, audience: list[str], now: float, duration: int,
              aws_claims: dict) -> dict:
    issued = int(now)
    return {"iss": issuer, "aud": audience[0] if len(audience) == 1 else audience,
            "sub": subject, "iat": issued, "exp": issued + duration, "jti": str(uuid.uuid4()),
            CLAIMS_NAMESPACE: aws_claims}


def _host(issuer: str) -> str:
    return issuer.removeprefix("https://").split("/", 1)[0]


def _public(jwk: dict) -> dict:
    key = (RSAKey if jwk.get("kty") == "RSA" else ECKey).import_key(jwk)
    return {**key.as_dict(private=False), "use": "sig",
            "alg": "RS256" if jwk.get("kty") == "RSA" else "ES384"}

