"""Amazon DynamoDB Streams handlers (API 2012-08-10, service "dynamodbstreams"): the change
records of DynamoDB tables with a stream, written by the DynamoDB provider (streams.py)."""

from __future__ import annotations

from datetime import datetime

from nubo.core.context import RequestContext
from nubo.core.runtime import Runtime
from nubo.policy import ResourcePolicy
from nubo.services.base import ServiceProvider, handler
from nubo.services.dynamodb.streams import StreamReader, iterator_stream


class DynamodbstreamsProvider(ServiceProvider):
    service_name = "dynamodbstreams"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.streams = StreamReader(runtime.store, runtime.clock)

    def resource_names(self, ctx: RequestContext, operation: str,
                       params: dict) -> dict[str, str | list[str]]:
        """GetRecords names its stream only inside the shard iterator."""
        if operation != "GetRecords" or not isinstance(params.get("ShardIterator"), str):
            return {}
        arn = iterator_stream(params["ShardIterator"])
        parts = (arn or "").split(":", 5)
        resource = parts[5].split("/") if len(parts) == 6 else []
        if len(resource) != 4 or resource[0] != "table" or resource[2] != "stream":
            return {}
        return {"Region": parts[3], "Account": parts[4], "TableName": resource[1],
                "StreamLabel": resource[3]}

    def resource_policy(self, ctx: RequestContext, arn: str) -> ResourcePolicy | None:
        """A stream's resource-based policy is kept with its table, by DynamoDB."""
        dynamodb = self.runtime.services.get("dynamodb")
        return dynamodb.resource_policy(ctx, arn) if dynamodb is not None else None

    @handler("ListStreams")
    def list_streams(self, ctx: RequestContext, TableName: str | None = None,
                     Limit: int | None = None, ExclusiveStartStreamArn: str | None = None) -> dict:
        return self.streams.list(ctx.account_id, ctx.region, TableName, Limit,
                                 ExclusiveStartStreamArn)

    @handler("DescribeStream")
    def describe_stream(self, ctx: RequestContext, StreamArn: str, Limit: int | None = None,
                        ExclusiveStartShardId: str | None = None) -> dict:
        return self.streams.describe(ctx.account_id, StreamArn, Limit, ExclusiveStartShardId)

    @handler("GetShardIterator")
    def get_shard_iterator(self, ctx: RequestContext, StreamArn: str, ShardId: str,
                           ShardIteratorType: str, SequenceNumber: str | None = None,
                           Timestamp: datetime | None = None) -> dict:
        return {"ShardIterator": self.streams.iterator(
            ctx.account_id, StreamArn, ShardId, ShardIteratorType, SequenceNumber,
            Timestamp.timestamp() if Timestamp is not None else None)}

    @handler("GetRecords")
    def get_records(self, ctx: RequestContext, ShardIterator: str,
                    Limit: int | None = None) -> dict:
        return self.streams.get_records(ctx.account_id, ShardIterator, Limit)
