"""Amazon DynamoDB handlers (API 2012-08-10, awsJson1_0): one per operation, named and typed as
the model says. Domain work lives in models.py (tables), requests.py (single items),
queries.py (Query/Scan) and batches.py (batches and transactions)."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.core.runtime import Runtime
from nubo.policy import ResourcePolicy
from nubo.services.base import ServiceProvider, handler
from nubo.services.dynamodb.backups import Backups
from nubo.services.dynamodb.batches import Batches
from nubo.services.dynamodb.expressions import Expressions
from nubo.services.dynamodb.items import Items
from nubo.services.dynamodb.models import LIMITS, Tables, name_from_arn, policy_of
from nubo.services.dynamodb.values import validation
from nubo.services.dynamodb.queries import Queries
from nubo.services.dynamodb.replicas import Replicas
from nubo.services.dynamodb.requests import ItemRequests
from nubo.services.dynamodb.settings import TableSettings
from nubo.services.dynamodb.statements import Statements
from nubo.services.dynamodb.transfers import Transfers


log = logging.getLogger("nubo.dynamodb")


def legacy_global_tables() -> ServiceError:
    return validation("One or more parameter values were invalid: DynamoDB global tables version "
                      "2017.11.29 is not supported. We recommend using DynamoDB global tables "
                      "version 2019.11.21, instead of version 2017.11.29 (Legacy).")

def global_table_not_found(name: str) -> ServiceError:
    """The 2017.11.29 global-table operations: no such table can exist (2019.11.21 global
    tables are tables with replicas, described by DescribeTable)."""
    return ServiceError("GlobalTableNotFoundException",
                        f"Global table not found: Global table with name: {name} does not "
                        "exist.")


PITR_RETENTION = 35 * 86400  # the longest RecoveryPeriodInDays
SWEEP_INTERVAL = 1.0  # seconds between sweeps when there is nothing to do


def leading_keys(hash_name: str, params: dict) -> list[str]:
    """The partition key values a request names: its Key or Item, or the equality on the
    partition key in a Query's key condition."""
    values = []
    for member in ("Key", "Item"):
        found = params.get(member)
        if isinstance(found, dict) and isinstance(found.get(hash_name), dict):
            values.extend(str(v) for v in found[hash_name].values())
    condition = params.get("KeyConditionExpression")
    if isinstance(condition, str):
        names = {v: k for k, v in (params.get("ExpressionAttributeNames") or {}).items()}
        path = re.escape(names.get(hash_name, hash_name))
        match = re.search(rf"(?:^|[\s(]){path}\s*=\s*(:\w+)", condition)
        attribute = (params.get("ExpressionAttributeValues") or {}).get(match.group(1)) \
            if match else None
        if isinstance(attribute, dict):
            values.extend(str(v) for v in attribute.values())
    return values


def request_attributes(params: dict) -> list[str]:
    """dynamodb:Attributes: the top-level attribute names a request names (its key or item,
    the attributes it gets, projects or updates); an invalid expression adds none (the
    handler reports it)."""
    names: set[str] = set()
    for member in ("Key", "Item", "AttributeUpdates"):
        if isinstance(params.get(member), dict):
            names.update(params[member])
    if isinstance(params.get("AttributesToGet"), list):
        names.update(a for a in params["AttributesToGet"] if isinstance(a, str))
    try:
        expressions = Expressions(params.get("ExpressionAttributeNames"),
                                  params.get("ExpressionAttributeValues"))
        if isinstance(params.get("ProjectionExpression"), str):
            names.update(path[1][0] for path in expressions.projection(
                params["ProjectionExpression"]))
        if isinstance(params.get("UpdateExpression"), str):
            clauses = expressions.update(params["UpdateExpression"])
            names.update(action[0][1][0] for actions in clauses.values() for action in actions)
    except (ServiceError, TypeError, AttributeError):
        pass
    return sorted(n for n in names if isinstance(n, str))


