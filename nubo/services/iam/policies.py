"""Managed policies (customer managed, with versions, and the vendored AWS managed ones),
their attachments and permissions-boundary uses, and inline policies."""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import lzma
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.services.iam import documents, schema
from nubo.services.iam.entities import (POLICY, Accounts, NamedEntities, limit_exceeded,
                                        no_such_entity)
from nubo.services.iam.validation import (DEFAULT_MAX_ITEMS, check_policy_arn, decode_marker,
                                          encode_marker)
from nubo.store import Store

AWS_POLICIES_FILE = Path(__file__).with_name("aws_managed_policies.json.xz")
AWS_POLICY_VERSIONS_FILE = Path(__file__).with_name("aws_managed_policy_versions.jsonl.xz")
MAX_VERSIONS = 5
ATTACHED_POLICIES_PER_ENTITY = 10
SERVICE_ROLE_POLICY_PATH = "/aws-service-role/"
VERSIONS_COUNTER = "PolicyVersionsInUse"
VERSIONS_IN_USE_QUOTA = 10000


@lru_cache(maxsize=1)
def aws_managed_policies() -> dict[str, dict]:
    """The AWS managed policies by ARN, as vendored (see refresh_managed_policies.py)."""
    entries = json.loads(lzma.decompress(AWS_POLICIES_FILE.read_bytes()))
    catalog = {}
    for entry in entries:
        arn = entry["arn"]
        resource = arn.split(":policy", 1)[1]
        path = resource.rsplit("/", 1)[0] + "/"
        digest = base64.b32encode(hashlib.sha256(arn.encode()).digest()).decode()
        catalog[arn] = {
            "arn": arn, "name": entry["name"], "path": path, "aws": True,
            "id": "ANPA" + digest[:17], "default": entry["version"],
            "created": _epoch(entry["created"]), "updated": _epoch(entry["updated"]),
            "sort": f"{path}\x00{entry['name'].lower()}",
            "versions": {entry["version"]: {"document": entry["document"],
                                            "created": _epoch(entry["updated"])}},
            "history": {vid: _epoch(created) for vid, created in entry["history"]},
            "source_arn": arn, "tags": [],
        }
    return catalog


def _older_aws_version(arn: str, version_id: str) -> str | None:
    """The document of an older version of an AWS managed policy, read from the vendored
    history one line at a time (rarely asked for: nothing of it stays in memory)."""
    prefix = '{"arn":' + json.dumps(arn) + ","
    with lzma.open(AWS_POLICY_VERSIONS_FILE, "rt") as lines:
        for line in lines:
            if line.startswith(prefix):
                document = json.loads(line)["versions"].get(version_id)
                return None if document is None else json.dumps(document, indent=4)
    return None


@lru_cache(maxsize=1)
def _aws_sorted() -> list[dict]:
    return sorted(aws_managed_policies().values(), key=lambda p: p["sort"])


def _epoch(text: str | None) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else 0.0


def _version_number(version_id: str) -> int:
    return int(version_id[1:]) if version_id[1:].isdigit() else 0


