"""DynamoDB Streams: the change records a table with a stream writes, and reading them back as
the dynamodbstreams API does (records in write order, kept 24 hours).

Items.write calls ``StreamWriter.record`` for every change of an item; streams_api.py serves
ListStreams, DescribeStream, GetShardIterator and GetRecords from the same store table.

Shards roll over as AWS's do, every 4 hours: shard k of a stream holds the records written in
the k-th 4-hour window after the stream was enabled; it closes (EndingSequenceNumber, and
GetRecords gives no NextShardIterator once it is read to its end) when its window ends or the
stream is disabled, and shard k+1 names it as ParentShardId. Shards are listed while they may
still hold records (closed less than 24 hours ago).
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
SHARD_LIFETIME = 4 * 3600
ITERATOR_LIFETIME = 15 * 60
MAX_RECORDS = 1000
SEQUENCE_BASE = 10 ** 20  # sequence numbers print as 21 digits, as AWS's do
TTL_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


def shard_id(stream: dict, epoch: int) -> str:
    """The id of the stream's ``epoch``-th shard: its opening time and a digest."""
    name = stream["StreamArn"] if epoch == 0 else f"{stream['StreamArn']}/{epoch}"
    opened = stream["created"] + epoch * SHARD_LIFETIME
    return f"shardId-{int(opened * 1000):020d}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


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

    def _epochs(self, stream: dict) -> tuple[range, int | None]:
        """The epochs of the shards listed, and the one still open (None once disabled)."""
        now = self.clock.now()
        until = now if stream.get("enabled", True) else stream.get("disabled", now)
        current = int((until - stream["created"]) // SHARD_LIFETIME)
        oldest = max(0, int((now - RETENTION - stream["created"]) // SHARD_LIFETIME))
        return range(min(oldest, current), current + 1), (
            current if stream.get("enabled", True) else None)

    def _window(self, stream: dict, epoch: int) -> tuple[float, float]:
        opened = stream["created"] + epoch * SHARD_LIFETIME
        return opened, opened + SHARD_LIFETIME

    def _in_window(self, arn: str, window: tuple[float, float], reverse: bool) -> dict | None:
        found = self.records.find(index="by_stream_created", eq=(arn,), lo=window[0],
                                  hi=window[1], limit=1, reverse=reverse)
        return found[0] if found else None

    def _start(self, stream: dict, window: tuple[float, float]) -> tuple[int, bool]:
        """The first sequence number of a shard, and whether it holds any record (an empty
        shard starts after the records before it)."""
        arn = stream["StreamArn"]
        first = self._in_window(arn, window, reverse=False)
        if first is not None:
            return first["sequence"], True
        before = self.records.find(index="by_stream_created", eq=(arn,), hi=window[0],
                                   limit=1, reverse=True)
        return (before[0]["sequence"] + 1 if before else stream.get("first_sequence", 0)), False

    def _shard(self, stream: dict, epoch: int, open_epoch: int | None) -> dict:
        arn = stream["StreamArn"]
        window = self._window(stream, epoch)
        start, filled = self._start(stream, window)
        shard: dict[str, Any] = {"ShardId": shard_id(stream, epoch),
                                 "SequenceNumberRange": {
                                     "StartingSequenceNumber": sequence_text(start)}}
        if epoch > 0:
            shard["ParentShardId"] = shard_id(stream, epoch - 1)
        if epoch != open_epoch and filled:
            last = self._in_window(arn, window, reverse=True)
            shard["SequenceNumberRange"]["EndingSequenceNumber"] = sequence_text(
                last["sequence"])
        return shard

    def describe(self, account: str, arn: str, limit: int | None = None,
                 exclusive_start: str | None = None) -> dict:
        record, stream = self._table_of(account, arn)
        epochs, open_epoch = self._epochs(stream)
        ids = [shard_id(stream, epoch) for epoch in epochs]
        first = ids.index(exclusive_start) + 1 if exclusive_start in ids else 0
        limit = limit or 100
        chosen = list(epochs)[first:first + limit]
        description: dict[str, Any] = {
            "StreamArn": arn, "StreamLabel": stream["StreamLabel"],
            "StreamStatus": "ENABLED" if stream.get("enabled", True) else "DISABLED",
            "StreamViewType": stream["StreamViewType"],
            "CreationRequestDateTime": stream["created"], "TableName": record["name"],
            "KeySchema": record["KeySchema"],
            "Shards": [self._shard(stream, epoch, open_epoch) for epoch in chosen]}
        if first + limit < len(ids):
            description["LastEvaluatedShardId"] = ids[first + limit - 1]
        return {"StreamDescription": description}

    def iterator(self, account: str, arn: str, shard: str, kind: str,
                 sequence: str | None, timestamp: float | None = None) -> str:
        record, stream = self._table_of(account, arn)
        epochs, open_epoch = self._epochs(stream)
        epoch = next((e for e in epochs if shard_id(stream, e) == shard), None)
        if epoch is None:
            raise ServiceError("ResourceNotFoundException",
                               "Requested resource not found: Shard does not exist")
        window = self._window(stream, epoch)
        if kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if sequence is None or not sequence.isdigit():
                raise validation("Sequence number is required for shard iterator type "
                                 f"{kind}" if sequence is None else
                                 f"Invalid SequenceNumber: {sequence}")
            start = int(sequence) - SEQUENCE_BASE + (kind == "AFTER_SEQUENCE_NUMBER")
        elif kind == "TRIM_HORIZON":
            start, _ = self._start(stream, window)
        elif kind == "AT_TIMESTAMP":
            start = self._at_time(stream, window, timestamp)
        else:  # LATEST
            last = self._in_window(arn, window, reverse=True)
            start = (last["sequence"] + 1) if last else self._start(stream, window)[0]
        return _encode({"arn": arn, "from": start, "issued": self.clock.now(),
                        "opened": window[0], "until": window[1]})

    def _at_time(self, stream: dict, window: tuple[float, float],
                 timestamp: float | None) -> int:
        """The first record of the shard created at or after ``timestamp`` (the shard's
        first when older, the one after its last when none is)."""
        if timestamp is None:
            raise validation("Timestamp is required for shard iterator type AT_TIMESTAMP")
        if timestamp > self.clock.now():
            raise validation("The Timestamp for shard iterator type AT_TIMESTAMP must not be "
                             "in the future.")
        if timestamp <= window[0]:
            return self._start(stream, window)[0]
        arn = stream["StreamArn"]
        found = self.records.find(index="by_stream_created", eq=(arn,), lo=timestamp,
                                  hi=window[1], limit=1)
        if found:
            return found[0]["sequence"]
        last = self._in_window(arn, window, reverse=True)
        return last["sequence"] + 1 if last else self._start(stream, window)[0]

    def get_records(self, account: str, iterator: str, limit: int | None) -> dict:
        state = _decode(iterator)
        now = self.clock.now()
        if now - state["issued"] > ITERATOR_LIFETIME:
            raise ServiceError("ExpiredIteratorException", "Iterator expired. The iterator was "
                               "created more than 15 minutes ago.")
        record, stream = self._table_of(account, state["arn"])
        wanted = min(limit or MAX_RECORDS, MAX_RECORDS)
        rows = self.records.find(eq=(state["arn"],), lo=state["from"], limit=wanted)
        # Iterators made before shards rolled over carry no window: the first shard's.
        opened = state.get("opened", stream["created"])
        until = state.get("until", opened + SHARD_LIFETIME)
        scanned = []  # the rows before the first of a later shard
        for row in rows:
            if row["created"] >= until:
                break
            scanned.append(row)
        following = scanned[-1]["sequence"] + 1 if scanned else state["from"]
        closed = now >= until or not stream.get("enabled", True)
        exhausted = len(scanned) < len(rows) or len(rows) < wanted
        output: dict[str, Any] = {"Records": [row["entry"] for row in scanned
                                              if row["created"] >= opened]}
        if not (closed and exhausted):
            output["NextShardIterator"] = _encode(dict(state, **{"from": following,
                                                                "issued": now}))
        return output


def _encode(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


def iterator_stream(iterator: str) -> str | None:
    """The stream ARN a shard iterator reads (None: not an iterator of ours)."""
    try:
        return _decode(iterator)["arn"]
    except ServiceError:
        return None


def _decode(iterator: str) -> dict:
    try:
        state = json.loads(base64.urlsafe_b64decode(iterator.encode()))
        if not isinstance(state, dict) or {"arn", "from", "issued"} - set(state):
            raise ValueError(iterator)
        return state
    except ValueError:
        raise validation("Invalid ShardIterator") from None
