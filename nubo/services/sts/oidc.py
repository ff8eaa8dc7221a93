"""The signature of an OIDC web identity token, checked as STS checks it: the signing keys come
from the issuer's ``/.well-known/openid-configuration`` (its ``jwks_uri``), fetched over HTTPS
with AWS's 5-second limit, and the JWT must verify with the key its header names (joserfc).

The IdP's TLS certificate is trusted if a public CA issued it or, as IAM's thumbprints allow, if
the SHA-1 thumbprint of the certificate the IdP presents is one of the provider's ThumbprintList
(a self-signed local IdP). Keys are kept per JWKS URL for ``KEYS_TTL`` seconds and fetched again
when a token names a key the cached set lacks (the IdP rotated its keys).
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import ssl
import time
from urllib.parse import urlsplit

import orjson
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError, MissingKeyError
from joserfc.jwk import KeySet

from nubo.services.sts.federation import invalid_token

FETCH_TIMEOUT = 5.0  # STS gives up on identity providers slower than 5 seconds
KEYS_TTL = 300.0
MAX_DOCUMENT = 1 << 20
# The algorithms STS accepts for web identity tokens.
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
NO_KEY = ("Couldn't retrieve verification key from your identity provider,  please reference "
          "AssumeRoleWithWebIdentity documentation for requirements")
BAD_SIGNATURE = ("The web identity token that was passed could not be validated by AWS. Get a "
                 "new identity token from the identity provider and then retry the request.")


class SigningKeys:
    """The JWKS of identity providers, fetched on demand and kept for a while."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, KeySet]] = {}

    def verify(self, token: str, issuer_url: str, thumbprints: list[str]) -> None:
        """Raise InvalidIdentityToken unless ``token`` is signed by a key of its issuer.
        Blocking (network): run it in a thread."""
        try:
            _decode(token, self._keys(issuer_url, thumbprints, fresh=False))
        except (InvalidKeyIdError, MissingKeyError):
            try:  # a key the cached set lacks: the IdP may have rotated its keys
                _decode(token, self._keys(issuer_url, thumbprints, fresh=True))
            except (InvalidKeyIdError, MissingKeyError):
                raise invalid_token(NO_KEY) from None

    def _keys(self, issuer_url: str, thumbprints: list[str], *, fresh: bool) -> KeySet:
        cached = self._cache.get(issuer_url)
        if cached is not None and not fresh and cached[0] > time.monotonic():
            return cached[1]
        configuration = _get_json(issuer_url.rstrip("/") + "/.well-known/openid-configuration",
                                  thumbprints)
        jwks_uri = configuration.get("jwks_uri") if isinstance(configuration, dict) else None
        if not isinstance(jwks_uri, str):
            raise invalid_token(NO_KEY)
        try:
            keys = KeySet.import_key_set(_get_json(jwks_uri, thumbprints))
        except (JoseError, ValueError, TypeError, KeyError):
            raise invalid_token(NO_KEY) from None
        if len(self._cache) > 1000:
            self._cache.clear()
        self._cache[issuer_url] = (time.monotonic() + KEYS_TTL, keys)
        return keys


def _decode(token: str, keys: KeySet) -> None:
    try:
        jwt.decode(token, keys, algorithms=ALGORITHMS)
    except (InvalidKeyIdError, MissingKeyError):
        raise
    except (JoseError, ValueError, TypeError):
        raise invalid_token(BAD_SIGNATURE) from None


def _get_json(url: str, thumbprints: list[str]) -> object:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise invalid_token(NO_KEY)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        try:
            body = _fetch(parts.hostname, parts.port, path, ssl.create_default_context(), None)
        except ssl.SSLCertVerificationError:
            # Not from a public CA: trusted only by the provider's thumbprints.
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            body = _fetch(parts.hostname, parts.port, path, context,
                          [t.lower() for t in thumbprints])
        return orjson.loads(body)
    except (OSError, http.client.HTTPException, orjson.JSONDecodeError):
        raise invalid_token(NO_KEY) from None


def _fetch(host: str, port: int | None, path: str, context: ssl.SSLContext,
           thumbprints: list[str] | None) -> bytes:
    """GET ``path``; with ``thumbprints``, the server's certificate must be one of them."""
    connection = http.client.HTTPSConnection(host, port, timeout=FETCH_TIMEOUT, context=context)
    try:
        connection.connect()
        if thumbprints is not None:
            certificate = connection.sock.getpeercert(binary_form=True) or b""
            if hashlib.sha1(certificate).hexdigest() not in thumbprints:
                raise ssl.SSLCertVerificationError("certificate not in the ThumbprintList")
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read(MAX_DOCUMENT + 1)
        if response.status != 200 or len(body) > MAX_DOCUMENT:
            raise socket.error(f"HTTP {response.status}")
        return body
    finally:
        connection.close()
