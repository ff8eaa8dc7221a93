"""Table settings that change no item: point-in-time recovery, resource-based policies,
Kinesis Data Streams destinations and Contributor Insights (the last two stored and described:
nubo has no Kinesis to stream to nor CloudWatch rules to publish yet)."""

from __future__ import annotations

from typing import Any

from nubo.core.errors import ServiceError
from nubo.services.dynamodb.models import Table, Tables, check_policy, policy_of
from nubo.services.dynamodb.values import validation


class TableSettings:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def continuous_backups(self, table: Table) -> dict:
        pitr = table.record.get("pitr")
        recovery: dict[str, Any] = {"PointInTimeRecoveryStatus": "ENABLED" if pitr else
                                    "DISABLED"}
        if pitr:
            now = self.tables.clock.now()
            recovery.update(RecoveryPeriodInDays=pitr["days"],
                            EarliestRestorableDateTime=max(pitr["since"],
                                                           now - pitr["days"] * 86400),
                            LatestRestorableDateTime=now)
        return {"ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": recovery}

    def set_point_in_time_recovery(self, table: Table, spec: dict) -> None:
        enabled = spec["PointInTimeRecoveryEnabled"]
        if not enabled and "RecoveryPeriodInDays" in spec:
            raise validation("Invalid Request: Cannot specify RecoveryPeriodInDays when "
                             "disabling point-in-time recovery.")
        days = spec.get("RecoveryPeriodInDays", 35)  # the model bounds it to 1..35
        current = table.record.get("pitr")
        pitr = {"days": days, "since": current["since"] if current else self.tables.clock.now()}
        self.tables.change(table, pitr=pitr if enabled else None)

    # -- resource-based policies: the table's, and each of its streams' own ----------------

    def put_policy(self, table: Table, arn: str, policy: str, expected: str | None) -> str:
        check_policy(policy)
        current = policy_of(table, arn)
        if expected is not None and (current is None or current["revision"] != expected):
            raise ServiceError("PolicyNotFoundException",
                               "A resource-based policy with the provided revision id was not "
                               f"found for the resource: {arn}")
        revision = str(int(self.tables.clock.now() * 1000000))
        self._set_policy(table, arn, {"document": policy, "revision": revision})
        return revision

    def policy(self, table: Table, arn: str) -> dict:
        policy = policy_of(table, arn)
        if policy is None:
            raise ServiceError("PolicyNotFoundException", "Resource-based policy not found for "
                               f"the provided ResourceArn: {arn}")
        return policy

    def delete_policy(self, table: Table, arn: str, expected: str | None) -> str:
        policy = self.policy(table, arn)
        if expected is not None and policy["revision"] != expected:
            raise ServiceError("PolicyNotFoundException",
                               "A resource-based policy with the provided revision id was not "
                               f"found for the resource: {arn}")
        self._set_policy(table, arn, None)
        return policy["revision"]

    def _set_policy(self, table: Table, arn: str, policy: dict | None) -> None:
        if "/stream/" not in arn:
            self.tables.change(table, policy=policy)
            return
        streams = {k: v for k, v in (table.record.get("stream_policies") or {}).items()
                   if k != arn}
        if policy is not None:
            streams[arn] = policy
        self.tables.change(table, stream_policies=streams)

    def set_kinesis_destination(self, table: Table, stream_arn: str, enabled: bool,
                                configuration: dict | None) -> dict:
        destinations = {d["StreamArn"]: d for d in table.record.get("kinesis", ())}
        current = destinations.get(stream_arn)
        if not enabled and (current is None or current["DestinationStatus"] != "ACTIVE"):
            raise validation("Table is not in a valid state to enable Kinesis Streaming "
                             "Destination: KinesisStreamingDestination must be ACTIVE to "
                             "perform DISABLE operation.")
        if enabled and current is not None and current["DestinationStatus"] == "ACTIVE":
            raise validation("Table is not in a valid state to enable Kinesis Streaming "
                             "Destination: EnableKinesisStreamingDestination must be DISABLED "
                             "or ENABLE_FAILED to perform ENABLE operation.")
        destination = {"StreamArn": stream_arn,
                       "DestinationStatus": "ACTIVE" if enabled else "DISABLED",
                       "ApproximateCreationDateTimePrecision":
                       (configuration or {}).get("ApproximateCreationDateTimePrecision",
                                                 "MILLISECOND")}
        destinations[stream_arn] = destination
        self.tables.change(table, kinesis=list(destinations.values()))
        return destination

    def update_kinesis_destination(self, table: Table, stream_arn: str,
                                   configuration: dict | None) -> dict:
        """UpdateKinesisStreamingDestination: an ACTIVE destination's timestamp precision."""
        precision = (configuration or {}).get("ApproximateCreationDateTimePrecision")
        if precision is None:
            raise validation("Streaming destination cannot be updated with given parameters: "
                             "UpdateKinesisStreamingConfiguration cannot be null or contain "
                             "only null values")
        destinations = {d["StreamArn"]: d for d in table.record.get("kinesis", ())}
        current = destinations.get(stream_arn)
        if current is None or current["DestinationStatus"] != "ACTIVE":
            raise validation("Table is not in a valid state to enable Kinesis Streaming "
                             "Destination: Kinesis streaming is not in ACTIVE state. Updates "
                             f"are only allowed in ACTIVE state. TableName: {table.name}, "
                             f"kdsArn: {stream_arn}")
        if current["ApproximateCreationDateTimePrecision"] == precision:
            raise validation(f"Invalid Request: Precision is already set to the desired value "
                             f"of {precision} for tableId: {table.record['TableId']}, "
                             f"kdsArn: {stream_arn}")
        destinations[stream_arn] = dict(current, ApproximateCreationDateTimePrecision=precision)
        self.tables.change(table, kinesis=list(destinations.values()))
        return destinations[stream_arn]

    # -- CloudWatch Contributor Insights (settings; nubo publishes no CloudWatch rules yet) --

    def set_insights(self, table: Table, index_name: str | None, action: str,
                     mode: str | None) -> dict:
        if index_name is not None and index_name not in table.indexes:
            raise ServiceError("ResourceNotFoundException",
                               f"Requested resource not found: Index: {index_name} not found")
        insights = dict(table.record.get("insights") or {})
        key = index_name or ""
        if action == "ENABLE":
            insights[key] = {"mode": mode or "ACCESSED_AND_THROTTLED_KEYS",
                             "since": self.tables.clock.now()}
        else:
            insights.pop(key, None)
        self.tables.change(table, insights=insights)
        output: dict[str, Any] = {"TableName": table.name,
                                  "ContributorInsightsStatus": "ENABLING" if action == "ENABLE"
                                  else "DISABLING"}
        if index_name is not None:
            output["IndexName"] = index_name
        if action == "ENABLE":
            output["ContributorInsightsMode"] = insights[key]["mode"]
        return output

    def insights(self, table: Table, index_name: str | None) -> dict:
        if index_name is not None and index_name not in table.indexes:
            raise ServiceError("ResourceNotFoundException",
                               f"Requested resource not found: Index: {index_name} not found")
        setting = (table.record.get("insights") or {}).get(index_name or "")
        output: dict[str, Any] = {"TableName": table.name,
                                  "ContributorInsightsStatus": "ENABLED" if setting else
                                  "DISABLED"}
        if index_name is not None:
            output["IndexName"] = index_name
        if setting:
            key = table.indexes[index_name].key if index_name else table.key
            stamp = int(setting["since"] * 1000)
            target = f"{table.name}-{index_name}" if index_name else table.name
            kinds = ["PKC", "PKT"] + (["SKC", "SKT"] if key.range_name else [])
            if setting["mode"] == "THROTTLED_KEYS":
                kinds = [kind for kind in kinds if kind.endswith("T")]
            output.update(ContributorInsightsRuleList=[
                f"DynamoDBContributorInsights-{kind}-{target}-{stamp}" for kind in kinds],
                LastUpdateDateTime=setting["since"], ContributorInsightsMode=setting["mode"])
        return output

    def insight_summaries(self, tables: list[Table]) -> list[dict]:
        return [dict({"TableName": table.name, "ContributorInsightsStatus": "ENABLED",
                      "ContributorInsightsMode": setting["mode"]},
                     **({"IndexName": name} if name else {}))
                for table in tables
                for name, setting in (table.record.get("insights") or {}).items()]
