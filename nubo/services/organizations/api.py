"""AWS Organizations handlers (2016-11-28 API, json protocol; a global service).

The management account may call everything; a delegated administrator the reads; any member what
concerns itself; an account outside any organization only CreateOrganization and the answers to
invitations (AWSOrganizationsNotInUseException otherwise). CreateAccount sets up the new account's
access role through IAM in-process, as the new account.
"""

from __future__ import annotations

import dataclasses
import json
import re

from nubo.core.context import RequestContext
from nubo.core.runtime import Runtime
from nubo.services.base import ServiceProvider, handler
from nubo.services.organizations.handshakes import Handshakes
from nubo.services.organizations.models import (MANAGEMENT, MEMBER, READER, Organizations,
                                                page_list)
from nubo.services.organizations.policies import Policies
from nubo.services.organizations.validation import (MAX_TAGS, check_service_enums,
                                                    check_target_id, invalid_input,
                                                    kind_of, merged_tags)

DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
# Request members naming roots, OUs, accounts, policies or handshakes (first ones win).
_ID_MEMBERS = ("TargetId", "ResourceId", "ChildId", "DestinationParentId", "SourceParentId",
               "ParentId", "OrganizationalUnitId", "RootId", "AccountId", "PolicyId",
               "HandshakeId")
_ARN_NAMES = {"root": "RootId", "ou": "OrganizationalUnitId", "policy": "PolicyId"}
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


