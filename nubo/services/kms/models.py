"""KMS keys: creation, lookup by id, ARN or alias, key states, deletion, rotation, key policies,
descriptions, tags and aliases. The cryptographic operations on a key are in operations.py,
grants in grants.py."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass

from nubo.core.clock import Clock
from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.services.kms import crypto, schema
from nubo.services.kms.keypool import KeyPool
from nubo.services.kms.validation import (ALIAS_PREFIX, KEY_ID, MAX_TAGS,
                                          check_alias_name, check_pending_window, check_policy,
                                          check_tags, validation_error)
from nubo.store import Store

DAY = 86400.0
DEFAULT_ROTATION_PERIOD = 365
MAX_ON_DEMAND_ROTATIONS = 10
MAX_LIST = 1000
# AWS managed keys: alias -> (the service that uses it, that is the caller of KMS; what the
# key protects, for its description). AWS creates one on the service's first use of it, or
# when DescribeKey names the alias.
AWS_MANAGED_KEYS = {
    "alias/aws/secretsmanager": ("secretsmanager", "Secrets Manager data"),
    "alias/aws/ssm": ("ssm", "SSM parameters"),
    "alias/aws/s3": ("s3", "S3 objects"),
    "alias/aws/sqs": ("sqs", "SQS messages"),
    "alias/aws/sns": ("sns", "SNS data"),
    "alias/aws/dynamodb": ("dynamodb", "DynamoDB data"),
    "alias/aws/lambda": ("lambda", "Lambda functions"),
    "alias/aws/ebs": ("ec2", "EBS volumes"),
    "alias/aws/rds": ("rds", "RDS database volumes"),
    "alias/aws/kinesis": ("kinesis", "Kinesis data"),
    "alias/aws/elasticfilesystem": ("efs", "Elastic File Systems"),
    "alias/aws/acm": ("acm", "ACM private keys"),
}


@dataclass(frozen=True)
class Key:
    """A key record with what is derived from it."""

    record: dict

    @property
    def id(self) -> str:
        return self.record["key_id"]

    @property
    def arn(self) -> str:
        return self.record["arn"]

    @property
    def account(self) -> str:
        return self.record["account"]

    @property
    def state(self) -> str:
        return self.record["state"]

    @property
    def spec(self) -> crypto.Spec:
        return crypto.SPECS[self.record["spec"]]

    @property
    def usage(self) -> str:
        return self.record["usage"]

    @property
    def version(self) -> int:
        """The current key material version (new ciphertexts use it)."""
        return len(self.record["materials"]) - 1

    def material(self, version: int | None = None) -> bytes:
        materials = self.record["materials"]
        return materials[self.version if version is None else version]["secret"]

    def material_id(self, version: int | None = None) -> str:
        return self.record["materials"][self.version if version is None else version]["id"]


def _material(secret: bytes, created: float, rotation: str | None) -> dict:
    return {"id": secrets.token_hex(32), "secret": secret, "created": created,
            "rotation": rotation}


def default_policy(partition: str, account: str) -> str:
    # The default key policy, in the layout GetKeyPolicy returns it on AWS.
    return ('{\n  "Version" : "2012-10-17",\n  "Id" : "key-default-1",\n  "Statement" : [ {\n'
            '    "Sid" : "Enable IAM User Permissions",\n    "Effect" : "Allow",\n'
            f'    "Principal" : {{\n      "AWS" : "arn:{partition}:iam::{account}:root"\n    }},\n'
            '    "Action" : "kms:*",\n    "Resource" : "*"\n  } ]\n}')


def aws_managed_policy(partition: str, account: str, region: str, service: str) -> str:
    """The key policy of an AWS managed key (alias/aws/<service>): every principal of the
    account may use it through that service; the account may read its metadata."""
    return json.dumps({"Version": "2012-10-17", "Id": f"auto-{service}-2", "Statement": [
        {"Sid": f"Allow access through {service} for all principals in the account that are "
                "authorized to use it",
         "Effect": "Allow", "Principal": {"AWS": "*"},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                    "kms:CreateGrant", "kms:DescribeKey"],
         "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": account,
                                        "kms:ViaService": f"{service}.{region}.amazonaws.com"}}},
        {"Sid": "Allow direct access to key metadata to the account",
         "Effect": "Allow", "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
         "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
         "Resource": "*"}]}, indent=2)


def page(items: list, size: int, marker: str | None) -> tuple[list, str | None]:
    """Marker pagination over an already bounded list: the marker is the next item's index."""
    start = int(marker) if marker and marker.isdigit() else 0
    if marker and not marker.isdigit():
        raise ServiceError("InvalidMarkerException", "Invalid marker")
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


