"""Access control lists: canned ACLs and explicit grants (x-amz-grant-* headers or an
AccessControlPolicy document), checked as S3 checks them, reported by GetBucketAcl and
GetObjectAcl, and turned into policy statements for the IAM evaluator: group grants
(AllUsers, AuthenticatedUsers) unless IgnorePublicAcls, and a canonical user's grants for the
account that user is."""

from __future__ import annotations

import re
from typing import Any, Callable

from nubo.core.errors import ServiceError
from nubo.services.s3 import errors
from nubo.services.s3.models import canonical_user_id, owner_of

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
_PUBLIC_GROUPS = (ALL_USERS, AUTHENTICATED_USERS)
_CANNED = {"private": [], "bucket-owner-full-control": [], "bucket-owner-read": [],
           "aws-exec-read": [],
           "public-read": [(ALL_USERS, "READ")],
           "public-read-write": [(ALL_USERS, "READ"), (ALL_USERS, "WRITE")],
           "authenticated-read": [(AUTHENTICATED_USERS, "READ")],
           "log-delivery-write": [(LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")]}
# The x-amz-grant-* headers (input members) and the permission each grants.
GRANT_MEMBERS = {"GrantFullControl": "FULL_CONTROL", "GrantRead": "READ",
                 "GrantReadACP": "READ_ACP", "GrantWrite": "WRITE", "GrantWriteACP": "WRITE_ACP"}
_PERMISSIONS = ("FULL_CONTROL", "READ", "READ_ACP", "WRITE", "WRITE_ACP")
# id="..", uri=.., emailaddress=..: quoted or not (the CLI's documented form is unquoted)
_GRANTEE = re.compile(r'\s*(id|uri|emailaddress)\s*=\s*(?:"([^"]*)"|([^,"\s]+))\s*(?:,|$)',
                      re.IGNORECASE)
_CANONICAL_ID = re.compile(r"[0-9a-f]{64}")
# S3's mapping of ACL permissions to policy actions, on the bucket and on an object
# (a bucket's WRITE is about its objects).
BUCKET_ACTIONS = {"READ": ("s3:ListBucket", "s3:ListBucketVersions",
                           "s3:ListBucketMultipartUploads"),
                  "WRITE": ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"),
                  "READ_ACP": ("s3:GetBucketAcl",), "WRITE_ACP": ("s3:PutBucketAcl",)}
OBJECT_ACTIONS = {"READ": ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes"),
                  "READ_ACP": ("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
                  "WRITE_ACP": ("s3:PutObjectAcl", "s3:PutObjectVersionAcl")}


def requested_acl(acl: str | None, params: dict[str, Any],
                  policy: dict | None = None) -> str | list[dict] | None:
    """The ACL a request sets: a canned name, a list of explicit grants (from an
    AccessControlPolicy or the grant headers), or None when it sets none."""
    if policy is not None:
        return [_checked(grant) for grant in policy.get("Grants") or []]
    grants = [_checked({"Grantee": grantee, "Permission": permission})
              for member, permission in GRANT_MEMBERS.items() if params.get(member)
              for grantee in _grantees(params[member])]
    if grants:
        if acl is not None:
            raise errors.invalid_request("Specifying both Canned ACLs and Header Grants is not "
                                         "allowed")
        return grants
    return acl


def _grantees(header: str) -> list[dict]:
    found, position = [], 0
    while position < len(header):
        match = _GRANTEE.match(header, position)
        if match is None:
            raise errors.invalid_argument("Invalid grant header", "x-amz-grant", header)
        kind, quoted, bare = match.groups()
        value = bare if quoted is None else quoted
        found.append({"id": {"Type": "CanonicalUser", "ID": value},
                      "uri": {"Type": "Group", "URI": value},
                      "emailaddress": {"Type": "AmazonCustomerByEmail",
                                       "EmailAddress": value}}[kind.lower()])
        position = match.end()
    return found


def _checked(grant: dict) -> dict:
    grantee = grant.get("Grantee") or {}
    if grant.get("Permission") not in _PERMISSIONS:
        raise errors.malformed_xml()
    kind = grantee.get("Type")
    if kind == "Group":
        if grantee.get("URI") not in (ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY):
            raise errors.invalid_argument("Invalid group uri", "uri", grantee.get("URI"))
        return {"Grantee": {"Type": "Group", "URI": grantee["URI"]},
                "Permission": grant["Permission"]}
    if kind == "CanonicalUser":
        if not _CANONICAL_ID.fullmatch(grantee.get("ID") or ""):
            raise errors.invalid_argument("Invalid id", "CanonicalUser/ID", grantee.get("ID"))
        return {"Grantee": {"Type": "CanonicalUser", "ID": grantee["ID"]},
                "Permission": grant["Permission"]}
    if kind == "AmazonCustomerByEmail":
        raise ServiceError("UnresolvableGrantByEmailAddress", "The e-mail address you provided "
                           "does not match any account on record.", 400,
                           fields={"EmailAddress": grantee.get("EmailAddress")})
    raise errors.malformed_xml()


def _groups_of(acl: str | list[dict] | None) -> list[tuple[str, str]]:
    """(grantee, permission) pairs of an ACL beyond the owner's full control: a group's URI
    or a canonical user's ID."""
    if isinstance(acl, list):
        return [(g["Grantee"].get("URI") or g["Grantee"].get("ID"), g["Permission"])
                for g in acl]
    return _CANNED.get(acl or "private", [])


def is_public(acl: str | list[dict] | None) -> bool:
    return any(grantee in _PUBLIC_GROUPS for grantee, _ in _groups_of(acl))


def acl_output(owner_account: str, acl: str | list[dict] | None) -> dict:
    """GetBucketAcl / GetObjectAcl: the owner, its full control, and the ACL's grants."""
    owner = owner_of(owner_account)
    if isinstance(acl, list):  # explicit grants are the whole ACL
        return {"Owner": owner, "Grants": acl}
    grants = [{"Grantee": {**owner, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]
    grants += [{"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}
               for uri, permission in _CANNED.get(acl or "private", [])]
    return {"Owner": owner, "Grants": grants}


def check_acl_allowed(ownership: str, blocks: Callable[[], dict],
                      acl: str | list[dict] | None) -> None:
    """With ACLs disabled (BucketOwnerEnforced, the default) only the private and bucket-owner
    canned ACLs are accepted; with BlockPublicAcls (``blocks()``: the public access block in
    effect, asked only for a public ACL) no public one."""
    if ownership == "BucketOwnerEnforced" and (
            isinstance(acl, list) or acl not in (None, "private", "bucket-owner-full-control")):
        raise ServiceError("AccessControlListNotSupported", "The bucket does not allow ACLs",
                           400)
    if is_public(acl) and blocks()["BlockPublicAcls"]:
        raise ServiceError("AccessDenied", "Access Denied", 403)


def acl_statements(acl: str | list[dict] | None, actions: dict[str, tuple[str, ...]],
                   resources: dict[str, str], caller_account: str,
                   ignore_public: bool) -> list[dict]:
    """The grants of an ACL as Allow statements: a group's to anyone (AuthenticatedUsers: any
    signed caller), unless ``ignore_public``; a canonical user's to the caller's account when
    it is that user."""
    caller_id = canonical_user_id(caller_account) if caller_account else None
    out = []
    for grantee, permission in _groups_of(acl):
        granted = list(actions) if permission == "FULL_CONTROL" else \
            [permission] if permission in actions else []
        for each in granted:
            statement = {"Effect": "Allow", "Action": list(actions[each]),
                         "Resource": resources[each]}
            if grantee in _PUBLIC_GROUPS:
                if ignore_public:
                    continue
                statement["Principal"] = "*"
                if grantee == AUTHENTICATED_USERS:  # signed requests only
                    statement["Condition"] = {"Null": {"aws:PrincipalAccount": "false"}}
            elif grantee == caller_id:
                statement["Principal"] = {"AWS": f"arn:aws:iam::{caller_account}:root"}
            else:
                continue
            out.append(statement)
    return out
