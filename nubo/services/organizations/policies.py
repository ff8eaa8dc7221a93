"""Organization policies: SCPs, RCPs and the management policy types (tag, backup, AI services
opt-out, ...), their attachment to roots, OUs and accounts, and the policy types enabled on the
root.

When SCPs (RCPs) are enabled, the AWS managed FullAWSAccess (RCPFullAWSAccess) policy is attached
to the root, every OU and every account, and to every OU and account created or joining later.
Every target keeps at least one SCP; RCPFullAWSAccess cannot be detached at all.
"""

from __future__ import annotations

import json
from typing import Callable

from nubo.core.errors import ServiceError
from nubo.services.organizations import schema
from nubo.services.organizations.effective import effective
from nubo.services.organizations.models import (DEFAULT_PAGE, Organizations, arn, page,
                                                page_token, random_id)
from nubo.services.organizations.validation import (check_content, check_id, check_target_id,
                                                    constraint, invalid_input, policy_not_found,
                                                    policy_type_not_enabled, target_not_found)
from nubo.store import Store

SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
MAX_ATTACHED = {SCP: 5, RCP: 5}  # per target; other types: DEFAULT_MAX_ATTACHED
DEFAULT_MAX_ATTACHED = 10
MAX_POLICIES = {SCP: 10000}  # per organization; other types: DEFAULT_MAX_POLICIES
DEFAULT_MAX_POLICIES = 1000

