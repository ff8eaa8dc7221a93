"""IAM's output shapes, from stored records. ``detail`` adds what IAM returns only for a single
entity (GetUser, GetRole): tags, the permissions boundary, RoleLastUsed."""

from __future__ import annotations

from nubo.services.iam.documents import url_encoded


def compact(shape: dict) -> dict:
    return {key: value for key, value in shape.items() if value is not None and value != []}


def _boundary(record: dict) -> dict | None:
    arn = record.get("boundary")
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": arn} if arn else None


def user(record: dict, detail: bool = False) -> dict:
    shape = {"Path": record["path"], "UserName": record["name"], "UserId": record["id"],
             "Arn": record["arn"], "CreateDate": record["created"],
             "PasswordLastUsed": record.get("password_used")}
    if detail:
        shape.update(PermissionsBoundary=_boundary(record), Tags=record["tags"])
    return compact(shape)


def group(record: dict) -> dict:
    return {"Path": record["path"], "GroupName": record["name"], "GroupId": record["id"],
            "Arn": record["arn"], "CreateDate": record["created"]}


def role(record: dict, detail: bool = False) -> dict:
    shape = {"Path": record["path"], "RoleName": record["name"], "RoleId": record["id"],
             "Arn": record["arn"], "CreateDate": record["created"],
             "AssumeRolePolicyDocument": url_encoded(record["trust"]),
             "Description": record.get("description"),
             "MaxSessionDuration": record["max_session"]}
    if detail:
        used = record.get("last_used") or {}
        shape.update(PermissionsBoundary=_boundary(record), Tags=record["tags"],
                     RoleLastUsed=compact({"LastUsedDate": used.get("date"),
                                           "Region": used.get("region")}))
    return compact(shape)


def instance_profile(record: dict, roles: list[dict], tags: bool = False) -> dict:
    shape = compact({"Path": record["path"], "InstanceProfileName": record["name"],
                     "InstanceProfileId": record["id"], "Arn": record["arn"],
                     "CreateDate": record["created"], "Tags": record["tags"] if tags else None})
    shape["Roles"] = [role(r) for r in roles]  # present even when empty, as IAM answers
    return shape


def policy(record: dict, attachments: int, boundaries: int, listed: bool = False) -> dict:
    """A managed policy; ``listed``: as ListPolicies shows it (no description, no tags)."""
    return compact({"PolicyName": record["name"], "PolicyId": record["id"],
                    "Arn": record["arn"], "Path": record["path"],
                    "DefaultVersionId": record["default"], "AttachmentCount": attachments,
                    "PermissionsBoundaryUsageCount": boundaries, "IsAttachable": True,
                    "Description": None if listed else record.get("description"),
                    "CreateDate": record["created"], "UpdateDate": record["updated"],
                    "Tags": None if listed else record["tags"]})


def policy_version(version_id: str, version: dict, default: str,
                   document: bool = True) -> dict:
    return compact({"Document": url_encoded(version["document"]) if document else None,
                    "VersionId": version_id, "IsDefaultVersion": version_id == default,
                    "CreateDate": version["created"]})


def access_key(key: dict, user_name: str, secret: bool = False) -> dict:
    return compact({"UserName": user_name, "AccessKeyId": key["access_key_id"],
                    "Status": key["status"], "CreateDate": key["created"],
                    "SecretAccessKey": key["secret"] if secret else None})


def signing_certificate(row: dict, user_name: str) -> dict:
    return {"UserName": user_name, "CertificateId": row["credential_id"],
            "CertificateBody": row["body"], "Status": row["status"], "UploadDate": row["created"]}


def ssh_key(row: dict, user_name: str, body: str) -> dict:
    return {"UserName": user_name, "SSHPublicKeyId": row["credential_id"],
            "Fingerprint": row["fingerprint"], "SSHPublicKeyBody": body, "Status": row["status"],
            "UploadDate": row["created"]}


def service_credential(row: dict, user_name: str, secret: bool = False) -> dict:
    password_service = "service_user" in row
    return compact({
        "UserName": user_name, "Status": row["status"], "ServiceName": row["service"],
        "ServiceSpecificCredentialId": row["credential_id"], "CreateDate": row["created"],
        "ExpirationDate": row.get("expires"), "ServiceUserName": row.get("service_user"),
        "ServiceCredentialAlias": row.get("alias"),
        "ServicePassword": row["secret"] if secret and password_service else None,
        "ServiceCredentialSecret": row["secret"] if secret and not password_service else None})


def server_certificate(record: dict) -> dict:
    return {"Path": record["path"], "ServerCertificateName": record["name"],
            "ServerCertificateId": record["id"], "Arn": record["arn"],
            "UploadDate": record["created"], "Expiration": record["expiration"]}