def listing(items: list, name: str, marker: str | None) -> dict:
    return {name: items, "Truncated": marker is not None,
            **({"NextMarker": marker} if marker else {})}


class Keys:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.pool = KeyPool()
        self.keys = store.table(schema.KEYS)
        self.aliases = store.table(schema.ALIASES)
        self.grants = store.table(schema.GRANTS)

    # -- creation -------------------------------------------------------------------------

    def create(self, ctx: RequestContext, *, spec_name: str, usage: str | None,
               origin: str, description: str, policy: str | None, bypass_lockout: bool,
               tags: list[dict], multi_region: bool, manager: str = "CUSTOMER") -> Key:
        spec = self._spec(ctx, spec_name)
        if usage is None:
            if spec.family != "aes":
                raise validation_error("You must specify a KeyUsage value for all KMS keys "
                                       "except for symmetric encryption keys.")
            usage = "ENCRYPT_DECRYPT"
        if usage not in spec.usages:
            raise validation_error(f"KeyUsage {usage} is not compatible with KeySpec "
                                   f"{spec.name}")
        if origin not in ("AWS_KMS", "EXTERNAL"):
            raise ServiceError("UnsupportedOperationException",
                               f"{origin} origin is not supported without a custom key store.")
        if origin == "EXTERNAL" and spec.family not in ("aes", "rsa", "ec", "hmac"):
            raise ServiceError("UnsupportedOperationException",
                               f"KeySpec {spec.name} does not support imported key material.")
        if policy is not None:
            check_policy(policy, bypass_lockout)
        check_tags(tags)
        if len(tags) > MAX_TAGS:
            raise ServiceError("TagException", f"Cannot have more than {MAX_TAGS} tags.")
        key_id = ("mrk-" + uuid.uuid4().hex) if multi_region else str(uuid.uuid4())
        now = self.clock.now()
        record = {
            "account": ctx.account_id, "region": ctx.region, "key_id": key_id,
            "arn": ctx.arn("kms", f"key/{key_id}"),
            "state": "PendingImport" if origin == "EXTERNAL" else "Enabled",
            "deletion_due": None, "rotation_due": None,
            "created": now, "description": description, "usage": usage, "spec": spec.name,
            "origin": origin, "manager": manager, "multi_region": multi_region,
            "policy": policy or default_policy(ctx.partition, ctx.account_id),
            "tags": {tag["TagKey"]: tag["TagValue"] for tag in tags},
            "materials": [] if origin == "EXTERNAL" else [
                _material(self.pool.material(spec), now, None)],
            "rotation_period": None, "on_demand_rotations": 0,
            "primary_region": ctx.region if multi_region else None, "replica_regions": [],
        }
        if manager == "AWS":  # AWS managed keys rotate every year, always
            record["rotation_period"] = DEFAULT_ROTATION_PERIOD
            record["rotation_due"] = now + DEFAULT_ROTATION_PERIOD * DAY
        self.keys.put(record)
        return Key(record)

    @staticmethod
    def _spec(ctx: RequestContext, name: str) -> crypto.Spec:
        if name in crypto.CHINA_ONLY_SPECS and not ctx.region.startswith("cn-"):
            raise validation_error(f"KeySpec {name} is supported only in the AWS China Regions.")
        if name not in crypto.SPECS:  # one AWS offers that nubo does not (never faked)
            raise ServiceError("NotImplemented", f"KeySpec {name} is not implemented by nubo "
                               "yet.", 501, sender_fault=False)
        return crypto.SPECS[name]

    # -- lookup ---------------------------------------------------------------------------

    def resolve(self, ctx: RequestContext, key_id: str, *, aliases: bool = True,
                create_managed: bool = False) -> Key:
        """The key a KeyId names: key id, key ARN, and (where the operation allows them) alias
        name or alias ARN."""
        account, region, resource = ctx.account_id, ctx.region, key_id
        if key_id.startswith("arn:"):
            parts = key_id.split(":", 5)
            if len(parts) != 6 or parts[2] != "kms" or not parts[5].startswith(("key/",
                                                                                "alias/")):
                raise ServiceError("NotFoundException", f"Invalid arn {key_id}")
            region, account, resource = parts[3], parts[4], parts[5]
            if region != ctx.region:
                raise ServiceError("NotFoundException", f"Invalid arn {key_id}")
            if resource.startswith("key/"):
                resource = resource[4:]
        if resource.startswith(ALIAS_PREFIX) and aliases:
            alias = self.aliases.get((account, region, resource))
            if alias is None:
                alias = self._aws_managed_alias(ctx, resource, create_managed)
            if alias is None:
                alias_arn = ctx.arn("kms", resource, account_id=account)
                raise ServiceError("NotFoundException", f"Alias {alias_arn} is not found.")
            resource = alias["key_id"]
        elif not KEY_ID.match(resource):
            raise ServiceError("NotFoundException", f"Invalid keyId '{key_id}'")
        record = self.keys.get((account, region, resource))
        if record is None:
            key_arn = ctx.arn("kms", f"key/{resource}", account_id=account)
            raise ServiceError("NotFoundException", f"Key '{key_arn}' does not exist")
        return Key(self.with_shared_material(record))

    def with_shared_material(self, record: dict) -> dict:
        """A multi-Region replica uses its primary's key material (all versions), so
        ciphertexts of one region decrypt in the others and rotations reach every replica."""
        primary_region = record.get("primary_region")
        if primary_region in (None, record["region"]):
            return record
        primary = self.keys.get((record["account"], primary_region, record["key_id"]))
        return record if primary is None else {**record, "materials": primary["materials"]}

    def _aws_managed_alias(self, ctx: RequestContext, alias: str,
                           create_managed: bool) -> dict | None:
        """The AWS managed key of alias/aws/<service>, created on the service's first use of
        it (a call from that service) or when DescribeKey names it (``create_managed``)."""
        managed = AWS_MANAGED_KEYS.get(alias)
        if managed is None or not (create_managed or ctx.extras.get(
                "called_by", "").startswith(managed[0] + ".")):
            return None
        key = self.create(ctx, spec_name="SYMMETRIC_DEFAULT", usage=None, origin="AWS_KMS",
                          description=f"Default key that protects my {managed[1]} when no "
                                      "other key is defined", bypass_lockout=True, tags=[],
                          policy=aws_managed_policy(ctx.partition, ctx.account_id, ctx.region,
                                                    managed[0]),
                          multi_region=False, manager="AWS")
        record = {"account": ctx.account_id, "region": ctx.region, "name": alias,
                  "key_id": key.id, "created": key.record["created"],
                  "updated": key.record["created"]}
        self.aliases.put(record)
        return record

    # -- key states -----------------------------------------------------------------------

    @staticmethod
    def require_state(key: Key, *, disabled_ok: bool = False) -> None:
        """Raise the error AWS gives when a key's state does not allow the operation."""
        state = key.state
        if state == "Enabled" or (state == "Disabled" and disabled_ok):
            return
        if state == "Disabled":
            raise ServiceError("DisabledException", f"{key.arn} is disabled.")
        described = {"PendingDeletion": "pending deletion", "PendingImport": "pending import",
                     "PendingReplicaDeletion": "pending replica deletion"}.get(state, state)
        raise ServiceError("KMSInvalidStateException", f"{key.arn} is {described}.")

    @staticmethod
    def require_customer_managed(key: Key) -> None:
        if key.record["manager"] == "AWS":
            raise ServiceError("UnsupportedOperationException",
                               f"{key.arn} is an AWS managed key and cannot be modified.")

    def save(self, key: Key, **changes) -> Key:
        record = {**key.record, **changes}
        self.keys.put(record)
        return Key(record)

    def enable(self, key: Key) -> None:
        self.require_customer_managed(key)
        if key.state not in ("Enabled", "Disabled"):
            self.require_state(key)
        self.save(key, state="Enabled")

    def disable(self, key: Key) -> None:
        self.require_customer_managed(key)
        self.require_state(key, disabled_ok=True)
        self.save(key, state="Disabled")

    def schedule_deletion(self, key: Key, days: int | None) -> Key:
        self.require_customer_managed(key)
        if key.record.get("replica_regions"):
            raise ServiceError("UnsupportedOperationException",
                               f"{key.arn} is a primary key with replicas in "
                               f"{', '.join(key.record['replica_regions'])}; schedule the "
                               "deletion of its replicas first.")
        if key.state == "PendingDeletion":
            self.require_state(key)
        days = check_pending_window(days)
        due = self.clock.now() + days * DAY
        return self.save(key, state="PendingDeletion", deletion_due=due, pending_window=days,
                          state_before_deletion=key.state)

    def cancel_deletion(self, key: Key) -> None:
        if key.state != "PendingDeletion":
            raise ServiceError("KMSInvalidStateException",
                               f"{key.arn} is not pending deletion.")
        # A key whose deletion is cancelled comes back disabled (or still awaiting material).
        state = "PendingImport" if not key.record["materials"] else "Disabled"
        self.save(key, state=state, deletion_due=None, pending_window=None)

    def sweep(self) -> int:
        """Delete the keys whose waiting period is over, the imported material past its
        ValidTo, and rotate the keys due for automatic rotation; returns how many changed."""
        now = self.clock.now()
        due = self.keys.find("by_deletion", hi=now)
        for record in due:
            self.delete_now(Key(record))
        expired = self.keys.find("by_material_expiry", hi=now)
        for record in expired:  # imported material past its ValidTo is deleted
            self.save(Key(record), materials=[], state="PendingImport", material_expires=None,
                      valid_to=None)
        rotating = self.keys.find("by_rotation", hi=now)
        for record in rotating:
            key = Key(record)
            if key.state in ("Enabled", "Disabled"):
                self._rotate(key, "AUTOMATIC", record["rotation_due"])
            else:  # rotation waits for the key to be usable again
                self.save(key, rotation_due=now + record["rotation_period"] * DAY)
        return len(due) + len(expired) + len(rotating)

    def delete_now(self, key: Key) -> None:
        account, region = key.record["account"], key.record["region"]
        self.aliases.delete_where("by_key", eq=(account, region, key.id))
        self.grants.delete_where("by_key", eq=(account, region, key.id))
        self.keys.delete((account, region, key.id))
        primary_region = key.record.get("primary_region")
        if primary_region not in (None, region):  # a replica leaves its primary's list
            primary = self.keys.get((account, primary_region, key.id))
            if primary is not None:
                self.keys.put({**primary, "replica_regions": [
                    r for r in primary["replica_regions"] if r != region]})

    # -- multi-Region keys ----------------------------------------------------------------

    def primary_of(self, record: dict) -> dict:
        if record["primary_region"] == record["region"]:
            return record
        return self.keys.get((record["account"], record["primary_region"], record["key_id"]))

    def _multi_region_configuration(self, record: dict) -> dict:
        primary = self.primary_of(record) or record
        arn_in = primary["arn"].split(":")
        def arn(region: str) -> str:
            return ":".join(arn_in[:3] + [region] + arn_in[4:])
        return {"MultiRegionKeyType": "PRIMARY" if primary["region"] == record["region"]
                else "REPLICA",
                "PrimaryKey": {"Arn": primary["arn"], "Region": primary["region"]},
                "ReplicaKeys": [{"Arn": arn(r), "Region": r}
                                for r in primary["replica_regions"]]}

    # -- description, policy, tags --------------------------------------------------------

    def describe(self, key: Key) -> dict:
        record = key.record
        metadata = {
            "AWSAccountId": record["account"], "KeyId": key.id, "Arn": key.arn,
            "CreationDate": record["created"], "Enabled": key.state == "Enabled",
            "Description": record["description"], "KeyUsage": key.usage,
            "KeyState": key.state, "Origin": record["origin"], "KeyManager": record["manager"],
            "CustomerMasterKeySpec": record["spec"], "KeySpec": record["spec"],
            **key.spec.algorithms(key.usage), "MultiRegion": record["multi_region"],
        }
        if key.state == "PendingDeletion":
            metadata["DeletionDate"] = record["deletion_due"]
        if record["origin"] == "EXTERNAL" and record["materials"]:
            metadata["ExpirationModel"] = record.get("expiration_model",
                                                     "KEY_MATERIAL_DOES_NOT_EXPIRE")
            if record.get("valid_to"):
                metadata["ValidTo"] = record["valid_to"]
        if record["multi_region"]:
            metadata["MultiRegionConfiguration"] = self._multi_region_configuration(record)
        if record["materials"] and key.spec.family == "aes":
            metadata["CurrentKeyMaterialId"] = key.material_id()
        return metadata

    def update_description(self, key: Key, description: str) -> None:
        self.require_customer_managed(key)
        self.require_state(key, disabled_ok=True)
        self.save(key, description=description)

    def put_policy(self, key: Key, name: str | None, policy: str, bypass: bool) -> None:
        self.require_customer_managed(key)
        self.require_policy_name(name)
        check_policy(policy, bypass)
        self.save(key, policy=policy)

    @staticmethod
    def require_policy_name(name: str | None) -> None:
        if name not in (None, "default"):
            raise ServiceError("NotFoundException", "No such policy exists")

    def tag(self, key: Key, tags: list[dict]) -> None:
        self.require_customer_managed(key)
        self.require_state(key, disabled_ok=True)
        check_tags(tags)
        merged = {**key.record["tags"], **{t["TagKey"]: t["TagValue"] for t in tags}}
        if len(merged) > MAX_TAGS:
            raise ServiceError("TagException", f"Cannot have more than {MAX_TAGS} tags.")
        self.save(key, tags=merged)

    def untag(self, key: Key, tag_keys: list[str]) -> None:
        self.require_customer_managed(key)
        self.require_state(key, disabled_ok=True)
        self.save(key, tags={k: v for k, v in key.record["tags"].items()
                              if k not in tag_keys})

    @staticmethod
    def tag_list(key: Key) -> list[dict]:
        return [{"TagKey": k, "TagValue": v} for k, v in key.record["tags"].items()]

    # -- rotation -------------------------------------------------------------------------

    @staticmethod
    def require_rotation_support(key: Key) -> None:
        if key.spec.family != "aes":
            raise ServiceError("UnsupportedOperationException",
                               f"{key.arn} key spec {key.record['spec']} does not support "
                               "key rotation.")

    def _require_rotatable(self, key: Key) -> None:
        self.require_customer_managed(key)
        self.require_state(key)
        self.require_rotation_support(key)
        if key.record["origin"] != "AWS_KMS":
            raise ServiceError("UnsupportedOperationException",
                               f"{key.arn} origin is {key.record['origin']} which is not "
                               "valid for this operation.")
        if key.record.get("primary_region") not in (None, key.record["region"]):
            raise ServiceError("UnsupportedOperationException",
                               f"{key.arn} is a multi-Region replica key; rotation is managed "
                               "on its primary key.")

    def enable_rotation(self, key: Key, period: int | None) -> None:
        self._require_rotatable(key)
        period = period or DEFAULT_ROTATION_PERIOD
        due = key.record["rotation_due"] if key.record["rotation_period"] == period else None
        self.save(key, rotation_period=period,
                   rotation_due=due or self.clock.now() + period * DAY)

    def disable_rotation(self, key: Key) -> None:
        self._require_rotatable(key)
        self.save(key, rotation_period=None, rotation_due=None)

    def rotation_status(self, key: Key) -> dict:
        self.require_rotation_support(key)
        record = key.record
        enabled = record["rotation_period"] is not None and key.state != "PendingDeletion"
        status = {"KeyRotationEnabled": enabled, "KeyId": key.arn}
        if enabled:
            status.update(RotationPeriodInDays=record["rotation_period"],
                          NextRotationDate=record["rotation_due"])
        if record.get("on_demand_started"):
            status["OnDemandRotationStartDate"] = record["on_demand_started"]
        return status

    def rotate_on_demand(self, key: Key) -> None:
        self._require_rotatable(key)
        if key.record["on_demand_rotations"] >= MAX_ON_DEMAND_ROTATIONS:
            raise ServiceError("LimitExceededException",
                               f"{key.arn} has reached the maximum number of on-demand "
                               f"rotations ({MAX_ON_DEMAND_ROTATIONS}).")
        now = self.clock.now()
        key = self.save(key, on_demand_rotations=key.record["on_demand_rotations"] + 1,
                         on_demand_started=now)
        self._rotate(key, "ON_DEMAND", now)

    def _rotate(self, key: Key, kind: str, when: float) -> None:
        """New key material becomes current; older versions stay to decrypt old ciphertexts."""
        materials = key.record["materials"] + [
            _material(crypto.new_material(key.spec), when, kind)]
        changes = {"materials": materials}
        if kind == "AUTOMATIC" or key.record["rotation_period"]:
            period = key.record["rotation_period"]
            changes["rotation_due"] = when + period * DAY if period else None
        self.save(key, **changes)

    @staticmethod
    def rotations(key: Key) -> list[dict]:
        return [{"KeyId": key.id, "KeyMaterialId": m["id"], "RotationDate": m["created"],
                 "RotationType": m["rotation"]}
                for m in key.record["materials"] if m["rotation"]]

    # -- aliases --------------------------------------------------------------------------

    def create_alias(self, ctx: RequestContext, name: str, target: str) -> None:
        check_alias_name(name, creating=True)
        key = self._alias_target(ctx, target)
        now = self.clock.now()
        if not self.aliases.insert({"account": ctx.account_id, "region": ctx.region,
                                    "name": name, "key_id": key.id, "created": now,
                                    "updated": now}):
            raise ServiceError("AlreadyExistsException",
                               f"An alias with the name {ctx.arn('kms', name)} already exists")

    def update_alias(self, ctx: RequestContext, name: str, target: str) -> None:
        check_alias_name(name, creating=True)
        alias = self._alias(ctx, name)
        key = self._alias_target(ctx, target)
        current = self.resolve(ctx, alias["key_id"])
        if (current.usage, current.record["spec"]) != (key.usage, key.record["spec"]):
            raise validation_error(f"Alias {ctx.arn('kms', name)} cannot be changed from a "
                                   f"key of type {current.record['spec']}/{current.usage} to a "
                                   f"key of type {key.record['spec']}/{key.usage}.")
        self.aliases.put({**alias, "key_id": key.id, "updated": self.clock.now()})

    def delete_alias(self, ctx: RequestContext, name: str) -> None:
        check_alias_name(name, creating=True)
        self._alias(ctx, name)
        self.aliases.delete((ctx.account_id, ctx.region, name))

    def _alias(self, ctx: RequestContext, name: str) -> dict:
        alias = self.aliases.get((ctx.account_id, ctx.region, name))
        if alias is None:
            raise ServiceError("NotFoundException",
                               f"Alias {ctx.arn('kms', name)} is not found.")
        return alias

    def _alias_target(self, ctx: RequestContext, target: str) -> Key:
        key = self.resolve(ctx, target, aliases=False)
        self.require_customer_managed(key)
        if key.state == "PendingDeletion":
            self.require_state(key)
        return key

    def list_aliases(self, ctx: RequestContext, key: Key | None, size: int,
                     marker: str | None) -> dict:
        if key is None:
            found = self.aliases.find(eq=(ctx.account_id, ctx.region), lo=marker,
                                      limit=size + 1)
            # AWS lists its predefined aliases too, without a target until the key exists.
            stored = {a["name"] for a in found}
            found = sorted(found + [
                {"name": name} for name in AWS_MANAGED_KEYS
                if (marker is None or name >= marker) and name not in stored
                and self.aliases.get((ctx.account_id, ctx.region, name)) is None],
                key=lambda a: a["name"])[:size + 1]
        else:
            found = self.aliases.find("by_key", eq=(ctx.account_id, ctx.region, key.id),
                                      lo=marker, limit=size + 1)
        more = found[size:]
        aliases = []
        for alias in found[:size]:
            entry = {"AliasName": alias["name"], "AliasArn": ctx.arn("kms", alias["name"])}
            if "key_id" in alias:
                entry.update(TargetKeyId=alias["key_id"], CreationDate=alias["created"],
                             LastUpdatedDate=alias["updated"])
            aliases.append(entry)
        return listing(aliases, "Aliases", more[0]["name"] if more else None)

    def list_keys(self, ctx: RequestContext, size: int, marker: str | None) -> dict:
        found = self.keys.find(eq=(ctx.account_id, ctx.region), lo=marker, limit=size + 1)
        keys = [{"KeyId": r["key_id"], "KeyArn": r["arn"]} for r in found[:size]]
        return listing(keys, "Keys", found[size]["key_id"] if len(found) > size else None)
