"""What guards a version's bytes: server-side encryption settings (SSE-S3, SSE-KMS, and SSE-C,
whose key must come with every read), archived storage classes that need a restore before
reads, Object Lock retention and legal holds that refuse deletes, and MFA delete."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import datetime

from nubo.core.errors import ServiceError
from nubo.services.s3 import errors
from nubo.services.s3.transfer import http_date

ARCHIVED_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
DAY = 86_400


# --- encryption ------------------------------------------------------------------------------
def customer_key_md5(params: dict) -> str | None:
    """The MD5 of an SSE-C key given with a request (checked against the key), or None."""
    key, algorithm = params.get("SSECustomerKey"), params.get("SSECustomerAlgorithm")
    if key is None and algorithm is None:
        return None
    if algorithm != "AES256":
        raise errors.invalid_argument("The encryption algorithm specified is not valid",
                                      "x-amz-server-side-encryption-customer-algorithm",
                                      algorithm)
    try:
        raw = base64.b64decode(key or "", validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise errors.invalid_argument("The secret key was invalid for the specified algorithm.",
                                      "x-amz-server-side-encryption-customer-key", "")
    digest = base64.b64encode(hashlib.md5(raw).digest()).decode()
    stated = params.get("SSECustomerKeyMD5")
    if stated is not None and stated != digest:
        raise errors.invalid_argument("The calculated MD5 hash of the key did not match the hash "
                                      "that was provided.",
                                      "x-amz-server-side-encryption-customer-key-MD5", stated)
    return digest


def encryption_of(params: dict, bucket: dict, region: str, account: str) -> dict:
    """The encryption a new version gets: SSE-C if a key is given, else the request's
    x-amz-server-side-encryption, else the bucket's default (SSE-S3 unless configured)."""
    md5 = customer_key_md5(params)
    if md5 is not None:
        return {"SSECustomerAlgorithm": "AES256", "SSECustomerKeyMD5": md5}
    algorithm = params.get("ServerSideEncryption")
    key_id = params.get("SSEKMSKeyId")
    bucket_key = params.get("BucketKeyEnabled")
    if algorithm is None:
        rule = ((bucket.get("encryption") or {}).get("Rules") or [{}])[0]
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        algorithm = default.get("SSEAlgorithm") or "AES256"
        key_id = key_id or default.get("KMSMasterKeyID")
        bucket_key = bucket_key if bucket_key is not None else rule.get("BucketKeyEnabled")
    if algorithm not in ("AES256", "aws:kms", "aws:kms:dsse"):
        raise errors.invalid_argument("The encryption method specified is not supported",
                                      "x-amz-server-side-encryption", algorithm)
    out = {"ServerSideEncryption": algorithm}
    context = params.get("SSEKMSEncryptionContext")
    if algorithm.startswith("aws:kms"):
        out["SSEKMSKeyId"] = key_id or "alias/aws/s3"  # resolved to the key's ARN by KMS
        if bucket_key:
            out["BucketKeyEnabled"] = True
        if context is not None:
            out["SSEKMSEncryptionContext"] = _checked_context(context)
    elif context is not None:
        raise errors.invalid_argument("Server Side Encryption with AWS KMS managed key requires "
                                      "HTTP header x-amz-server-side-encryption : aws:kms",
                                      "x-amz-server-side-encryption", algorithm)
    return out


def _checked_context(context: str) -> str:
    """x-amz-server-side-encryption-context: base64 of a JSON string-to-string map."""
    try:
        document = json.loads(base64.b64decode(context, validate=True))
    except (ValueError, binascii.Error):
        document = None
    if not isinstance(document, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in document.items()):
        raise errors.invalid_argument("The header 'x-amz-server-side-encryption-context' shall "
                                      "be Base64-encoded UTF-8 string holding JSON which "
                                      "represents a string-string map",
                                      "x-amz-server-side-encryption-context", context)
    return context


def check_customer_key(record: dict, params: dict) -> None:
    """Reads of an SSE-C version need its key; other versions refuse one."""
    given = customer_key_md5(params)
    stored = record.get("SSECustomerKeyMD5")
    if stored is None:
        if given is not None:
            raise errors.invalid_request("The encryption parameters are not applicable to this "
                                         "object.")
        return
    if given is None:
        raise errors.invalid_request("The object was stored using a form of Server Side "
                                     "Encryption. The correct parameters must be provided to "
                                     "retrieve the object.")
    if given != stored:
        raise ServiceError("AccessDenied", "Access Denied", 403)


