"""A tiny OpenID Connect identity provider for tests: HTTPS on a free local port with a
self-signed certificate (IAM trusts it by its thumbprint), serving its discovery document and
JWKS, and issuing tokens signed with its key."""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.conftest import free_port


def self_signed(common_name: str) -> tuple[bytes, bytes, str]:
    """(private key PEM, self-signed certificate PEM, its SHA-1 thumbprint) of a test IdP."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            certificate.public_bytes(serialization.Encoding.PEM),
            hashlib.sha1(certificate.public_bytes(serialization.Encoding.DER)).hexdigest())


class IdentityProvider:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.issuer = self.url.removeprefix("https://")
        self.signing_key = RSAKey.generate_key(2048, parameters={"kid": "key-1"}, private=True)
        self.requests: list[str] = []
        key_pem, cert_pem, self.thumbprint = self_signed("127.0.0.1")
        self._folder = folder = Path(tempfile.mkdtemp(prefix="nubo-idp-"))
        (folder / "key.pem").write_bytes(key_pem)
        (folder / "cert.pem").write_bytes(cert_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                provider.requests.append(self.path)
                documents = {
                    "/.well-known/openid-configuration": {
                        "issuer": provider.url, "jwks_uri": f"{provider.url}/keys.json",
                        "id_token_signing_alg_values_supported": ["RS256"]},
                    "/keys.json": {"keys": [provider.signing_key.as_dict(private=False)]}}
                body = json.dumps(documents.get(self.path, {})).encode()
                self.send_response(200 if self.path in documents else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def rotate(self) -> None:
        """A new signing key (new kid), as IdPs rotate them."""
        self.signing_key = RSAKey.generate_key(2048, parameters={"kid": "key-2"}, private=True)

    def token(self, claims: dict, key: RSAKey | None = None) -> str:
        key = key or self.signing_key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, {"iss": self.url, **claims}, key)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self._folder, ignore_errors=True)