_FULL_ACCESS = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
_RCP_FULL_ACCESS = {"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                                   "Resource": "*"}]}
# AWS managed policies, the same in every organization; the default policy of each type.
MANAGED = {
    "p-FullAWSAccess": {"policy_id": "p-FullAWSAccess", "type": SCP, "name": "FullAWSAccess",
                        "description": "Allows access to every operation",
                        "content": json.dumps(_FULL_ACCESS, indent=4), "aws_managed": True},
    "p-RCPFullAWSAccess": {"policy_id": "p-RCPFullAWSAccess", "type": RCP,
                           "name": "RCPFullAWSAccess",
                           "description": "Allows access to every operation",
                           "content": json.dumps(_RCP_FULL_ACCESS, indent=4),
                           "aws_managed": True},
}
DEFAULT_POLICY = {SCP: "p-FullAWSAccess", RCP: "p-RCPFullAWSAccess"}


class Policies:
    def __init__(self, store: Store, organizations: Organizations) -> None:
        self.organizations = organizations
        self.policies = store.table(schema.POLICIES)
        self.attachments = store.table(schema.ATTACHMENTS)
        organizations.on_new_target = self.attach_defaults
        organizations.on_target_removed = self.detach_all

    # -- policies --------------------------------------------------------------------------

    def find(self, policy_id: str) -> dict | None:
        """An AWS managed policy or any organization's policy with this id."""
        return MANAGED.get(policy_id) or self.policies.get((policy_id,))

    def policy(self, org: dict, policy_id: str) -> dict:
        check_id(policy_id, "policy")
        policy = self.find(policy_id)
        if policy is None or not policy.get("aws_managed") and policy["org_id"] != org["org_id"]:
            raise policy_not_found()
        return policy

    @staticmethod
    def summary(org: dict, policy: dict) -> dict:
        kind = policy["type"].lower()
        if policy.get("aws_managed"):
            policy_arn = f"arn:{org['partition']}:organizations::aws:policy/{kind}/" \
                         f"{policy['policy_id']}"
        else:
            policy_arn = arn(org, f"policy/{org['org_id']}/{kind}/{policy['policy_id']}")
        return {"Id": policy["policy_id"], "Arn": policy_arn, "Name": policy["name"],
                "Description": policy["description"], "Type": policy["type"],
                "AwsManaged": bool(policy.get("aws_managed"))}

    def shape(self, org: dict, policy: dict) -> dict:
        return {"PolicySummary": self.summary(org, policy), "Content": policy["content"]}

    def _check_name(self, org: dict, policy_type: str, name: str) -> None:
        if self.policies.find("by_name", (org["org_id"], policy_type, name), limit=1) or \
                name in (m["name"] for m in MANAGED.values() if m["type"] == policy_type):
            raise ServiceError("DuplicatePolicyException",
                               "A policy with the same name already exists.")

    def create(self, org: dict, name: str, description: str, policy_type: str, content: str,
               tags: list[dict]) -> dict:
        self._require_available(org, policy_type)
        check_content(policy_type, content)
        self._check_name(org, policy_type, name)
        if self.policies.count("by_type", (org["org_id"], policy_type)) >= \
                MAX_POLICIES.get(policy_type, DEFAULT_MAX_POLICIES):
            raise constraint("POLICY_NUMBER_LIMIT_EXCEEDED",
                             "You have exceeded the number of policies of this type that you "
                             "can have in an organization.")
        policy = {"policy_id": f"p-{random_id(8)}", "org_id": org["org_id"],
                  "type": policy_type, "name": name, "description": description,
                  "content": content, "tags": tags}
        self.policies.put(policy)
        return policy

    @staticmethod
    def _require_mutable(policy: dict) -> None:
        if policy.get("aws_managed"):
            raise invalid_input("IMMUTABLE_POLICY",
                                "You specified a policy that is managed by AWS and can't be "
                                "modified.")

    def update(self, org: dict, policy: dict, name: str | None, description: str | None,
               content: str | None) -> dict:
        self._require_mutable(policy)
        if content is not None:
            check_content(policy["type"], content)
            policy["content"] = content
            for attachment in self.attachments.find("by_policy", (org["org_id"], policy["type"],
                                                                  policy["policy_id"])):
                self.attachments.put({**attachment, "content": content})
        if name is not None and name != policy["name"]:
            self._check_name(org, policy["type"], name)
            policy["name"] = name
        if description is not None:
            policy["description"] = description
        self.policies.put(policy)
        return policy

    def delete(self, org: dict, policy: dict) -> None:
        self._require_mutable(policy)
        if self.attachments.find("by_policy", (org["org_id"], policy["type"],
                                               policy["policy_id"]), limit=1):
            raise ServiceError("PolicyInUseException",
                               "The policy is attached to one or more entities. You must detach "
                               "it from all roots, OUs, and accounts before performing this "
                               "operation.")
        self.policies.delete((policy["policy_id"],))

    def list(self, org: dict, policy_type: str, token: str | None,
             max_results: int | None) -> tuple[list[dict], str | None]:
        """AWS managed policies of the type first (on the first page), then the organization's."""
        limit = max_results or DEFAULT_PAGE
        managed = [] if token else [m for m in MANAGED.values() if m["type"] == policy_type]
        if len(managed) >= limit:
            more = self.policies.find("by_type", (org["org_id"], policy_type), limit=1)
            return [self.summary(org, policy) for policy in managed[:limit]], \
                page_token("") if more else None
        rows, token = page(self.policies, "by_type", (org["org_id"], policy_type), "policy_id",
                           token, limit - len(managed))
        return [self.summary(org, policy) for policy in managed + rows], token

    def forget(self, org: dict) -> None:
        """Delete the policies and attachments of a deleted organization."""
        self.policies.delete_where("by_type", (org["org_id"],))
        self.attachments.delete_where("by_policy", (org["org_id"],))

    def tag_holder(self, org: dict, policy_id: str) -> tuple[dict, Callable[[dict], None]]:
        policy = self.policy(org, policy_id)
        if policy.get("aws_managed"):
            raise target_not_found()
        return policy, self.policies.put

    # -- policy types ----------------------------------------------------------------------

    @staticmethod
    def _require_available(org: dict, policy_type: str) -> None:
        if org["feature_set"] != "ALL":
            raise ServiceError("PolicyTypeNotAvailableForOrganizationException",
                               "You can't use the specified policy type with the feature set "
                               "currently enabled for this organization.")

    def enable_type(self, org: dict, policy_type: str) -> None:
        self._require_available(org, policy_type)
        if policy_type in org["policy_types"]:
            raise ServiceError("PolicyTypeAlreadyEnabledException",
                               "The specified policy type is already enabled.")
        org["policy_types"].append(policy_type)
        self.organizations.save(org)
        default = DEFAULT_POLICY.get(policy_type)
        if default is None:
            return
        # Once per organization and type: every existing target gets the default policy.
        org_id = org["org_id"]
        targets = [org["root_id"]]
        targets += [unit["ou_id"] for unit in self.organizations.units.find("by_org", (org_id,))]
        targets += [account["account_id"]
                    for account in self.organizations.accounts.find("by_org", (org_id,))]
        for target_id in targets:
            self._attach(org_id, policy_type, default, target_id)

    def disable_type(self, org: dict, policy_type: str) -> None:
        if policy_type not in org["policy_types"]:
            raise policy_type_not_enabled()
        org["policy_types"].remove(policy_type)
        self.organizations.save(org)
        self.attachments.delete_where("by_policy", (org["org_id"], policy_type))

    # -- attachments -----------------------------------------------------------------------

    def _attach(self, org_id: str, policy_type: str, policy_id: str, target_id: str,
                content: str | None = None) -> bool:
        # A customer policy's document rides along in the attachment: the policy evaluator
        # reads each level of an account's path with one range read (UpdatePolicy rewrites it).
        return self.attachments.insert({"target_id": target_id, "policy_id": policy_id,
                                        "org_id": org_id, "type": policy_type,
                                        "content": content})

    def attach_defaults(self, org: dict, target_id: str) -> None:
        for policy_type, policy_id in DEFAULT_POLICY.items():
            if policy_type in org["policy_types"]:
                self._attach(org["org_id"], policy_type, policy_id, target_id)

    def detach_all(self, target_id: str) -> None:
        self.attachments.delete_where(None, (target_id,))

    def target(self, org: dict, target_id: str) -> dict:
        """The root, OU or account ``target_id`` as a PolicyTargetSummary."""
        kind = check_target_id(target_id)
        if kind == "root":
            if target_id != org["root_id"]:
                raise target_not_found()
            return {"TargetId": target_id, "Name": "Root", "Type": "ROOT",
                    "Arn": arn(org, f"root/{org['org_id']}/{target_id}")}
        table = self.organizations.accounts if kind == "account" else self.organizations.units
        record = table.get((target_id,))
        if record is None or record["org_id"] != org["org_id"]:
            raise target_not_found()
        if kind == "account":
            return {"TargetId": target_id, "Name": record["name"], "Type": "ACCOUNT",
                    "Arn": arn(org, f"account/{org['org_id']}/{target_id}")}
        return {"TargetId": target_id, "Name": record["name"], "Type": "ORGANIZATIONAL_UNIT",
                "Arn": arn(org, f"ou/{org['org_id']}/{target_id}")}

    def attach(self, org: dict, policy: dict, target_id: str) -> None:
        self.target(org, target_id)
        policy_type = policy["type"]
        if policy_type not in org["policy_types"]:
            raise policy_type_not_enabled()
        if self.attachments.count("by_target", (target_id, policy_type)) >= \
                MAX_ATTACHED.get(policy_type, DEFAULT_MAX_ATTACHED):
            raise constraint("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                             "You attempted to exceed the number of policies of this type that "
                             "can be attached to an entity at one time.")
        content = None if policy.get("aws_managed") else policy["content"]
        if not self._attach(org["org_id"], policy_type, policy["policy_id"], target_id, content):
            raise ServiceError("DuplicatePolicyAttachmentException",
                               "A policy with the specified name and type already exists.")

    def detach(self, org: dict, policy: dict, target_id: str) -> None:
        self.target(org, target_id)
        key = (target_id, policy["policy_id"])
        attachment = self.attachments.get(key)
        if attachment is None or attachment["org_id"] != org["org_id"]:
            raise ServiceError("PolicyNotAttachedException",
                               "The policy isn't attached to the specified target.")
        if policy["policy_id"] == DEFAULT_POLICY[RCP]:
            raise invalid_input("NON_DETACHABLE_POLICY",
                                "You can't detach this AWS Managed Policy.")
        if policy["type"] == SCP and self.attachments.count("by_target", (target_id, SCP)) <= 1:
            raise constraint("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                             "You attempted to detach a policy from an entity that would cause "
                             "the entity to have fewer than the minimum number of policies of a "
                             "certain type required.")
        self.attachments.delete(key)

    def effective(self, org: dict, account: dict, policy_type: str) -> dict:
        """The account's effective policy of a management policy type."""
        documents = []
        for target_id in self.organizations.chain(org, account):
            for row in self.attachments.find("by_target", (target_id, policy_type)):
                documents.append(json.loads(self.find(row["policy_id"])["content"]))
        if not documents:
            raise ServiceError("EffectivePolicyNotFoundException",
                               "We can't find an effective policy of the specified type for the "
                               "target.")
        return {"PolicyContent": json.dumps(effective(documents)),
                "LastUpdatedTimestamp": self.organizations.clock.now(),
                "TargetId": account["account_id"], "PolicyType": policy_type}

    def for_target(self, org: dict, target_id: str, policy_type: str, token: str | None,
                   max_results: int | None) -> tuple[list[dict], str | None]:
        self.target(org, target_id)
        rows, token = page(self.attachments, "by_target", (target_id, policy_type), "policy_id",
                           token, max_results)
        return [self.summary(org, self.policy(org, row["policy_id"])) for row in rows], token

    def targets_of(self, org: dict, policy: dict, token: str | None,
                   max_results: int | None) -> tuple[list[dict], str | None]:
        rows, token = page(self.attachments, "by_policy",
                           (org["org_id"], policy["type"], policy["policy_id"]), "target_id",
                           token, max_results)
        return [self.target(org, row["target_id"]) for row in rows], token
