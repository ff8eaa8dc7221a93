"""AWS-shaped identifiers.

Access key ids carry their account as AWS's do (``sts get-access-key-info`` decodes them): after
the 4-letter prefix (AKIA long-term, ASIA temporary), 16 base32 characters hold 10 bytes whose
first 6 bytes are the account id shifted left by 7 bits. So the account of any key nubo issued is
known without a lookup.
"""

from __future__ import annotations

import base64
import itertools
import secrets
import string
import uuid

__all__ = ["access_key_id", "account_of_access_key", "request_id", "secret_access_key",
           "unique_id"]

_ACCOUNT_MASK = 0x7FFFFFFFFF80


def access_key_id(prefix: str, account_id: str) -> str:
    head = (int(account_id) << 7) | secrets.randbits(7)
    raw = head.to_bytes(6, "big") + secrets.token_bytes(4)
    return prefix + base64.b32encode(raw).decode()


def account_of_access_key(key: str) -> str | None:
    """The account encoded in an AWS-format access key id, or None if it is not one."""
    if len(key) != 20 or not key[:4].isalpha() or not key.isupper() and not key[4:].isalnum():
        return None
    try:
        raw = base64.b32decode(key[4:])
    except ValueError:
        return None
    return f"{(int.from_bytes(raw[:6], 'big') & _ACCOUNT_MASK) >> 7:012d}"


def secret_access_key() -> str:
    alphabet = string.ascii_letters + string.digits + "+/"
    return "".join(secrets.choice(alphabet) for _ in range(40))


def unique_id(prefix: str) -> str:
    """IAM-style unique ids (AIDA users, AROA roles, ANPA policies, ...): 21 characters."""
    alphabet = string.ascii_uppercase + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(17))


# Request ids are UUID-shaped like AWS's: a random prefix per process and a counter, unique
# without costing a random read per request (uuid4 was ~3% of a small request's time).
_REQUEST_ID_PREFIX = str(uuid.uuid4())[:24]
_request_counter = itertools.count(secrets.randbits(40))


def request_id() -> str:
    return f"{_REQUEST_ID_PREFIX}{next(_request_counter) & 0xFFFFFFFFFFFF:012x}"
