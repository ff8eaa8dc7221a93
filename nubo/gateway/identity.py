"""Who is calling: account and region of a request.

Credentials are not verified yet (that comes with IAM): any access key is accepted. A 12-digit
access key id is taken as the account id, as LocalStack users expect; any other key maps to the
default account.
"""

from __future__ import annotations

from dataclasses import dataclass

from nubo.core.errors import ServiceError
from nubo.core.http import HttpRequest
from nubo.gateway.routing import Credential, region_of_host

DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class Identity:
    access_key_id: str  # "" for anonymous requests
    account_id: str
    region: str

    @property
    def anonymous(self) -> bool:
        return not self.access_key_id


def identify(request: HttpRequest, credential: Credential | None) -> Identity:
    region = (credential.region if credential and credential.region else None) or \
        region_of_host(request.host) or DEFAULT_REGION
    if credential is None:
        return Identity("", DEFAULT_ACCOUNT, region)
    key = credential.access_key_id
    account = key if len(key) == 12 and key.isdigit() else DEFAULT_ACCOUNT
    return Identity(key, account, region)


def missing_authentication(protocol: str) -> ServiceError:
    """The error AWS answers a request without credentials with: Coral JSON services name it
    ...Exception (400; 403 behind REST front ends), XML services MissingAuthenticationToken."""
    message = "Request is missing Authentication Token"
    if protocol in ("json", "smithy-rpc-v2-cbor"):
        return ServiceError("MissingAuthenticationTokenException", message, 400)
    if protocol == "rest-json":
        return ServiceError("MissingAuthenticationTokenException", message, 403)
    return ServiceError("MissingAuthenticationToken", message, 403)