class Policies:
    def __init__(self, store: Store, clock: Clock, accounts: Accounts) -> None:
        self.clock = clock
        self.customer = NamedEntities(store, clock, POLICY, accounts)
        self.attachments = store.table(schema.ATTACHMENTS)
        self.inline = store.table(schema.INLINE_POLICIES)

    # -- managed policies ------------------------------------------------------------------

    def find(self, account: str, arn: str) -> dict | None:
        """A managed policy by ARN: an AWS managed one, or the account's customer policy."""
        partition, _, rest = arn.removeprefix("arn:").partition(":")
        aws = aws_managed_policies().get(f"arn:aws:{rest}")
        if aws is not None:
            # The same policies exist in every partition, under that partition's ARN.
            return aws if partition == "aws" else aws | {"arn": arn}
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "iam" or parts[4] != account \
                or not parts[5].startswith("policy/"):
            return None
        record = self.customer.get(account, parts[5].rsplit("/", 1)[1])
        return record if record is not None and record["arn"] == arn else None

    def require(self, account: str, arn: str, message: str = "Policy {} was not found.") -> dict:
        check_policy_arn(arn)
        policy = self.find(account, arn)
        if policy is None:
            raise no_such_entity(message.format(arn))
        return policy

    def require_customer(self, account: str, arn: str) -> dict:
        policy = self.require(account, arn)
        if policy.get("aws"):
            raise ServiceError("AccessDenied", f"Policy {arn} is an AWS managed policy and "
                               "cannot be modified.", 403)
        return policy

    def create(self, account: str, partition: str, name: str, path: str | None, document: str,
               description: str | None, tags: list[dict] | None) -> dict:
        documents.identity_policy(document)
        now = self.clock.now()
        policy = self.customer.create(account, partition, name, path, description=description,
                                      updated=now, default="v1", next_version=2,
                                      versions={"v1": {"document": document, "created": now}})
        if tags:
            self.customer.tag(policy, tags)
        self._count_versions(account, 1)
        return policy

    def _count_versions(self, account: str, delta: int) -> None:
        self.customer.accounts.add(account, VERSIONS_COUNTER, delta, VERSIONS_COUNTER,
                                   VERSIONS_IN_USE_QUOTA)

    def delete(self, account: str, arn: str) -> None:
        policy = self.require_customer(account, arn)
        if self.attachments.count("by_policy", (account, arn)):
            raise ServiceError("DeleteConflict", "Cannot delete a policy attached to entities.",
                               409)
        if len(policy["versions"]) > 1:
            raise ServiceError("DeleteConflict", "This policy has more than one version. Before "
                               "you delete a policy, you must delete the policy's versions. The "
                               "default version is deleted with the policy.", 409)
        self.customer.delete(policy)
        self._count_versions(account, -len(policy["versions"]))

    def create_version(self, account: str, arn: str, document: str,
                       set_default: bool) -> tuple[dict, str]:
        policy = self.require_customer(account, arn)
        documents.identity_policy(document)
        if len(policy["versions"]) >= MAX_VERSIONS:
            raise ServiceError("LimitExceeded", f"A managed policy can have up to {MAX_VERSIONS} "
                               "versions. Before you create a new version, you must delete an "
                               "existing version.", 409)
        self._count_versions(account, 1)
        version_id = f"v{policy['next_version']}"
        now = self.clock.now()
        policy["versions"][version_id] = {"document": document, "created": now}
        policy["next_version"] += 1
        if set_default:
            policy["default"] = version_id
            policy["updated"] = now
        self.customer.save(policy)
        return policy, version_id

    def version(self, account: str, arn: str, version_id: str) -> tuple[dict, dict]:
        policy = self.require(account, arn)
        version = policy["versions"].get(version_id)
        if version is None and version_id in policy.get("history", {}):
            document = _older_aws_version(policy["source_arn"], version_id)
            if document is not None:
                version = {"document": document, "created": policy["history"][version_id]}
        if version is None:
            raise no_such_entity(f"Policy {arn} version {version_id} does not exist or is not "
                                 "attachable.")
        return policy, version

    def delete_version(self, account: str, arn: str, version_id: str) -> None:
        policy, _ = self.version(account, arn, version_id)
        self.require_customer(account, arn)
        if policy["default"] == version_id:
            raise ServiceError("DeleteConflict", "Cannot delete the default version of a "
                               "policy.", 409)
        del policy["versions"][version_id]
        self.customer.save(policy)
        self._count_versions(account, -1)

    def set_default(self, account: str, arn: str, version_id: str) -> None:
        policy, _ = self.version(account, arn, version_id)
        self.require_customer(account, arn)
        policy["default"] = version_id
        policy["updated"] = self.clock.now()
        self.customer.save(policy)

    @staticmethod
    def versions(policy: dict) -> list[tuple[str, dict]]:
        """Newest first. AWS managed policies: every version's id and date; only the default
        one comes with its document."""
        versions = {vid: {"created": created} for vid, created in policy.get("history", {}).items()}
        versions.update(policy["versions"])
        return sorted(versions.items(), key=lambda item: -_version_number(item[0]))

    @staticmethod
    def default_document(policy: dict) -> str:
        return policy["versions"][policy["default"]]["document"]

    def usage(self, account: str, arn: str, usage: str) -> int:
        return self.attachments.count("by_policy", (account, arn, usage))

    def list(self, account: str, scope: str | None, only_attached: bool,
             path_prefix: str | None, usage_filter: str | None, marker: str | None,
             max_items: int | None) -> tuple[list[dict], dict]:
        """ListPolicies: AWS managed policies first, then the account's, each by path and
        name. The marker is the scope and sort value of the last policy returned."""
        scope = scope or "All"
        limit = max_items or DEFAULT_MAX_ITEMS
        after = decode_marker(marker)
        phase, _, last = after.partition("|") if after else ("AWS", "", "")
        attached = None
        if only_attached or usage_filter:
            usages = ("boundary",) if usage_filter == "PermissionsBoundary" else (
                ("policy",) if usage_filter == "PermissionsPolicy" or only_attached
                else ("policy", "boundary"))
            attached = {row["policy_arn"] for row in self.attachments.find("by_policy", (account,))
                        if row["usage"] in usages}
        found: list[dict] = []
        if scope in ("All", "AWS") and phase == "AWS":
            catalog = _aws_sorted()
            start = bisect.bisect_right([p["sort"] for p in catalog], last) if last else 0
            for policy in catalog[start:]:
                if len(found) > limit:
                    break
                if path_prefix and not policy["path"].startswith(path_prefix):
                    continue
                if attached is None or policy["arn"] in attached:
                    found.append(policy)
            last = ""
        if scope in ("All", "Local") and len(found) <= limit:
            lo = last + "\x00" if last else path_prefix
            hi = path_prefix + "\U0010ffff" if path_prefix else None
            while len(found) <= limit:
                rows = self.customer.table.find("by_path", (account,), lo=lo, hi=hi,
                                                limit=limit + 1)
                found.extend(row for row in rows
                             if attached is None or row["arn"] in attached)
                if len(rows) <= limit:
                    break
                lo = rows[-1]["sort"] + "\x00"
        if len(found) > limit:
            page, next_one = found[:limit], found[limit - 1]
            return page, {"IsTruncated": True, "Marker": encode_marker(
                ("AWS" if next_one.get("aws") else "Local") + "|" + next_one["sort"])}
        return found, {"IsTruncated": False}

    # -- attachments and boundaries --------------------------------------------------------

    def attach(self, account: str, kind: str, entity: dict, arn: str) -> None:
        policy = self.require(account, arn, "Policy {} does not exist or is not attachable.")
        if policy.get("aws") and policy["path"] == SERVICE_ROLE_POLICY_PATH:
            raise ServiceError("PolicyNotAttachable", "Cannot attach a Service Role Policy to a "
                               "Customer Role.", 400)
        key = (account, kind, entity["id"], "policy", arn)
        if self.attachments.get(key) is not None:
            return
        if len(self.attached(account, kind, entity["id"])) >= ATTACHED_POLICIES_PER_ENTITY:
            raise limit_exceeded(f"PoliciesPer{kind.capitalize()}",
                                 ATTACHED_POLICIES_PER_ENTITY)
        self.attachments.insert({"account": account, "kind": kind, "entity_id": entity["id"],
                                 "usage": "policy", "policy_arn": arn})

    def detach(self, account: str, kind: str, entity: dict, arn: str) -> None:
        if not self.attachments.delete((account, kind, entity["id"], "policy", arn)):
            raise no_such_entity(f"Policy {arn} was not found.")

    def attached(self, account: str, kind: str, entity_id: str) -> list[str]:
        """ARNs of the managed policies attached to the entity."""
        return [row["policy_arn"] for row in
                self.attachments.find(None, (account, kind, entity_id, "policy"))]

    def set_boundary(self, account: str, kind: str, entity: dict, arn: str) -> None:
        check_policy_arn(arn)
        if self.find(account, arn) is None:
            raise no_such_entity(f"Scope ARN: {arn} does not exist or is not attachable.")
        self.delete_boundary(account, kind, entity)
        entity["boundary"] = arn
        self.attachments.insert({"account": account, "kind": kind, "entity_id": entity["id"],
                                 "usage": "boundary", "policy_arn": arn})

    def delete_boundary(self, account: str, kind: str, entity: dict) -> None:
        if entity.get("boundary"):
            self.attachments.delete((account, kind, entity["id"], "boundary",
                                     entity["boundary"]))
        entity["boundary"] = None

    def entities(self, account: str, arn: str, usage: str | None) -> list[dict]:
        eq = (account, arn) if usage is None else (account, arn, usage)
        return self.attachments.find("by_policy", eq)

    # -- inline policies -------------------------------------------------------------------

    def put_inline(self, account: str, kind: str, entity: dict, name: str,
                   document: str) -> None:
        documents.identity_policy(document, limit=None)
        limit = documents.INLINE_POLICY_SIZES[kind]
        others = sum(documents.size(row["document"]) for row in self._inline_rows(
            account, kind, entity["id"]) if row["name"] != name)
        if others + documents.size(document) > limit:
            raise ServiceError("LimitExceeded", f"Maximum policy size of {limit} bytes exceeded "
                               f"for {kind} {entity['name']}", 409)
        self.inline.put({"account": account, "kind": kind, "entity_id": entity["id"],
                         "name": name, "document": document})

    def _inline_rows(self, account: str, kind: str, entity_id: str) -> list[dict]:
        return self.inline.find(None, (account, kind, entity_id))

    def inline_policy(self, account: str, kind: str, entity: dict, name: str) -> str:
        row = self.inline.get((account, kind, entity["id"], name))
        if row is None:
            raise no_such_entity(f"The {kind} policy with name {name} cannot be found.")
        return row["document"]

    def delete_inline(self, account: str, kind: str, entity: dict, name: str) -> None:
        if not self.inline.delete((account, kind, entity["id"], name)):
            raise no_such_entity(f"The {kind} policy with name {name} cannot be found.")

    def inline_policies(self, account: str, kind: str, entity_id: str) -> dict[str, str]:
        return {row["name"]: row["document"]
                for row in self._inline_rows(account, kind, entity_id)}
