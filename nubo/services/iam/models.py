"""The IAM domain: users, groups, roles, instance profiles, service-linked roles, identity
providers, server certificates and account settings, over the entity, policy and credential
stores; and the output shapes IAM answers with."""

from __future__ import annotations

import json
import secrets
import uuid
import xml.etree.ElementTree as ElementTree
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.services.iam import documents, schema
from nubo.services.iam.credentials import Credentials
from nubo.services.iam.entities import (GROUP, INSTANCE_PROFILE, ROLE, SERVER_CERTIFICATE, USER,
                                        Accounts, NamedEntities, limit_exceeded, no_such_entity)
from nubo.services.iam.policies import Policies
from nubo.services.iam.service_credentials import SIGNING_CERTIFICATE, ServiceCredentials
from nubo.services.iam.validation import check_policy_arn, merge_tags
from nubo.store import Store

GROUPS_PER_USER = 10
ROLES_PER_INSTANCE_PROFILE = 1
DEFAULT_MAX_SESSION_DURATION = 3600
SERVICE_ROLE_PATH = "/aws-service-role/"
# Service-linked roles nubo knows: service principal -> (role name suffix, AWS managed policy).
SERVICE_LINKED_ROLES = {
    "autoscaling.amazonaws.com": ("AutoScaling", "AutoScalingServiceRolePolicy"),
    "ecs.amazonaws.com": ("ECS", "AmazonECSServiceRolePolicy"),
    "elasticloadbalancing.amazonaws.com": ("ElasticLoadBalancing",
                                           "AWSElasticLoadBalancingServiceRolePolicy"),
    "rds.amazonaws.com": ("RDS", "AmazonRDSServiceRolePolicy"),
    "spot.amazonaws.com": ("EC2Spot", "AWSEC2SpotServiceRolePolicy"),
    "eks.amazonaws.com": ("AmazonEKS", "AmazonEKSServiceRolePolicy"),
    "elasticache.amazonaws.com": ("ElastiCache", "ElastiCacheServiceRolePolicy"),
    "elasticbeanstalk.amazonaws.com": ("ElasticBeanstalk", "AWSElasticBeanstalkServiceRolePolicy"),
    "organizations.amazonaws.com": ("Organizations", "AWSOrganizationsServiceTrustPolicy"),
    "support.amazonaws.com": ("Support", "AWSSupportServiceRolePolicy"),
    "trustedadvisor.amazonaws.com": ("TrustedAdvisor", "AWSTrustedAdvisorServiceRolePolicy"),
    "dynamodb.application-autoscaling.amazonaws.com": (
        "ApplicationAutoScaling_DynamoDBTable", "AWSApplicationAutoscalingDynamoDBTablePolicy"),
    "ecs.application-autoscaling.amazonaws.com": (
        "ApplicationAutoScaling_ECSService", "AWSApplicationAutoscalingECSServicePolicy"),
    "lambda.application-autoscaling.amazonaws.com": (
        "ApplicationAutoScaling_LambdaConcurrency",
        "AWSApplicationAutoscalingLambdaConcurrencyPolicy"),
}
MAX_OIDC_CLIENT_IDS = 100
MAX_OIDC_THUMBPRINTS = 5
MAX_SAML_PRIVATE_KEYS = 2  # the current key and the next, for rotation


def feature_disabled() -> ServiceError:
    return ServiceError("FeatureDisabled", "Outbound web identity federation is disabled for "
                        "this account.", 404)


def conflict(message: str) -> ServiceError:
    return ServiceError("DeleteConflict", message, 409)


def invalid_input(message: str) -> ServiceError:
    return ServiceError("InvalidInput", message, 400)