class DynamodbProvider(ServiceProvider):
    service_name = "dynamodb"
    # Vector indexes and replica disassociation (newer than the rest)
    unimplemented_members = {
        "CreateTable": ("VectorIndexes",),
        "UpdateTable": ("VectorIndexUpdates", "DisassociationProtectionEnabled",
                        "ReplicaUpdates.Disassociate"),
        "ImportTable": ("TableCreationParameters.VectorIndexes",),
        "RestoreTableFromBackup": ("VectorIndexOverride",),
        "RestoreTableToPointInTime": ("VectorIndexOverride",),
    }

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.tables = Tables(runtime.store, runtime.clock)
        self.items = Items(runtime.store, runtime.clock)
        self.requests = ItemRequests(self.tables, self.items)
        self.queries = Queries(self.tables, self.items)
        self.batches = Batches(self.tables, self.items, self.requests, runtime.store,
                               runtime.clock)
        self.backups = Backups(runtime.store, runtime.clock, self.tables, self.items)
        self.statements = Statements(self.tables, self.items, self.queries, self.batches)
        self.settings = TableSettings(self.tables)
        self.replicas = Replicas(self.tables, self.items)
        self.transfers = Transfers(runtime.store, runtime.clock, self.tables, self.items,
                                   lambda *call: runtime.services.call(*call))

        self._sweep_due = asyncio.Event()
        runtime.clock.subscribe(self._sweep_due.set)

    def reset(self) -> None:
        self.tables.reset()
        self.items.reset()

    def resource_policy(self, ctx: RequestContext, arn: str) -> ResourcePolicy | None:
        """A table's (or index's) resource-based policy, or its stream's own, with the owning
        account and the table's tags (aws:ResourceTag); backups, exports and imports have no
        policy of their own."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
            return None
        region, account = parts[3], parts[4]
        name, _, rest = parts[5].removeprefix("table/").partition("/")
        table = self.tables.find(account, region, name)
        if table is None:
            return ResourcePolicy(None, account)
        policy = policy_of(table, arn) if rest.split("/")[0] in ("", "index", "stream") else None
        return ResourcePolicy(policy["document"] if policy else None, account,
                              tags=tuple(table.record["Tags"].items()))

    def condition_context(self, ctx: RequestContext, operation: str,
                          params: dict) -> dict[str, object]:
        """DynamoDB's condition keys for fine-grained access control: dynamodb:LeadingKeys
        (the partition key values a request touches), Select, ReturnValues, Attributes
        (request_attributes)."""
        context: dict[str, object] = {}
        for member, key in (("Select", "dynamodb:select"), ("ReturnValues",
                                                            "dynamodb:returnvalues"),
                            ("ReturnConsumedCapacity", "dynamodb:returnconsumedcapacity")):
            if isinstance(params.get(member), str):
                context[key] = params[member]
        attributes = request_attributes(params)
        if attributes:
            context["dynamodb:attributes"] = attributes
        name = params.get("TableName")
        table = self.tables.find(ctx.account_id, ctx.region, name) \
            if isinstance(name, str) else None
        if table is not None:
            leading = leading_keys(table.key.hash_name, params)
            if leading:
                context["dynamodb:leadingkeys"] = leading
        return context

    def dispatch(self, ctx: RequestContext, operation: str, params: dict):
        try:
            return super().dispatch(ctx, operation, params)
        except Exception:
            # The request's writes roll back with its transaction; so must what the caches
            # learnt from them.
            self.reset()
            raise

    async def background(self) -> None:
        """Deletes expired items (TTL), the rows of deleted tables, and stream records older
        than 24 hours; runs exports to and imports from S3."""
        while True:
            try:
                with self.runtime.store.transaction():
                    swept = self.items.sweep_expired(self.tables.by_id)
                    swept += self.items.sweep_dropped()
                    swept += self._run_jobs()
                    self.items.forget_history(PITR_RETENTION)
                    self.items.streams.expire()
            except Exception:  # keep sweeping; the error is ours to fix
                log.exception("DynamoDB sweep failed")
                self.reset()  # its writes rolled back; so must what the caches learnt
                swept = 0
            swept += await self.transfers.run_pending()
            if not swept:
                try:
                    await asyncio.wait_for(self._sweep_due.wait(), SWEEP_INTERVAL)
                except asyncio.TimeoutError:
                    pass
            self._sweep_due.clear()
            await asyncio.sleep(0)

    def _run_jobs(self) -> int:
        """One chunk of each whole-table job: GSI backfills, expiry scans, backups and
        restores."""
        work = 0
        for job in self.tables.jobs.find(limit=8):
            table = self.tables.by_id(job["table"])
            if job["kind"] == "gsi":
                index = next((i for i in table.indexes.values() if i.id == job["owner"]),
                             None) if table else None
                if index is not None and index.backfill is not None:
                    self.tables.backfilled(table, index.name, self.items.backfill(table, index))
                    work += 1
                    continue
            elif job["kind"] == "backup":
                if table is not None:
                    self.backups.copy_chunk(table, job["owner"])
                    work += 1
                    continue
            elif job["kind"] == "restore":
                if table is not None and "restoring" in table.record:
                    self.tables.restored(table, self.items.restore_chunk(table))
                    work += 1
                    continue
            elif table is not None and "scan" in (table.record.get("ttl") or {}):
                self.tables.ttl_scanned(table, self.items.track_expiries(table))
                work += 1
                continue
            self.tables.jobs.delete((job["kind"], job["owner"]))
        return work

    # -- tables -----------------------------------------------------------------------------

    @handler("CreateTable")
    def create_table(self, ctx: RequestContext, **params) -> dict:
        # Optional in botocore's model, yet every table needs them: Coral's null-member error.
        for name in ("KeySchema", "AttributeDefinitions"):
            if name not in params:
                raise ServiceError("ValidationException", "1 validation error detected: Value "
                                   f"null at '{name[0].lower()}{name[1:]}' failed to satisfy "
                                   "constraint: Member must not be null")
        table = self.tables.create(ctx, **params)
        creating = tuple(i.name for i in table.indexes.values() if i.kind == "global")
        return {"TableDescription": self.tables.describe(table, "CREATING", creating)}

    @handler("DescribeTable")
    def describe_table(self, ctx: RequestContext, TableName: str) -> dict:
        return {"Table": self.tables.describe(self.tables.describe_target(ctx, TableName))}

    @handler("ListTables")
    def list_tables(self, ctx: RequestContext, ExclusiveStartTableName: str | None = None,
                    Limit: int | None = None) -> dict:
        names, last = self.tables.list(ctx.account_id, ctx.region, ExclusiveStartTableName,
                                       Limit)
        output: dict = {"TableNames": names}
        if last is not None:
            output["LastEvaluatedTableName"] = last
        return output

    @handler("DeleteTable")
    def delete_table(self, ctx: RequestContext, TableName: str) -> dict:
        table = self.tables.describe_target(ctx, TableName)
        description = self.tables.describe(table, "DELETING")
        for backup_id in list(table.record.get("capturing", ())):
            while backup_id in table.record.get("capturing", ()):  # a backup still copying
                self.backups.copy_chunk(table, backup_id)  # ends before the rows go
        self.replicas.forget(table)
        self.tables.delete(table)
        return {"TableDescription": description}

    @handler("UpdateTable")
    def update_table(self, ctx: RequestContext, TableName: str, **params) -> dict:
        table = self.tables.describe_target(ctx, TableName)
        replica_updates = params.pop("ReplicaUpdates", None)
        if replica_updates is not None:
            if any(value is not None for value in params.values()):
                raise validation("One or more parameter values were invalid: Replica "
                                 "modification must be the only operation in the request")
            self.replicas.update(ctx, table, replica_updates)
            self._sweep_due.set()  # a new replica's copy starts
        else:
            self.tables.update(table, **params)
            if params.get("GlobalSecondaryIndexUpdates"):  # a global table's indexes are shared
                for other in self.replicas.others(table):
                    self.tables.update(other, AttributeDefinitions=params.get(
                        "AttributeDefinitions"), GlobalSecondaryIndexUpdates=params[
                        "GlobalSecondaryIndexUpdates"])
        self._sweep_due.set()  # new global indexes start their backfill
        return {"TableDescription": self.tables.describe(self.tables.get(ctx, TableName),
                                                         "UPDATING")}

    @handler("DescribeLimits")
    def describe_limits(self, ctx: RequestContext) -> dict:
        return dict(LIMITS)

    @handler("DescribeEndpoints")
    def describe_endpoints(self, ctx: RequestContext) -> dict:
        return {"Endpoints": [{"Address": ctx.host, "CachePeriodInMinutes": 1440}]}

    @handler("TagResource")
    def tag_resource(self, ctx: RequestContext, ResourceArn: str, Tags: list[dict]) -> dict:
        self.tables.tag(self.tables.by_arn(ctx, ResourceArn), Tags)
        return {}

    @handler("UntagResource")
    def untag_resource(self, ctx: RequestContext, ResourceArn: str,
                       TagKeys: list[str]) -> dict:
        self.tables.untag(self.tables.by_arn(ctx, ResourceArn), TagKeys)
        return {}

    @handler("ListTagsOfResource")
    def list_tags_of_resource(self, ctx: RequestContext, ResourceArn: str,
                              NextToken: str | None = None) -> dict:
        tags = self.tables.by_arn(ctx, ResourceArn).record["Tags"]
        return {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}

    @handler("UpdateTimeToLive")
    def update_time_to_live(self, ctx: RequestContext, TableName: str,
                            TimeToLiveSpecification: dict) -> dict:
        self.tables.set_ttl(self.tables.describe_target(ctx, TableName), TimeToLiveSpecification)
        self._sweep_due.set()
        return {"TimeToLiveSpecification": TimeToLiveSpecification}

    @handler("DescribeTimeToLive")
    def describe_time_to_live(self, ctx: RequestContext, TableName: str) -> dict:
        ttl = self.tables.describe_target(ctx, TableName).record.get("ttl")
        if not ttl or not ttl["enabled"]:
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED",
                                          "AttributeName": ttl["attribute"]}}

    @handler("DescribeContinuousBackups")
    def describe_continuous_backups(self, ctx: RequestContext, TableName: str) -> dict:
        table = self._settings_target(ctx, TableName)
        return {"ContinuousBackupsDescription": self.settings.continuous_backups(table)}

    @handler("UpdateContinuousBackups")
    def update_continuous_backups(self, ctx: RequestContext, TableName: str,
                                  PointInTimeRecoverySpecification: dict) -> dict:
        table = self._settings_target(ctx, TableName)
        self.settings.set_point_in_time_recovery(table, PointInTimeRecoverySpecification)
        return {"ContinuousBackupsDescription": self.settings.continuous_backups(
            self.tables.get(ctx, TableName))}

    def _settings_target(self, ctx: RequestContext, name: str):
        table = self.tables.find(ctx.account_id, ctx.region, name)
        if table is None:
            raise ServiceError("TableNotFoundException", f"Table not found: {name}")
        return table

    @handler("PutResourcePolicy")
    def put_resource_policy(self, ctx: RequestContext, ResourceArn: str, Policy: str,
                            ExpectedRevisionId: str | None = None,
                            ConfirmRemoveSelfResourceAccess: bool | None = None) -> dict:
        table = self.tables.by_arn(ctx, ResourceArn)
        return {"RevisionId": self.settings.put_policy(table, ResourceArn, Policy,
                                                       ExpectedRevisionId)}

    @handler("GetResourcePolicy")
    def get_resource_policy(self, ctx: RequestContext, ResourceArn: str) -> dict:
        policy = self.settings.policy(self.tables.by_arn(ctx, ResourceArn), ResourceArn)
        return {"Policy": policy["document"], "RevisionId": policy["revision"]}

    @handler("DeleteResourcePolicy")
    def delete_resource_policy(self, ctx: RequestContext, ResourceArn: str,
                               ExpectedRevisionId: str | None = None) -> dict:
        table = self.tables.by_arn(ctx, ResourceArn)
        return {"RevisionId": self.settings.delete_policy(table, ResourceArn, ExpectedRevisionId)}

    @handler("EnableKinesisStreamingDestination")
    def enable_kinesis_streaming_destination(self, ctx: RequestContext, TableName: str,
                                             StreamArn: str,
                                             EnableKinesisStreamingConfiguration: dict
                                             | None = None) -> dict:
        return self._kinesis(ctx, TableName, StreamArn, True,
                             EnableKinesisStreamingConfiguration)

    @handler("DisableKinesisStreamingDestination")
    def disable_kinesis_streaming_destination(self, ctx: RequestContext, TableName: str,
                                              StreamArn: str,
                                              EnableKinesisStreamingConfiguration: dict
                                              | None = None) -> dict:
        return self._kinesis(ctx, TableName, StreamArn, False,
                             EnableKinesisStreamingConfiguration)

    def _kinesis(self, ctx: RequestContext, name: str, stream_arn: str, enabled: bool,
                 configuration: dict | None) -> dict:
        table = self.tables.describe_target(ctx, name)
        destination = self.settings.set_kinesis_destination(table, stream_arn, enabled,
                                                          configuration)
        return {"TableName": table.name, "StreamArn": stream_arn,
                "DestinationStatus": "ENABLING" if enabled else "DISABLING",
                "EnableKinesisStreamingConfiguration": {
                    "ApproximateCreationDateTimePrecision":
                    destination["ApproximateCreationDateTimePrecision"]}}

    @handler("UpdateKinesisStreamingDestination")
    def update_kinesis_streaming_destination(self, ctx: RequestContext, TableName: str,
                                             StreamArn: str,
                                             UpdateKinesisStreamingConfiguration: dict
                                             | None = None) -> dict:
        table = self.tables.describe_target(ctx, TableName)
        destination = self.settings.update_kinesis_destination(
            table, StreamArn, UpdateKinesisStreamingConfiguration)
        return {"TableName": table.name, "StreamArn": StreamArn, "DestinationStatus": "UPDATING",
                "UpdateKinesisStreamingConfiguration": {
                    "ApproximateCreationDateTimePrecision":
                    destination["ApproximateCreationDateTimePrecision"]}}

    @handler("DescribeKinesisStreamingDestination")
    def describe_kinesis_streaming_destination(self, ctx: RequestContext,
                                               TableName: str) -> dict:
        table = self.tables.describe_target(ctx, TableName)
        return {"TableName": table.name,
                "KinesisDataStreamDestinations": table.record.get("kinesis", [])}

    @handler("UpdateContributorInsights")
    def update_contributor_insights(self, ctx: RequestContext, TableName: str,
                                    ContributorInsightsAction: str,
                                    IndexName: str | None = None,
                                    ContributorInsightsMode: str | None = None) -> dict:
        return self.settings.set_insights(self.tables.describe_target(ctx, TableName), IndexName,
                                          ContributorInsightsAction, ContributorInsightsMode)

    @handler("DescribeContributorInsights")
    def describe_contributor_insights(self, ctx: RequestContext, TableName: str,
                                      IndexName: str | None = None) -> dict:
        return self.settings.insights(self.tables.describe_target(ctx, TableName), IndexName)

    @handler("ListContributorInsights")
    def list_contributor_insights(self, ctx: RequestContext, TableName: str | None = None,
                                  NextToken: str | None = None,
                                  MaxResults: int | None = None) -> dict:
        if TableName is not None:
            tables = [self.tables.describe_target(ctx, TableName)]
        else:
            names, _ = self.tables.list(ctx.account_id, ctx.region, None, None, everything=True)
            tables = [self.tables.get(ctx, name) for name in names]
        return {"ContributorInsightsSummaries": self.settings.insight_summaries(tables)}

    # -- global tables version 2017.11.29: AWS no longer creates them -----------------------

    @handler("CreateGlobalTable")
    def create_global_table(self, ctx: RequestContext, GlobalTableName: str,
                            ReplicationGroup: list[dict]) -> dict:
        raise legacy_global_tables()

    @handler("UpdateGlobalTable")
    def update_global_table(self, ctx: RequestContext, GlobalTableName: str,
                            ReplicaUpdates: list[dict]) -> dict:
        raise legacy_global_tables()

    @handler("ListGlobalTables")
    def list_global_tables(self, ctx: RequestContext, ExclusiveStartGlobalTableName=None,
                           Limit=None, RegionName=None) -> dict:
        return {"GlobalTables": []}  # only 2017.11.29 tables are listed, and none can exist

    @handler("DescribeGlobalTable")
    def describe_global_table(self, ctx: RequestContext, GlobalTableName: str) -> dict:
        raise global_table_not_found(GlobalTableName)

    @handler("DescribeGlobalTableSettings")
    def describe_global_table_settings(self, ctx: RequestContext,
                                       GlobalTableName: str) -> dict:
        raise global_table_not_found(GlobalTableName)

    @handler("UpdateGlobalTableSettings")
    def update_global_table_settings(self, ctx: RequestContext, GlobalTableName: str,
                                     **settings) -> dict:
        raise global_table_not_found(GlobalTableName)

    # -- backups ----------------------------------------------------------------------------

    @handler("CreateBackup")
    def create_backup(self, ctx: RequestContext, TableName: str, BackupName: str) -> dict:
        table = self._settings_target(ctx, TableName)
        details = self.backups.create(ctx, table, BackupName)
        self._sweep_due.set()  # the copy starts
        return {"BackupDetails": details}

    @handler("DescribeBackup")
    def describe_backup(self, ctx: RequestContext, BackupArn: str) -> dict:
        return {"BackupDescription": self.backups.describe(ctx, BackupArn)}

    @handler("ListBackups")
    def list_backups(self, ctx: RequestContext, TableName: str | None = None,
                     Limit: int | None = None, TimeRangeLowerBound: datetime | None = None,
                     TimeRangeUpperBound: datetime | None = None,
                     ExclusiveStartBackupArn: str | None = None,
                     BackupType: str | None = None) -> dict:
        return self.backups.list(
            ctx, TableName, Limit, ExclusiveStartBackupArn,
            TimeRangeLowerBound.timestamp() if TimeRangeLowerBound else None,
            TimeRangeUpperBound.timestamp() if TimeRangeUpperBound else None, BackupType)

    @handler("DeleteBackup")
    def delete_backup(self, ctx: RequestContext, BackupArn: str) -> dict:
        return {"BackupDescription": self.backups.delete(ctx, BackupArn)}

    @handler("RestoreTableFromBackup")
    def restore_table_from_backup(self, ctx: RequestContext, TargetTableName: str,
                                  BackupArn: str, **overrides) -> dict:
        table = self.backups.restore(ctx, BackupArn, TargetTableName, overrides)
        self._sweep_due.set()  # the copy starts
        return {"TableDescription": self.tables.describe(table, "CREATING")}

    @handler("RestoreTableToPointInTime")
    def restore_table_to_point_in_time(self, ctx: RequestContext, TargetTableName: str,
                                       SourceTableArn: str | None = None,
                                       SourceTableName: str | None = None,
                                       UseLatestRestorableTime: bool | None = None,
                                       RestoreDateTime=None, **overrides) -> dict:
        name = SourceTableName or SourceTableArn or ""
        source = self.tables.find(ctx.account_id, ctx.region, name)
        if source is None:
            raise ServiceError("TableNotFoundException", f"Table not found: {name_from_arn(name)}")
        if bool(UseLatestRestorableTime) == (RestoreDateTime is not None):
            raise validation("Invalid Request: Either one of RestoreDateTime or "
                             "UseLatestRestorableTime must be specified, but not both")
        moment = None if UseLatestRestorableTime else RestoreDateTime.timestamp()
        table = self.backups.restore_to_time(ctx, source, TargetTableName, moment, overrides)
        self._sweep_due.set()  # the copy starts
        return {"TableDescription": self.tables.describe(table, "CREATING")}

    # -- exports and imports (S3) ------------------------------------------------------------

    @handler("ExportTableToPointInTime")
    def export_table_to_point_in_time(self, ctx: RequestContext, **params) -> dict:
        description = self.transfers.export(ctx, **params)
        self._sweep_due.set()
        return {"ExportDescription": description}

    @handler("DescribeExport")
    def describe_export(self, ctx: RequestContext, ExportArn: str) -> dict:
        return {"ExportDescription": self.transfers.describe_export(ctx, ExportArn)}

    @handler("ListExports")
    def list_exports(self, ctx: RequestContext, TableArn: str | None = None,
                     MaxResults: int | None = None, NextToken: str | None = None) -> dict:
        return self.transfers.list_exports(ctx, TableArn, MaxResults, NextToken)

    @handler("ImportTable")
    def import_table(self, ctx: RequestContext, **params) -> dict:
        description = self.transfers.import_table(ctx, **params)
        self._sweep_due.set()
        return {"ImportTableDescription": description}

    @handler("DescribeImport")
    def describe_import(self, ctx: RequestContext, ImportArn: str) -> dict:
        return {"ImportTableDescription": self.transfers.describe_import(ctx, ImportArn)}

    @handler("ListImports")
    def list_imports(self, ctx: RequestContext, TableArn: str | None = None,
                     PageSize: int | None = None, NextToken: str | None = None) -> dict:
        return self.transfers.list_imports(ctx, TableArn, PageSize, NextToken)

    # -- items ------------------------------------------------------------------------------

    @handler("PutItem")
    def put_item(self, ctx: RequestContext, **params) -> dict:
        return self.requests.put_item(ctx, **params)

    @handler("GetItem")
    def get_item(self, ctx: RequestContext, **params) -> dict:
        return self.requests.get_item(ctx, **params)

    @handler("UpdateItem")
    def update_item(self, ctx: RequestContext, **params) -> dict:
        return self.requests.update_item(ctx, **params)

    @handler("DeleteItem")
    def delete_item(self, ctx: RequestContext, **params) -> dict:
        return self.requests.delete_item(ctx, **params)

    @handler("Query")
    def query(self, ctx: RequestContext, **params) -> dict:
        return self.queries.query(ctx, **params)

    @handler("Scan")
    def scan(self, ctx: RequestContext, **params) -> dict:
        return self.queries.scan(ctx, **params)

    @handler("BatchGetItem")
    def batch_get_item(self, ctx: RequestContext, RequestItems: dict,
                       ReturnConsumedCapacity: str | None = None) -> dict:
        return self.batches.get(ctx, RequestItems, ReturnConsumedCapacity)

    @handler("BatchWriteItem")
    def batch_write_item(self, ctx: RequestContext, RequestItems: dict,
                         ReturnConsumedCapacity: str | None = None,
                         ReturnItemCollectionMetrics: str | None = None) -> dict:
        return self.batches.write(ctx, RequestItems, ReturnConsumedCapacity,
                                  ReturnItemCollectionMetrics)

    @handler("TransactGetItems")
    def transact_get_items(self, ctx: RequestContext, TransactItems: list[dict],
                           ReturnConsumedCapacity: str | None = None) -> dict:
        return self.batches.transact_get(ctx, TransactItems, ReturnConsumedCapacity)

    @handler("TransactWriteItems")
    def transact_write_items(self, ctx: RequestContext, TransactItems: list[dict],
                             ReturnConsumedCapacity: str | None = None,
                             ReturnItemCollectionMetrics: str | None = None,
                             ClientRequestToken: str | None = None) -> dict:
        return self.batches.transact_write(ctx, TransactItems, ReturnConsumedCapacity,
                                           ClientRequestToken, ReturnItemCollectionMetrics)

    # -- PartiQL ----------------------------------------------------------------------------

    @handler("ExecuteStatement")
    def execute_statement(self, ctx: RequestContext, **params) -> dict:
        return self.statements.execute(ctx, **params)

    @handler("BatchExecuteStatement")
    def batch_execute_statement(self, ctx: RequestContext, **params) -> dict:
        return self.statements.batch(ctx, **params)

    @handler("ExecuteTransaction")
    def execute_transaction(self, ctx: RequestContext, **params) -> dict:
        return self.statements.transaction(ctx, **params)
