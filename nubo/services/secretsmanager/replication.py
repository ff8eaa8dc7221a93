"""Secrets Manager replication: replicas in other regions read their primary's data (always in
sync), RemoveRegionsFromReplication drops them, StopReplicationToReplica promotes one to a
standalone secret with its own encrypted copy of every version."""

from __future__ import annotations

import uuid

from nubo.core.context import RequestContext
from nubo.services.secretsmanager.models import (DEFAULT_KMS_KEY, Secret, Secrets,
                                                 replication_status)
from nubo.services.secretsmanager.validation import invalid_parameter, invalid_request


class Replicas:
    def __init__(self, secrets: Secrets) -> None:
        self.secrets = secrets
        self.table = secrets.secrets

    def replicate(self, ctx: RequestContext, secret: Secret, regions: list[dict],
                  overwrite: bool) -> list[dict]:
        self.secrets.require_writable(secret)
        replicas = dict(secret.record["replicas"])
        for wanted in regions:
            region = wanted["Region"]
            if region == secret.record["region"]:
                raise invalid_parameter("Invalid replica region: a secret can't be replicated "
                                        "to its own region.")
            key = (secret.record["account"], region, secret.name)
            existing = self.table.get(key)
            status = {"kms_key_id": wanted.get("KmsKeyId"), "status": "InSync",
                      "message": "Replication succeeded"}
            if existing is not None and existing.get("primary_region") != \
                    secret.record["region"] and not overwrite:
                status.update(status="Failed", message="Replication failed: Secret name "
                              "already exists in the Region.")
            else:
                if existing is not None and existing.get("primary_region") is None:
                    self.secrets.delete_now(existing)  # a standalone secret, overwritten
                # (a replica row, this secret's own again or another primary's, is replaced)
                self.table.put({
                    "account": key[0], "region": region, "name": secret.name,
                    "arn": secret.record["arn"].replace(f":{secret.record['region']}:",
                                                        f":{region}:", 1),
                    "created": self.secrets.clock.now(), "deletion_due": None,
                    "primary_region": secret.record["region"],
                    "kms_key_id": wanted.get("KmsKeyId")})
            replicas[region] = status
        secret = self.secrets.save(secret, replicas=replicas)
        return replication_status(secret.record)

    def remove_replicas(self, secret: Secret, regions: list[str]) -> list[dict]:
        self.secrets.require_primary(secret)
        replicas = dict(secret.record["replicas"])
        for region in regions:
            if replicas.pop(region, None) is not None:
                home = self.table.get((secret.record["account"], region, secret.name))
                if home is not None and home.get("primary_region") == secret.record["region"]:
                    self.table.delete((home["account"], region, home["name"]))
        return replication_status(self.secrets.save(secret, replicas=replicas).record)

    def promote(self, ctx: RequestContext, secret: Secret) -> None:
        """StopReplicationToReplica: the replica becomes a standalone secret with its own copy
        of every version, encrypted with its own region's key."""
        if not secret.is_replica:
            raise invalid_request("StopReplicationToReplica can only be called on a replica "
                                  "secret.")
        primary = secret.record
        standalone = {**primary, "region": secret.home["region"], "arn": secret.arn,
                      "uid": uuid.uuid4().hex, "replicas": {}, "primary_region": None,
                      "kms_key_id": secret.home.get("kms_key_id"),
                      "created": secret.home["created"], "policy": None}
        copy = Secret(standalone, standalone)
        key_id = standalone["kms_key_id"] or DEFAULT_KMS_KEY
        versions = self.secrets.versions
        for version in versions.find("by_created", eq=(primary["uid"],)):
            value = self.secrets.decrypt(ctx, secret, version)
            blob = self.secrets.encrypt(ctx, copy, version["version_id"], key_id, value)
            versions.put({**version, "secret": standalone["uid"], "kms_region": ctx.region,
                          "blob": blob})
        self.table.put(standalone)
        replicas = {r: s for r, s in primary["replicas"].items() if r != ctx.region}
        self.table.put({**primary, "replicas": replicas})
