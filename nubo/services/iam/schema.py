"""The IAM tables. IAM is global: every row belongs to an account, never to a region.

Named entities are keyed by (account, lower-cased name), as IAM names are unique regardless of
case, and listed through ``by_path`` whose ``sort`` column is ``path + NUL + key`` (listing by
path prefix and resuming after a marker are one index range). Rows that hang off an entity
(memberships, attachments, inline policies, keys, MFA devices) name it by its unique id, so
renaming a user or group moves nothing.
"""

from nubo.store import TableSpec


def _named(name: str, **extra_columns: str) -> TableSpec:
    columns = {"account": "text", "key": "text", "sort": "text", "id": "text", **extra_columns}
    indexes = {"by_path": ("account", "sort"), "by_id": ("id",)}
    if "role_id" in extra_columns:
        indexes["by_role"] = ("account", "role_id")
    return TableSpec(name=name, key=("account", "key"), columns=columns, indexes=indexes)


USERS = _named("iam_users")
GROUPS = _named("iam_groups")
ROLES = _named("iam_roles")
POLICIES = _named("iam_policies")  # customer managed; AWS managed ones are vendored data
INSTANCE_PROFILES = _named("iam_instance_profiles", role_id="text")
SERVER_CERTIFICATES = _named("iam_server_certificates")

# A user in a group.
GROUP_MEMBERS = TableSpec(
    name="iam_group_members",
    key=("account", "group_id", "user_id"),
    columns={"account": "text", "group_id": "text", "user_id": "text"},
    indexes={"by_user": ("account", "user_id", "group_id")},
)

# A managed policy attached to a user, group or role (usage "policy"), or set as a user's or
# role's permissions boundary (usage "boundary").
ATTACHMENTS = TableSpec(
    name="iam_attachments",
    key=("account", "kind", "entity_id", "usage", "policy_arn"),
    columns={"account": "text", "kind": "text", "entity_id": "text", "usage": "text",
             "policy_arn": "text"},
    indexes={"by_policy": ("account", "policy_arn", "usage", "kind", "entity_id")},
)

# Inline policies of users, groups and roles.
INLINE_POLICIES = TableSpec(
    name="iam_inline_policies",
    key=("account", "kind", "entity_id", "name"),
    columns={"account": "text", "kind": "text", "entity_id": "text", "name": "text"},
)

# Access keys, found by id alone (the authenticator knows nothing else).
ACCESS_KEYS = TableSpec(
    name="iam_access_keys",
    key=("access_key_id",),
    columns={"access_key_id": "text", "account": "text", "user_id": "text", "created": "real"},
    indexes={"by_user": ("account", "user_id", "created")},
)

# MFA devices: virtual devices (assigned or not) and the serials enabled for users.
MFA_DEVICES = TableSpec(
    name="iam_mfa_devices",
    key=("account", "serial"),
    columns={"account": "text", "serial": "text", "user_id": "text"},
    indexes={"by_user": ("account", "user_id", "serial")},
)

# SAML and OpenID Connect identity providers, by ARN.
PROVIDERS = TableSpec(
    name="iam_providers",
    key=("account", "kind", "arn"),
    columns={"account": "text", "kind": "text", "arn": "text"},
)

# Account-wide settings: aliases, password policy, credential report, entity counts.
ACCOUNTS = TableSpec(
    name="iam_accounts",
    key=("account",),
    columns={"account": "text"},
)

# A user's credentials for other services: signing certificates, SSH public keys (CodeCommit),
# service-specific credentials (CodeCommit, Keyspaces, Bedrock), by kind.
USER_CREDENTIALS = TableSpec(
    name="iam_user_credentials",
    key=("account", "user_id", "kind", "credential_id"),
    columns={"account": "text", "user_id": "text", "kind": "text", "credential_id": "text"},
)

# Account aliases are unique across all accounts: alias -> account.
ACCOUNT_ALIASES = TableSpec(
    name="iam_account_aliases",
    key=("alias",),
    columns={"alias": "text", "account": "text"},
)

# Access Advisor: when a user or role last used a service's action (the authorizer records
# each request), one row per entity, service namespace and action.
SERVICE_USAGE = TableSpec(
    name="iam_service_usage",
    key=("account", "entity_id", "namespace", "action"),
    columns={"account": "text", "entity_id": "text", "namespace": "text", "action": "text"},
)

# Access Advisor reports (GenerateServiceLastAccessedDetails,
# GenerateOrganizationsAccessReport), by job id, with what they found.
ACCESS_REPORTS = TableSpec(
    name="iam_access_reports",
    key=("account", "job_id"),
    columns={"account": "text", "job_id": "text"},
)
