"""Organizations: the organization and its root, organizational units, member accounts (created
or invited), trusted service access, delegated administrators and tags.

Records are dicts as stored (see schema.py); the ``*_shape`` methods render the API's shapes. Who
may call what: the management account everything; a delegated administrator the reads; any member
what concerns itself (DescribeOrganization, LeaveOrganization).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
from typing import Callable

from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.services.organizations import schema
from nubo.services.organizations.validation import (access_denied, account_not_found,
                                                    check_id, check_service_principal,
                                                    check_target_id, constraint, invalid_input,
                                                    invalid_next_token, merged_tags, not_in_use,
                                                    target_not_found)
from nubo.store import Store, Table

MANAGEMENT, READER, MEMBER = "management", "reader", "member"
DEFAULT_PAGE = 20
MAX_OU_DEPTH = 5
MAX_UNITS = 2000
CREATED_ACCOUNT_WAIT = 7 * 86400.0  # a created account leaves the organization after 7 days
CLOSE_WINDOW = 30 * 86400.0  # 10% of the members (10 to 1000) may close in 30 days
ROOT_NAME = "Root"
_ALPHABET = string.ascii_lowercase + string.digits
_TOKEN_MARK = "nubo-organizations:"
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


def random_id(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def page_token(value: str) -> str:
    """The NextToken that resumes a listing at ``value`` (see ``page``)."""
    return base64.urlsafe_b64encode(f"{_TOKEN_MARK}{value}".encode()).decode()


def _decode_token(token: str) -> str:
    try:
        value = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except ValueError:
        raise invalid_next_token() from None
    if not value.startswith(_TOKEN_MARK):
        raise invalid_next_token()
    return value[len(_TOKEN_MARK):]


def page(table: Table, index: str | None, eq: tuple, column: str, token: str | None,
         max_results: int | None) -> tuple[list[dict], str | None]:
    """One page of the records whose ``index`` starts with ``eq``, in the order of ``column``
    (the index column after ``eq``, unique within it); the token names the next record."""
    start = None if token is None else _decode_token(token)
    limit = max_results or DEFAULT_PAGE
    rows = table.find(index, eq, lo=start, limit=limit + 1)
    following = page_token(str(rows[limit][column])) if len(rows) > limit else None
    return rows[:limit], following


def page_list(entries: list, token: str | None, max_results: int | None) -> tuple[list,
                                                                                 str | None]:
    """Offset paging over a short list computed whole (roots, trusted services)."""
    start = 0
    if token is not None:
        offset = _decode_token(token)
        if not offset.isdigit():
            raise invalid_next_token()
        start = int(offset)
    end = start + (max_results or DEFAULT_PAGE)
    following = page_token(str(end)) if end < len(entries) else None
    return entries[start:end], following


def arn(org: dict, resource: str) -> str:
    return f"arn:{org['partition']}:organizations::{org['master_account_id']}:{resource}"


class Organizations:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.clock = clock
        self.orgs = store.table(schema.ORGANIZATIONS)
        self.accounts = store.table(schema.ACCOUNTS)
        self.units = store.table(schema.UNITS)
        self.statuses = store.table(schema.CREATE_ACCOUNT_STATUS)
        self.delegated = store.table(schema.DELEGATED_ADMINISTRATORS)
        self.resource_policies = store.table(schema.RESOURCE_POLICIES)
        # Set by the provider: attach the default policies to a new OU or account, and
        # forget the policies attached to a target that goes away.
        self.on_new_target: Callable[[dict, str], None] = lambda org, target_id: None
        self.on_target_removed: Callable[[str], None] = lambda target_id: None

    # -- who is calling --------------------------------------------------------------------

    def of_account(self, account_id: str) -> dict | None:
        """The organization ``account_id`` belongs to, if any."""
        member = self.accounts.get((account_id,))
        return None if member is None else self.orgs.get((member["org_id"],))

    def of_caller(self, account_id: str, access: str = MANAGEMENT) -> dict:
        org = self.of_account(account_id)
        if org is None:
            raise not_in_use()
        if access == MEMBER or account_id == org["master_account_id"]:
            return org
        if access == READER and self.delegated.find(eq=(org["org_id"], account_id), limit=1):
            return org
        raise access_denied()

    # -- the organization ------------------------------------------------------------------

    def create(self, account_id: str, partition: str, feature_set: str) -> dict:
        if self.accounts.get((account_id,)) is not None:
            raise ServiceError("AlreadyInOrganizationException",
                               "The AWS account is already a member of an organization.")
        org_id = f"o-{random_id(10)}"
        org = {"org_id": org_id, "root_id": f"r-{random_id(4)}", "partition": partition,
               "feature_set": feature_set, "master_account_id": account_id,
               "master_email": f"{account_id}@example.com", "created": self.clock.now(),
               "policy_types": [], "tags": [], "services": {}}
        self.orgs.put(org)
        self.accounts.put({"account_id": account_id, "org_id": org_id,
                           "parent_id": org["root_id"], "email": org["master_email"],
                           "name": account_id, "status": "ACTIVE", "joined_method": "INVITED",
                           "joined": org["created"], "tags": []})
        return org

    def org_shape(self, org: dict) -> dict:
        master = org["master_account_id"]
        available = [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}] \
            if org["feature_set"] == "ALL" else []
        return {"Id": org["org_id"], "Arn": arn(org, f"organization/{org['org_id']}"),
                "FeatureSet": org["feature_set"],
                "MasterAccountArn": arn(org, f"account/{org['org_id']}/{master}"),
                "MasterAccountId": master, "MasterAccountEmail": org["master_email"],
                "AvailablePolicyTypes": available}

    def delete(self, org: dict) -> None:
        org_id = org["org_id"]
        if self.accounts.count("by_org", (org_id,)) > 1:
            raise ServiceError("OrganizationNotEmptyException",
                               "To delete an organization you must first remove all member "
                               "accounts (except the management account).")
        self.units.delete_where("by_org", (org_id,))
        self.statuses.delete_where("by_org", (org_id,))
        self.delegated.delete_where(None, (org_id,))
        self.resource_policies.delete((org_id,))
        self.accounts.delete((org["master_account_id"],))
        self.orgs.delete((org_id,))

    def save(self, org: dict) -> None:
        self.orgs.put(org)

    # -- the root --------------------------------------------------------------------------

    def root_shape(self, org: dict) -> dict:
        return {"Id": org["root_id"], "Arn": arn(org, f"root/{org['org_id']}/{org['root_id']}"),
                "Name": ROOT_NAME,
                "PolicyTypes": [{"Type": kind, "Status": "ENABLED"}
                                for kind in org["policy_types"]]}

    def check_root(self, org: dict, root_id: str) -> None:
        check_id(root_id, "root")
        if root_id != org["root_id"]:
            raise ServiceError("RootNotFoundException", "You specified a root that doesn't exist.")

    # -- parents and children --------------------------------------------------------------

    def ancestors(self, org: dict, parent_id: str, code: str = "ParentNotFoundException",
                  message: str = "You specified a parent that doesn't exist.") -> list[str]:
        """The chain from the root down to the root or OU ``parent_id``, inclusive."""
        kind = check_target_id(parent_id, ("root", "ou"))
        if kind == "root" and parent_id == org["root_id"]:
            return [parent_id]
        unit = self.units.get((parent_id,)) if kind == "ou" else None
        if unit is None or unit["org_id"] != org["org_id"]:
            raise ServiceError(code, message)
        return unit["ancestors"]

    def path(self, org: dict, chain: list[str]) -> str:
        return f"{org['org_id']}/{'/'.join(chain)}/"

    def children(self, org: dict, parent_id: str, child_type: str, token: str | None,
                 max_results: int | None) -> tuple[list[dict], str | None]:
        self.ancestors(org, parent_id)
        if child_type == "ACCOUNT":
            rows, token = page(self.accounts, "by_parent", (parent_id,), "account_id", token,
                               max_results)
            return [{"Id": row["account_id"], "Type": "ACCOUNT"} for row in rows], token
        rows, token = page(self.units, "by_parent", (parent_id,), "ou_id", token, max_results)
        return [{"Id": row["ou_id"], "Type": "ORGANIZATIONAL_UNIT"} for row in rows], token

    def parent_of(self, org: dict, child_id: str) -> dict:
        kind = check_target_id(child_id, ("account", "ou"))
        child = self.accounts.get((child_id,)) if kind == "account" else \
            self.units.get((child_id,))
        if child is None or child["org_id"] != org["org_id"]:
            raise ServiceError("ChildNotFoundException",
                               "You specified a child that doesn't exist.")
        parent_id = child["parent_id"]
        return {"Id": parent_id,
                "Type": "ROOT" if parent_id.startswith("r-") else "ORGANIZATIONAL_UNIT"}

    # -- organizational units --------------------------------------------------------------

    def unit(self, org: dict, ou_id: str) -> dict:
        check_id(ou_id, "ou")
        unit = self.units.get((ou_id,))
        if unit is None or unit["org_id"] != org["org_id"]:
            raise ServiceError("OrganizationalUnitNotFoundException",
                               "You specified an organizational unit that doesn't exist.")
        return unit

    def unit_shape(self, org: dict, unit: dict) -> dict:
        return {"Id": unit["ou_id"], "Arn": arn(org, f"ou/{org['org_id']}/{unit['ou_id']}"),
                "Name": unit["name"], "Path": self.path(org, unit["ancestors"])}

    def _check_unique_name(self, parent_id: str, name: str) -> None:
        if self.units.find("by_name", (parent_id, name), limit=1):
            raise ServiceError("DuplicateOrganizationalUnitException",
                               "An OU with the same name already exists.")

    def create_unit(self, org: dict, parent_id: str, name: str,
                    tags: list[dict] | None) -> dict:
        chain = self.ancestors(org, parent_id)
        if len(chain) > MAX_OU_DEPTH:
            raise constraint("OU_DEPTH_LIMIT_EXCEEDED",
                             "You attempted to create an OU tree that is too many levels deep.")
        if self.units.count("by_org", (org["org_id"],)) >= MAX_UNITS:
            raise constraint("OU_NUMBER_LIMIT_EXCEEDED",
                             "You have reached the maximum number of OUs in the organization.")
        self._check_unique_name(parent_id, name)
        ou_id = f"ou-{org['root_id'][2:]}-{random_id(8)}"
        unit = {"ou_id": ou_id, "org_id": org["org_id"], "parent_id": parent_id, "name": name,
                "ancestors": chain + [ou_id], "tags": merged_tags([], tags)}
        self.units.put(unit)
        self.on_new_target(org, ou_id)
        return unit

    def rename_unit(self, unit: dict, name: str) -> dict:
        if name != unit["name"]:
            self._check_unique_name(unit["parent_id"], name)
            unit["name"] = name
            self.units.put(unit)
        return unit

    def delete_unit(self, unit: dict) -> None:
        ou_id = unit["ou_id"]
        if self.units.find("by_parent", (ou_id,), limit=1) or \
                self.accounts.find("by_parent", (ou_id,), limit=1):
            raise ServiceError("OrganizationalUnitNotEmptyException",
                               "The specified OU is not empty. Move all accounts to another root "
                               "or to other OUs, remove all child OUs, and try the operation "
                               "again.")
        self.on_target_removed(ou_id)
        self.units.delete((ou_id,))

    def units_of(self, org: dict, parent_id: str, token: str | None,
                 max_results: int | None) -> tuple[list[dict], str | None]:
        self.ancestors(org, parent_id)
        rows, token = page(self.units, "by_parent", (parent_id,), "ou_id", token, max_results)
        return [self.unit_shape(org, row) for row in rows], token

    # -- accounts --------------------------------------------------------------------------

    def account(self, org: dict, account_id: str) -> dict:
        check_id(account_id, "account")
        account = self.accounts.get((account_id,))
        if account is None or account["org_id"] != org["org_id"]:
            raise account_not_found()
        return account

    def chain(self, org: dict, account: dict) -> list[str]:
        """The ids from the root down to the account, inclusive."""
        parent_id = account["parent_id"]
        above = [parent_id] if parent_id == org["root_id"] else \
            self.units.get((parent_id,))["ancestors"]
        return above + [account["account_id"]]

    def account_shape(self, org: dict, account: dict) -> dict:
        return {"Id": account["account_id"],
                "Arn": arn(org, f"account/{org['org_id']}/{account['account_id']}"),
                "Email": account["email"], "Name": account["name"],
                "Status": account["status"], "State": account["status"],
                "Paths": [self.path(org, self.chain(org, account))],
                "JoinedMethod": account["joined_method"], "JoinedTimestamp": account["joined"]}

    def accounts_of(self, org: dict, parent_id: str | None, token: str | None,
                    max_results: int | None) -> tuple[list[dict], str | None]:
        if parent_id is None:
            rows, token = page(self.accounts, "by_org", (org["org_id"],), "account_id", token,
                               max_results)
        else:
            self.ancestors(org, parent_id)
            rows, token = page(self.accounts, "by_parent", (parent_id,), "account_id", token,
                               max_results)
        return [self.account_shape(org, row) for row in rows], token

    def join(self, org: dict, account_id: str, email: str, name: str, method: str,
             tags: list[dict]) -> dict:
        account = {"account_id": account_id, "org_id": org["org_id"],
                   "parent_id": org["root_id"], "email": email, "name": name,
                   "status": "ACTIVE", "joined_method": method, "joined": self.clock.now(),
                   "tags": tags}
        self.accounts.put(account)
        self.on_new_target(org, account_id)
        return account

    def create_account(self, org: dict, email: str, name: str, tags: list[dict] | None,
                       provision: Callable[[str], None]) -> dict:
        """Create a member account: the request's status (kept for DescribeCreateAccountStatus)
        as it stands when CreateAccount answers, still IN_PROGRESS. ``provision(account_id)``
        sets up the new account (its access role in IAM)."""
        tags = merged_tags([], tags)
        now = self.clock.now()
        status = {"request_id": f"car-{random_id(32)}", "org_id": org["org_id"],
                  "account_name": name, "requested": now}
        if not _EMAIL.fullmatch(email):
            status.update(state="FAILED", failure="INVALID_EMAIL", completed=now)
        elif self.accounts.find("by_email", (email.lower(),), limit=1):
            status.update(state="FAILED", failure="EMAIL_ALREADY_EXISTS", completed=now)
        else:
            account_id = self._new_account_id()
            provision(account_id)
            self.join(org, account_id, email.lower(), name, "CREATED", tags)
            status.update(state="SUCCEEDED", account_id=account_id, completed=now)
        self.statuses.put(status)
        return {"Id": status["request_id"], "AccountName": name, "State": "IN_PROGRESS",
                "RequestedTimestamp": now}

    def _new_account_id(self) -> str:
        while True:
            candidate = f"{secrets.randbelow(9 * 10 ** 11) + 10 ** 11}"
            if self.accounts.get((candidate,)) is None:
                return candidate

    def create_status(self, org: dict, request_id: str) -> dict:
        check_id(request_id, "create_account")
        status = self.statuses.get((request_id,))
        if status is None or status["org_id"] != org["org_id"]:
            raise ServiceError("CreateAccountStatusNotFoundException",
                               "We can't find an create account request with the "
                               "CreateAccountRequestId that you specified.")
        return self.status_shape(status)

    @staticmethod
    def status_shape(status: dict) -> dict:
        # Members without a value (None) are left out of the answer by the serializer.
        return {"Id": status["request_id"], "AccountName": status["account_name"],
                "State": status["state"], "RequestedTimestamp": status["requested"],
                "CompletedTimestamp": status.get("completed"),
                "AccountId": status.get("account_id"), "FailureReason": status.get("failure")}

    def create_statuses(self, org: dict, states: list[str] | None, token: str | None,
                        max_results: int | None) -> tuple[list[dict], str | None]:
        rows, token = page(self.statuses, "by_org", (org["org_id"],), "request_id", token,
                           max_results)
        return [self.status_shape(row) for row in rows
                if not states or row["state"] in states], token

    def move_account(self, org: dict, account_id: str, source_id: str,
                     destination_id: str) -> None:
        account = self.account(org, account_id)
        self.ancestors(org, source_id, "SourceParentNotFoundException",
                       "We can't find a source root or OU with the ParentId that you specified.")
        if account["parent_id"] != source_id:
            raise ServiceError("SourceParentNotFoundException",
                               "We can't find a source root or OU with the ParentId that you "
                               "specified.")
        self.ancestors(org, destination_id, "DestinationParentNotFoundException",
                       "We can't find the destination container (a root or OU) with the "
                       "ParentId that you specified.")
        if destination_id == source_id:
            raise ServiceError("DuplicateAccountException",
                               "That account is already present in the specified destination.")
        account["parent_id"] = destination_id
        self.accounts.put(account)

    def remove_account(self, org: dict, account: dict) -> None:
        account_id = account["account_id"]
        if account_id == org["master_account_id"]:
            raise ServiceError("MasterCannotLeaveOrganizationException",
                               "You can't remove a management account from an organization. If "
                               "you want the management account to become a member account in "
                               "another organization, you must first delete the current "
                               "organization of the management account.")
        if account["joined_method"] == "CREATED" and \
                self.clock.now() < account["joined"] + CREATED_ACCOUNT_WAIT:
            raise constraint("WAIT_PERIOD_ACTIVE",
                             "After you create an Amazon Web Services account, there is a "
                             "waiting period before you can remove it from the organization. If "
                             "you get an error that indicates that a wait period is required, "
                             "try again in a few days.")
        if self.delegated.find(eq=(org["org_id"], account_id), limit=1):
            raise constraint("CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG",
                             "You cannot remove an account that is a delegated administrator "
                             "from the organization. Deregister it first.")
        self.on_target_removed(account_id)
        self.accounts.delete((account_id,))

    def close_account(self, org: dict, account: dict) -> None:
        self._require_all_features(org)
        if account["account_id"] == org["master_account_id"]:
            raise constraint("CANNOT_CLOSE_MANAGEMENT_ACCOUNT",
                             "You attempted to close the management account. To close the "
                             "management account for the organization, you must first either "
                             "remove or close all member accounts in the organization.")
        if account["status"] != "ACTIVE":
            raise ServiceError("AccountAlreadyClosedException",
                               "You attempted to close an account that is already closed.")
        now = self.clock.now()
        members = self.accounts.find("by_org", (org["org_id"],))  # a rare call: one org's rows
        recently = sum(1 for member in members if member.get("closed", 0) > now - CLOSE_WINDOW)
        if recently >= min(max(len(members) // 10, 10), 1000):
            raise constraint("CLOSE_ACCOUNT_QUOTA_EXCEEDED",
                             "You have exceeded close account quota for the past 30 days.")
        account["status"] = "SUSPENDED"
        account["closed"] = now
        self.accounts.put(account)

    # -- trusted service access ------------------------------------------------------------

    def enable_service(self, org: dict, principal: str) -> None:
        self._require_all_features(org)
        check_service_principal(principal)
        org["services"].setdefault(principal, self.clock.now())
        self.orgs.put(org)

    def disable_service(self, org: dict, principal: str) -> None:
        check_service_principal(principal)
        if org["services"].pop(principal, None) is not None:
            self.orgs.put(org)

    @staticmethod
    def services(org: dict) -> list[dict]:
        return [{"ServicePrincipal": principal, "DateEnabled": date}
                for principal, date in sorted(org["services"].items())]

    @staticmethod
    def _require_all_features(org: dict) -> None:
        if org["feature_set"] != "ALL":
            raise constraint("ORGANIZATION_NOT_IN_ALL_FEATURES_MODE",
                             "You attempted to perform an operation that requires the "
                             "organization to be configured to support all features.")

    # -- delegated administrators ----------------------------------------------------------

    def register_delegated(self, org: dict, account_id: str, principal: str) -> None:
        check_service_principal(principal)
        account = self.account(org, account_id)
        if account_id == org["master_account_id"]:
            raise constraint("CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR",
                             "You cannot register master account/yourself as delegated "
                             "administrator for your organization.")
        if principal not in org["services"]:
            raise constraint("SERVICE_ACCESS_NOT_ENABLED",
                             "You attempted to register a delegated administrator before you "
                             "enabled service access. Call the EnableAWSServiceAccess API "
                             "first.")
        if account["status"] != "ACTIVE":
            raise constraint("CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR",
                             "You cannot register a suspended account as a delegated "
                             "administrator.")
        if not self.delegated.insert({"org_id": org["org_id"], "account_id": account_id,
                                      "principal": principal, "enabled": self.clock.now()}):
            raise ServiceError("AccountAlreadyRegisteredException",
                               "The provided account is already a delegated administrator for "
                               "your organization.")

    def deregister_delegated(self, org: dict, account_id: str, principal: str) -> None:
        check_service_principal(principal)
        self.account(org, account_id)
        if not self.delegated.delete((org["org_id"], account_id, principal)):
            raise self._not_registered()

    @staticmethod
    def _not_registered() -> ServiceError:
        return ServiceError("AccountNotRegisteredException",
                            "The provided account is not a registered delegated administrator "
                            "for your organization.")

    def delegated_administrators(self, org: dict, principal: str | None) -> list[dict]:
        if principal is not None:
            rows = self.delegated.find("by_principal", (org["org_id"], principal))
        else:
            rows = self.delegated.find(None, (org["org_id"],))
        first: dict[str, float] = {}
        for row in rows:
            first[row["account_id"]] = min(row["enabled"],
                                           first.get(row["account_id"], row["enabled"]))
        answer = []
        for account_id, enabled in first.items():
            shape = self.account_shape(org, self.accounts.get((account_id,)))
            shape.pop("Paths")
            answer.append({**shape, "DelegationEnabledDate": enabled})
        return answer

    def delegated_services(self, org: dict, account_id: str) -> list[dict]:
        self.account(org, account_id)
        rows = self.delegated.find(None, (org["org_id"], account_id))
        if not rows:
            raise self._not_registered()
        return [{"ServicePrincipal": row["principal"], "DelegationEnabledDate": row["enabled"]}
                for row in rows]

    # -- the organization's resource policy (delegated administration) -------------------

    def put_resource_policy(self, org: dict, content: str, tags: list[dict] | None) -> dict:
        try:
            document = json.loads(content)
        except ValueError:
            document = None
        if not isinstance(document, dict) or "Statement" not in document:
            raise invalid_input("INVALID_RESOURCE_POLICY_JSON",
                                "The provided resource policy document is not valid JSON.")
        policy = self.resource_policies.get((org["org_id"],)) or {
            "org_id": org["org_id"], "id": f"rp-{random_id(8)}", "tags": []}
        policy.update(content=content, tags=merged_tags(policy["tags"], tags))
        self.resource_policies.put(policy)
        return policy

    def resource_policy(self, org: dict) -> dict:
        policy = self.resource_policies.get((org["org_id"],))
        if policy is None:
            raise ServiceError("ResourcePolicyNotFoundException",
                               "We can't find a resource policy request with the parameter that "
                               "you specified.")
        return policy

    def delete_resource_policy(self, org: dict) -> None:
        self.resource_policies.delete((self.resource_policy(org)["org_id"],))

    @staticmethod
    def resource_policy_shape(org: dict, policy: dict) -> dict:
        return {"ResourcePolicySummary": {
            "Id": policy["id"], "Arn": arn(org, f"resourcepolicy/{org['org_id']}/{policy['id']}")},
            "Content": policy["content"]}

    # -- tags ------------------------------------------------------------------------------

    def tag_holder(self, org: dict, resource_id: str) -> tuple[dict, Callable[[dict], None]]:
        """The record holding the tags (``tags``) of a root, OU or account, and how to save it
        (a root's tags live in its organization's record)."""
        if resource_id == org["root_id"]:
            return org, self.orgs.put
        table = self.accounts if resource_id.isdigit() else self.units
        record = table.get((resource_id,))
        if record is None or record["org_id"] != org["org_id"]:
            raise target_not_found()
        return record, table.put
