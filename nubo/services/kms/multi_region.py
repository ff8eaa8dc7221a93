"""Multi-Region keys: ReplicateKey makes a replica of a primary key in another region (same key
id, the primary's key material shared, its own policy, description and tags);
UpdatePrimaryRegion swaps which one is primary."""

from __future__ import annotations

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.services.kms.models import Key, Keys, default_policy
from nubo.services.kms.validation import check_policy, check_tags


class MultiRegion:
    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.table = keys.keys

    def replicate(self, ctx: RequestContext, key: Key, region: str, policy: str | None,
                  bypass_lockout: bool, description: str | None, tags: list[dict]) -> Key:
        record = key.record
        if not record["multi_region"]:
            raise ServiceError("UnsupportedOperationException",
                               f"{key.arn} is not a multi-Region key.")
        if record["primary_region"] != record["region"]:
            raise ServiceError("UnsupportedOperationException",
                               f"{key.arn} is not a primary key; replicate the primary key.")
        self.keys.require_state(key, disabled_ok=True)
        if region == record["region"] or region in record["replica_regions"]:
            raise ServiceError("AlreadyExistsException", f"Key {key.id} already has a replica "
                               f"in {region}.")
        if policy is not None:
            check_policy(policy, bypass_lockout)
        check_tags(tags)
        replica = {**record, "region": region, "arn": key.arn.replace(
                       f":{record['region']}:", f":{region}:", 1),
                   "materials": [], "created": self.keys.clock.now(), "replica_regions": [],
                   "description": record["description"] if description is None
                   else description, "tags": {t["TagKey"]: t["TagValue"] for t in tags},
                   "policy": policy or default_policy(ctx.partition, ctx.account_id),
                   "rotation_due": None, "deletion_due": None}
        self.table.put(replica)
        self.keys.save(key, replica_regions=record["replica_regions"] + [region])
        return Key(self.keys.with_shared_material(replica))

    def update_primary_region(self, key: Key, region: str) -> None:
        record = key.record
        if not record["multi_region"]:
            raise ServiceError("UnsupportedOperationException",
                               f"{key.arn} is not a multi-Region key.")
        primary = self.keys.primary_of(record)
        if region == primary["region"]:
            return
        if region not in primary["replica_regions"]:
            raise ServiceError("NotFoundException", f"There is no replica of {key.arn} in "
                               f"{region}.")
        regions = [primary["region"]] + primary["replica_regions"]
        replicas = [r for r in regions if r != region]
        for each in regions:
            row = self.table.get((record["account"], each, record["key_id"]))
            changes = {"primary_region": region, "replica_regions": [], "materials": []}
            if each == region:
                changes.update(replica_regions=replicas, materials=primary["materials"],
                               rotation_period=primary["rotation_period"],
                               rotation_due=primary["rotation_due"])
            else:
                changes.update(rotation_due=None)
            self.table.put({**row, **changes})
