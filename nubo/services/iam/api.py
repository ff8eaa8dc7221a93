"""AWS Identity and Access Management handlers (query protocol, 2010-05-08).

IAM is global: every account has one IAM, whatever region the request is signed for.
"""

from __future__ import annotations

from typing import Any

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.core.runtime import Runtime
from nubo.policy import Principal, ResourcePolicy
from nubo.services.base import ServiceProvider, handler
from nubo.services.iam import shapes
from nubo.services.iam.credentials import qr_code_png
from nubo.services.iam.directory import IamDirectory
from nubo.services.iam.documents import context_keys
from nubo.services.iam.access_advisor import AccessAdvisor, sort_access_details
from nubo.services.iam.models import Iam, invalid_input
from nubo.services.iam.policies import Policies
from nubo.services.iam.service_credentials import (SERVICE_CREDENTIAL, SIGNING_CERTIFICATE,
                                                    SSH_KEY)
from nubo.services.iam.simulation import SimulationInput, context_of, simulate
from nubo.services.iam.validation import check_patterns, merge_tags, page, remove_tags
from nubo.services.organizations.directory import OrganizationsDirectory


class IamProvider(ServiceProvider):
    service_name = "iam"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.iam = Iam(runtime.store, runtime.clock)
        self.advisor = AccessAdvisor(runtime.store, runtime.clock, self.iam)

    def dispatch(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> Any:
        check_patterns(self.model.operation_model(operation), params)
        return super().dispatch(ctx, operation, params)

    def resource_names(self, ctx: RequestContext, operation: str, params: dict) -> dict[str, str]:
        return self.iam.resource_names(ctx.account_id, ctx.access_key_id, params)

    def condition_context(self, ctx: RequestContext, operation: str,
                          params: dict) -> dict[str, object]:
        context: dict[str, object] = {}
        if isinstance(params.get("PolicyArn"), str):
            context["iam:policyarn"] = params["PolicyArn"]
        boundary = params.get("PermissionsBoundary")
        if isinstance(boundary, str):
            context["iam:permissionsboundary"] = boundary
        return context

    def resource_policy(self, ctx: RequestContext, arn: str) -> ResourcePolicy | None:
        """IAM users and roles have no resource policy, but their tags are aws:ResourceTag
        (and iam:ResourceTag) for attribute-based access control."""
        entity = self.iam.entity_of_arn(ctx.account_id, arn)
        if entity is None:
            return None
        return ResourcePolicy(None, ctx.account_id,
                              tags=tuple((t["Key"], t["Value"]) for t in entity.get("tags", [])))

    # -- helpers ---------------------------------------------------------------------------

    @property
    def policies(self) -> Policies:
        return self.iam.policies

    def _user(self, ctx: RequestContext, name: str | None) -> dict:
        """The named user, or the caller when no name is given (IAM users acting on
        themselves)."""
        if name is not None:
            return self.iam.users.require(ctx.account_id, name)
        user = self.iam.caller_user(ctx.account_id, ctx.access_key_id)
        if user is None:
            raise ServiceError("ValidationError", "Must specify userName when calling with "
                               "non-User credentials", 400)
        return user

    def _is_root(self, ctx: RequestContext, name: str | None) -> bool:
        """Whether an operation on "the caller" (no UserName) comes from root credentials."""
        return (name is None and not ctx.access_key_id.startswith("ASIA")
                and self.iam.caller_user(ctx.account_id, ctx.access_key_id) is None)

    def _entity(self, ctx: RequestContext, kind: str, name: str) -> dict:
        return self.iam.by_kind[kind].require(ctx.account_id, name)

    def _policy_shape(self, ctx: RequestContext, policy: dict, listed: bool = False) -> dict:
        return shapes.policy(policy, self.policies.usage(ctx.account_id, policy["arn"], "policy"),
                             self.policies.usage(ctx.account_id, policy["arn"], "boundary"),
                             listed)

    def _profile_shape(self, profile: dict, tags: bool = False) -> dict:
        role = self.iam.roles.by_id(profile["role_id"]) if profile.get("role_id") else None
        return shapes.instance_profile(profile, [role] if role else [], tags)

    # -- users -----------------------------------------------------------------------------

    @handler("CreateUser")
    def create_user(self, ctx: RequestContext, UserName: str, Path: str | None = None,
                    PermissionsBoundary: str | None = None,
                    Tags: list[dict] | None = None) -> dict:
        user = self.iam.create_user(ctx.account_id, ctx.partition, UserName, Path,
                                    PermissionsBoundary, Tags)
        return {"User": shapes.user(user, detail=True)}

    @handler("GetUser")
    def get_user(self, ctx: RequestContext, UserName: str | None = None) -> dict:
        if self._is_root(ctx, UserName):
            # Root credentials: IAM describes the account's root user. (Temporary credentials
            # get _user's ValidationError.)
            return {"User": {"UserId": ctx.account_id, "Path": "/",
                             "Arn": f"arn:{ctx.partition}:iam::{ctx.account_id}:root",
                             "CreateDate": 0}}
        return {"User": shapes.user(self._user(ctx, UserName), detail=True)}

    @handler("ListUsers")
    def list_users(self, ctx: RequestContext, PathPrefix: str | None = None,
                   Marker: str | None = None, MaxItems: int | None = None) -> dict:
        users, paging = self.iam.users.list(ctx.account_id, PathPrefix, Marker, MaxItems)
        return {"Users": [shapes.user(u) for u in users], **paging}

    @handler("UpdateUser")
    def update_user(self, ctx: RequestContext, UserName: str, NewPath: str | None = None,
                    NewUserName: str | None = None) -> dict:
        user = self.iam.users.require(ctx.account_id, UserName)
        self.iam.users.rename(user, ctx.partition, NewUserName, NewPath)
        return {}

    @handler("DeleteUser")
    def delete_user(self, ctx: RequestContext, UserName: str) -> dict:
        self.iam.delete_user(ctx.account_id, UserName)
        return {}

    @handler("TagUser")
    def tag_user(self, ctx: RequestContext, UserName: str, Tags: list[dict]) -> dict:
        self.iam.users.tag(self.iam.users.require(ctx.account_id, UserName), Tags)
        return {}

    @handler("UntagUser")
    def untag_user(self, ctx: RequestContext, UserName: str, TagKeys: list[str]) -> dict:
        self.iam.users.untag(self.iam.users.require(ctx.account_id, UserName), TagKeys)
        return {}

    @handler("ListUserTags")
    def list_user_tags(self, ctx: RequestContext, UserName: str, Marker: str | None = None,
                       MaxItems: int | None = None) -> dict:
        return self._tags(self.iam.users.require(ctx.account_id, UserName), Marker, MaxItems)

    @staticmethod
    def _tags(record: dict, marker: str | None, max_items: int | None) -> dict:
        tags, paging = page(record.get("tags", []), marker, max_items)
        return {"Tags": tags, **paging}

    @handler("PutUserPermissionsBoundary")
    def put_user_permissions_boundary(self, ctx: RequestContext, UserName: str,
                                      PermissionsBoundary: str) -> dict:
        user = self.iam.users.require(ctx.account_id, UserName)
        self.policies.set_boundary(ctx.account_id, "user", user, PermissionsBoundary)
        self.iam.users.save(user)
        return {}

    @handler("DeleteUserPermissionsBoundary")
    def delete_user_permissions_boundary(self, ctx: RequestContext, UserName: str) -> dict:
        user = self.iam.users.require(ctx.account_id, UserName)
        self.policies.delete_boundary(ctx.account_id, "user", user)
        self.iam.users.save(user)
        return {}

    # -- groups ----------------------------------------------------------------------------

    @handler("CreateGroup")
    def create_group(self, ctx: RequestContext, GroupName: str, Path: str | None = None) -> dict:
        group = self.iam.groups.create(ctx.account_id, ctx.partition, GroupName, Path)
        return {"Group": shapes.group(group)}

    @handler("GetGroup")
    def get_group(self, ctx: RequestContext, GroupName: str, Marker: str | None = None,
                  MaxItems: int | None = None) -> dict:
        group = self.iam.groups.require(ctx.account_id, GroupName)
        users, paging = page(self.iam.group_users(group), Marker, MaxItems)
        return {"Group": shapes.group(group), "Users": [shapes.user(u) for u in users],
                **paging}

    @handler("ListGroups")
    def list_groups(self, ctx: RequestContext, PathPrefix: str | None = None,
                    Marker: str | None = None, MaxItems: int | None = None) -> dict:
        groups, paging = self.iam.groups.list(ctx.account_id, PathPrefix, Marker, MaxItems)
        return {"Groups": [shapes.group(g) for g in groups], **paging}

    @handler("ListGroupsForUser")
    def list_groups_for_user(self, ctx: RequestContext, UserName: str,
                             Marker: str | None = None, MaxItems: int | None = None) -> dict:
        user = self.iam.users.require(ctx.account_id, UserName)
        groups, paging = page(self.iam.user_groups(user), Marker, MaxItems)
        return {"Groups": [shapes.group(g) for g in groups], **paging}

    @handler("UpdateGroup")
    def update_group(self, ctx: RequestContext, GroupName: str, NewPath: str | None = None,
                     NewGroupName: str | None = None) -> dict:
        group = self.iam.groups.require(ctx.account_id, GroupName)
        self.iam.groups.rename(group, ctx.partition, NewGroupName, NewPath)
        return {}

    @handler("DeleteGroup")
    def delete_group(self, ctx: RequestContext, GroupName: str) -> dict:
        self.iam.delete_group(ctx.account_id, GroupName)
        return {}

    @handler("AddUserToGroup")
    def add_user_to_group(self, ctx: RequestContext, GroupName: str, UserName: str) -> dict:
        self.iam.add_user_to_group(ctx.account_id, GroupName, UserName)
        return {}

    @handler("RemoveUserFromGroup")
    def remove_user_from_group(self, ctx: RequestContext, GroupName: str, UserName: str) -> dict:
        self.iam.remove_user_from_group(ctx.account_id, GroupName, UserName)
        return {}

    # -- roles -----------------------------------------------------------------------------

    @handler("CreateRole")
    def create_role(self, ctx: RequestContext, RoleName: str, AssumeRolePolicyDocument: str,
                    Path: str | None = None, Description: str | None = None,
                    MaxSessionDuration: int | None = None,
                    PermissionsBoundary: str | None = None,
                    Tags: list[dict] | None = None) -> dict:
        role = self.iam.create_role(ctx.account_id, ctx.partition, RoleName, Path,
                                    AssumeRolePolicyDocument, Description, MaxSessionDuration,
                                    PermissionsBoundary, Tags)
        return {"Role": shapes.role(role, detail=True)}

    @handler("GetRole")
    def get_role(self, ctx: RequestContext, RoleName: str) -> dict:
        return {"Role": shapes.role(self.iam.roles.require(ctx.account_id, RoleName),
                                         detail=True)}

    @handler("ListRoles")
    def list_roles(self, ctx: RequestContext, PathPrefix: str | None = None,
                   Marker: str | None = None, MaxItems: int | None = None) -> dict:
        roles, paging = self.iam.roles.list(ctx.account_id, PathPrefix, Marker, MaxItems)
        return {"Roles": [shapes.role(r) for r in roles], **paging}

    @handler("UpdateRole")
    def update_role(self, ctx: RequestContext, RoleName: str, Description: str | None = None,
                    MaxSessionDuration: int | None = None) -> dict:
        role = self.iam.modifiable_role(ctx.account_id, RoleName)
        if Description is not None:
            role["description"] = Description
        if MaxSessionDuration is not None:
            role["max_session"] = MaxSessionDuration
        self.iam.roles.save(role)
        return {}

    @handler("UpdateRoleDescription")
    def update_role_description(self, ctx: RequestContext, RoleName: str,
                                Description: str) -> dict:
        role = self.iam.modifiable_role(ctx.account_id, RoleName)
        role["description"] = Description
        self.iam.roles.save(role)
        return {"Role": shapes.role(role, detail=True)}

    @handler("UpdateAssumeRolePolicy")
    def update_assume_role_policy(self, ctx: RequestContext, RoleName: str,
                                  PolicyDocument: str) -> dict:
        role = self.iam.modifiable_role(ctx.account_id, RoleName)
        self.iam.check_trust_policy(ctx.account_id, PolicyDocument)
        role["trust"] = PolicyDocument
        self.iam.roles.save(role)
        return {}

    @handler("DeleteRole")
    def delete_role(self, ctx: RequestContext, RoleName: str) -> dict:
        self.iam.delete_role(ctx.account_id, RoleName)
        return {}

    @handler("TagRole")
    def tag_role(self, ctx: RequestContext, RoleName: str, Tags: list[dict]) -> dict:
        self.iam.roles.tag(self.iam.roles.require(ctx.account_id, RoleName), Tags)
        return {}

    @handler("UntagRole")
    def untag_role(self, ctx: RequestContext, RoleName: str, TagKeys: list[str]) -> dict:
        self.iam.roles.untag(self.iam.roles.require(ctx.account_id, RoleName), TagKeys)
        return {}

    @handler("ListRoleTags")
    def list_role_tags(self, ctx: RequestContext, RoleName: str, Marker: str | None = None,
                       MaxItems: int | None = None) -> dict:
        return self._tags(self.iam.roles.require(ctx.account_id, RoleName), Marker, MaxItems)

    @handler("PutRolePermissionsBoundary")
    def put_role_permissions_boundary(self, ctx: RequestContext, RoleName: str,
                                      PermissionsBoundary: str) -> dict:
        role = self.iam.modifiable_role(ctx.account_id, RoleName)
        self.policies.set_boundary(ctx.account_id, "role", role, PermissionsBoundary)
        self.iam.roles.save(role)
        return {}

    @handler("DeleteRolePermissionsBoundary")
    def delete_role_permissions_boundary(self, ctx: RequestContext, RoleName: str) -> dict:
        role = self.iam.modifiable_role(ctx.account_id, RoleName)
        self.policies.delete_boundary(ctx.account_id, "role", role)
        self.iam.roles.save(role)
        return {}

    @handler("CreateServiceLinkedRole")
    def create_service_linked_role(self, ctx: RequestContext, AWSServiceName: str,
                                   Description: str | None = None,
                                   CustomSuffix: str | None = None) -> dict:
        role = self.iam.create_service_linked_role(ctx.account_id, ctx.partition,
                                                   AWSServiceName, Description, CustomSuffix)
        return {"Role": shapes.role(role)}

    @handler("DeleteServiceLinkedRole")
    def delete_service_linked_role(self, ctx: RequestContext, RoleName: str) -> dict:
        return {"DeletionTaskId": self.iam.delete_service_linked_role(ctx.account_id, RoleName)}

    @handler("GetServiceLinkedRoleDeletionStatus")
    def get_service_linked_role_deletion_status(self, ctx: RequestContext,
                                                DeletionTaskId: str) -> dict:
        return {"Status": self.iam.deletion_status(ctx.account_id, DeletionTaskId)}

    # -- instance profiles -----------------------------------------------------------------

    @handler("CreateInstanceProfile")
    def create_instance_profile(self, ctx: RequestContext, InstanceProfileName: str,
                                Path: str | None = None, Tags: list[dict] | None = None) -> dict:
        profile = self.iam.instance_profiles.create(ctx.account_id, ctx.partition,
                                                    InstanceProfileName, Path, role_id=None)
        if Tags:
            self.iam.instance_profiles.tag(profile, Tags)
        return {"InstanceProfile": self._profile_shape(profile, tags=True)}

    @handler("GetInstanceProfile")
    def get_instance_profile(self, ctx: RequestContext, InstanceProfileName: str) -> dict:
        profile = self.iam.instance_profiles.require(ctx.account_id, InstanceProfileName)
        return {"InstanceProfile": self._profile_shape(profile, tags=True)}

    @handler("ListInstanceProfiles")
    def list_instance_profiles(self, ctx: RequestContext, PathPrefix: str | None = None,
                               Marker: str | None = None, MaxItems: int | None = None) -> dict:
        profiles, paging = self.iam.instance_profiles.list(ctx.account_id, PathPrefix, Marker,
                                                           MaxItems)
        return {"InstanceProfiles": [self._profile_shape(p) for p in profiles], **paging}

    @handler("ListInstanceProfilesForRole")
    def list_instance_profiles_for_role(self, ctx: RequestContext, RoleName: str,
                                        Marker: str | None = None,
                                        MaxItems: int | None = None) -> dict:
        role = self.iam.roles.require(ctx.account_id, RoleName)
        profiles, paging = page(self.iam.role_instance_profiles(role), Marker, MaxItems)
        return {"InstanceProfiles": [self._profile_shape(p) for p in profiles], **paging}

    @handler("AddRoleToInstanceProfile")
    def add_role_to_instance_profile(self, ctx: RequestContext, InstanceProfileName: str,
                                     RoleName: str) -> dict:
        self.iam.add_role_to_instance_profile(ctx.account_id, InstanceProfileName, RoleName)
        return {}

    @handler("RemoveRoleFromInstanceProfile")
    def remove_role_from_instance_profile(self, ctx: RequestContext, InstanceProfileName: str,
                                          RoleName: str) -> dict:
        self.iam.remove_role_from_instance_profile(ctx.account_id, InstanceProfileName, RoleName)
        return {}

    @handler("DeleteInstanceProfile")
    def delete_instance_profile(self, ctx: RequestContext, InstanceProfileName: str) -> dict:
        self.iam.delete_instance_profile(ctx.account_id, InstanceProfileName)
        return {}

    @handler("TagInstanceProfile")
    def tag_instance_profile(self, ctx: RequestContext, InstanceProfileName: str,
                             Tags: list[dict]) -> dict:
        self.iam.instance_profiles.tag(
            self.iam.instance_profiles.require(ctx.account_id, InstanceProfileName), Tags)
        return {}

    @handler("UntagInstanceProfile")
    def untag_instance_profile(self, ctx: RequestContext, InstanceProfileName: str,
                               TagKeys: list[str]) -> dict:
        self.iam.instance_profiles.untag(
            self.iam.instance_profiles.require(ctx.account_id, InstanceProfileName), TagKeys)
        return {}

    @handler("ListInstanceProfileTags")
    def list_instance_profile_tags(self, ctx: RequestContext, InstanceProfileName: str,
                                   Marker: str | None = None,
                                   MaxItems: int | None = None) -> dict:
        return self._tags(self.iam.instance_profiles.require(ctx.account_id,
                                                             InstanceProfileName),
                          Marker, MaxItems)

    # -- managed policies ------------------------------------------------------------------

    @handler("CreatePolicy")
    def create_policy(self, ctx: RequestContext, PolicyName: str, PolicyDocument: str,
                      Path: str | None = None, Description: str | None = None,
                      Tags: list[dict] | None = None) -> dict:
        policy = self.policies.create(ctx.account_id, ctx.partition, PolicyName, Path,
                                      PolicyDocument, Description, Tags)
        return {"Policy": self._policy_shape(ctx, policy)}

    @handler("GetPolicy")
    def get_policy(self, ctx: RequestContext, PolicyArn: str) -> dict:
        policy = self.policies.require(ctx.account_id, PolicyArn)
        return {"Policy": self._policy_shape(ctx, policy)}

    @handler("DeletePolicy")
    def delete_policy(self, ctx: RequestContext, PolicyArn: str) -> dict:
        self.policies.delete(ctx.account_id, PolicyArn)
        return {}

    @handler("ListPolicies")
    def list_policies(self, ctx: RequestContext, Scope: str | None = None,
                      OnlyAttached: bool = False, PathPrefix: str | None = None,
                      PolicyUsageFilter: str | None = None, Marker: str | None = None,
                      MaxItems: int | None = None) -> dict:
        policies, paging = self.policies.list(ctx.account_id, Scope, OnlyAttached, PathPrefix,
                                              PolicyUsageFilter, Marker, MaxItems)
        return {"Policies": [self._policy_shape(ctx, p, listed=True) for p in policies],
                **paging}

    @handler("CreatePolicyVersion")
    def create_policy_version(self, ctx: RequestContext, PolicyArn: str, PolicyDocument: str,
                              SetAsDefault: bool = False) -> dict:
        policy, version_id = self.policies.create_version(ctx.account_id, PolicyArn,
                                                          PolicyDocument, SetAsDefault)
        return {"PolicyVersion": shapes.policy_version(
            version_id, policy["versions"][version_id], policy["default"], document=False)}

    @handler("GetPolicyVersion")
    def get_policy_version(self, ctx: RequestContext, PolicyArn: str, VersionId: str) -> dict:
        policy, version = self.policies.version(ctx.account_id, PolicyArn, VersionId)
        return {"PolicyVersion": shapes.policy_version(VersionId, version, policy["default"])}

    @handler("ListPolicyVersions")
    def list_policy_versions(self, ctx: RequestContext, PolicyArn: str,
                             Marker: str | None = None, MaxItems: int | None = None) -> dict:
        policy = self.policies.require(ctx.account_id, PolicyArn)
        versions, paging = page(self.policies.versions(policy), Marker, MaxItems)
        return {"Versions": [shapes.policy_version(vid, v, policy["default"], document=False)
                             for vid, v in versions], **paging}

    @handler("DeletePolicyVersion")
    def delete_policy_version(self, ctx: RequestContext, PolicyArn: str, VersionId: str) -> dict:
        self.policies.delete_version(ctx.account_id, PolicyArn, VersionId)
        return {}

    @handler("SetDefaultPolicyVersion")
    def set_default_policy_version(self, ctx: RequestContext, PolicyArn: str,
                                   VersionId: str) -> dict:
        self.policies.set_default(ctx.account_id, PolicyArn, VersionId)
        return {}

    @handler("TagPolicy")
    def tag_policy(self, ctx: RequestContext, PolicyArn: str, Tags: list[dict]) -> dict:
        self.policies.customer.tag(self.policies.require_customer(ctx.account_id, PolicyArn),
                                   Tags)
        return {}

    @handler("UntagPolicy")
    def untag_policy(self, ctx: RequestContext, PolicyArn: str, TagKeys: list[str]) -> dict:
        self.policies.customer.untag(self.policies.require_customer(ctx.account_id, PolicyArn),
                                     TagKeys)
        return {}

    @handler("ListPolicyTags")
    def list_policy_tags(self, ctx: RequestContext, PolicyArn: str, Marker: str | None = None,
                         MaxItems: int | None = None) -> dict:
        return self._tags(self.policies.require(ctx.account_id, PolicyArn), Marker, MaxItems)

    @handler("ListEntitiesForPolicy")
    def list_entities_for_policy(self, ctx: RequestContext, PolicyArn: str,
                                 EntityFilter: str | None = None,
                                 PathPrefix: str | None = None,
                                 PolicyUsageFilter: str | None = None,
                                 Marker: str | None = None,
                                 MaxItems: int | None = None) -> dict:
        found = self.iam.policy_entities(ctx.account_id, PolicyArn, EntityFilter, PathPrefix,
                                         PolicyUsageFilter)
        found, paging = page(found, Marker, MaxItems)
        fields = {"user": ("PolicyUsers", "UserName", "UserId"),
                  "group": ("PolicyGroups", "GroupName", "GroupId"),
                  "role": ("PolicyRoles", "RoleName", "RoleId")}
        answer: dict[str, Any] = {"PolicyUsers": [], "PolicyGroups": [], "PolicyRoles": []}
        for kind, entity in found:
            member, name_field, id_field = fields[kind]
            answer[member].append({name_field: entity["name"], id_field: entity["id"]})
        return answer | paging

    # -- attachments and inline policies ---------------------------------------------------

    def _attach(self, ctx: RequestContext, kind: str, name: str, arn: str) -> dict:
        entity = (self.iam.modifiable_role(ctx.account_id, name) if kind == "role"
                  else self._entity(ctx, kind, name))
        self.policies.attach(ctx.account_id, kind, entity, arn)
        return {}

    def _detach(self, ctx: RequestContext, kind: str, name: str, arn: str) -> dict:
        entity = (self.iam.modifiable_role(ctx.account_id, name) if kind == "role"
                  else self._entity(ctx, kind, name))
        self.policies.detach(ctx.account_id, kind, entity, arn)
        return {}

    def _attached(self, ctx: RequestContext, kind: str, name: str, path_prefix: str | None,
                  marker: str | None, max_items: int | None) -> dict:
        entity = self._entity(ctx, kind, name)
        attached = []
        for arn in self.policies.attached(ctx.account_id, kind, entity["id"]):
            policy = self.policies.find(ctx.account_id, arn)
            if policy is not None and policy["path"].startswith(path_prefix or "/"):
                attached.append({"PolicyName": policy["name"], "PolicyArn": arn})
        attached, paging = page(attached, marker, max_items)
        return {"AttachedPolicies": attached, **paging}

    @handler("AttachUserPolicy")
    def attach_user_policy(self, ctx: RequestContext, UserName: str, PolicyArn: str) -> dict:
        return self._attach(ctx, "user", UserName, PolicyArn)

    @handler("AttachGroupPolicy")
    def attach_group_policy(self, ctx: RequestContext, GroupName: str, PolicyArn: str) -> dict:
        return self._attach(ctx, "group", GroupName, PolicyArn)

    @handler("AttachRolePolicy")
    def attach_role_policy(self, ctx: RequestContext, RoleName: str, PolicyArn: str) -> dict:
        return self._attach(ctx, "role", RoleName, PolicyArn)

    @handler("DetachUserPolicy")
    def detach_user_policy(self, ctx: RequestContext, UserName: str, PolicyArn: str) -> dict:
        return self._detach(ctx, "user", UserName, PolicyArn)

    @handler("DetachGroupPolicy")
    def detach_group_policy(self, ctx: RequestContext, GroupName: str, PolicyArn: str) -> dict:
        return self._detach(ctx, "group", GroupName, PolicyArn)

    @handler("DetachRolePolicy")
    def detach_role_policy(self, ctx: RequestContext, RoleName: str, PolicyArn: str) -> dict:
        return self._detach(ctx, "role", RoleName, PolicyArn)

    @handler("ListAttachedUserPolicies")
    def list_attached_user_policies(self, ctx: RequestContext, UserName: str,
                                    PathPrefix: str | None = None, Marker: str | None = None,
                                    MaxItems: int | None = None) -> dict:
        return self._attached(ctx, "user", UserName, PathPrefix, Marker, MaxItems)

    @handler("ListAttachedGroupPolicies")
    def list_attached_group_policies(self, ctx: RequestContext, GroupName: str,
                                     PathPrefix: str | None = None, Marker: str | None = None,
                                     MaxItems: int | None = None) -> dict:
        return self._attached(ctx, "group", GroupName, PathPrefix, Marker, MaxItems)

    @handler("ListAttachedRolePolicies")
    def list_attached_role_policies(self, ctx: RequestContext, RoleName: str,
                                    PathPrefix: str | None = None, Marker: str | None = None,
                                    MaxItems: int | None = None) -> dict:
        return self._attached(ctx, "role", RoleName, PathPrefix, Marker, MaxItems)

    def _put_inline(self, ctx: RequestContext, kind: str, name: str, policy_name: str,
                    document: str) -> dict:
        entity = (self.iam.modifiable_role(ctx.account_id, name) if kind == "role"
                  else self._entity(ctx, kind, name))
        self.policies.put_inline(ctx.account_id, kind, entity, policy_name, document)
        return {}

    def _get_inline(self, ctx: RequestContext, kind: str, name: str, policy_name: str) -> dict:
        entity = self._entity(ctx, kind, name)
        document = self.policies.inline_policy(ctx.account_id, kind, entity, policy_name)
        return {f"{kind.capitalize()}Name": entity["name"], "PolicyName": policy_name,
                "PolicyDocument": shapes.url_encoded(document)}

    def _delete_inline(self, ctx: RequestContext, kind: str, name: str,
                       policy_name: str) -> dict:
        entity = (self.iam.modifiable_role(ctx.account_id, name) if kind == "role"
                  else self._entity(ctx, kind, name))
        self.policies.delete_inline(ctx.account_id, kind, entity, policy_name)
        return {}

    def _list_inline(self, ctx: RequestContext, kind: str, name: str, marker: str | None,
                     max_items: int | None) -> dict:
        entity = self._entity(ctx, kind, name)
        names, paging = page(sorted(self.policies.inline_policies(ctx.account_id, kind,
                                                                  entity["id"])),
                             marker, max_items)
        return {"PolicyNames": names, **paging}

    @handler("PutUserPolicy")
    def put_user_policy(self, ctx: RequestContext, UserName: str, PolicyName: str,
                        PolicyDocument: str) -> dict:
        return self._put_inline(ctx, "user", UserName, PolicyName, PolicyDocument)

    @handler("PutGroupPolicy")
    def put_group_policy(self, ctx: RequestContext, GroupName: str, PolicyName: str,
                         PolicyDocument: str) -> dict:
        return self._put_inline(ctx, "group", GroupName, PolicyName, PolicyDocument)

    @handler("PutRolePolicy")
    def put_role_policy(self, ctx: RequestContext, RoleName: str, PolicyName: str,
                        PolicyDocument: str) -> dict:
        return self._put_inline(ctx, "role", RoleName, PolicyName, PolicyDocument)

    @handler("GetUserPolicy")
    def get_user_policy(self, ctx: RequestContext, UserName: str, PolicyName: str) -> dict:
        return self._get_inline(ctx, "user", UserName, PolicyName)

    @handler("GetGroupPolicy")
    def get_group_policy(self, ctx: RequestContext, GroupName: str, PolicyName: str) -> dict:
        return self._get_inline(ctx, "group", GroupName, PolicyName)

    @handler("GetRolePolicy")
    def get_role_policy(self, ctx: RequestContext, RoleName: str, PolicyName: str) -> dict:
        return self._get_inline(ctx, "role", RoleName, PolicyName)

    @handler("DeleteUserPolicy")
    def delete_user_policy(self, ctx: RequestContext, UserName: str, PolicyName: str) -> dict:
        return self._delete_inline(ctx, "user", UserName, PolicyName)

    @handler("DeleteGroupPolicy")
    def delete_group_policy(self, ctx: RequestContext, GroupName: str, PolicyName: str) -> dict:
        return self._delete_inline(ctx, "group", GroupName, PolicyName)

    @handler("DeleteRolePolicy")
    def delete_role_policy(self, ctx: RequestContext, RoleName: str, PolicyName: str) -> dict:
        return self._delete_inline(ctx, "role", RoleName, PolicyName)

    @handler("ListUserPolicies")
    def list_user_policies(self, ctx: RequestContext, UserName: str, Marker: str | None = None,
                           MaxItems: int | None = None) -> dict:
        return self._list_inline(ctx, "user", UserName, Marker, MaxItems)

    @handler("ListGroupPolicies")
    def list_group_policies(self, ctx: RequestContext, GroupName: str,
                            Marker: str | None = None, MaxItems: int | None = None) -> dict:
        return self._list_inline(ctx, "group", GroupName, Marker, MaxItems)

    @handler("ListRolePolicies")
    def list_role_policies(self, ctx: RequestContext, RoleName: str, Marker: str | None = None,
                           MaxItems: int | None = None) -> dict:
        return self._list_inline(ctx, "role", RoleName, Marker, MaxItems)

    # -- access keys -----------------------------------------------------------------------

    @handler("CreateAccessKey")
    def create_access_key(self, ctx: RequestContext, UserName: str | None = None) -> dict:
        user = self._user(ctx, UserName)
        key = self.iam.credentials.create_key(user)
        return {"AccessKey": shapes.access_key(key, user["name"], secret=True)}

    @handler("ListAccessKeys")
    def list_access_keys(self, ctx: RequestContext, UserName: str | None = None,
                         Marker: str | None = None, MaxItems: int | None = None) -> dict:
        if self._is_root(ctx, UserName):
            return {"AccessKeyMetadata": [], "IsTruncated": False}  # root's keys are not IAM's
        user = self._user(ctx, UserName)
        keys, paging = page(self.iam.credentials.user_keys(user), Marker, MaxItems)
        return {"AccessKeyMetadata": [shapes.access_key(k, user["name"]) for k in keys],
                **paging}

    @handler("UpdateAccessKey")
    def update_access_key(self, ctx: RequestContext, AccessKeyId: str, Status: str,
                          UserName: str | None = None) -> dict:
        self.iam.credentials.set_key_status(self._user(ctx, UserName), AccessKeyId, Status)
        return {}

    @handler("DeleteAccessKey")
    def delete_access_key(self, ctx: RequestContext, AccessKeyId: str,
                          UserName: str | None = None) -> dict:
        self.iam.credentials.delete_key(self._user(ctx, UserName), AccessKeyId)
        return {}

    @handler("GetAccessKeyLastUsed")
    def get_access_key_last_used(self, ctx: RequestContext, AccessKeyId: str) -> dict:
        key = self.iam.credentials.key(AccessKeyId)
        user = self.iam.users.by_id(key["user_id"]) if key else None
        if key is None or user is None or key["account"] != ctx.account_id:
            raise ServiceError("AccessDenied", "The access key does not belong to this "
                               "account.", 403)
        used = key.get("last_used")
        last_used = ({"LastUsedDate": used["date"], "ServiceName": used["service"],
                      "Region": used["region"]} if used
                     else {"ServiceName": "N/A", "Region": "N/A"})
        return {"UserName": user["name"], "AccessKeyLastUsed": last_used}

    # -- signing certificates, SSH keys, service-specific credentials ----------------------

    @handler("UploadSigningCertificate")
    def upload_signing_certificate(self, ctx: RequestContext, CertificateBody: str,
                                   UserName: str | None = None) -> dict:
        user = self._user(ctx, UserName)
        row = self.iam.service_credentials.upload_certificate(user, CertificateBody)
        return {"Certificate": shapes.signing_certificate(row, user["name"])}

    def _signing_certificate(self, ctx: RequestContext, user_name: str | None,
                             certificate_id: str) -> dict:
        return self.iam.service_credentials.get(
            self._user(ctx, user_name), SIGNING_CERTIFICATE, certificate_id,
            f"The Certificate with id {certificate_id} cannot be found.")

    @handler("UpdateSigningCertificate")
    def update_signing_certificate(self, ctx: RequestContext, CertificateId: str, Status: str,
                                   UserName: str | None = None) -> dict:
        self.iam.service_credentials.set_status(
            self._signing_certificate(ctx, UserName, CertificateId), Status)
        return {}

    @handler("DeleteSigningCertificate")
    def delete_signing_certificate(self, ctx: RequestContext, CertificateId: str,
                                   UserName: str | None = None) -> dict:
        self.iam.service_credentials.delete(self._signing_certificate(ctx, UserName,
                                                                      CertificateId))
        return {}

    @handler("ListSigningCertificates")
    def list_signing_certificates(self, ctx: RequestContext, UserName: str | None = None,
                                  Marker: str | None = None, MaxItems: int | None = None) -> dict:
        user = self._user(ctx, UserName)
        rows, paging = page(self.iam.signing_certificates(user), Marker, MaxItems)
        return {"Certificates": [shapes.signing_certificate(r, user["name"]) for r in rows],
                **paging}

    @handler("UploadSSHPublicKey")
    def upload_ssh_public_key(self, ctx: RequestContext, UserName: str,
                              SSHPublicKeyBody: str) -> dict:
        user = self.iam.users.require(ctx.account_id, UserName)
        row = self.iam.service_credentials.upload_ssh_key(user, SSHPublicKeyBody)
        return {"SSHPublicKey": shapes.ssh_key(row, user["name"], row["body"])}

    def _ssh_key(self, ctx: RequestContext, user_name: str, key_id: str) -> tuple[dict, dict]:
        user = self.iam.users.require(ctx.account_id, user_name)
        return user, self.iam.service_credentials.get(
            user, SSH_KEY, key_id, f"The Public Key with id {key_id} cannot be found.")

    @handler("GetSSHPublicKey")
    def get_ssh_public_key(self, ctx: RequestContext, UserName: str, SSHPublicKeyId: str,
                           Encoding: str) -> dict:
        user, row = self._ssh_key(ctx, UserName, SSHPublicKeyId)
        body = row["pem"] if Encoding == "PEM" else row["body"]
        return {"SSHPublicKey": shapes.ssh_key(row, user["name"], body)}

    @handler("UpdateSSHPublicKey")
    def update_ssh_public_key(self, ctx: RequestContext, UserName: str, SSHPublicKeyId: str,
                              Status: str) -> dict:
        self.iam.service_credentials.set_status(self._ssh_key(ctx, UserName, SSHPublicKeyId)[1],
                                                Status)
        return {}

    @handler("DeleteSSHPublicKey")
    def delete_ssh_public_key(self, ctx: RequestContext, UserName: str,
                              SSHPublicKeyId: str) -> dict:
        self.iam.service_credentials.delete(self._ssh_key(ctx, UserName, SSHPublicKeyId)[1])
        return {}

    @handler("ListSSHPublicKeys")
    def list_ssh_public_keys(self, ctx: RequestContext, UserName: str | None = None,
                             Marker: str | None = None, MaxItems: int | None = None) -> dict:
        user = self._user(ctx, UserName)
        rows, paging = page(self.iam.service_credentials.of(user, SSH_KEY), Marker, MaxItems)
        return {"SSHPublicKeys": [{"UserName": user["name"], "SSHPublicKeyId": r["credential_id"],
                                   "Status": r["status"], "UploadDate": r["created"]}
                                  for r in rows], **paging}

    @handler("CreateServiceSpecificCredential")
    def create_service_specific_credential(self, ctx: RequestContext, UserName: str,
                                           ServiceName: str,
                                           CredentialAgeDays: int | None = None) -> dict:
        user = self.iam.users.require(ctx.account_id, UserName)
        row = self.iam.service_credentials.create_service_credential(user, ServiceName,
                                                                     CredentialAgeDays)
        return {"ServiceSpecificCredential": shapes.service_credential(row, user["name"],
                                                                       secret=True)}

    def _service_credential(self, ctx: RequestContext, user_name: str | None,
                            credential_id: str) -> tuple[dict, dict]:
        user = self._user(ctx, user_name)
        return user, self.iam.service_credentials.get(
            user, SERVICE_CREDENTIAL, credential_id,
            f"The Service Specific Credential with id {credential_id} cannot be found.")

    @handler("ResetServiceSpecificCredential")
    def reset_service_specific_credential(self, ctx: RequestContext,
                                          ServiceSpecificCredentialId: str,
                                          UserName: str | None = None) -> dict:
        user, row = self._service_credential(ctx, UserName, ServiceSpecificCredentialId)
        row = self.iam.service_credentials.reset_service_credential(row)
        return {"ServiceSpecificCredential": shapes.service_credential(row, user["name"],
                                                                       secret=True)}

    @handler("UpdateServiceSpecificCredential")
    def update_service_specific_credential(self, ctx: RequestContext,
                                           ServiceSpecificCredentialId: str, Status: str,
                                           UserName: str | None = None) -> dict:
        self.iam.service_credentials.set_status(
            self._service_credential(ctx, UserName, ServiceSpecificCredentialId)[1], Status)
        return {}

    @handler("DeleteServiceSpecificCredential")
    def delete_service_specific_credential(self, ctx: RequestContext,
                                           ServiceSpecificCredentialId: str,
                                           UserName: str | None = None) -> dict:
        self.iam.service_credentials.delete(
            self._service_credential(ctx, UserName, ServiceSpecificCredentialId)[1])
        return {}

    @handler("ListServiceSpecificCredentials")
    def list_service_specific_credentials(self, ctx: RequestContext,
                                          UserName: str | None = None,
                                          ServiceName: str | None = None,
                                          AllUsers: bool = False, Marker: str | None = None,
                                          MaxItems: int | None = None) -> dict:
        users = (self.iam.users.all(ctx.account_id) if AllUsers and UserName is None
                 else [self._user(ctx, UserName)])
        rows = [(user, row) for user in users
                for row in self.iam.service_credentials.of(user, SERVICE_CREDENTIAL)
                if ServiceName is None or row["service"] == ServiceName]
        rows, paging = page(rows, Marker, MaxItems)
        return {"ServiceSpecificCredentials": [shapes.service_credential(r, u["name"])
                                               for u, r in rows], **paging}

    # -- login profiles and passwords ------------------------------------------------------

    @handler("CreateLoginProfile")
    def create_login_profile(self, ctx: RequestContext, UserName: str | None = None,
                             Password: str | None = None,
                             PasswordResetRequired: bool = False) -> dict:
        user = self._user(ctx, UserName)
        if Password is None:
            raise ServiceError("ValidationError", "Password is required.", 400)
        profile = self.iam.credentials.create_login_profile(user, Password,
                                                            PasswordResetRequired)
        self.iam.users.save(user)
        return {"LoginProfile": {"UserName": user["name"], "CreateDate": profile["created"],
                                 "PasswordResetRequired": profile["reset"]}}

    @handler("GetLoginProfile")
    def get_login_profile(self, ctx: RequestContext, UserName: str | None = None) -> dict:
        user = self._user(ctx, UserName)
        profile = self.iam.credentials.login_profile(user)
        return {"LoginProfile": {"UserName": user["name"], "CreateDate": profile["created"],
                                 "PasswordResetRequired": profile["reset"]}}

    @handler("UpdateLoginProfile")
    def update_login_profile(self, ctx: RequestContext, UserName: str,
                             Password: str | None = None,
                             PasswordResetRequired: bool | None = None) -> dict:
        user = self._user(ctx, UserName)
        self.iam.credentials.update_login_profile(user, Password, PasswordResetRequired)
        self.iam.users.save(user)
        return {}

    @handler("DeleteLoginProfile")
    def delete_login_profile(self, ctx: RequestContext, UserName: str | None = None) -> dict:
        user = self._user(ctx, UserName)
        self.iam.credentials.login_profile(user)
        user["login_profile"] = None
        self.iam.users.save(user)
        return {}

    @handler("ChangePassword")
    def change_password(self, ctx: RequestContext, OldPassword: str, NewPassword: str) -> dict:
        user = self.iam.caller_user(ctx.account_id, ctx.access_key_id)
        if user is None:
            raise ServiceError("InvalidUserType", "Only IAM Users can change their own "
                               "password.", 400)
        self.iam.credentials.change_password(user, OldPassword, NewPassword)
        self.iam.users.save(user)
        return {}

    @handler("UpdateAccountPasswordPolicy")
    def update_account_password_policy(self, ctx: RequestContext, **settings: Any) -> dict:
        self.iam.credentials.set_password_policy(ctx.account_id, settings)
        return {}

    @handler("GetAccountPasswordPolicy")
    def get_account_password_policy(self, ctx: RequestContext) -> dict:
        policy = self.iam.credentials.password_policy(ctx.account_id)
        if policy is None:
            raise ServiceError("NoSuchEntity", f"The Password Policy with domain name "
                               f"{ctx.account_id} cannot be found.", 404)
        return {"PasswordPolicy": policy}

    @handler("DeleteAccountPasswordPolicy")
    def delete_account_password_policy(self, ctx: RequestContext) -> dict:
        self.iam.credentials.delete_password_policy(ctx.account_id)
        return {}

    # -- MFA devices -----------------------------------------------------------------------

    @handler("CreateVirtualMFADevice")
    def create_virtual_mfa_device(self, ctx: RequestContext, VirtualMFADeviceName: str,
                                  Path: str | None = None,
                                  Tags: list[dict] | None = None) -> dict:
        device = self.iam.credentials.create_virtual_device(ctx.account_id, ctx.partition, Path,
                                                            VirtualMFADeviceName, Tags)
        return {"VirtualMFADevice": {"SerialNumber": device["serial"],
                                     "Base32StringSeed": device["seed"].encode(),
                                     "QRCodePNG": qr_code_png(VirtualMFADeviceName,
                                                              ctx.account_id, device["seed"]),
                                     "Tags": device["tags"]}}

    def _device_shape(self, device: dict) -> dict:
        user = self.iam.users.by_id(device["user_id"]) if device["user_id"] else None
        return shapes.compact({"SerialNumber": device["serial"],
                               "User": shapes.user(user) if user else None,
                               "EnableDate": device.get("enabled"), "Tags": device["tags"]})

    @handler("EnableMFADevice")
    def enable_mfa_device(self, ctx: RequestContext, UserName: str, SerialNumber: str,
                          AuthenticationCode1: str, AuthenticationCode2: str) -> dict:
        self.iam.credentials.enable_device(self.iam.users.require(ctx.account_id, UserName),
                                           SerialNumber, AuthenticationCode1,
                                           AuthenticationCode2)
        return {}

    @handler("ResyncMFADevice")
    def resync_mfa_device(self, ctx: RequestContext, UserName: str, SerialNumber: str,
                          AuthenticationCode1: str, AuthenticationCode2: str) -> dict:
        self.iam.credentials.resync_device(self.iam.users.require(ctx.account_id, UserName),
                                           SerialNumber, AuthenticationCode1,
                                           AuthenticationCode2)
        return {}

    @handler("DeactivateMFADevice")
    def deactivate_mfa_device(self, ctx: RequestContext, SerialNumber: str,
                              UserName: str | None = None) -> dict:
        self.iam.credentials.deactivate_device(self._user(ctx, UserName), SerialNumber)
        return {}

    @handler("DeleteVirtualMFADevice")
    def delete_virtual_mfa_device(self, ctx: RequestContext, SerialNumber: str) -> dict:
        self.iam.credentials.delete_virtual_device(ctx.account_id, SerialNumber)
        return {}

    @handler("ListMFADevices")
    def list_mfa_devices(self, ctx: RequestContext, UserName: str | None = None,
                         Marker: str | None = None, MaxItems: int | None = None) -> dict:
        if self._is_root(ctx, UserName):
            return {"MFADevices": [], "IsTruncated": False}
        user = self._user(ctx, UserName)
        devices, paging = page(self.iam.credentials.user_devices(user), Marker, MaxItems)
        return {"MFADevices": [{"UserName": user["name"], "SerialNumber": d["serial"],
                                "EnableDate": d["enabled"]} for d in devices], **paging}

    @handler("GetMFADevice")
    def get_mfa_device(self, ctx: RequestContext, SerialNumber: str,
                       UserName: str | None = None) -> dict:
        device = self.iam.credentials.device(ctx.account_id, SerialNumber)
        user = self.iam.users.by_id(device["user_id"]) if device["user_id"] else None
        if user is None or (UserName is not None and user["key"] != UserName.lower()):
            raise ServiceError("NoSuchEntity", f"MFA Device with serial number {SerialNumber} "
                               "does not exist.", 404)
        return {"UserName": user["name"], "SerialNumber": SerialNumber,
                "EnableDate": device["enabled"]}

    @handler("ListVirtualMFADevices")
    def list_virtual_mfa_devices(self, ctx: RequestContext,
                                 AssignmentStatus: str | None = None,
                                 Marker: str | None = None, MaxItems: int | None = None) -> dict:
        devices, paging = page(self.iam.credentials.virtual_devices(ctx.account_id,
                                                                    AssignmentStatus),
                               Marker, MaxItems)
        return {"VirtualMFADevices": [self._device_shape(d) for d in devices], **paging}

    def _tag_device(self, ctx: RequestContext, serial: str, tags=None, keys=None) -> dict:
        device = self.iam.credentials.device(ctx.account_id, serial)
        device["tags"] = (merge_tags(device["tags"], tags) if tags is not None
                          else remove_tags(device["tags"], keys))
        self.iam.credentials.save_device(device)
        return {}

    @handler("TagMFADevice")
    def tag_mfa_device(self, ctx: RequestContext, SerialNumber: str, Tags: list[dict]) -> dict:
        return self._tag_device(ctx, SerialNumber, tags=Tags)

    @handler("UntagMFADevice")
    def untag_mfa_device(self, ctx: RequestContext, SerialNumber: str,
                         TagKeys: list[str]) -> dict:
        return self._tag_device(ctx, SerialNumber, keys=TagKeys)

    @handler("ListMFADeviceTags")
    def list_mfa_device_tags(self, ctx: RequestContext, SerialNumber: str,
                             Marker: str | None = None, MaxItems: int | None = None) -> dict:
        return self._tags(self.iam.credentials.device(ctx.account_id, SerialNumber), Marker,
                          MaxItems)

    # -- credential report -----------------------------------------------------------------

    @handler("GenerateCredentialReport")
    def generate_credential_report(self, ctx: RequestContext) -> dict:
        state = self.iam.credentials.generate_report(ctx.account_id, ctx.partition,
                                                     self.iam.users.all(ctx.account_id),
                                                     self.iam.signing_certificates)
        description = ("No report exists. Starting a new report generation task"
                       if state == "STARTED" else None)
        return shapes.compact({"State": state, "Description": description})

    @handler("GetCredentialReport")
    def get_credential_report(self, ctx: RequestContext) -> dict:
        report = self.iam.credentials.report(ctx.account_id)
        return {"Content": report["content"].encode(), "ReportFormat": "text/csv",
                "GeneratedTime": report["generated"]}

    # -- identity providers ----------------------------------------------------------------

    @handler("CreateSAMLProvider")
    def create_saml_provider(self, ctx: RequestContext, SAMLMetadataDocument: str, Name: str,
                             Tags: list[dict] | None = None,
                             AssertionEncryptionMode: str | None = None,
                             AddPrivateKey: str | None = None) -> dict:
        provider = self.iam.create_saml_provider(ctx.account_id, ctx.partition, Name,
                                                 SAMLMetadataDocument, Tags,
                                                 AssertionEncryptionMode, AddPrivateKey)
        return shapes.compact({"SAMLProviderArn": provider["arn"], "Tags": provider["tags"]})

    @handler("GetSAMLProvider")
    def get_saml_provider(self, ctx: RequestContext, SAMLProviderArn: str) -> dict:
        provider = self.iam.provider(ctx.account_id, "saml", SAMLProviderArn)
        return shapes.compact({"SAMLProviderUUID": provider["uuid"],
                               "SAMLMetadataDocument": provider["metadata"],
                               "CreateDate": provider["created"],
                               "ValidUntil": provider.get("valid_until"),
                               "Tags": provider["tags"],
                               "AssertionEncryptionMode": provider.get("encryption_mode"),
                               "PrivateKeyList": [
                                   {"KeyId": key["id"], "Timestamp": key["added"]}
                                   for key in provider.get("private_keys", ())]})

    @handler("UpdateSAMLProvider")
    def update_saml_provider(self, ctx: RequestContext, SAMLProviderArn: str,
                             SAMLMetadataDocument: str | None = None,
                             AssertionEncryptionMode: str | None = None,
                             AddPrivateKey: str | None = None,
                             RemovePrivateKey: str | None = None) -> dict:
        self.iam.update_saml_provider(ctx.account_id, SAMLProviderArn, SAMLMetadataDocument,
                                      AssertionEncryptionMode, AddPrivateKey, RemovePrivateKey)
        return {"SAMLProviderArn": SAMLProviderArn}

    @handler("DeleteSAMLProvider")
    def delete_saml_provider(self, ctx: RequestContext, SAMLProviderArn: str) -> dict:
        self.iam.delete_provider(ctx.account_id, "saml", SAMLProviderArn)
        return {}

    @handler("ListSAMLProviders")
    def list_saml_providers(self, ctx: RequestContext) -> dict:
        return {"SAMLProviderList": [
            shapes.compact({"Arn": p["arn"], "CreateDate": p["created"],
                            "ValidUntil": p.get("valid_until")})
            for p in self.iam.provider_list(ctx.account_id, "saml")]}

    @handler("CreateOpenIDConnectProvider")
    def create_open_id_connect_provider(self, ctx: RequestContext, Url: str,
                                        ClientIDList: list[str] | None = None,
                                        ThumbprintList: list[str] | None = None,
                                        Tags: list[dict] | None = None) -> dict:
        provider = self.iam.create_oidc_provider(ctx.account_id, ctx.partition, Url,
                                                 ClientIDList, ThumbprintList, Tags)
        return shapes.compact({"OpenIDConnectProviderArn": provider["arn"],
                               "Tags": provider["tags"]})

    @handler("GetOpenIDConnectProvider")
    def get_open_id_connect_provider(self, ctx: RequestContext,
                                     OpenIDConnectProviderArn: str) -> dict:
        provider = self.iam.provider(ctx.account_id, "oidc", OpenIDConnectProviderArn)
        return {"Url": provider["url"].removeprefix("https://"),
                "ClientIDList": provider["client_ids"],
                "ThumbprintList": provider["thumbprints"], "CreateDate": provider["created"],
                "Tags": provider["tags"]}

    @handler("ListOpenIDConnectProviders")
    def list_open_id_connect_providers(self, ctx: RequestContext) -> dict:
        return {"OpenIDConnectProviderList": [
            {"Arn": p["arn"]} for p in self.iam.provider_list(ctx.account_id, "oidc")]}

    @handler("DeleteOpenIDConnectProvider")
    def delete_open_id_connect_provider(self, ctx: RequestContext,
                                        OpenIDConnectProviderArn: str) -> dict:
        self.iam.delete_provider(ctx.account_id, "oidc", OpenIDConnectProviderArn)
        return {}

    @handler("AddClientIDToOpenIDConnectProvider")
    def add_client_id_to_open_id_connect_provider(self, ctx: RequestContext,
                                                  OpenIDConnectProviderArn: str,
                                                  ClientID: str) -> dict:
        self.iam.add_client_id(ctx.account_id, OpenIDConnectProviderArn, ClientID)
        return {}

    @handler("RemoveClientIDFromOpenIDConnectProvider")
    def remove_client_id_from_open_id_connect_provider(self, ctx: RequestContext,
                                                       OpenIDConnectProviderArn: str,
                                                       ClientID: str) -> dict:
        self.iam.remove_client_id(ctx.account_id, OpenIDConnectProviderArn, ClientID)
        return {}

    @handler("UpdateOpenIDConnectProviderThumbprint")
    def update_open_id_connect_provider_thumbprint(self, ctx: RequestContext,
                                                   OpenIDConnectProviderArn: str,
                                                   ThumbprintList: list[str]) -> dict:
        self.iam.set_thumbprints(ctx.account_id, OpenIDConnectProviderArn, ThumbprintList)
        return {}

    def _tag_provider(self, ctx: RequestContext, kind: str, arn: str, tags=None,
                      keys=None) -> dict:
        provider = self.iam.provider(ctx.account_id, kind, arn)
        provider["tags"] = (merge_tags(provider["tags"], tags) if tags is not None
                            else remove_tags(provider["tags"], keys))
        self.iam.save_provider(provider)
        return {}

    @handler("TagSAMLProvider")
    def tag_saml_provider(self, ctx: RequestContext, SAMLProviderArn: str,
                          Tags: list[dict]) -> dict:
        return self._tag_provider(ctx, "saml", SAMLProviderArn, tags=Tags)

    @handler("UntagSAMLProvider")
    def untag_saml_provider(self, ctx: RequestContext, SAMLProviderArn: str,
                            TagKeys: list[str]) -> dict:
        return self._tag_provider(ctx, "saml", SAMLProviderArn, keys=TagKeys)

    @handler("ListSAMLProviderTags")
    def list_saml_provider_tags(self, ctx: RequestContext, SAMLProviderArn: str,
                                Marker: str | None = None, MaxItems: int | None = None) -> dict:
        return self._tags(self.iam.provider(ctx.account_id, "saml", SAMLProviderArn), Marker,
                          MaxItems)

    @handler("TagOpenIDConnectProvider")
    def tag_open_id_connect_provider(self, ctx: RequestContext, OpenIDConnectProviderArn: str,
                                     Tags: list[dict]) -> dict:
        return self._tag_provider(ctx, "oidc", OpenIDConnectProviderArn, tags=Tags)

    @handler("UntagOpenIDConnectProvider")
    def untag_open_id_connect_provider(self, ctx: RequestContext,
                                       OpenIDConnectProviderArn: str,
                                       TagKeys: list[str]) -> dict:
        return self._tag_provider(ctx, "oidc", OpenIDConnectProviderArn, keys=TagKeys)

    @handler("ListOpenIDConnectProviderTags")
    def list_open_id_connect_provider_tags(self, ctx: RequestContext,
                                           OpenIDConnectProviderArn: str,
                                           Marker: str | None = None,
                                           MaxItems: int | None = None) -> dict:
        return self._tags(self.iam.provider(ctx.account_id, "oidc", OpenIDConnectProviderArn),
                          Marker, MaxItems)

    # -- server certificates ---------------------------------------------------------------

    @handler("UploadServerCertificate")
    def upload_server_certificate(self, ctx: RequestContext, ServerCertificateName: str,
                                  CertificateBody: str, PrivateKey: str,
                                  Path: str | None = None, CertificateChain: str | None = None,
                                  Tags: list[dict] | None = None) -> dict:
        record = self.iam.upload_server_certificate(ctx.account_id, ctx.partition,
                                                    ServerCertificateName, Path,
                                                    CertificateBody, PrivateKey,
                                                    CertificateChain, Tags)
        return shapes.compact({"ServerCertificateMetadata": shapes.server_certificate(record),
                               "Tags": record["tags"]})

    @handler("GetServerCertificate")
    def get_server_certificate(self, ctx: RequestContext, ServerCertificateName: str) -> dict:
        record = self.iam.server_certificates.require(ctx.account_id, ServerCertificateName)
        return {"ServerCertificate": shapes.compact({
            "ServerCertificateMetadata": shapes.server_certificate(record),
            "CertificateBody": record["body"], "CertificateChain": record.get("chain"),
            "Tags": record["tags"]})}

    @handler("ListServerCertificates")
    def list_server_certificates(self, ctx: RequestContext, PathPrefix: str | None = None,
                                 Marker: str | None = None, MaxItems: int | None = None) -> dict:
        records, paging = self.iam.server_certificates.list(ctx.account_id, PathPrefix, Marker,
                                                            MaxItems)
        return {"ServerCertificateMetadataList": [shapes.server_certificate(r)
                                                  for r in records], **paging}

    @handler("UpdateServerCertificate")
    def update_server_certificate(self, ctx: RequestContext, ServerCertificateName: str,
                                  NewPath: str | None = None,
                                  NewServerCertificateName: str | None = None) -> dict:
        record = self.iam.server_certificates.require(ctx.account_id, ServerCertificateName)
        self.iam.server_certificates.rename(record, ctx.partition, NewServerCertificateName,
                                            NewPath)
        return {}

    @handler("DeleteServerCertificate")
    def delete_server_certificate(self, ctx: RequestContext, ServerCertificateName: str) -> dict:
        self.iam.server_certificates.delete(
            self.iam.server_certificates.require(ctx.account_id, ServerCertificateName))
        return {}

    @handler("TagServerCertificate")
    def tag_server_certificate(self, ctx: RequestContext, ServerCertificateName: str,
                               Tags: list[dict]) -> dict:
        self.iam.server_certificates.tag(
            self.iam.server_certificates.require(ctx.account_id, ServerCertificateName), Tags)
        return {}

    @handler("UntagServerCertificate")
    def untag_server_certificate(self, ctx: RequestContext, ServerCertificateName: str,
                                 TagKeys: list[str]) -> dict:
        self.iam.server_certificates.untag(
            self.iam.server_certificates.require(ctx.account_id, ServerCertificateName), TagKeys)
        return {}

    @handler("ListServerCertificateTags")
    def list_server_certificate_tags(self, ctx: RequestContext, ServerCertificateName: str,
                                     Marker: str | None = None,
                                     MaxItems: int | None = None) -> dict:
        return self._tags(self.iam.server_certificates.require(ctx.account_id,
                                                               ServerCertificateName),
                          Marker, MaxItems)

    # -- policy context keys ---------------------------------------------------------------

    @handler("GetContextKeysForCustomPolicy")
    def get_context_keys_for_custom_policy(self, ctx: RequestContext,
                                           PolicyInputList: list[str]) -> dict:
        return {"ContextKeyNames": context_keys(PolicyInputList)}

    @handler("GetContextKeysForPrincipalPolicy")
    def get_context_keys_for_principal_policy(self, ctx: RequestContext, PolicySourceArn: str,
                                              PolicyInputList: list[str] | None = None) -> dict:
        kind, entity = self.iam.principal_of(ctx.account_id, PolicySourceArn)
        texts = [text for _, text in self.iam.identity_policy_texts(ctx.account_id, kind, entity)]
        return {"ContextKeyNames": context_keys(texts + list(PolicyInputList or []))}

    @handler("ListPoliciesGrantingServiceAccess")
    def list_policies_granting_service_access(self, ctx: RequestContext, Arn: str,
                                              ServiceNamespaces: list[str],
                                              Marker: str | None = None) -> dict:
        kind, entity = self.iam.principal_of(ctx.account_id, Arn)
        entries = [{"ServiceNamespace": namespace,
                    "Policies": self.iam.policies_granting(ctx.account_id, kind, entity,
                                                           namespace)}
                   for namespace in ServiceNamespaces]
        return {"PoliciesGrantingServiceAccess": entries, "IsTruncated": False}

    # -- Access Advisor --------------------------------------------------------------------

    @handler("GenerateServiceLastAccessedDetails")
    def generate_service_last_accessed_details(self, ctx: RequestContext, Arn: str,
                                               Granularity: str | None = None) -> dict:
        return {"JobId": self.advisor.generate(ctx.account_id, Arn,
                                               Granularity or "SERVICE_LEVEL")}

    @handler("GetServiceLastAccessedDetails")
    def get_service_last_accessed_details(self, ctx: RequestContext, JobId: str,
                                          MaxItems: int | None = None,
                                          Marker: str | None = None) -> dict:
        report = self.advisor.report(ctx.account_id, JobId, "service")
        services, paging = page(report["services"], Marker, MaxItems)
        return {"JobStatus": "COMPLETED", "JobType": report["type"],
                "JobCreationDate": report["created"], "JobCompletionDate": report["completed"],
                "ServicesLastAccessed": services, **paging}

    @handler("GetServiceLastAccessedDetailsWithEntities")
    def get_service_last_accessed_details_with_entities(self, ctx: RequestContext, JobId: str,
                                                        ServiceNamespace: str,
                                                        MaxItems: int | None = None,
                                                        Marker: str | None = None) -> dict:
        report = self.advisor.report(ctx.account_id, JobId, "service")
        entities, paging = page(report["entities"].get(ServiceNamespace, []), Marker, MaxItems)
        return {"JobStatus": "COMPLETED", "JobCreationDate": report["created"],
                "JobCompletionDate": report["completed"], "EntityDetailsList": entities,
                **paging}

    @handler("GenerateOrganizationsAccessReport")
    def generate_organizations_access_report(self, ctx: RequestContext, EntityPath: str,
                                             OrganizationsPolicyId: str | None = None) -> dict:
        organizations = OrganizationsDirectory(self.runtime.store)
        organization = organizations.organization_of(ctx.account_id)
        if organization is None or organization["MasterAccountId"] != ctx.account_id:
            raise ServiceError("AccessDenied", "You don't have permissions to access this "
                               "resource.", 403)
        accounts = organizations.accounts_under(organization["Id"], EntityPath) \
            if EntityPath.startswith(organization["Id"] + "/") else None
        if accounts is None:
            raise invalid_input(f"Invalid Entity Path: {EntityPath}")
        policy = None
        if OrganizationsPolicyId is not None:
            policy = organizations.policy_content(organization["Id"], OrganizationsPolicyId)
            if policy is None:
                raise invalid_input(f"Invalid Organizations Policy Id: {OrganizationsPolicyId}")
        return {"JobId": self.advisor.generate_organizations(ctx.account_id, EntityPath,
                                                             accounts, policy)}

    @handler("GetOrganizationsAccessReport")
    def get_organizations_access_report(self, ctx: RequestContext, JobId: str,
                                        MaxItems: int | None = None, Marker: str | None = None,
                                        SortKey: str | None = None) -> dict:
        report = self.advisor.report(ctx.account_id, JobId, "organizations")
        details = sort_access_details(report["details"], SortKey)
        shown, paging = page(details, Marker, MaxItems)
        return {"JobStatus": "COMPLETED", "JobCreationDate": report["created"],
                "JobCompletionDate": report["completed"],
                "NumberOfServicesAccessible": len(details),
                "NumberOfServicesNotAccessed": len(details) - report["accessed"],
                "AccessDetails": shown, **paging}

    # -- policy simulator ------------------------------------------------------------------

    @handler("SimulatePrincipalPolicy")
    def simulate_principal_policy(self, ctx: RequestContext, PolicySourceArn: str,
                                  ActionNames: list[str], PolicyInputList: list[str] | None = None,
                                  PermissionsBoundaryPolicyInputList: list[str] | None = None,
                                  ResourceArns: list[str] | None = None,
                                  ResourcePolicy: str | None = None,
                                  ResourceOwner: str | None = None,
                                  CallerArn: str | None = None,
                                  ContextEntries: list[dict] | None = None,
                                  Marker: str | None = None, MaxItems: int | None = None) -> dict:
        kind, entity = self.iam.principal_of(ctx.account_id, PolicySourceArn)
        principal = (Principal(ctx.account_id, entity["arn"], "assumed-role", name=entity["name"],
                               role_arn=entity["arn"]) if kind == "role"
                     else Principal(ctx.account_id, entity["arn"], "user",
                                    user_id=entity["id"], name=entity["name"]))
        sources = self.iam.identity_policy_texts(ctx.account_id, kind, entity)
        sources += [(f"PolicyInputList.{i}", text)
                    for i, text in enumerate(PolicyInputList or [], 1)]
        boundary = (PermissionsBoundaryPolicyInputList or [None])[0]
        if boundary is None and entity.get("boundary"):
            policy = self.policies.find(ctx.account_id, entity["boundary"])
            boundary = self.policies.default_document(policy) if policy else None
        return self._simulate(ctx, principal, sources, boundary, ActionNames, ResourceArns,
                              ResourcePolicy, ResourceOwner, ContextEntries, Marker, MaxItems)

    @handler("SimulateCustomPolicy")
    def simulate_custom_policy(self, ctx: RequestContext, PolicyInputList: list[str],
                               ActionNames: list[str],
                               PermissionsBoundaryPolicyInputList: list[str] | None = None,
                               ResourceArns: list[str] | None = None,
                               ResourcePolicy: str | None = None,
                               ResourceOwner: str | None = None, CallerArn: str | None = None,
                               ContextEntries: list[dict] | None = None,
                               Marker: str | None = None, MaxItems: int | None = None) -> dict:
        caller = CallerArn or f"arn:{ctx.partition}:iam::{ctx.account_id}:user/SimulatedUser"
        principal = Principal(ctx.account_id, caller, "user", name=caller.rsplit("/", 1)[-1])
        sources = [(f"PolicyInputList.{i}", text) for i, text in enumerate(PolicyInputList, 1)]
        boundary = (PermissionsBoundaryPolicyInputList or [None])[0]
        return self._simulate(ctx, principal, sources, boundary, ActionNames, ResourceArns,
                              ResourcePolicy, ResourceOwner, ContextEntries, Marker, MaxItems)

    def _simulate(self, ctx: RequestContext, principal: Principal, sources: list[tuple[str, str]],
                  boundary: str | None, actions: list[str], resources: list[str] | None,
                  resource_policy: str | None, resource_owner: str | None,
                  context: list[dict] | None, marker: str | None,
                  max_items: int | None) -> dict:
        owner = resource_owner.split(":")[4] if resource_owner and resource_owner.count(":") >= 5 \
            else resource_owner
        scps = OrganizationsDirectory(self.runtime.store).service_control_policies(
            principal.account_id)
        spec = SimulationInput(principal, sources, boundary, resource_policy, owner,
                               context_of(context, principal), scps)
        results, paging = page(simulate(spec, actions, resources), marker, max_items)
        return {"EvaluationResults": results, **paging}

    @handler("SetSecurityTokenServicePreferences")
    def set_security_token_service_preferences(self, ctx: RequestContext,
                                               GlobalEndpointTokenVersion: str) -> dict:
        self.iam.accounts.update(ctx.account_id, token_version=int(
            GlobalEndpointTokenVersion.removeprefix("v").removesuffix("Token")))
        return {}

    # -- centralized root access (Organizations) -------------------------------------------

    def _organization_for_root_access(self, ctx: RequestContext) -> str:
        """The id of the caller's organization, which must let IAM manage its members' root
        users: the caller is its management account, all features, IAM's trusted access on."""
        call = self.runtime.services.call
        try:
            org = call(ctx, "organizations", "DescribeOrganization", {})["Organization"]
        except ServiceError as error:
            if error.code != "AWSOrganizationsNotInUseException":
                raise
            raise ServiceError("OrganizationNotFoundException", "The request was rejected "
                               "because no organization is associated with your account.",
                               400) from None
        if org["MasterAccountId"] != ctx.account_id:
            raise ServiceError("AccountNotManagementOrDelegatedAdministratorException",
                               "The request was rejected because the account making the "
                               "request is not the management account or delegated "
                               "administrator account for centralized root access.", 400)
        if org["FeatureSet"] != "ALL":
            raise ServiceError("OrganizationNotInAllFeaturesModeException", "The request was "
                               "rejected because your organization does not have All features "
                               "enabled.", 400)
        services = call(ctx, "organizations", "ListAWSServiceAccessForOrganization", {})
        if "iam.amazonaws.com" not in {s["ServicePrincipal"]
                                       for s in services["EnabledServicePrincipals"]}:
            raise ServiceError("ServiceAccessNotEnabledException", "The request was rejected "
                               "because trusted access is not enabled for IAM in Organizations. "
                               "For details, see IAM and Organizations in the Organizations "
                               "User Guide.", 400)
        return org["Id"]

    def _root_access_features(self, ctx: RequestContext, feature: str | None = None,
                              enabled: bool = True) -> dict:
        org_id = self._organization_for_root_access(ctx)
        features = set(IamDirectory(self.runtime.store).organization_features(ctx.account_id,
                                                                               org_id))
        if feature is not None:
            features = features | {feature} if enabled else features - {feature}
            self.iam.accounts.update(ctx.account_id, org_features={org_id: sorted(features)})
        return {"OrganizationId": org_id, "EnabledFeatures": sorted(features)}

    @handler("ListOrganizationsFeatures")
    def list_organizations_features(self, ctx: RequestContext) -> dict:
        return self._root_access_features(ctx)

    @handler("EnableOrganizationsRootCredentialsManagement")
    def enable_organizations_root_credentials_management(self, ctx: RequestContext) -> dict:
        return self._root_access_features(ctx, "RootCredentialsManagement")

    @handler("DisableOrganizationsRootCredentialsManagement")
    def disable_organizations_root_credentials_management(self, ctx: RequestContext) -> dict:
        return self._root_access_features(ctx, "RootCredentialsManagement", enabled=False)

    @handler("EnableOrganizationsRootSessions")
    def enable_organizations_root_sessions(self, ctx: RequestContext) -> dict:
        return self._root_access_features(ctx, "RootSessions")

    @handler("DisableOrganizationsRootSessions")
    def disable_organizations_root_sessions(self, ctx: RequestContext) -> dict:
        return self._root_access_features(ctx, "RootSessions", enabled=False)

    # -- outbound identity federation ------------------------------------------------------

    @handler("EnableOutboundWebIdentityFederation")
    def enable_outbound_web_identity_federation(self, ctx: RequestContext) -> dict:
        return {"IssuerIdentifier": self.iam.set_outbound_federation(ctx.account_id,
                                                                     True)["issuer"]}

    @handler("DisableOutboundWebIdentityFederation")
    def disable_outbound_web_identity_federation(self, ctx: RequestContext) -> dict:
        self.iam.set_outbound_federation(ctx.account_id, False)
        return {}

    @handler("GetOutboundWebIdentityFederationInfo")
    def get_outbound_web_identity_federation_info(self, ctx: RequestContext) -> dict:
        state = self.iam.outbound_federation(ctx.account_id)
        return {"IssuerIdentifier": state["issuer"], "JwtVendingEnabled": state["enabled"]}

    # -- account ---------------------------------------------------------------------------

    @handler("CreateAccountAlias")
    def create_account_alias(self, ctx: RequestContext, AccountAlias: str) -> dict:
        self.iam.create_alias(ctx.account_id, AccountAlias)
        return {}

    @handler("DeleteAccountAlias")
    def delete_account_alias(self, ctx: RequestContext, AccountAlias: str) -> dict:
        self.iam.delete_alias(ctx.account_id, AccountAlias)
        return {}

    @handler("ListAccountAliases")
    def list_account_aliases(self, ctx: RequestContext, Marker: str | None = None,
                             MaxItems: int | None = None) -> dict:
        aliases, paging = page(self.iam.aliases(ctx.account_id), Marker, MaxItems)
        return {"AccountAliases": aliases, **paging}

    @handler("GetAccountSummary")
    def get_account_summary(self, ctx: RequestContext) -> dict:
        return {"SummaryMap": self.iam.summary(ctx.account_id)}

    @handler("GetAccountAuthorizationDetails")
    def get_account_authorization_details(self, ctx: RequestContext,
                                          Filter: list[str] | None = None,
                                          MaxItems: int | None = None,
                                          Marker: str | None = None) -> dict:
        wanted = set(Filter or ("User", "Role", "Group", "LocalManagedPolicy",
                                "AWSManagedPolicy"))
        account = ctx.account_id
        items: list[tuple[str, dict]] = []
        if "User" in wanted:
            items += [("UserDetailList", self._user_detail(u)) for u in self.iam.users.all(account)]
        if "Group" in wanted:
            items += [("GroupDetailList", self._group_detail(g))
                      for g in self.iam.groups.all(account)]
        if "Role" in wanted:
            items += [("RoleDetailList", self._role_detail(r)) for r in self.iam.roles.all(account)]
        policies = []
        if "LocalManagedPolicy" in wanted:
            policies += self.policies.customer.all(account)
        if "AWSManagedPolicy" in wanted:
            attached = {row["policy_arn"] for row in
                        self.policies.attachments.find("by_policy", (account,))}
            policies += [p for arn in sorted(attached)
                         if (p := self.policies.find(account, arn)) and p.get("aws")]
        items += [("Policies", self._policy_detail(ctx, p)) for p in policies]
        chunk, paging = page(items, Marker, MaxItems)
        answer: dict[str, Any] = {"UserDetailList": [], "GroupDetailList": [],
                                  "RoleDetailList": [], "Policies": []}
        for member, detail in chunk:
            answer[member].append(detail)
        return answer | paging

    def _inline_list(self, account: str, kind: str, entity_id: str) -> list[dict]:
        return [{"PolicyName": name, "PolicyDocument": shapes.url_encoded(document)}
                for name, document in sorted(self.policies.inline_policies(account, kind,
                                                                           entity_id).items())]

    def _attached_list(self, account: str, kind: str, entity_id: str) -> list[dict]:
        return [{"PolicyName": arn.rsplit("/", 1)[1], "PolicyArn": arn}
                for arn in self.policies.attached(account, kind, entity_id)]

    def _user_detail(self, user: dict) -> dict:
        account = user["account"]
        return shapes.user(user, detail=True) | {
            "UserPolicyList": self._inline_list(account, "user", user["id"]),
            "GroupList": [g["name"] for g in self.iam.user_groups(user)],
            "AttachedManagedPolicies": self._attached_list(account, "user", user["id"])}

    def _group_detail(self, group: dict) -> dict:
        account = group["account"]
        return shapes.group(group) | {
            "GroupPolicyList": self._inline_list(account, "group", group["id"]),
            "AttachedManagedPolicies": self._attached_list(account, "group", group["id"])}

    def _role_detail(self, role: dict) -> dict:
        account = role["account"]
        return shapes.role(role, detail=True) | {
            "InstanceProfileList": [self._profile_shape(p)
                                    for p in self.iam.role_instance_profiles(role)],
            "RolePolicyList": self._inline_list(account, "role", role["id"]),
            "AttachedManagedPolicies": self._attached_list(account, "role", role["id"])}

    def _policy_detail(self, ctx: RequestContext, policy: dict) -> dict:
        shape = self._policy_shape(ctx, policy)
        shape["PolicyVersionList"] = [shapes.policy_version(vid, v, policy["default"])
                                      for vid, v in self.policies.versions(policy)
                                      if "document" in v]
        return shape

