"""Named IAM entities (users, groups, roles, customer managed policies, instance profiles,
server certificates) and the per-account counters their quotas need.

Each kind is one table keyed by (account, lower-cased name): IAM names are unique regardless of
case but keep the case they were given. Every lookup is one key or one index range.
"""

from __future__ import annotations

from dataclasses import dataclass

from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.services.iam import schema
from nubo.services.iam.validation import (DEFAULT_MAX_ITEMS, GROUP_ID, INSTANCE_PROFILE_ID,
                                          POLICY_ID, ROLE_ID, SERVER_CERTIFICATE_ID, USER_ID,
                                          check_path, decode_marker, encode_marker, iam_arn,
                                          merge_tags, prefix_range, remove_tags, unique_id)
from nubo.store import Store, TableSpec


@dataclass(frozen=True)
class Kind:
    name: str  # ARN resource type and the word in attachments: user, group, role, ...
    spec: TableSpec
    id_prefix: str
    missing: str  # NoSuchEntity message, formatted with the name
    exists: str  # EntityAlreadyExists message
    counter: str  # GetAccountSummary key
    quota: str  # LimitExceeded quota name
    limit: int


USER = Kind("user", schema.USERS, USER_ID, "The user with name {} cannot be found.",
            "User with name {} already exists.", "Users", "UsersPerAccount", 5000)
GROUP = Kind("group", schema.GROUPS, GROUP_ID, "The group with name {} cannot be found.",
             "Group with name {} already exists.", "Groups", "GroupsPerAccount", 300)
ROLE = Kind("role", schema.ROLES, ROLE_ID, "The role with name {} cannot be found.",
            "Role with name {} already exists.", "Roles", "RolesPerAccount", 1000)
POLICY = Kind("policy", schema.POLICIES, POLICY_ID, "Policy {} was not found.",
              "A policy called {} already exists. Duplicate names are not allowed.", "Policies",
              "PoliciesPerAccount", 1500)
INSTANCE_PROFILE = Kind("instance-profile", schema.INSTANCE_PROFILES, INSTANCE_PROFILE_ID,
                        "Instance Profile {} cannot be found.",
                        "Instance Profile {} already exists.", "InstanceProfiles",
                        "InstanceProfilesPerAccount", 1000)
SERVER_CERTIFICATE = Kind("server-certificate", schema.SERVER_CERTIFICATES,
                          SERVER_CERTIFICATE_ID,
                          "The Server Certificate with name {} cannot be found.",
                          "The Server Certificate with name {} already exists.",
                          "ServerCertificates", "ServerCertificatesPerAccount", 20)


def no_such_entity(message: str) -> ServiceError:
    return ServiceError("NoSuchEntity", message, 404)


def limit_exceeded(quota: str, limit: int) -> ServiceError:
    return ServiceError("LimitExceeded", f"Cannot exceed quota for {quota}: {limit}", 409)


class Accounts:
    """One record per account: counters for quotas and GetAccountSummary, and account-wide
    settings (aliases, password policy, credential report)."""

    def __init__(self, store: Store) -> None:
        self.table = store.table(schema.ACCOUNTS)

    def get(self, account: str) -> dict:
        return self.table.get((account,)) or {"account": account, "counts": {}}

    def update(self, account: str, **changes) -> dict:
        record = self.get(account) | changes
        self.table.put(record)
        return record

    def add(self, account: str, counter: str, delta: int, quota: str | None = None,
            limit: int | None = None) -> None:
        record = self.get(account)
        value = record["counts"].get(counter, 0) + delta
        if delta > 0 and limit is not None and value > limit:
            raise limit_exceeded(quota, limit)
        record["counts"][counter] = value
        self.table.put(record)


class NamedEntities:
    """The entities of one kind: create, find by name or id, list by path, rename, tag."""

    def __init__(self, store: Store, clock: Clock, kind: Kind, accounts: Accounts) -> None:
        self.kind = kind
        self.table = store.table(kind.spec)
        self.clock = clock
        self.accounts = accounts

    def get(self, account: str, name: str) -> dict | None:
        return self.table.get((account, name.lower()))

    def require(self, account: str, name: str) -> dict:
        record = self.get(account, name)
        if record is None:
            raise no_such_entity(self.kind.missing.format(name))
        return record

    def by_id(self, entity_id: str) -> dict | None:
        found = self.table.find("by_id", (entity_id,), limit=1)
        return found[0] if found else None

    def create(self, account: str, partition: str, name: str, path: str | None,
               **fields) -> dict:
        path = check_path(path)
        if self.get(account, name) is not None:
            raise ServiceError("EntityAlreadyExists", self.kind.exists.format(name), 409)
        self.accounts.add(account, self.kind.counter, 1, self.kind.quota, self.kind.limit)
        record = {"account": account, "id": unique_id(self.kind.id_prefix), "created":
                  self.clock.now(), "tags": [], **fields}
        record.update(self._naming(partition, account, name, path))
        self.table.insert(record)
        return record

    def _naming(self, partition: str, account: str, name: str, path: str) -> dict:
        key = name.lower()
        return {"key": key, "sort": f"{path}\x00{key}", "name": name, "path": path,
                "arn": iam_arn(partition, account, self.kind.name, path, name)}

    def save(self, record: dict) -> None:
        self.table.put(record)

    def rename(self, record: dict, partition: str, new_name: str | None,
               new_path: str | None) -> dict:
        name = new_name or record["name"]
        path = check_path(new_path if new_path is not None else record["path"], "newPath")
        if name.lower() != record["key"] and self.get(record["account"], name) is not None:
            raise ServiceError("EntityAlreadyExists", self.kind.exists.format(name), 409)
        self.table.delete((record["account"], record["key"]))
        renamed = record | self._naming(partition, record["account"], name, path)
        self.table.put(renamed)
        return renamed

    def delete(self, record: dict) -> None:
        self.table.delete((record["account"], record["key"]))
        self.accounts.add(record["account"], self.kind.counter, -1)

    def list(self, account: str, path_prefix: str | None, marker: str | None,
             max_items: int | None) -> tuple[list[dict], dict]:
        lo, hi = prefix_range(path_prefix)
        after = decode_marker(marker)
        if after is not None:
            lo = after + "\x00"
        limit = max_items or DEFAULT_MAX_ITEMS
        rows = self.table.find("by_path", (account,), lo=lo, hi=hi, limit=limit + 1)
        if len(rows) > limit:
            return rows[:limit], {"IsTruncated": True,
                                  "Marker": encode_marker(rows[limit - 1]["sort"])}
        return rows, {"IsTruncated": False}

    def all(self, account: str) -> list[dict]:
        """Every entity of the account (reports and authorization details only)."""
        return self.table.find("by_path", (account,))

    def tag(self, record: dict, tags: list[dict]) -> None:
        record["tags"] = merge_tags(record["tags"], tags)
        self.table.put(record)

    def untag(self, record: dict, keys: list[str]) -> None:
        record["tags"] = remove_tags(record["tags"], keys)
        self.table.put(record)
