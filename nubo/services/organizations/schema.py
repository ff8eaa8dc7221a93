"""The Organizations tables. Organizations is global: rows belong to an organization, never to a
region. Every id (account, OU, policy, handshake) is unique across organizations, so rows are keyed
by it alone and carry ``org_id`` for the per-organization listings (index ranges, never scans).

The root lives in the organization's row (one root per organization), as do the enabled policy
types and the services with trusted access; OUs keep their chain of ancestors (OUs never move), so
an account's path from the root costs one lookup of its parent.
"""

from nubo.store import TableSpec

ORGANIZATIONS = TableSpec(
    name="org_organizations",
    key=("org_id",),
    columns={"org_id": "text"},
)

# The organization's resource policy (delegated administration), apart from the organization's
# row, which the policy evaluator reads on every request of a member account.
RESOURCE_POLICIES = TableSpec(
    name="org_resource_policies",
    key=("org_id",),
    columns={"org_id": "text"},
)

# Member accounts, the management account included. `parent_id` is the root or an OU.
ACCOUNTS = TableSpec(
    name="org_accounts",
    key=("account_id",),
    columns={"account_id": "text", "org_id": "text", "parent_id": "text", "email": "text"},
    indexes={"by_org": ("org_id", "account_id"), "by_parent": ("parent_id", "account_id"),
             "by_email": ("email",)},
)

# Organizational units; `name` is unique among the children of a parent.
UNITS = TableSpec(
    name="org_units",
    key=("ou_id",),
    columns={"ou_id": "text", "org_id": "text", "parent_id": "text", "name": "text"},
    indexes={"by_parent": ("parent_id", "ou_id"), "by_name": ("parent_id", "name"),
             "by_org": ("org_id", "ou_id")},
)

# Customer managed policies (AWS managed ones such as FullAWSAccess are constants).
POLICIES = TableSpec(
    name="org_policies",
    key=("policy_id",),
    columns={"policy_id": "text", "org_id": "text", "type": "text", "name": "text"},
    indexes={"by_type": ("org_id", "type", "policy_id"), "by_name": ("org_id", "type", "name")},
)

# A policy attached to a root, OU or account. `org_id` is needed because AWS managed policies
# (p-FullAWSAccess) have the same id in every organization.
ATTACHMENTS = TableSpec(
    name="org_attachments",
    key=("target_id", "policy_id"),
    columns={"target_id": "text", "policy_id": "text", "org_id": "text", "type": "text"},
    indexes={"by_target": ("target_id", "type", "policy_id"),
             "by_policy": ("org_id", "type", "policy_id", "target_id")},
)

# CreateAccount requests and their outcome.
CREATE_ACCOUNT_STATUS = TableSpec(
    name="org_create_account_status",
    key=("request_id",),
    columns={"request_id": "text", "org_id": "text", "state": "text"},
    indexes={"by_org": ("org_id", "request_id")},
)

# Handshakes of an organization with accounts: invitations, and the consents to enable all
# features (children of the handshake EnableAllFeatures opens: `parent`).
HANDSHAKES = TableSpec(
    name="org_handshakes",
    key=("handshake_id",),
    columns={"handshake_id": "text", "org_id": "text", "target": "text", "parent": "text"},
    indexes={"by_org": ("org_id", "handshake_id"), "by_target": ("target", "handshake_id"),
             "by_parent": ("parent", "handshake_id")},
)

# Member accounts registered as delegated administrators of a service.
DELEGATED_ADMINISTRATORS = TableSpec(
    name="org_delegated_administrators",
    key=("org_id", "account_id", "principal"),
    columns={"org_id": "text", "account_id": "text", "principal": "text"},
    indexes={"by_principal": ("org_id", "principal", "account_id")},
)
