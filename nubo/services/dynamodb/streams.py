"""DynamoDB Streams: the change records a table with a stream writes, and reading them back as
the dynamodbstreams API does (one shard per stream, records in write order, kept 24 hours).

Items.write calls ``StreamWriter.record`` for every change of an item; streams_api.py serves
ListStreams, DescribeStream, GetShardIterator and GetRecords from the same store table.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any

from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.services.dynamodb import schema
from nubo.services.dynamodb.values import item_size, validation
from nubo.store import Store

RETENTION = 24 * 3600
ITERATOR_LIFETIME = 15 * 60
MAX_RECORDS = 1000
SEQUENCE_BASE = 10 ** 20  # sequence numbers print as 21 digits, as AWS's do
TTL_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


def shard_id(stream: dict) -> str:
    digest = hashlib.sha256(stream["StreamArn"].encode()).hexdigest()
    return f"shardId-{int(stream['created'] * 1000):020d}-{digest[:8]}"


def sequence_text(sequence: int) -> str:
    return str(SEQUENCE_BASE + sequence)


class StreamWriter:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.records = store.table(schema.STREAM_RECORDS)

    def record(self, table, old: dict | None, new: dict | None, by_service: bool) -> None:
        stream = table.record.get("stream")
        if stream is None or not stream.get("enabled", True) or old == new:
            return
        view = stream["StreamViewType"]
        source = new if new is not None else old
        change: dict[str, Any] = {"Keys": table.key.key_of(source)}
        if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and new is not None:
            change["NewImage"] = new
        if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and old is not None:
            change["OldImage"] = old
        sequence = self.store.sequence("dynamodb_stream_record")
        now = self.clock.now()
        change["SequenceNumber"] = sequence_text(sequence)
        change["SizeBytes"] = sum(item_size(part) for part in change.values()
                                  if isinstance(part, dict))
        change["StreamViewType"] = view
        change["ApproximateCreationDateTime"] = int(now)
        entry = {
            "eventID": uuid.uuid4().hex,
            "eventName": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": table.record["region"],
            "dynamodb": change,
        }
        if by_service:
            entry["userIdentity"] = TTL_IDENTITY
        self.records.put({"stream": stream["StreamArn"], "sequence": sequence, "created": now,
                          "entry": entry})

    def expire(self) -> int:
        return self.records.delete_where(index="by_created", hi=self.clock.now() - RETENTION)


class StreamReader:
    """The dynamodbstreams API over the tables' stream settings and the stored records."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.clock = clock
        self.tables = store.table(schema.TABLES)
        self.records = store.table(schema.STREAM_RECORDS)

    def _table_of(self, account: str, arn: str) -> tuple[dict, dict]:
        parts = arn.split(":", 5)
        if len(parts) != 6 or "/stream/" not in parts[5]:
            raise validation("Invalid StreamArn")
        name = parts[5].split("/")[1]
        record = self.tables.get((parts[4], parts[3], name))
        stream = record.get("stream") if record else None
        if stream is None or stream["StreamArn"] != arn:
            raise ServiceError("ResourceNotFoundException",
                               f"Requested resource not found: Stream: {arn} not found")
        return record, stream

    def list(self, account: str, region: str, table_name: str | None, limit: int | None,
             start: str | None) -> dict:
        rows = self.tables.find(eq=(account, region))
        streams = [{"StreamArn": row["stream"]["StreamArn"], "TableName": row["name"],
                    "StreamLabel": row["stream"]["StreamLabel"]}
                   for row in rows if row.get("stream") and
                   (table_name is None or row["name"] == table_name)]
        if start is not None:
            arns = [s["StreamArn"] for s in streams]
            streams = streams[arns.index(start) + 1:] if start in arns else []
        limit = limit or 100
        output: dict[str, Any] = {"Streams": streams[:limit]}
        if len(streams) > limit:
            output["LastEvaluatedStreamArn"] = streams[limit - 1]["StreamArn"]
        return output

    def _bounds(self, arn: str) -> tuple[dict | None, dict | None]:
        first = self.records.find(eq=(arn,), limit=1)
        last = self.records.find(eq=(arn,), limit=1, reverse=True)
        return (first[0] if first else None), (last[0] if last else None)

    def describe(self, account: str, arn: str) -> dict:
        record, stream = self._table_of(account, arn)
        enabled = stream.get("enabled", True)
        first, last = self._bounds(arn)
        shard: dict[str, Any] = {"ShardId": shard_id(stream), "SequenceNumberRange": {
            "StartingSequenceNumber": sequence_text(first["sequence"] if first else
                                                    stream.get("first_sequence", 0))}}
        if not enabled and last is not None:
            shard["SequenceNumberRange"]["EndingSequenceNumber"] = sequence_text(
                last["sequence"])
        return {"StreamDescription": {
            "StreamArn": arn, "StreamLabel": stream["StreamLabel"],
            "StreamStatus": "ENABLED" if enabled else "DISABLED",
            "StreamViewType": stream["StreamViewType"],
            "CreationRequestDateTime": stream["created"], "TableName": record["name"],
            "KeySchema": record["KeySchema"], "Shards": [shard]}}

    def iterator(self, account: str, arn: str, shard: str, kind: str,
                 sequence: str | None) -> str:
        record, stream = self._table_of(account, arn)
        if shard != shard_id(stream):
            raise ServiceError("ResourceNotFoundException",
                               "Requested resource not found: Shard does not exist")
        if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if sequence is None or not sequence.isdigit():
                raise validation("Sequence number is required for shard iterator type "
                                 f"{kind}" if sequence is None else
                                 f"Invalid SequenceNumber: {sequence}")
            start = int(sequence) - SEQUENCE_BASE + (kind == "AFTER_SEQUENCE_NUMBER")
        elif kind == "TRIM_HORIZON":
            start = 0
        else:  # LATEST
            _, last = self._bounds(arn)
            start = (last["sequence"] + 1) if last else 0
        return _encode({"arn": arn, "from": start, "issued": self.clock.now()})

    def get_records(self, account: str, iterator: str, limit: int | None) -> dict:
        state = _decode(iterator)
        if self.clock.now() - state["issued"] > ITERATOR_LIFETIME:
            raise ServiceError("ExpiredIteratorException", "Iterator expired. The iterator was "
                               "created more than 15 minutes ago.")
        record, stream = self._table_of(account, state["arn"])
        rows = self.records.find(eq=(state["arn"],), lo=state["from"],
                                 limit=min(limit or MAX_RECORDS, MAX_RECORDS))
        records = [row["entry"] for row in rows]
        following = rows[-1]["sequence"] + 1 if rows else state["from"]
        output: dict[str, Any] = {"Records": records}
        if stream.get("enabled", True) or rows:
            output["NextShardIterator"] = _encode({"arn": state["arn"], "from": following,
                                                   "issued": self.clock.now()})
        return output


def _encode(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


def _decode(iterator: str) -> dict:
    try:
        state = json.loads(base64.urlsafe_b64decode(iterator.encode()))
        if not isinstance(state, dict) or {"arn", "from", "issued"} - set(state):
            raise ValueError(iterator)
        return state
    except ValueError:
        raise validation("Invalid ShardIterator") from None