# --- archived storage classes ----------------------------------------------------------------
def check_readable(record: dict, now: float) -> None:
    if record.get("StorageClass") in ARCHIVED_CLASSES and \
            (record.get("restore_until") or 0) <= now:
        raise ServiceError("InvalidObjectState", "The operation is not valid for the object's "
                           "storage class", 403,
                           fields={"StorageClass": record["StorageClass"]})


def restore(record: dict, days: int | None, now: float) -> tuple[int, dict]:
    """RestoreObject, completed at once: 202 for a new restore, 200 to extend one."""
    if record.get("StorageClass") not in ARCHIVED_CLASSES:
        raise ServiceError("InvalidObjectState", "Restore is not allowed for the object's "
                           "current storage class", 403,
                           fields={"StorageClass": record.get("StorageClass") or "STANDARD"})
    if not days or days < 1:
        raise errors.malformed_xml()
    status = 200 if (record.get("restore_until") or 0) > now else 202
    return status, {"restore_until": now + days * DAY}


def restore_header(record: dict, now: float) -> str | None:
    until = record.get("restore_until")
    if until is None or until <= now:
        return None
    return f'ongoing-request="false", expiry-date="{http_date(until)}"'


# --- object lock -----------------------------------------------------------------------------
def lock_of(params: dict, bucket: dict, now: float) -> dict:
    """Retention and legal hold of a new version: the request's, else the bucket's default."""
    mode, until = params.get("ObjectLockMode"), params.get("ObjectLockRetainUntilDate")
    hold = params.get("ObjectLockLegalHoldStatus")
    if not bucket.get("object_lock"):
        if mode or until or hold:
            raise errors.invalid_request("Bucket is missing Object Lock Configuration")
        return {}
    out = {}
    if mode is None:
        rule = ((bucket.get("object_lock_configuration") or {}).get("Rule") or {}).get(
            "DefaultRetention") or {}
        if rule.get("Mode"):
            mode = rule["Mode"]
            until = now + (rule.get("Days") or 365 * (rule.get("Years") or 0)) * DAY
    elif until is not None:
        until = until.timestamp() if isinstance(until, datetime) else until
    if mode:
        out.update(ObjectLockMode=mode, ObjectLockRetainUntilDate=until)
    if hold:
        out["ObjectLockLegalHoldStatus"] = hold
    return out


def check_deletable(record: dict, bypass_governance: bool, now: float) -> None:
    """Deleting a version under a legal hold or retention is denied (GOVERNANCE yields to the
    bypass header)."""
    retained = (record.get("ObjectLockRetainUntilDate") or 0) > now and \
        not (record.get("ObjectLockMode") == "GOVERNANCE" and bypass_governance)
    if record.get("ObjectLockLegalHoldStatus") == "ON" or retained:
        raise ServiceError("AccessDenied", "Access Denied because object protected by object "
                           "lock.", 403)


def check_retention_change(record: dict, mode: str | None, until: float | None,
                           bypass_governance: bool, now: float) -> None:
    """COMPLIANCE retention can only be extended; GOVERNANCE changes need the bypass."""
    current, current_until = record.get("ObjectLockMode"), record.get(
        "ObjectLockRetainUntilDate") or 0
    if current_until <= now or current is None:
        return
    shortened = mode != current or (until or 0) < current_until
    if shortened and (current == "COMPLIANCE" or not bypass_governance):
        raise ServiceError("AccessDenied", "Access Denied because object protected by object "
                           "lock.", 403)


# --- MFA delete ------------------------------------------------------------------------------
# x-amz-mfa: the device's serial number (an ARN, or a hardware device's serial), a space and the
# six-digit code it shows.
_MFA_HEADER = re.compile(r"(\S+) (\d{6})")


def mfa_required() -> ServiceError:
    return ServiceError("AccessDenied", "Mfa Authentication must be used for this request", 403)


def check_mfa(header: str | None, account: str, code_valid) -> None:
    """A request MFA delete guards must carry a valid x-amz-mfa. ``code_valid(serial, code)``
    answers for the MFA devices IAM knows (True/False) and None for others, whose code can
    only be checked for its form."""
    found = _MFA_HEADER.fullmatch((header or "").strip())
    if found is None:
        raise mfa_required()
    serial, code = found.groups()
    if serial.startswith("arn:") and f":iam::{account}:mfa/" not in serial:
        raise mfa_required()
    if code_valid(serial, code) is False:
        raise mfa_required()