class Iam:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.accounts = Accounts(store)
        self.users = NamedEntities(store, clock, USER, self.accounts)
        self.groups = NamedEntities(store, clock, GROUP, self.accounts)
        self.roles = NamedEntities(store, clock, ROLE, self.accounts)
        self.instance_profiles = NamedEntities(store, clock, INSTANCE_PROFILE, self.accounts)
        self.server_certificates = NamedEntities(store, clock, SERVER_CERTIFICATE, self.accounts)
        self.policies = Policies(store, clock, self.accounts)
        self.credentials = Credentials(store, clock, self.accounts)
        self.service_credentials = ServiceCredentials(store, clock)
        self.members = store.table(schema.GROUP_MEMBERS)
        self.by_kind = {"user": self.users, "group": self.groups, "role": self.roles}  # by ARN type
        self.providers = store.table(schema.PROVIDERS)
        self.aliases_table = store.table(schema.ACCOUNT_ALIASES)
        self.service_usage = store.table(schema.SERVICE_USAGE)  # Access Advisor's records

    def caller_user(self, account: str, access_key_id: str) -> dict | None:
        """The IAM user whose access key signed the request; None for root and sessions."""
        key = self.credentials.key(access_key_id)
        if key is None or key["account"] != account:
            return None
        return self.users.by_id(key["user_id"])

    # -- what the authorizer needs ---------------------------------------------------------

    def entity_of_arn(self, account: str, arn: str) -> dict | None:
        """The user or role an ARN of the account names (``...:user/path/name``)."""
        for marker, entities in ((":user/", self.users), (":role/", self.roles)):
            if marker in arn and arn.startswith("arn:") and f":{account}:" in arn:
                return entities.get(account, arn.rsplit("/", 1)[-1])
        return None

    def resource_names(self, account: str, access_key_id: str,
                       params: dict) -> dict[str, str]:
        """The values of IAM's ARN templates (Service Authorization Reference) for a request:
        ``${UserNameWithPath}`` and the like are the entity's path (without its leading
        slash) and name; an operation on the caller itself (no UserName) names the caller."""
        names: dict[str, str] = {}
        for member, key, entities in (("UserName", "UserNameWithPath", self.users),
                                      ("GroupName", "GroupNameWithPath", self.groups),
                                      ("RoleName", "RoleNameWithPath", self.roles),
                                      ("InstanceProfileName", "InstanceProfileNameWithPath",
                                       self.instance_profiles),
                                      ("ServerCertificateName", "CertificateNameWithPath",
                                       self.server_certificates)):
            name = params.get(member)
            if not isinstance(name, str):
                continue
            entity = entities.get(account, name)
            path = entity["path"] if entity else params.get("Path") or "/"
            names[key] = f"{path[1:]}{entity['name'] if entity else name}"
        if "UserNameWithPath" not in names:
            caller = self.caller_user(account, access_key_id)
            if caller is not None:
                names["UserNameWithPath"] = caller["path"][1:] + caller["name"]
        for member, key, marker in (("PolicyArn", "PolicyNameWithPath", ":policy/"),
                                    ("SerialNumber", "MfaTokenIdWithPath", ":mfa/"),
                                    ("OpenIDConnectProviderArn", "OidcProviderName",
                                     ":oidc-provider/"),
                                    ("SAMLProviderArn", "SamlProviderName", ":saml-provider/")):
            value = params.get(member)
            if isinstance(value, str) and marker in value:
                names[key] = value.split(marker, 1)[1]
        on_entity = params.keys() & {"UserName", "GroupName", "RoleName"}
        if not on_entity and params.keys() >= {"PolicyName", "PolicyDocument"}:  # CreatePolicy
            names["PolicyNameWithPath"] = (params.get("Path") or "/")[1:] + params["PolicyName"]
        if not on_entity and isinstance(params.get("PolicyArn"), str):
            # Operations on a managed policy itself: an AWS managed one lives in account "aws".
            parts = params["PolicyArn"].split(":")
            if len(parts) > 4 and parts[4]:
                names["Account"] = parts[4]
        if "VirtualMFADeviceName" in params:
            names["MfaTokenIdWithPath"] = (f"{(params.get('Path') or '/')[1:]}"
                                           f"{params['VirtualMFADeviceName']}")
        if isinstance(params.get("Url"), str):
            names["OidcProviderName"] = params["Url"].split("://", 1)[-1].rstrip("/")
        if isinstance(params.get("Name"), str) and "SAMLMetadataDocument" in params:
            names["SamlProviderName"] = params["Name"]
        return names

    # -- users -----------------------------------------------------------------------------

    def create_user(self, account: str, partition: str, name: str, path: str | None,
                    boundary: str | None, tags: list[dict] | None) -> dict:
        tags = merge_tags([], tags)
        self._check_boundary(account, boundary)
        user = self.users.create(account, partition, name, path, boundary=None)
        user["tags"] = tags
        if boundary:
            self.policies.set_boundary(account, "user", user, boundary)
        self.users.save(user)
        return user

    def _check_boundary(self, account: str, boundary: str | None) -> None:
        if boundary:
            check_policy_arn(boundary)
        if boundary and self.policies.find(account, boundary) is None:
            raise no_such_entity(f"Scope ARN: {boundary} does not exist or is not attachable.")

    def delete_user(self, account: str, name: str) -> None:
        user = self.users.require(account, name)
        checks = (
            (user.get("login_profile"), "must delete login profile first."),
            (self.credentials.user_keys(user), "must delete access keys first."),
            (self.service_credentials.any(user), "must remove referenced objects first."),
            (self.credentials.user_devices(user), "must delete MFA device first."),
            (self.policies.inline_policies(account, "user", user["id"]),
             "must delete policies first."),
            (self.policies.attached(account, "user", user["id"]),
             "must detach all policies first."),
            (self.user_groups(user), "must remove users from group first."),
        )
        for blocking, message in checks:
            if blocking:
                raise conflict(f"Cannot delete entity, {message}")
        self.policies.delete_boundary(account, "user", user)
        self.service_usage.delete_where(None, (account, user["id"]))
        self.users.delete(user)

    def signing_certificates(self, user: dict) -> list[dict]:
        return self.service_credentials.of(user, SIGNING_CERTIFICATE)

    def policy_holders(self, kind: str, entity: dict) -> list[tuple[str, dict]]:
        """The entities whose policies apply to a user, group or role: itself, and a user's
        groups."""
        holders = [(kind, entity)]
        if kind == "user":
            holders += [("group", group) for group in self.user_groups(entity)]
        return holders

    def identity_policy_texts(self, account: str, kind: str,
                              entity: dict) -> list[tuple[str, str]]:
        """(source, document) of every identity policy of a user, group or role: inline ones
        (source: the policy name), attached ones (the policy ARN; default version), and for a
        user those of its groups."""
        found = []
        for holder_kind, holder in self.policy_holders(kind, entity):
            found += self.policies.inline_policies(account, holder_kind, holder["id"]).items()
            for arn in self.policies.attached(account, holder_kind, holder["id"]):
                policy = self.policies.find(account, arn)
                if policy is not None:
                    found.append((arn, self.policies.default_document(policy)))
        return found

    def principal_of(self, account: str, arn: str) -> tuple[str, dict]:
        """(kind, entity) of the user, group or role of the account an ARN names."""
        parts = arn.split(":", 5)
        kind = parts[5].split("/", 1)[0] if len(parts) == 6 and parts[2] == "iam" else ""
        entities = self.by_kind.get(kind)
        entity = (entities.get(account, parts[5].rsplit("/", 1)[1])
                  if entities is not None and parts[4] == account else None)
        if entity is None or entity["arn"] != arn:
            raise no_such_entity(f"The entity {arn} cannot be found.")
        return kind, entity

    def policy_entities(self, account: str, arn: str, entity_filter: str | None,
                        path_prefix: str | None,
                        usage_filter: str | None) -> list[tuple[str, dict]]:
        """ListEntitiesForPolicy: (kind, entity) of what the policy is attached to or bounds."""
        self.policies.require(account, arn)
        usage = {"PermissionsPolicy": "policy", "PermissionsBoundary": "boundary"}.get(
            usage_filter or "")
        kinds = {"User": ("user",), "Group": ("group",), "Role": ("role",),
                 "LocalManagedPolicy": (), "AWSManagedPolicy": ()}.get(
            entity_filter or "", ("user", "group", "role"))
        found = []
        for row in self.policies.entities(account, arn, usage):
            if row["kind"] not in kinds:
                continue
            entity = self.by_kind[row["kind"]].by_id(row["entity_id"])
            if entity is not None and entity["path"].startswith(path_prefix or "/"):
                found.append((row["kind"], entity))
        return found

    def policies_granting(self, account: str, kind: str, entity: dict,
                          namespace: str) -> list[dict]:
        """ListPoliciesGrantingServiceAccess for one service namespace."""
        found = []
        for holder_kind, holder in self.policy_holders(kind, entity):
            inline = self.policies.inline_policies(account, holder_kind, holder["id"])
            found += [{"PolicyName": name, "PolicyType": "INLINE",
                       "EntityType": holder_kind.upper(), "EntityName": holder["name"]}
                      for name, text in inline.items()
                      if documents.grants_service(text, namespace)]
            for arn in self.policies.attached(account, holder_kind, holder["id"]):
                policy = self.policies.find(account, arn)
                if policy and documents.grants_service(self.policies.default_document(policy),
                                                       namespace):
                    found.append({"PolicyName": policy["name"], "PolicyType": "MANAGED",
                                  "PolicyArn": arn})
        return found

    def user_groups(self, user: dict) -> list[dict]:
        rows = self.members.find("by_user", (user["account"], user["id"]))
        return [group for group in (self.groups.by_id(row["group_id"]) for row in rows) if group]

    def group_users(self, group: dict) -> list[dict]:
        rows = self.members.find(None, (group["account"], group["id"]))
        users = [user for user in (self.users.by_id(row["user_id"]) for row in rows) if user]
        return sorted(users, key=lambda u: u["key"])

    def add_user_to_group(self, account: str, group_name: str, user_name: str) -> None:
        group = self.groups.require(account, group_name)
        user = self.users.require(account, user_name)
        if self.members.get((account, group["id"], user["id"])) is not None:
            return
        if len(self.members.find("by_user", (account, user["id"]))) >= GROUPS_PER_USER:
            raise limit_exceeded("GroupsPerUser", GROUPS_PER_USER)
        self.members.insert({"account": account, "group_id": group["id"],
                             "user_id": user["id"]})

    def remove_user_from_group(self, account: str, group_name: str, user_name: str) -> None:
        group = self.groups.require(account, group_name)
        user = self.users.require(account, user_name)
        if not self.members.delete((account, group["id"], user["id"])):
            raise no_such_entity(f"User {user['name']} is not in group {group['name']}.")

    def delete_group(self, account: str, name: str) -> None:
        group = self.groups.require(account, name)
        if self.members.find(None, (account, group["id"]), limit=1):
            raise conflict("Cannot delete entity, must remove users from group first.")
        if self.policies.inline_policies(account, "group", group["id"]):
            raise conflict("Cannot delete entity, must delete policies first.")
        if self.policies.attached(account, "group", group["id"]):
            raise conflict("Cannot delete entity, must detach all policies first.")
        self.groups.delete(group)

    # -- roles -----------------------------------------------------------------------------

    def create_role(self, account: str, partition: str, name: str, path: str | None,
                    trust_policy: str, description: str | None, max_session: int | None,
                    boundary: str | None, tags: list[dict] | None) -> dict:
        self.check_trust_policy(account, trust_policy)
        tags = merge_tags([], tags)
        self._check_boundary(account, boundary)
        role = self.roles.create(account, partition, name, path, trust=trust_policy,
                                 description=description, boundary=None,
                                 max_session=max_session or DEFAULT_MAX_SESSION_DURATION,
                                 last_used=None)
        role["tags"] = tags
        if boundary:
            self.policies.set_boundary(account, "role", role, boundary)
        self.roles.save(role)
        return role

    def check_trust_policy(self, account: str, text: str) -> None:
        """A valid trust policy whose users and roles of this account exist (IAM resolves the
        principals it names when the policy is set)."""
        for arn in documents.aws_principals(documents.trust_policy(text)):
            parts = arn.split(":", 5)
            if len(parts) != 6 or parts[2] != "iam" or parts[4] != account or "*" in arn:
                continue
            kind, _, rest = parts[5].partition("/")
            entities = self.by_kind.get(kind) if kind != "group" else None
            entity = entities.get(account, rest.rsplit("/", 1)[-1]) if entities else None
            if entities is not None and (entity is None or entity["arn"] != arn):
                raise documents.malformed(f'Invalid principal in policy: "AWS":"{arn}"')

    def modifiable_role(self, account: str, name: str) -> dict:
        role = self.roles.require(account, name)
        if role["path"].startswith(SERVICE_ROLE_PATH):
            raise ServiceError("UnmodifiableEntity", f"Cannot perform the operation on the "
                               f"protected role '{role['name']}' - this role is only modifiable "
                               "by AWS", 400)
        return role

    def delete_role(self, account: str, name: str) -> None:
        role = self.modifiable_role(account, name)
        if self.instance_profiles.table.find("by_role", (account, role["id"]), limit=1):
            raise conflict("Cannot delete entity, must remove roles from instance profile first.")
        if self.policies.inline_policies(account, "role", role["id"]):
            raise conflict("Cannot delete entity, must delete policies first.")
        if self.policies.attached(account, "role", role["id"]):
            raise conflict("Cannot delete entity, must detach all policies first.")
        self.policies.delete_boundary(account, "role", role)
        self.service_usage.delete_where(None, (account, role["id"]))
        self.roles.delete(role)

    def create_service_linked_role(self, account: str, partition: str, service: str,
                                   description: str | None, suffix: str | None) -> dict:
        if not service.endswith(".amazonaws.com"):
            raise invalid_input(f"Invalid service name: {service}")
        known = SERVICE_LINKED_ROLES.get(service)
        base = known[0] if known else service.split(".")[0].replace("-", "").capitalize()
        name = f"AWSServiceRoleFor{base}" + (f"_{suffix}" if suffix else "")
        if self.roles.get(account, name) is not None:
            raise invalid_input(f"Service role name {name} has been taken in this account, "
                                "please try a different suffix.")
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": [service]},
            "Action": ["sts:AssumeRole"]}]})
        role = self.roles.create(account, partition, name, f"{SERVICE_ROLE_PATH}{service}/",
                                 trust=trust, description=description, boundary=None,
                                 max_session=DEFAULT_MAX_SESSION_DURATION, last_used=None)
        if known:
            arn = f"arn:aws:iam::aws:policy{SERVICE_ROLE_PATH}{known[1]}"
            if self.policies.find(account, arn) is not None:
                self.policies.attachments.insert({"account": account, "kind": "role",
                                                  "entity_id": role["id"], "usage": "policy",
                                                  "policy_arn": arn})
        return role

    def delete_service_linked_role(self, account: str, name: str) -> str:
        role = self.roles.require(account, name)
        if not role["path"].startswith(SERVICE_ROLE_PATH):
            raise invalid_input(f"{name} is not a service-linked role.")
        for arn in self.policies.attached(account, "role", role["id"]):
            self.policies.attachments.delete((account, "role", role["id"], "policy", arn))
        for policy_name in self.policies.inline_policies(account, "role", role["id"]):
            self.policies.inline.delete((account, "role", role["id"], policy_name))
        self.roles.delete(role)
        return f"task{role['path']}{role['name']}/{uuid.uuid4()}"

    def deletion_status(self, account: str, task_id: str) -> str:
        parts = task_id.split("/")
        if len(parts) < 5 or parts[0] != "task" or parts[1] != SERVICE_ROLE_PATH.strip("/"):
            raise invalid_input(f"Invalid deletion task id: {task_id}")
        return "IN_PROGRESS" if self.roles.get(account, parts[-2]) is not None else "SUCCEEDED"

    # -- instance profiles -----------------------------------------------------------------

    def add_role_to_instance_profile(self, account: str, profile_name: str,
                                     role_name: str) -> None:
        profile = self.instance_profiles.require(account, profile_name)
        role = self.roles.require(account, role_name)
        if profile.get("role_id"):
            raise limit_exceeded("InstanceSessionsPerInstanceProfile", ROLES_PER_INSTANCE_PROFILE)
        profile["role_id"] = role["id"]
        self.instance_profiles.save(profile)

    def remove_role_from_instance_profile(self, account: str, profile_name: str,
                                          role_name: str) -> None:
        profile = self.instance_profiles.require(account, profile_name)
        role = self.roles.require(account, role_name)
        if profile.get("role_id") != role["id"]:
            raise no_such_entity(f"The role with name {role_name} cannot be found.")
        profile["role_id"] = None
        self.instance_profiles.save(profile)

    def delete_instance_profile(self, account: str, name: str) -> None:
        profile = self.instance_profiles.require(account, name)
        if profile.get("role_id"):
            raise conflict("Cannot delete entity, must remove roles from instance profile first.")
        self.instance_profiles.delete(profile)

    def role_instance_profiles(self, role: dict) -> list[dict]:
        return self.instance_profiles.table.find("by_role", (role["account"], role["id"]))

    # -- identity providers ----------------------------------------------------------------

    def create_saml_provider(self, account: str, partition: str, name: str, metadata: str,
                             tags: list[dict] | None, encryption_mode: str | None = None,
                             private_key: str | None = None) -> dict:
        arn = f"arn:{partition}:iam::{account}:saml-provider/{name}"
        if self.providers.get((account, "saml", arn)) is not None:
            raise ServiceError("EntityAlreadyExists", f"SAMLProvider {name} already exists.", 409)
        provider = {"account": account, "kind": "saml", "arn": arn, "created": self.clock.now(),
                    "uuid": str(uuid.uuid4()), "tags": merge_tags([], tags),
                    **self._saml_metadata(metadata)}
        self._saml_encryption(provider, encryption_mode, private_key, None)
        self.providers.insert(provider)
        return provider

    @staticmethod
    def _saml_metadata(metadata: str) -> dict:
        try:
            root = ElementTree.fromstring(metadata)
        except ElementTree.ParseError:
            raise invalid_input("Could not parse metadata") from None
        if not root.tag.endswith("EntityDescriptor"):
            raise invalid_input("Could not parse metadata")
        return {"metadata": metadata, "valid_until": root.get("validUntil")}

    def update_saml_provider(self, account: str, arn: str, metadata: str | None,
                             encryption_mode: str | None = None, add_key: str | None = None,
                             remove_key: str | None = None) -> None:
        provider = self.provider(account, "saml", arn)
        if metadata is not None:
            provider.update(self._saml_metadata(metadata))
        self._saml_encryption(provider, encryption_mode, add_key, remove_key)
        self.providers.put(provider)

    def _saml_encryption(self, provider: dict, mode: str | None, add_key: str | None,
                         remove_key: str | None) -> None:
        """Encrypted assertions: the mode (Allowed, or Required: plaintext ones are refused)
        and the private keys (two at most, for rotation) STS decrypts them with."""
        keys = list(provider.get("private_keys", ()))
        if remove_key is not None:
            if not any(key["id"] == remove_key for key in keys):
                raise no_such_entity(f"Private key {remove_key} not found for the SAML "
                                     "provider.")
            keys = [key for key in keys if key["id"] != remove_key]
        if add_key is not None:
            try:
                loaded = serialization.load_pem_private_key(add_key.encode(), password=None)
            except (ValueError, TypeError, UnsupportedAlgorithm):
                loaded = None
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise invalid_input("The private key is not a valid RSA private key in PEM "
                                    "format.")
            if len(keys) >= MAX_SAML_PRIVATE_KEYS:
                raise limit_exceeded("PrivateKeysPerSAMLProvider", MAX_SAML_PRIVATE_KEYS)
            keys.append({"id": secrets.token_hex(16).upper(), "pem": add_key,
                         "added": self.clock.now()})
        provider["private_keys"] = keys
        if mode is not None:
            provider["encryption_mode"] = mode

    def create_oidc_provider(self, account: str, partition: str, url: str,
                             client_ids: list[str] | None, thumbprints: list[str] | None,
                             tags: list[dict] | None) -> dict:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc:
            raise invalid_input("Invalid Url: must use the https scheme")
        arn = f"arn:{partition}:iam::{account}:oidc-provider/{parts.netloc}{parts.path}".rstrip("/")
        if self.providers.get((account, "oidc", arn)) is not None:
            raise ServiceError("EntityAlreadyExists", f"Provider with url {url} already exists.",
                               409)
        provider = {"account": account, "kind": "oidc", "arn": arn, "url": url,
                    "created": self.clock.now(), "tags": merge_tags([], tags),
                    "client_ids": [], "thumbprints": []}
        self._set_client_ids(provider, list(dict.fromkeys(client_ids or [])))
        self._set_thumbprints(provider, thumbprints or [])
        self.providers.insert(provider)
        return provider

    @staticmethod
    def _set_client_ids(provider: dict, client_ids: list[str]) -> None:
        if len(client_ids) > MAX_OIDC_CLIENT_IDS:
            raise limit_exceeded("ClientIdsPerOpenIdConnectProvider", MAX_OIDC_CLIENT_IDS)
        provider["client_ids"] = client_ids

    @staticmethod
    def _set_thumbprints(provider: dict, thumbprints: list[str]) -> None:
        if len(thumbprints) > MAX_OIDC_THUMBPRINTS:
            raise limit_exceeded("ThumbprintsPerOpenIdConnectProvider", MAX_OIDC_THUMBPRINTS)
        provider["thumbprints"] = thumbprints

    def add_client_id(self, account: str, arn: str, client_id: str) -> None:
        provider = self.provider(account, "oidc", arn)
        if client_id not in provider["client_ids"]:
            self._set_client_ids(provider, provider["client_ids"] + [client_id])
            self.providers.put(provider)

    def remove_client_id(self, account: str, arn: str, client_id: str) -> None:
        provider = self.provider(account, "oidc", arn)
        provider["client_ids"] = [c for c in provider["client_ids"] if c != client_id]
        self.providers.put(provider)

    def set_thumbprints(self, account: str, arn: str, thumbprints: list[str]) -> None:
        provider = self.provider(account, "oidc", arn)
        self._set_thumbprints(provider, thumbprints)
        self.providers.put(provider)

    def provider(self, account: str, kind: str, arn: str) -> dict:
        provider = self.providers.get((account, kind, arn))
        if provider is None:
            label = "OpenIDConnect" if kind == "oidc" else "SAML"
            raise no_such_entity(f"{label} Provider not found for arn {arn}")
        return provider

    def delete_provider(self, account: str, kind: str, arn: str) -> None:
        self.providers.delete((self.provider(account, kind, arn)["account"], kind, arn))

    def provider_list(self, account: str, kind: str) -> list[dict]:
        return self.providers.find(None, (account, kind))

    def save_provider(self, provider: dict) -> None:
        self.providers.put(provider)

    # -- server certificates ---------------------------------------------------------------

    def upload_server_certificate(self, account: str, partition: str, name: str,
                                  path: str | None, body: str, private_key: str,
                                  chain: str | None, tags: list[dict] | None) -> dict:
        try:
            certificate = x509.load_pem_x509_certificate(body.encode())
        except (ValueError, UnsupportedAlgorithm):
            raise ServiceError("MalformedCertificate", "Unable to parse certificate. Please "
                               "ensure the certificate is in PEM format.", 400) from None
        try:
            key = serialization.load_pem_private_key(private_key.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ServiceError("MalformedCertificate", "Unable to parse private key. Please "
                               "ensure the key is in PEM format.", 400) from None
        spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
            raise ServiceError("KeyPairMismatch", "Public key certificate and private key "
                               "doesn't match.", 400)
        if chain:
            try:
                x509.load_pem_x509_certificates(chain.encode())
            except (ValueError, UnsupportedAlgorithm):
                raise ServiceError("MalformedCertificate", "Unable to parse certificate chain. "
                                   "Please ensure the chain is in PEM format.", 400) from None
        tags = merge_tags([], tags)
        record = self.server_certificates.create(
            account, partition, name, path, body=body, chain=chain,
            expiration=certificate.not_valid_after_utc.timestamp())
        record["tags"] = tags
        self.server_certificates.save(record)
        return record

    # -- account ---------------------------------------------------------------------------

    def set_outbound_federation(self, account: str, enabled: bool) -> dict:
        """Turn outbound identity federation on or off; the account's issuer URL is made the
        first time and kept."""
        current = self.accounts.get(account).get("outbound_federation") or {}
        # The messages of repeated calls are the API reference's descriptions of the errors.
        if enabled and current.get("enabled"):
            raise ServiceError("FeatureEnabled", "The request failed because outbound identity "
                               "federation is already enabled for your Amazon Web Services "
                               "account. You cannot enable the feature multiple times. To fetch "
                               "the current configuration (including the unique issuer URL), "
                               "use the GetOutboundWebIdentityFederationInfo operation.", 409)
        if not enabled and not current.get("enabled"):
            raise ServiceError("FeatureDisabled", "The request failed because outbound identity "
                               "federation is already disabled for your Amazon Web Services "
                               "account. You cannot disable the feature multiple times", 404)
        state = {"issuer": current.get("issuer") or
                 f"https://{uuid.uuid4()}.tokens.sts.global.api.aws", "enabled": enabled}
        self.accounts.update(account, outbound_federation=state)
        return state

    def outbound_federation(self, account: str) -> dict:
        state = self.accounts.get(account).get("outbound_federation")
        if not state:
            raise feature_disabled()
        return state

    def create_alias(self, account: str, alias: str) -> None:
        owner = self.aliases_table.get((alias,))
        if owner is not None and owner["account"] != account:
            raise ServiceError("EntityAlreadyExists", f"The account alias {alias} already "
                               "exists.", 409)
        # An account has one alias; creating another replaces it.
        for previous in self.aliases(account):
            self.aliases_table.delete((previous,))
        self.aliases_table.put({"alias": alias, "account": account})
        self.accounts.update(account, aliases=[alias])

    def delete_alias(self, account: str, alias: str) -> None:
        if alias not in self.aliases(account):
            raise no_such_entity(f"The account alias {alias} cannot be found.")
        self.aliases_table.delete((alias,))
        self.accounts.update(account, aliases=[])

    def aliases(self, account: str) -> list[str]:
        return self.accounts.get(account).get("aliases", [])

    def summary(self, account: str) -> dict[str, int]:
        record = self.accounts.get(account)
        counts = record["counts"]
        devices = self.credentials.virtual_devices(account, None)
        return {
            "Users": counts.get("Users", 0), "UsersQuota": USER.limit,
            "Groups": counts.get("Groups", 0), "GroupsQuota": GROUP.limit,
            "Roles": counts.get("Roles", 0), "RolesQuota": ROLE.limit,
            "Policies": counts.get("Policies", 0), "PoliciesQuota": 1500,
            "InstanceProfiles": counts.get("InstanceProfiles", 0),
            "InstanceProfilesQuota": INSTANCE_PROFILE.limit,
            "ServerCertificates": counts.get("ServerCertificates", 0),
            "ServerCertificatesQuota": SERVER_CERTIFICATE.limit,
            "MFADevices": len(devices),
            "MFADevicesInUse": sum(1 for d in devices if d["user_id"] is not None),
            "AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0,
            "AccountPasswordPresent": 0, "AccountSigningCertificatesPresent": 0,
            "Providers": len(self.provider_list(account, "saml"))
            + len(self.provider_list(account, "oidc")),
            "AttachedPoliciesPerGroupQuota": 10, "AttachedPoliciesPerRoleQuota": 10,
            "AttachedPoliciesPerUserQuota": 10, "GroupsPerUserQuota": GROUPS_PER_USER,
            "GroupPolicySizeQuota": documents.INLINE_POLICY_SIZES["group"],
            "UserPolicySizeQuota": documents.INLINE_POLICY_SIZES["user"],
            "RolePolicySizeQuota": documents.INLINE_POLICY_SIZES["role"],
            "PolicySizeQuota": documents.MANAGED_POLICY_SIZE,
            "AssumeRolePolicySizeQuota": documents.TRUST_POLICY_SIZE,
            "PolicyVersionsInUse": counts.get("PolicyVersionsInUse", 0),
            "PolicyVersionsInUseQuota": 10000, "VersionsPerPolicyQuota": 5,
            "AccessKeysPerUserQuota": 2, "SigningCertificatesPerUserQuota": 2,
            "GlobalEndpointTokenVersion": record.get("token_version", 1),
        }