class OrganizationsProvider(ServiceProvider):
    service_name = "organizations"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.organizations = Organizations(runtime.store, runtime.clock)
        self.policies = Policies(runtime.store, self.organizations)
        self.handshakes = Handshakes(runtime.store, self.organizations)

    def dispatch(self, ctx: RequestContext, operation: str, params: dict):
        check_service_enums(self.model.operation_model(operation), params)
        return super().dispatch(ctx, operation, params)

    def _org(self, ctx: RequestContext, access: str = MANAGEMENT) -> dict:
        return self.organizations.of_caller(ctx.account_id, access)

    # -- authorization hook ----------------------------------------------------------------

    def resource_names(self, ctx: RequestContext, operation: str, params: dict) -> dict[str, str]:
        """The parts of the ARNs of the resources a request names (the Service Authorization
        Reference's templates take ids without their o-/r-/ou-/p-/h- prefixes); the ARNs name
        the management account, whoever calls."""
        org = self.organizations.of_account(ctx.account_id)
        if org is None:
            return {}
        names = {"Account": org["master_account_id"], "OrganizationId": org["org_id"][2:],
                 "HandshakeType": "invite"}
        for member in _ID_MEMBERS:
            value = params.get(member)
            if not isinstance(value, str):
                continue
            if value.startswith("h-"):
                names.setdefault("HandshakeId", value[2:])
                names["HandshakeType"] = (self.handshakes.action_of(value) or "INVITE").lower()
                continue
            kind = kind_of(value)
            if kind == "account":
                names.setdefault("AccountId", value)
            elif kind in ("root", "ou", "policy"):
                names.setdefault(_ARN_NAMES[kind], value.split("-", 1)[1])
            if kind == "policy":
                policy = self.policies.find(value)
                if policy is not None:
                    names["PolicyType"] = policy["type"].lower()
        return names

    # -- the organization ------------------------------------------------------------------

    @handler("CreateOrganization")
    def create_organization(self, ctx: RequestContext, FeatureSet: str = "ALL") -> dict:
        org = self.organizations.create(ctx.account_id, ctx.partition, FeatureSet)
        return {"Organization": self.organizations.org_shape(org)}

    @handler("DescribeOrganization")
    def describe_organization(self, ctx: RequestContext) -> dict:
        return {"Organization": self.organizations.org_shape(self._org(ctx, MEMBER))}

    @handler("DeleteOrganization")
    def delete_organization(self, ctx: RequestContext) -> dict:
        org = self._org(ctx)
        self.organizations.delete(org)
        self.policies.forget(org)
        self.handshakes.forget(org)
        return {}

    @handler("LeaveOrganization")
    def leave_organization(self, ctx: RequestContext) -> dict:
        org = self._org(ctx, MEMBER)
        self.organizations.remove_account(org, self.organizations.account(org, ctx.account_id))
        return {}

    @handler("ListRoots")
    def list_roots(self, ctx: RequestContext, NextToken: str | None = None,
                   MaxResults: int | None = None) -> dict:
        org = self._org(ctx, READER)
        roots, token = page_list([self.organizations.root_shape(org)], NextToken, MaxResults)
        return {"Roots": roots, "NextToken": token}

    # -- organizational units --------------------------------------------------------------

    @handler("CreateOrganizationalUnit")
    def create_organizational_unit(self, ctx: RequestContext, ParentId: str, Name: str,
                                   Tags: list[dict] | None = None) -> dict:
        org = self._org(ctx)
        unit = self.organizations.create_unit(org, ParentId, Name, Tags)
        return {"OrganizationalUnit": self.organizations.unit_shape(org, unit)}

    @handler("DescribeOrganizationalUnit")
    def describe_organizational_unit(self, ctx: RequestContext,
                                     OrganizationalUnitId: str) -> dict:
        org = self._org(ctx, READER)
        unit = self.organizations.unit(org, OrganizationalUnitId)
        return {"OrganizationalUnit": self.organizations.unit_shape(org, unit)}

    @handler("UpdateOrganizationalUnit")
    def update_organizational_unit(self, ctx: RequestContext, OrganizationalUnitId: str,
                                   Name: str | None = None) -> dict:
        org = self._org(ctx)
        unit = self.organizations.unit(org, OrganizationalUnitId)
        if Name is not None:
            unit = self.organizations.rename_unit(unit, Name)
        return {"OrganizationalUnit": self.organizations.unit_shape(org, unit)}

    @handler("DeleteOrganizationalUnit")
    def delete_organizational_unit(self, ctx: RequestContext, OrganizationalUnitId: str) -> dict:
        org = self._org(ctx)
        self.organizations.delete_unit(self.organizations.unit(org, OrganizationalUnitId))
        return {}

    @handler("ListOrganizationalUnitsForParent")
    def list_organizational_units_for_parent(self, ctx: RequestContext, ParentId: str,
                                             NextToken: str | None = None,
                                             MaxResults: int | None = None) -> dict:
        units, token = self.organizations.units_of(self._org(ctx, READER), ParentId, NextToken,
                                                   MaxResults)
        return {"OrganizationalUnits": units, "NextToken": token}

    @handler("ListChildren")
    def list_children(self, ctx: RequestContext, ParentId: str, ChildType: str,
                      NextToken: str | None = None, MaxResults: int | None = None) -> dict:
        children, token = self.organizations.children(self._org(ctx, READER), ParentId,
                                                      ChildType, NextToken, MaxResults)
        return {"Children": children, "NextToken": token}

    @handler("ListParents")
    def list_parents(self, ctx: RequestContext, ChildId: str, NextToken: str | None = None,
                     MaxResults: int | None = None) -> dict:
        parent = self.organizations.parent_of(self._org(ctx, READER), ChildId)
        parents, token = page_list([parent], NextToken, MaxResults)
        return {"Parents": parents, "NextToken": token}

    # -- accounts --------------------------------------------------------------------------

    @handler("CreateAccount")
    def create_account(self, ctx: RequestContext, Email: str, AccountName: str,
                       RoleName: str | None = None, IamUserAccessToBilling: str | None = None,
                       Tags: list[dict] | None = None) -> dict:
        org = self._org(ctx)
        role_name = DEFAULT_ROLE_NAME if RoleName is None else RoleName
        if not _ROLE_NAME.match(role_name):
            raise invalid_input("INVALID_ROLE_NAME",
                                "You provided a role name that isn't valid. A role name can't "
                                "begin with the reserved prefix 'AWSServiceRoleFor'.")
        status = self.organizations.create_account(
            org, Email, AccountName, Tags,
            lambda account_id: self._create_access_role(ctx, account_id, role_name))
        return {"CreateAccountStatus": status}

    def _create_access_role(self, ctx: RequestContext, account_id: str, role_name: str) -> None:
        """The role the management account assumes to administer the new account: trusted by
        the management account, with AdministratorAccess. Created as the new account's root
        (its id as access key), before the account joins the organization: on AWS no policy
        of the caller, nor any SCP, governs this provisioning."""
        member = dataclasses.replace(ctx, account_id=account_id, access_key_id=account_id)
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": f"arn:{ctx.partition}:iam::{ctx.account_id}:root"}}]}
        self.runtime.services.call(member, "iam", "CreateRole", {
            "RoleName": role_name, "AssumeRolePolicyDocument": json.dumps(trust)})
        self.runtime.services.call(member, "iam", "AttachRolePolicy", {
            "RoleName": role_name,
            "PolicyArn": f"arn:{ctx.partition}:iam::aws:policy/AdministratorAccess"})

    @handler("DescribeCreateAccountStatus")
    def describe_create_account_status(self, ctx: RequestContext,
                                       CreateAccountRequestId: str) -> dict:
        return {"CreateAccountStatus": self.organizations.create_status(
            self._org(ctx, READER), CreateAccountRequestId)}

    @handler("ListCreateAccountStatus")
    def list_create_account_status(self, ctx: RequestContext, States: list[str] | None = None,
                                   NextToken: str | None = None,
                                   MaxResults: int | None = None) -> dict:
        statuses, token = self.organizations.create_statuses(self._org(ctx, READER), States,
                                                             NextToken, MaxResults)
        return {"CreateAccountStatuses": statuses, "NextToken": token}

    @handler("DescribeAccount")
    def describe_account(self, ctx: RequestContext, AccountId: str) -> dict:
        org = self._org(ctx, READER)
        account = self.organizations.account(org, AccountId)
        return {"Account": self.organizations.account_shape(org, account)}

    @handler("ListAccounts")
    def list_accounts(self, ctx: RequestContext, NextToken: str | None = None,
                      MaxResults: int | None = None) -> dict:
        accounts, token = self.organizations.accounts_of(self._org(ctx, READER), None, NextToken,
                                                         MaxResults)
        return {"Accounts": accounts, "NextToken": token}

    @handler("ListAccountsForParent")
    def list_accounts_for_parent(self, ctx: RequestContext, ParentId: str,
                                 NextToken: str | None = None,
                                 MaxResults: int | None = None) -> dict:
        accounts, token = self.organizations.accounts_of(self._org(ctx, READER), ParentId,
                                                         NextToken, MaxResults)
        return {"Accounts": accounts, "NextToken": token}

    @handler("MoveAccount")
    def move_account(self, ctx: RequestContext, AccountId: str, SourceParentId: str,
                     DestinationParentId: str) -> dict:
        self.organizations.move_account(self._org(ctx), AccountId, SourceParentId,
                                        DestinationParentId)
        return {}

    @handler("RemoveAccountFromOrganization")
    def remove_account_from_organization(self, ctx: RequestContext, AccountId: str) -> dict:
        org = self._org(ctx)
        self.organizations.remove_account(org, self.organizations.account(org, AccountId))
        return {}

    @handler("CloseAccount")
    def close_account(self, ctx: RequestContext, AccountId: str) -> dict:
        org = self._org(ctx)
        self.organizations.close_account(org, self.organizations.account(org, AccountId))
        return {}

    # -- invitations -----------------------------------------------------------------------

    @handler("InviteAccountToOrganization")
    def invite_account_to_organization(self, ctx: RequestContext, Target: dict,
                                       Notes: str | None = None,
                                       Tags: list[dict] | None = None) -> dict:
        handshake = self.handshakes.invite(self._org(ctx), Target, Notes, Tags)
        return {"Handshake": self.handshakes.shape(handshake)}

    @handler("AcceptHandshake")
    def accept_handshake(self, ctx: RequestContext, HandshakeId: str) -> dict:
        return {"Handshake": self.handshakes.shape(
            self.handshakes.accept(ctx.account_id, HandshakeId))}

    @handler("DeclineHandshake")
    def decline_handshake(self, ctx: RequestContext, HandshakeId: str) -> dict:
        return {"Handshake": self.handshakes.shape(
            self.handshakes.decline(ctx.account_id, HandshakeId))}

    @handler("CancelHandshake")
    def cancel_handshake(self, ctx: RequestContext, HandshakeId: str) -> dict:
        return {"Handshake": self.handshakes.shape(
            self.handshakes.cancel(self._org(ctx), HandshakeId))}

    @handler("DescribeHandshake")
    def describe_handshake(self, ctx: RequestContext, HandshakeId: str) -> dict:
        return {"Handshake": self.handshakes.shape(
            self.handshakes.get(ctx.account_id, HandshakeId))}

    @handler("ListHandshakesForAccount")
    def list_handshakes_for_account(self, ctx: RequestContext, Filter: dict | None = None,
                                    NextToken: str | None = None,
                                    MaxResults: int | None = None) -> dict:
        handshakes, token = self.handshakes.for_account(ctx.account_id, Filter or {}, NextToken,
                                                        MaxResults)
        return {"Handshakes": handshakes, "NextToken": token}

    @handler("ListHandshakesForOrganization")
    def list_handshakes_for_organization(self, ctx: RequestContext, Filter: dict | None = None,
                                         NextToken: str | None = None,
                                         MaxResults: int | None = None) -> dict:
        handshakes, token = self.handshakes.for_organization(self._org(ctx, READER),
                                                             Filter or {}, NextToken, MaxResults)
        return {"Handshakes": handshakes, "NextToken": token}

    @handler("EnableAllFeatures")
    def enable_all_features(self, ctx: RequestContext) -> dict:
        return {"Handshake": self.handshakes.shape(
            self.handshakes.enable_all_features(self._org(ctx)))}

    # -- trusted access and delegated administrators ---------------------------------------

    @handler("EnableAWSServiceAccess")
    def enable_aws_service_access(self, ctx: RequestContext, ServicePrincipal: str) -> dict:
        self.organizations.enable_service(self._org(ctx), ServicePrincipal)
        return {}

    @handler("DisableAWSServiceAccess")
    def disable_aws_service_access(self, ctx: RequestContext, ServicePrincipal: str) -> dict:
        self.organizations.disable_service(self._org(ctx), ServicePrincipal)
        return {}

    @handler("ListAWSServiceAccessForOrganization")
    def list_aws_service_access_for_organization(self, ctx: RequestContext,
                                                 NextToken: str | None = None,
                                                 MaxResults: int | None = None) -> dict:
        services, token = page_list(self.organizations.services(self._org(ctx, READER)),
                                    NextToken, MaxResults)
        return {"EnabledServicePrincipals": services, "NextToken": token}

    @handler("RegisterDelegatedAdministrator")
    def register_delegated_administrator(self, ctx: RequestContext, AccountId: str,
                                         ServicePrincipal: str) -> dict:
        self.organizations.register_delegated(self._org(ctx), AccountId, ServicePrincipal)
        return {}

    @handler("DeregisterDelegatedAdministrator")
    def deregister_delegated_administrator(self, ctx: RequestContext, AccountId: str,
                                           ServicePrincipal: str) -> dict:
        self.organizations.deregister_delegated(self._org(ctx), AccountId, ServicePrincipal)
        return {}

    @handler("ListDelegatedAdministrators")
    def list_delegated_administrators(self, ctx: RequestContext,
                                      ServicePrincipal: str | None = None,
                                      NextToken: str | None = None,
                                      MaxResults: int | None = None) -> dict:
        admins, token = page_list(self.organizations.delegated_administrators(
            self._org(ctx, READER), ServicePrincipal), NextToken, MaxResults)
        return {"DelegatedAdministrators": admins, "NextToken": token}

    @handler("ListDelegatedServicesForAccount")
    def list_delegated_services_for_account(self, ctx: RequestContext, AccountId: str,
                                            NextToken: str | None = None,
                                            MaxResults: int | None = None) -> dict:
        services, token = page_list(self.organizations.delegated_services(
            self._org(ctx, READER), AccountId), NextToken, MaxResults)
        return {"DelegatedServices": services, "NextToken": token}

    @handler("PutResourcePolicy")
    def put_resource_policy(self, ctx: RequestContext, Content: str,
                            Tags: list[dict] | None = None) -> dict:
        org = self._org(ctx)
        policy = self.organizations.put_resource_policy(org, Content, Tags)
        return {"ResourcePolicy": self.organizations.resource_policy_shape(org, policy)}

    @handler("DescribeResourcePolicy")
    def describe_resource_policy(self, ctx: RequestContext) -> dict:
        org = self._org(ctx, READER)
        return {"ResourcePolicy": self.organizations.resource_policy_shape(
            org, self.organizations.resource_policy(org))}

    @handler("DeleteResourcePolicy")
    def delete_resource_policy(self, ctx: RequestContext) -> dict:
        self.organizations.delete_resource_policy(self._org(ctx))
        return {}

    # -- policies --------------------------------------------------------------------------

    @handler("CreatePolicy")
    def create_policy(self, ctx: RequestContext, Content: str, Description: str, Name: str,
                      Type: str, Tags: list[dict] | None = None) -> dict:
        org = self._org(ctx)
        policy = self.policies.create(org, Name, Description, Type, Content,
                                      merged_tags([], Tags))
        return {"Policy": self.policies.shape(org, policy)}

    @handler("DescribePolicy")
    def describe_policy(self, ctx: RequestContext, PolicyId: str) -> dict:
        org = self._org(ctx, READER)
        return {"Policy": self.policies.shape(org, self.policies.policy(org, PolicyId))}

    @handler("UpdatePolicy")
    def update_policy(self, ctx: RequestContext, PolicyId: str, Name: str | None = None,
                      Description: str | None = None, Content: str | None = None) -> dict:
        org = self._org(ctx)
        policy = self.policies.update(org, self.policies.policy(org, PolicyId), Name,
                                      Description, Content)
        return {"Policy": self.policies.shape(org, policy)}

    @handler("DeletePolicy")
    def delete_policy(self, ctx: RequestContext, PolicyId: str) -> dict:
        org = self._org(ctx)
        self.policies.delete(org, self.policies.policy(org, PolicyId))
        return {}

    @handler("ListPolicies")
    def list_policies(self, ctx: RequestContext, Filter: str, NextToken: str | None = None,
                      MaxResults: int | None = None) -> dict:
        policies, token = self.policies.list(self._org(ctx, READER), Filter, NextToken,
                                             MaxResults)
        return {"Policies": policies, "NextToken": token}

    @handler("AttachPolicy")
    def attach_policy(self, ctx: RequestContext, PolicyId: str, TargetId: str) -> dict:
        org = self._org(ctx)
        self.policies.attach(org, self.policies.policy(org, PolicyId), TargetId)
        return {}

    @handler("DetachPolicy")
    def detach_policy(self, ctx: RequestContext, PolicyId: str, TargetId: str) -> dict:
        org = self._org(ctx)
        self.policies.detach(org, self.policies.policy(org, PolicyId), TargetId)
        return {}

    @handler("ListPoliciesForTarget")
    def list_policies_for_target(self, ctx: RequestContext, TargetId: str, Filter: str,
                                 NextToken: str | None = None,
                                 MaxResults: int | None = None) -> dict:
        policies, token = self.policies.for_target(self._org(ctx, READER), TargetId, Filter,
                                                   NextToken, MaxResults)
        return {"Policies": policies, "NextToken": token}

    @handler("ListTargetsForPolicy")
    def list_targets_for_policy(self, ctx: RequestContext, PolicyId: str,
                                NextToken: str | None = None,
                                MaxResults: int | None = None) -> dict:
        org = self._org(ctx, READER)
        targets, token = self.policies.targets_of(org, self.policies.policy(org, PolicyId),
                                                  NextToken, MaxResults)
        return {"Targets": targets, "NextToken": token}

    @handler("DescribeEffectivePolicy")
    def describe_effective_policy(self, ctx: RequestContext, PolicyType: str,
                                  TargetId: str | None = None) -> dict:
        org = self._org(ctx, MEMBER)
        target = ctx.account_id if TargetId is None else TargetId
        if check_target_id(target) != "account":
            raise invalid_input("TARGET_NOT_SUPPORTED",
                                "You can't perform the specified operation on that target "
                                "entity.")
        if target != ctx.account_id:
            org = self._org(ctx, READER)
        account = self.organizations.account(org, target)
        return {"EffectivePolicy": self.policies.effective(org, account, PolicyType)}

    @handler("EnablePolicyType")
    def enable_policy_type(self, ctx: RequestContext, RootId: str, PolicyType: str) -> dict:
        org = self._org(ctx)
        self.organizations.check_root(org, RootId)
        self.policies.enable_type(org, PolicyType)
        return {"Root": self.organizations.root_shape(org)}

    @handler("DisablePolicyType")
    def disable_policy_type(self, ctx: RequestContext, RootId: str, PolicyType: str) -> dict:
        org = self._org(ctx)
        self.organizations.check_root(org, RootId)
        self.policies.disable_type(org, PolicyType)
        return {"Root": self.organizations.root_shape(org)}

    # -- tags ------------------------------------------------------------------------------

    def _tag_holder(self, org: dict, resource_id: str):
        if check_target_id(resource_id, ("account", "root", "ou", "policy")) == "policy":
            return self.policies.tag_holder(org, resource_id)
        return self.organizations.tag_holder(org, resource_id)

    @handler("TagResource")
    def tag_resource(self, ctx: RequestContext, ResourceId: str, Tags: list[dict]) -> dict:
        record, save = self._tag_holder(self._org(ctx), ResourceId)
        record["tags"] = merged_tags(record["tags"], Tags)
        save(record)
        return {}

    @handler("UntagResource")
    def untag_resource(self, ctx: RequestContext, ResourceId: str, TagKeys: list[str]) -> dict:
        record, save = self._tag_holder(self._org(ctx), ResourceId)
        record["tags"] = [tag for tag in record["tags"] if tag["Key"] not in TagKeys]
        save(record)
        return {}

    @handler("ListTagsForResource")
    def list_tags_for_resource(self, ctx: RequestContext, ResourceId: str,
                               NextToken: str | None = None) -> dict:
        record, _ = self._tag_holder(self._org(ctx, READER), ResourceId)
        tags, token = page_list(record["tags"], NextToken, MAX_TAGS)
        return {"Tags": tags, "NextToken": token}

