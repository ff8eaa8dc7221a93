"""A user's credentials for other services: X.509 signing certificates, SSH public keys (for
CodeCommit) and service-specific credentials (CodeCommit and Keyspaces passwords, Bedrock API
keys). One table, one row per credential, keyed under its user."""

from __future__ import annotations

import base64
import hashlib
import secrets
import string

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization

from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.services.iam import schema
from nubo.services.iam.entities import limit_exceeded, no_such_entity
from nubo.store import Store

SIGNING_CERTIFICATE, SSH_KEY, SERVICE_CREDENTIAL = "certificate", "ssh", "service"
SIGNING_CERTIFICATES_PER_USER = 2
SSH_KEYS_PER_USER = 5
SERVICE_CREDENTIALS_PER_SERVICE = 2
PASSWORD_SERVICES = ("codecommit.amazonaws.com", "cassandra.amazonaws.com")
API_KEY_SERVICES = ("bedrock.amazonaws.com",)
_PASSWORD_ALPHABET = string.ascii_letters + string.digits + "+/="


def _id(length: int) -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


class ServiceCredentials:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.clock = clock
        self.table = store.table(schema.USER_CREDENTIALS)

    def of(self, user: dict, kind: str) -> list[dict]:
        return sorted(self.table.find(None, (user["account"], user["id"], kind)),
                      key=lambda row: row["created"])

    def any(self, user: dict) -> bool:
        return bool(self.table.find(None, (user["account"], user["id"]), limit=1))

    def get(self, user: dict, kind: str, credential_id: str, missing: str) -> dict:
        row = self.table.get((user["account"], user["id"], kind, credential_id))
        if row is None:
            raise no_such_entity(missing)
        return row

    def set_status(self, row: dict, status: str) -> None:
        row["status"] = status
        self.table.put(row)

    def delete(self, row: dict) -> None:
        self.table.delete((row["account"], row["user_id"], row["kind"], row["credential_id"]))

    def _insert(self, user: dict, kind: str, credential_id: str, **fields) -> dict:
        row = {"account": user["account"], "user_id": user["id"], "kind": kind,
               "credential_id": credential_id, "status": "Active", "created": self.clock.now(),
               **fields}
        self.table.insert(row)
        return row

    # -- signing certificates --------------------------------------------------------------

    def upload_certificate(self, user: dict, body: str) -> dict:
        try:
            certificate = x509.load_pem_x509_certificate(body.encode())
        except (ValueError, UnsupportedAlgorithm):
            raise ServiceError("MalformedCertificate", "Unable to parse certificate. Please "
                               "ensure the certificate is in PEM format.", 400) from None
        fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
        existing = self.of(user, SIGNING_CERTIFICATE)
        if any(row["fingerprint"] == fingerprint for row in existing):
            raise ServiceError("DuplicateCertificate", "The request was rejected because the "
                               "same certificate is associated with an IAM user in the account.",
                               409)
        if len(existing) >= SIGNING_CERTIFICATES_PER_USER:
            raise limit_exceeded("CertificatesPerUser", SIGNING_CERTIFICATES_PER_USER)
        return self._insert(user, SIGNING_CERTIFICATE, _id(32), body=body,
                            fingerprint=fingerprint)

    # -- SSH public keys -------------------------------------------------------------------

    def upload_ssh_key(self, user: dict, body: str) -> dict:
        try:
            key = serialization.load_ssh_public_key(body.strip().encode())
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ServiceError("UnrecognizedPublicKeyEncoding", "The public key encoding format "
                               "is unsupported or unrecognized.", 400) from None
        blob = key.public_bytes(serialization.Encoding.OpenSSH,
                                serialization.PublicFormat.OpenSSH).split()[1]
        digest = hashlib.md5(base64.b64decode(blob), usedforsecurity=False).hexdigest()
        fingerprint = ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
        existing = self.of(user, SSH_KEY)
        if any(row["fingerprint"] == fingerprint for row in existing):
            raise ServiceError("DuplicateSSHPublicKey", "The request was rejected because the "
                               "SSH public key is already associated with the specified IAM "
                               "user.", 400)
        if len(existing) >= SSH_KEYS_PER_USER:
            raise limit_exceeded("KeyPairsPerUser", SSH_KEYS_PER_USER)
        pem = key.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        return self._insert(user, SSH_KEY, "APKA" + _id(16), body=body.strip(), pem=pem,
                            fingerprint=fingerprint)

    # -- service-specific credentials ------------------------------------------------------

    def create_service_credential(self, user: dict, service: str,
                                  age_days: int | None) -> dict:
        if service not in PASSWORD_SERVICES + API_KEY_SERVICES:
            raise ServiceError("NotSupportedService", f"The specified service {service} is not "
                               "supported.", 404)
        same_service = [row for row in self.of(user, SERVICE_CREDENTIAL)
                        if row["service"] == service]
        if len(same_service) >= SERVICE_CREDENTIALS_PER_SERVICE:
            raise limit_exceeded("ServiceSpecificCredentialsPerUserPerService",
                                 SERVICE_CREDENTIALS_PER_SERVICE)
        now = self.clock.now()
        fields = {"service": service, "secret": self._secret(service),
                  "expires": now + age_days * 86400 if age_days else None}
        if service in PASSWORD_SERVICES:
            fields["service_user"] = f"{user['name']}-at-{user['account']}"
        else:
            fields["alias"] = f"{user['name']}-at-{user['account']}"
        return self._insert(user, SERVICE_CREDENTIAL, "ACCA" + _id(17), **fields)

    @staticmethod
    def _secret(service: str) -> str:
        if service in API_KEY_SERVICES:
            return base64.b64encode(secrets.token_bytes(48)).decode()
        return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(44))

    def reset_service_credential(self, row: dict) -> dict:
        row["secret"] = self._secret(row["service"])
        self.table.put(row)
        return row

