"""Exports to S3 (ExportTableToPointInTime, DescribeExport, ListExports) and imports from S3
(ImportTable, DescribeImport, ListImports), run as background jobs as on AWS.

An export answers IN_PROGRESS; the background loop then writes it to S3 in AWS's layout:
``<prefix>/AWSDynamoDB/<ExportId>/`` with ``_started``, the ``manifest-files.json`` /
``manifest-summary.json`` manifests and their ``.md5`` files (base64 MD5, as real exports have
them), and gzipped data files (at least one, empty for an empty export). A full export
snapshots the table (its rows copied under the export's own id a chunk at a time, then every
write since ExportTime undone with the point-in-time history, whatever the copy saw of them) and
writes it under ``<ExportId>/data/`` (DYNAMODB_JSON: ``{"Item": ...}`` a line; ION:
``$ion_1_0 {Item:{...}}`` a line, sets annotated ``$dynamodb_SS::`` etc.). An incremental
export (INCREMENTAL_EXPORT) writes, to the ``AWSDynamoDB/data/`` folder incremental exports
share, a line per item written in its window: ``Metadata.WriteTimestampMicros``, ``Keys`` and,
per ExportViewType, the ``OldImage`` (as at ExportFromTime) and ``NewImage`` (as at
ExportToTime), read from the same point-in-time history. Then COMPLETED (or FAILED with the S3
error). An import creates the table at once and
the background loop reads every object under the S3 prefix (DYNAMODB_JSON, ION or CSV, GZIP,
ZSTD or uncompressed), counting the lines it cannot import as errors. S3 is called in-process
(ServiceRegistry.call) as the requester, never over HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import csv
import gzip
import hashlib
import logging
import math
import re
import secrets
import zlib
from dataclasses import astuple
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Callable

import orjson
import zstandard

from nubo.core.clock import Clock
from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.core.http import BodyStream
from nubo.services.dynamodb import schema
from nubo.services.dynamodb.items import Items
from nubo.services.dynamodb.models import KeySchema, Table, Tables
from nubo.services.dynamodb.queries import ItemFilter, item_filter
from nubo.services.dynamodb.values import (canonical_number, checked_item, dump_item,
                                           load_item, parse_number, validation)
from nubo.store import Store

log = logging.getLogger("nubo.dynamodb")

DATA_FILE_ITEMS = 10_000  # items per exported data file
READ_ROWS = 1_000  # snapshot rows read per chunk
MAX_LIST = 25  # ListExports MaxResults / ListImports PageSize
YIELD_EVERY = 256  # lines an import writes before letting other requests run
TOKEN_LIFETIME = 8 * 3600  # a ClientToken names the same export or import for 8 hours
MIN_INCREMENTAL_WINDOW = 15 * 60  # an incremental export's window: 15 minutes to 24 hours
MAX_INCREMENTAL_WINDOW = 24 * 3600
MIN_INCREMENTAL_BILLED = 10_000_000  # bytes: an incremental export is billed 10 MB at least
Call = Callable[[RequestContext, str, str, dict], Any]


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _iso_seconds(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _md5(data: bytes) -> str:
    """The manifests' checksums: an MD5 digest in base64."""
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _incremental_spec(export_type: str | None, spec: dict | None) -> dict | None:
    """The IncrementalExportSpecification (times in epoch seconds) of an incremental export,
    None for a full one; the combinations AWS refuses are refused with its messages."""
    if spec is not None and export_type is None:
        raise validation("Invalid Request: Export Type expected to be Incremental Export when "
                         "incremental export specification is provided")
    if spec is not None and export_type == "FULL_EXPORT":
        raise validation("Invalid Request: When Export Type is Full Export , Incremental "
                         "Export Specification should not be provided")
    if export_type != "INCREMENTAL_EXPORT":
        return None
    if spec is None:
        raise validation("Invalid Request: Incremental Export Specification expected when "
                         "export type is set as Incremental Export")
    if spec.get("ExportFromTime") is None:
        raise validation("Invalid Request: ExportFromTime must be provided in "
                         "IncrementalExportSpecification")
    end = spec.get("ExportToTime")
    return {"ExportFromTime": spec["ExportFromTime"].timestamp(),
            "ExportToTime": None if end is None else end.timestamp(),
            "ExportViewType": spec.get("ExportViewType")}


def _job_arn(table_arn: str, kind: str, now: float) -> str:
    return f"{table_arn}/{kind}/{int(now * 1000):014d}-{secrets.token_hex(4)}"


def _job_context(record: dict, operation: str) -> RequestContext:
    """The context of a job's S3 calls: the requester's account, region and key."""
    return RequestContext(request_id=secrets.token_hex(8).upper(), service="dynamodb",
                          operation=operation, account_id=record["account"],
                          region=record["region"], access_key_id=record["access_key"],
                          protocol="json", host="")


def _page(rows: list[dict], limit: int | None, field: str) -> tuple[list[dict], str | None]:
    limit = limit or MAX_LIST
    if not 1 <= limit <= MAX_LIST:
        raise validation(f"1 validation error detected: Value '{limit}' at '{field}' failed to "
                         f"satisfy constraint: Member must have value less than or equal to "
                         f"{MAX_LIST}")
    if len(rows) > limit:
        return rows[:limit], base64.urlsafe_b64encode(rows[limit - 1]["arn"].encode()).decode()
    return rows, None


def _after(token: str | None, kind: str) -> str | None:
    """The ARN a NextToken of ListExports/ListImports (``kind``: export | import) goes on
    after; another listing's token is refused as AWS refuses it."""
    if token is None:
        return None
    try:
        arn = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        arn = ""
    if f"/{kind}/" not in arn:
        raise validation(f"Invalid Request: Provided nextToken is invalid: {token}")
    return arn


class Transfers:
    def __init__(self, store: Store, clock: Clock, tables: Tables, items: Items,
                 call: Call) -> None:
        self.store = store
        self.clock = clock
        self.tables = tables
        self.items = items
        self.call = call
        self.exports = store.table(schema.EXPORTS)
        self.imports = store.table(schema.IMPORTS)

    # -- exports ----------------------------------------------------------------------------

    def export(self, ctx: RequestContext, TableArn: str, S3Bucket: str,
               ExportTime: datetime | None = None, ClientToken: str | None = None,
               S3BucketOwner: str | None = None, S3Prefix: str | None = None,
               S3SseAlgorithm: str | None = None, S3SseKmsKeyId: str | None = None,
               ExportFormat: str | None = None, ExportType: str | None = None,
               IncrementalExportSpecification: dict | None = None,
               FilterSpecification: dict | None = None) -> dict:
        spec = _incremental_spec(ExportType, IncrementalExportSpecification)
        if spec is not None and FilterSpecification is not None:
            raise validation("FilterSpecification is supported only for full exports")
        if S3SseKmsKeyId is not None and S3SseAlgorithm != "KMS":
            raise validation("Invalid Request: KMS Key Id is not supported for this encryption "
                             "type")
        request = {"TableArn": TableArn, "S3Bucket": S3Bucket, "S3BucketOwner": S3BucketOwner,
                   "S3Prefix": S3Prefix, "S3SseAlgorithm": S3SseAlgorithm or "AES256",
                   "S3SseKmsKeyId": S3SseKmsKeyId,
                   "ExportFormat": ExportFormat or "DYNAMODB_JSON", "ExportType": ExportType,
                   "ExportTime": ExportTime.timestamp() if ExportTime else None,
                   "IncrementalExportSpecification": spec}
        if FilterSpecification is not None:
            request["FilterSpecification"] = FilterSpecification
        earlier = self._same_token(self.exports, ctx, ClientToken, request, "Export")
        if earlier is not None:
            return _export_view(earlier)
        table = self.tables.find(ctx.account_id, ctx.region, TableArn)
        if table is None:
            raise ServiceError("TableNotFoundException", f"Table not found: {TableArn}")
        if FilterSpecification is not None:
            item_filter(table.key, FilterSpecification)  # its expressions' errors, now
        pitr = table.record.get("pitr")
        now = self.clock.now()
        earliest = max(pitr["since"], now - pitr["days"] * 86400) if pitr else math.inf
        snapshot = self.store.sequence("dynamodb_table")  # ids shared with tables and backups
        arn = _job_arn(table.arn, "export", now)
        record = {"account": ctx.account_id, "region": ctx.region, "arn": arn,
                  "table_arn": table.arn, "status": "IN_PROGRESS", "token": ClientToken,
                  "access_key": ctx.access_key_id, "request": request, "snapshot": snapshot,
                  "source": table.id, "TableId": table.record["TableId"], "StartTime": now,
                  "token_expires": now + TOKEN_LIFETIME, "key": list(astuple(table.key))}
        if spec is None:
            if not pitr:
                raise ServiceError("PointInTimeRecoveryUnavailableException",
                                   "Point in time recovery is not enabled for table "
                                   f"'{table.name}'")
            moment = now if ExportTime is None else ExportTime.timestamp()
            if not earliest <= moment <= now:
                raise ServiceError("InvalidExportTimeException", "Export Time is invalid")
            record["ExportTime"] = moment
        else:
            record["incremental"] = self._changes_window(table, spec, earliest, now)
        self.exports.put(record)
        return _export_view(record)

    def _changes_window(self, table: Table, spec: dict, earliest: float, now: float) -> dict:
        """An incremental export's window [from, to) checked as AWS checks it, and the range of
        point-in-time history entries written in it (sequence numbers [first, end)): every
        later write has a later sequence number."""
        start = spec["ExportFromTime"]
        end = now if spec["ExportToTime"] is None else spec["ExportToTime"]
        if start < earliest or start > end:
            raise ServiceError("InvalidExportTimeException",
                               "Incremental export period from time cannot be less than the "
                               f"table creation time : {_iso_seconds(start)}")
        if end > now:
            raise ServiceError("InvalidExportTimeException",
                               "Incremental export period to time cannot be greater than the "
                               f"current time : {_iso_seconds(end)}")
        if end - start < MIN_INCREMENTAL_WINDOW:
            raise ServiceError("InvalidExportTimeException",
                               "Difference between export period from time and export period "
                               "to time is less than 15 minutes")
        if end - start > MAX_INCREMENTAL_WINDOW:
            raise ServiceError("InvalidExportTimeException",
                               "Difference between export period from time and export period "
                               "to time is more than 24 hours")
        history = self.items.history
        first = history.find(index="by_table_time", eq=(table.id,), lo=start, limit=1)
        after = history.find(index="by_table_time", eq=(table.id,), lo=end, limit=1)
        if after:
            last = after[0]["sequence"]
        else:
            latest = history.find(eq=(table.id,), reverse=True, limit=1)
            last = latest[0]["sequence"] + 1 if latest else 0
        return {"from": start, "to": end,
                "view": spec["ExportViewType"] or "NEW_AND_OLD_IMAGES",
                "keys": list(table.key.names),
                "first": first[0]["sequence"] if first else last, "end": last}

    def describe_export(self, ctx: RequestContext, arn: str) -> dict:
        return _export_view(self._job(self.exports, ctx, arn, "Export"))

    def list_exports(self, ctx: RequestContext, table_arn: str | None, limit: int | None,
                     token: str | None) -> dict:
        rows = self._listing(self.exports, ctx, table_arn, limit, token)
        page, last = _page(rows, limit, "maxResults")
        output: dict[str, Any] = {"ExportSummaries": [
            {"ExportArn": r["arn"], "ExportStatus": r["status"],
             "ExportType": "INCREMENTAL_EXPORT" if "incremental" in r else "FULL_EXPORT"}
            for r in page]}
        if last:
            output["NextToken"] = last
        return output

    async def _run_export(self, record: dict) -> None:
        request = record["request"]
        ctx = _job_context(record, "ExportTableToPointInTime")
        export_id = record["arn"].rsplit("/", 1)[1]
        root = "/".join(p for p in (request["S3Prefix"], "AWSDynamoDB") if p)
        base = f"{root}/{export_id}"
        incremental = record.get("incremental")
        # incremental exports' data files share one folder; a full export's are its own
        data_folder = f"{root}/data" if incremental else f"{base}/data"
        extension = "ion" if request["ExportFormat"] == "ION" else "json"
        await self._put(ctx, request, f"{base}/_started", b"")
        files, count, size = [], 0, 0
        chunks = (self._change_files(record) if incremental else self._snapshot_files(record))
        async for lines, lines_size in chunks:
            if not lines and files:
                continue
            # an empty export still has its (empty) data file, as AWS's empty partitions do
            data = gzip.compress(b"".join(lines), mtime=0)
            key = f"{data_folder}/{secrets.token_hex(13)}.{extension}.gz"
            etag = await self._put(ctx, request, key, data)
            files.append({"itemCount": len(lines),
                          "md5Checksum": _md5(data), "etag": etag.strip('"'),
                          "dataFileS3Key": key})
            count, size = count + len(lines), size + lines_size
        manifest = b"".join(orjson.dumps(f) + b"\n" for f in files)
        await self._put(ctx, request, f"{base}/manifest-files.json", manifest)
        await self._put(ctx, request, f"{base}/manifest-files.md5", _md5(manifest).encode())
        end = self.clock.now()
        summary: dict[str, Any] = {
            "version": "2023-08-01" if incremental else "2020-06-30",
            "exportArn": record["arn"], "startTime": _iso(record["StartTime"]),
            "endTime": _iso(end), "tableArn": record["table_arn"], "tableId": record["TableId"]}
        if incremental:
            size = max(size, MIN_INCREMENTAL_BILLED)  # AWS bills 10 MB at least
            summary.update(exportFromTime=_iso(incremental["from"]),
                           exportToTime=_iso(incremental["to"]))
        else:
            summary["exportTime"] = _iso(record["ExportTime"])
        summary.update({
            "s3Bucket": request["S3Bucket"], "s3Prefix": request["S3Prefix"],
            "s3SseAlgorithm": request["S3SseAlgorithm"],
            "s3SseKmsKeyId": request["S3SseKmsKeyId"],
            "manifestFilesS3Key": f"{base}/manifest-files.json", "billedSizeBytes": size,
            "itemCount": count, "outputFormat": request["ExportFormat"]})
        if incremental:
            summary.update(outputView=incremental["view"], exportType="INCREMENTAL_EXPORT")
        summary_bytes = orjson.dumps(summary)
        await self._put(ctx, request, f"{base}/manifest-summary.json", summary_bytes)
        await self._put(ctx, request, f"{base}/manifest-summary.md5",
                        _md5(summary_bytes).encode())
        self._finish(self.exports, record, "COMPLETED", EndTime=end, ItemCount=count,
                     BilledSizeBytes=size, ExportManifest=f"{base}/manifest-summary.json")

    async def _snapshot_files(self, record: dict) -> AsyncIterator[tuple[list[bytes], int]]:
        """A full export's data files: (lines, the size of the items read) each; requests go
        on between chunks, however few items a filter takes."""
        await self._snapshot(record)
        line_of = _EXPORT_LINES[record["request"]["ExportFormat"]]
        spec = record["request"].get("FilterSpecification")
        chosen = item_filter(KeySchema(*record["key"]), spec) if spec else None
        start = chosen.lo if chosen else None
        lines: list[bytes] = []
        size = 0
        while True:
            chunk, chunk_size, start = self._snapshot_chunk(record["snapshot"], start, line_of,
                                                            chosen)
            lines += chunk
            size += chunk_size
            if start is None or len(lines) >= DATA_FILE_ITEMS:
                yield lines, size
                if start is None:
                    return
                lines, size = [], 0
            await asyncio.sleep(0)

    async def _snapshot(self, record: dict) -> None:
        """The table as it was at ExportTime, under the export's snapshot id: copied a chunk at
        a time (requests go on in between), then the writes made since ExportTime undone,
        newest first, in one step. A copy begun again after a restart ends the same."""
        start = None
        while True:
            with self.store.transaction():
                start = self.items.copy_rows(record["source"], record["snapshot"], start,
                                             READ_ROWS)
            if start is None:
                break
            await asyncio.sleep(0)
        with self.store.transaction():
            self.items.rewind_rows(record["source"], record["snapshot"], record["ExportTime"])

    def _snapshot_chunk(self, snapshot: int, start: bytes | None,
                        line_of: Callable[[bytes], bytes], chosen: ItemFilter | None
                        ) -> tuple[list[bytes], int, bytes | None]:
        """The lines of the next rows of the snapshot, of the items ``chosen`` takes (all
        without it): (lines, the size of the items read, the position to go on from or None at
        the end)."""
        rows = self.items.rows.find_values(("position", "item", "size"), eq=(snapshot,),
                                           lo=start, hi=chosen.hi if chosen else None,
                                           limit=READ_ROWS)
        lines = []
        size = 0
        for _, stored, row_size in rows:
            size += row_size  # billed as read, taken or not
            if chosen is not None:
                item = chosen.apply(load_item(stored))
                if item is None:
                    continue
                stored = dump_item(item)
            lines.append(line_of(stored))
        return lines, size, rows[-1][0] + b"\x00" if len(rows) == READ_ROWS else None

    # -- incremental exports ----------------------------------------------------------------
    #
    # The point-in-time history holds, for every write, the item as it was before. An item
    # written in [from, to) is as it was at `from` in the before-image of its first write in
    # the window, and as it was at `to` in the before-image of its first write after the
    # window, or, written no more since, as it is now. Each step reads a chunk of history or
    # changes and lets requests run in between; the window's writes are one range of history
    # sequence numbers, the later ones all after it.

    async def _change_files(self, record: dict) -> AsyncIterator[tuple[list[bytes], int]]:
        """An incremental export's data files: the window's changed items, one line each."""
        window = record["incremental"]
        cursor: int | None = window["first"]
        while cursor is not None:  # the items as they were at `from`
            with self.store.transaction():
                cursor = self._note_old_images(record, cursor)
            await asyncio.sleep(0)
        cursor, caught_up = window["end"], False
        while not caught_up:  # as they were at `to`, for those written since
            with self.store.transaction():
                cursor, caught_up = self._note_new_images(record, cursor)
            await asyncio.sleep(0)
        line_of = _CHANGE_LINES[record["request"]["ExportFormat"]]
        start: bytes | None = b""
        lines: list[bytes] = []
        while start is not None:
            with self.store.transaction():
                # writes made while the previous chunk was sent hold their items' `to` images
                caught_up = False
                while not caught_up:
                    cursor, caught_up = self._note_new_images(record, cursor)
                start = self._change_lines(record, start, line_of, lines)
            if len(lines) >= DATA_FILE_ITEMS or start is None:
                yield lines, sum(map(len, lines))
                lines = []
            await asyncio.sleep(0)

    def _note_old_images(self, record: dict, cursor: int) -> int | None:
        """The next chunk of the window's writes: each item's first one keeps its before-image;
        where to go on, None at the window's end."""
        window = record["incremental"]
        changes = self.items.export_changes
        entries = self.items.history.find(eq=(record["source"],), lo=cursor, hi=window["end"],
                                          limit=READ_ROWS)
        for entry in entries:
            known = changes.get((record["snapshot"], entry["position"]))
            if known is None:
                changes.put({"export": record["snapshot"], "position": entry["position"],
                             "old": entry["before"], "written": entry["time"]})
            else:
                changes.put(dict(known, written=entry["time"]))
        return entries[-1]["sequence"] + 1 if len(entries) == READ_ROWS else None

    def _note_new_images(self, record: dict, cursor: int) -> tuple[int, bool]:
        """The next chunk of writes after the window: the first one of a changed item holds
        the item as it was at `to`. The new cursor and whether every write is read."""
        changes = self.items.export_changes
        entries = self.items.history.find(eq=(record["source"],), lo=cursor, limit=READ_ROWS)
        for entry in entries:
            known = changes.get((record["snapshot"], entry["position"]))
            if known is not None and not known.get("resolved"):
                changes.put(dict(known, new=entry["before"], resolved=True))
        if entries:
            cursor = entries[-1]["sequence"] + 1
        return cursor, len(entries) < READ_ROWS

    def _change_lines(self, record: dict, start: bytes, line_of: Callable[..., bytes],
                      lines: list[bytes]) -> bytes | None:
        """Lines for the next chunk of changed items (in position order) added to ``lines``;
        where to go on, None at the end. An item not written since the window is as it is
        now; one that did not exist at either end of the window (put, then deleted) has no
        line."""
        window = record["incremental"]
        changes = self.items.export_changes.find(eq=(record["snapshot"],), lo=start,
                                                 limit=READ_ROWS)
        for change in changes:
            if change.get("resolved"):
                new = change["new"]
            else:
                row = self.items.rows.get((record["source"], change["position"]))
                new = None if row is None else row["item"]
            old = change["old"]
            if old is None and new is None:
                continue
            image = orjson.loads(new if new is not None else old)
            keys = {name: image[name] for name in window["keys"]}
            if window["view"] == "NEW_IMAGE":
                old = None
            lines.append(line_of(round(change["written"] * 1_000_000), keys, old, new))
        return changes[-1]["position"] + b"\x00" if len(changes) == READ_ROWS else None

    async def _put(self, ctx: RequestContext, request: dict, key: str, data: bytes) -> str:
        params: dict[str, Any] = {"Bucket": request["S3Bucket"], "Key": key,
                                  "Body": BodyStream.of(data)}
        if request["S3BucketOwner"]:
            params["ExpectedBucketOwner"] = request["S3BucketOwner"]
        if request["S3SseAlgorithm"] == "KMS":
            params["ServerSideEncryption"] = "aws:kms"
            if request["S3SseKmsKeyId"]:
                params["SSEKMSKeyId"] = request["S3SseKmsKeyId"]
        return (await self.call(ctx, "s3", "PutObject", params))["ETag"]

    # -- imports ----------------------------------------------------------------------------

    def import_table(self, ctx: RequestContext, S3BucketSource: dict, InputFormat: str,
                     TableCreationParameters: dict, ClientToken: str | None = None,
                     InputFormatOptions: dict | None = None,
                     InputCompressionType: str | None = None) -> dict:
        if InputFormatOptions and InputFormat != "CSV":
            raise validation("Invalid Request: Unsupported InputFormatOptions for the given "
                             f"input format: {InputFormat}.")
        request = {"S3BucketSource": S3BucketSource, "InputFormat": InputFormat,
                   "InputFormatOptions": InputFormatOptions,
                   "InputCompressionType": InputCompressionType or "NONE",
                   "TableCreationParameters": TableCreationParameters}
        earlier = self._same_token(self.imports, ctx, ClientToken, request, "Import")
        if earlier is not None:
            return _import_view(earlier)
        table = self.tables.create(ctx, **TableCreationParameters)
        self.tables.change(table, importing=True)  # CREATING until the import ends
        now = self.clock.now()
        record = {"account": ctx.account_id, "region": ctx.region,
                  "arn": _job_arn(table.arn, "import", now), "table_arn": table.arn,
                  "status": "IN_PROGRESS", "token": ClientToken, "access_key": ctx.access_key_id,
                  "request": request, "TableId": table.record["TableId"], "table": table.id,
                  "StartTime": now, "token_expires": now + TOKEN_LIFETIME,
                  "ErrorCount": 0, "ProcessedSizeBytes": 0, "ProcessedItemCount": 0,
                  "ImportedItemCount": 0}
        self.imports.put(record)
        return _import_view(record)

    def describe_import(self, ctx: RequestContext, arn: str) -> dict:
        return _import_view(self._job(self.imports, ctx, arn, "Import"))

    def list_imports(self, ctx: RequestContext, table_arn: str | None, limit: int | None,
                     token: str | None) -> dict:
        rows = self._listing(self.imports, ctx, table_arn, limit, token)
        page, last = _page(rows, limit, "pageSize")
        summaries = []
        for r in page:
            view = _import_view(r)
            summaries.append({k: view[k] for k in (
                "ImportArn", "ImportStatus", "TableArn", "S3BucketSource",
                "CloudWatchLogGroupArn", "InputFormat", "StartTime", "EndTime") if k in view})
        output: dict[str, Any] = {"ImportSummaryList": summaries}
        if last:
            output["NextToken"] = last
        return output

    async def _run_import(self, record: dict) -> None:
        request = record["request"]
        source = request["S3BucketSource"]
        ctx = _job_context(record, "ImportTable")
        table = self.tables.by_id(record["table"])
        if table is None:  # deleted while importing
            raise ServiceError("ResourceNotFoundException", "The table was deleted")
        counts = {"ErrorCount": 0, "ProcessedSizeBytes": 0, "ProcessedItemCount": 0,
                  "ImportedItemCount": 0}
        token = None
        while True:
            params = {"Bucket": source["S3Bucket"], "Prefix": source.get("S3KeyPrefix") or ""}
            if source.get("S3BucketOwner"):
                params["ExpectedBucketOwner"] = source["S3BucketOwner"]
            if token:
                params["ContinuationToken"] = token
            listing = self.call(ctx, "s3", "ListObjectsV2", params)
            for entry in listing.get("Contents") or ():
                counts["ProcessedSizeBytes"] += entry["Size"]
                got = await self.call(ctx, "s3", "GetObject", {
                    "Bucket": source["S3Bucket"], "Key": entry["Key"]})
                chunks = _decompressed(got["Body"], request["InputCompressionType"])
                # each object has its own CSV header (unless HeaderList names the columns)
                reader = _LINE_READERS[request["InputFormat"]](table,
                                                               request["InputFormatOptions"])
                async for line in _lines(chunks):
                    if counts["ProcessedItemCount"] % YIELD_EVERY == 0:
                        await asyncio.sleep(0)  # requests go on while a large import runs
                    counts["ProcessedItemCount"] += 1
                    try:
                        item = reader(line)
                        if item is None:
                            counts["ProcessedItemCount"] -= 1  # a CSV header
                            continue
                        self._import_item(table, item)
                        counts["ImportedItemCount"] += 1
                    except (ServiceError, ValueError, KeyError, TypeError) as error:
                        counts["ErrorCount"] += 1
                        log.info("import %s: line not imported: %s", record["arn"], error)
            token = listing.get("NextContinuationToken")
            if not token:
                break
        self._finish(self.imports, record, "COMPLETED", EndTime=self.clock.now(), **counts)

    def _import_item(self, table: Table, item: dict) -> None:
        item, size = checked_item(item)
        self.items.check_item_keys(table, item)
        position = table.key.position(item)
        with self.store.transaction():
            old, old_size = self.items.load_sized(table, position)
            self.items.write(table, position, old, item, old_size=old_size, new_size=size)

    # -- both -------------------------------------------------------------------------------

    @staticmethod
    def _job(jobs, ctx: RequestContext, arn: str, kind: str) -> dict:
        record = jobs.get((ctx.account_id, ctx.region, arn))
        if record is None:
            # AWS repeats the prefix for exports: "Export not found: Export not found: <arn>"
            detail = f"Export not found: {arn}" if kind == "Export" else arn
            raise ServiceError(f"{kind}NotFoundException", f"{kind} not found: {detail}")
        return record

    def _same_token(self, jobs, ctx: RequestContext, token: str | None, request: dict,
                    kind: str) -> dict | None:
        """The job this ClientToken started in the last 8 hours, if any; a different request
        with the same token is AWS's conflict."""
        if token is None:
            return None
        for record in jobs.find(index="by_token", eq=(ctx.account_id, ctx.region, token)):
            if record["token_expires"] > self.clock.now():
                if record["request"] != request:
                    raise ServiceError(f"{kind}ConflictException",
                                       f"{kind} conflict: Duplicate request detected with "
                                       "conflicting parameters")
                return record
        return None

    @staticmethod
    def _listing(jobs, ctx: RequestContext, table_arn: str | None, limit: int | None,
                 token: str | None) -> list[dict]:
        after = _after(token, "export" if jobs.spec.name == schema.EXPORTS.name else "import")
        lo = None if after is None else after + "\x00"
        wanted = (limit or MAX_LIST) + 1
        if table_arn is not None:
            return jobs.find(index="by_table", eq=(ctx.account_id, ctx.region, table_arn),
                             lo=lo, limit=wanted)
        return jobs.find(eq=(ctx.account_id, ctx.region), lo=lo, limit=wanted)

    def _finish(self, jobs, record: dict, status: str, **fields: Any) -> None:
        record.update(fields, status=status)
        with self.store.transaction():
            jobs.put(record)
            if "snapshot" in record:
                self.tables.drop(record["snapshot"],
                                 "changes" if "incremental" in record else "items")
            table = self.tables.by_id(record["table"]) if "table" in record else None
            if table is not None:  # the imported table becomes ACTIVE
                self.tables.change(table, importing=False)

    async def run_pending(self) -> int:
        """Work through the exports and imports in progress; how many were done."""
        done = 0
        for jobs, run in ((self.exports, self._run_export), (self.imports, self._run_import)):
            for record in jobs.find(index="by_status", eq=("IN_PROGRESS",), limit=4):
                try:
                    await run(record)
                except ServiceError as error:
                    self._finish(jobs, record, "FAILED", EndTime=self.clock.now(),
                                 FailureCode=_failure_code(error), FailureMessage=error.message)
                except Exception as error:  # noqa: BLE001 - the job fails, the loop goes on
                    log.exception("DynamoDB %s failed", record["arn"])
                    self._finish(jobs, record, "FAILED", EndTime=self.clock.now(),
                                 FailureCode="InternalServerError", FailureMessage=str(error))
                done += 1
        return done


def _failure_code(error: ServiceError) -> str:
    """S3's errors are reported with their service's prefix, as AWS does (S3NoSuchBucket)."""
    return error.code if error.code.startswith(("Resource", "Table")) else f"S3{error.code}"


def _export_view(record: dict) -> dict:
    """DescribeExport's view; ExportType only when the request named it (as AWS echoes it)."""
    request = record["request"]
    view = {"ExportArn": record["arn"], "ExportStatus": record["status"],
            "StartTime": record["StartTime"], "TableArn": record["table_arn"],
            "TableId": record["TableId"], "ExportTime": record.get("ExportTime"),
            "ClientToken": record["token"], "S3Bucket": request["S3Bucket"],
            "S3BucketOwner": request["S3BucketOwner"], "S3Prefix": request["S3Prefix"],
            "S3SseAlgorithm": request["S3SseAlgorithm"],
            "S3SseKmsKeyId": request["S3SseKmsKeyId"], "ExportFormat": request["ExportFormat"],
            "ExportType": request.get("ExportType"),
            "FilterSpecification": request.get("FilterSpecification")}
    window = record.get("incremental")
    if window is not None:
        view["IncrementalExportSpecification"] = {
            "ExportFromTime": window["from"], "ExportToTime": window["to"],
            "ExportViewType": window["view"]}
    for field in ("EndTime", "ExportManifest", "ItemCount", "BilledSizeBytes", "FailureCode",
                  "FailureMessage"):
        view[field] = record.get(field)
    return {k: v for k, v in view.items() if v is not None}


def _import_view(record: dict) -> dict:
    request = record["request"]
    view = {"ImportArn": record["arn"], "ImportStatus": record["status"],
            "TableArn": record["table_arn"], "TableId": record["TableId"],
            "ClientToken": record["token"], "S3BucketSource": request["S3BucketSource"],
            "CloudWatchLogGroupArn": f"arn:aws:logs:{record['region']}:{record['account']}:"
                                     "log-group:/aws-dynamodb/imports:*",
            "InputFormat": request["InputFormat"],
            "InputFormatOptions": request["InputFormatOptions"],
            "InputCompressionType": request["InputCompressionType"],
            "TableCreationParameters": request["TableCreationParameters"],
            "StartTime": record["StartTime"]}
    for field in ("EndTime", "ErrorCount", "ProcessedSizeBytes", "ProcessedItemCount",
                  "ImportedItemCount", "FailureCode", "FailureMessage"):
        view[field] = record.get(field)
    return {k: v for k, v in view.items() if v is not None}


# -- export lines ---------------------------------------------------------------------------------

def _json_line(stored: bytes) -> bytes:
    return b'{"Item":' + stored + b"}\n"  # the stored item is its DynamoDB JSON already


_ION_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ION_KEYWORDS = {"null", "true", "false", "nan"}


def _ion_name(name: str) -> str:
    if _ION_SYMBOL.match(name) and name not in _ION_KEYWORDS:
        return name
    return orjson.dumps(name).decode()  # a string is a field name in Ion text too


def _ion(value: dict) -> str:
    """An attribute value (as stored: binaries in base64) in Ion text, as DynamoDB exports it:
    numbers decimals, binaries blobs, sets annotated lists, maps structs."""
    (kind, inner), = value.items()
    if kind == "S":
        return orjson.dumps(inner).decode()  # JSON's escapes are Ion's
    if kind == "N":
        return inner if "." in inner else inner + "."  # "600." is the decimal 600
    if kind == "B":
        return "{{" + inner + "}}"
    if kind == "BOOL":
        return "true" if inner else "false"
    if kind == "NULL":
        return "null"
    if kind in ("SS", "NS", "BS"):
        return f"$dynamodb_{kind}::[" + ",".join(_ion({kind[0]: v}) for v in inner) + "]"
    if kind == "L":
        return "[" + ",".join(_ion(v) for v in inner) + "]"
    return "{" + ",".join(f"{_ion_name(k)}:{_ion(v)}" for k, v in inner.items()) + "}"


def _ion_line(stored: bytes) -> bytes:
    return f"$ion_1_0 {{Item:{_ion({'M': orjson.loads(stored)})}}}\n".encode()


_EXPORT_LINES = {"DYNAMODB_JSON": _json_line, "ION": _ion_line}


def _json_change(micros: int, keys: dict, old: bytes | None, new: bytes | None) -> bytes:
    """An incremental export's line: when the item was last written in the window, its key,
    and its images as they were at the window's start (OldImage) and end (NewImage), each
    only if the item existed then."""
    line = (b'{"Metadata":{"WriteTimestampMicros":{"N":"%d"}},"Keys":' % micros
            + orjson.dumps(keys))
    if old is not None:
        line += b',"OldImage":' + old
    if new is not None:
        line += b',"NewImage":' + new
    return line + b"}\n"


def _ion_change(micros: int, keys: dict, old: bytes | None, new: bytes | None) -> bytes:
    fields = [f"Metadata:{{WriteTimestampMicros:{micros}}}", f"Keys:{_ion({'M': keys})}"]
    if old is not None:
        fields.append(f"OldImage:{_ion({'M': orjson.loads(old)})}")
    if new is not None:
        fields.append(f"NewImage:{_ion({'M': orjson.loads(new)})}")
    return f"$ion_1_0 {{{','.join(fields)}}}\n".encode()


_CHANGE_LINES = {"DYNAMODB_JSON": _json_change, "ION": _ion_change}


# -- reading import objects ---------------------------------------------------------------------

async def _chunks(body: bytes | AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """A GetObject body: S3 answers a small object's bytes as they are, a larger one as a
    stream of chunks."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        yield bytes(body)
        return
    async for chunk in body:
        yield chunk


async def _decompressed(body: bytes | AsyncIterator[bytes],
                        compression: str) -> AsyncIterator[bytes]:
    body = _chunks(body)
    if compression == "NONE":
        async for chunk in body:
            yield chunk
        return
    if compression == "GZIP":
        decoder = zlib.decompressobj(wbits=31)  # gzip framing
        async for chunk in body:
            yield decoder.decompress(chunk)
            while decoder.eof and decoder.unused_data:  # concatenated gzip members
                rest = decoder.unused_data
                decoder = zlib.decompressobj(wbits=31)
                yield decoder.decompress(rest)
        yield decoder.flush()
        return
    decoder = zstandard.ZstdDecompressor().decompressobj()
    async for chunk in body:
        yield decoder.decompress(chunk)


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Non-empty lines of the decompressed bytes, without holding more than a line."""
    pending = b""
    async for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            if line.strip():
                yield line
    if pending.strip():
        yield pending


def _json_reader(table: Table, options: dict | None) -> Callable[[bytes], dict | None]:
    def read(line: bytes) -> dict:
        document = orjson.loads(line)
        return load_item(orjson.dumps(document["Item"]))  # binaries back to bytes
    return read


def _csv_reader(table: Table, options: dict | None) -> Callable[[bytes], dict | None]:
    """CSV lines: the header first unless HeaderList names the columns; key attributes are
    typed by the table's definitions, every other value imported as a string (as AWS does)."""
    csv_options = (options or {}).get("Csv") or {}
    delimiter = csv_options.get("Delimiter") or ","
    header: list[str] | None = csv_options.get("HeaderList")
    types = {d["AttributeName"]: d["AttributeType"]
             for d in table.record["AttributeDefinitions"]}

    def read(line: bytes) -> dict | None:
        nonlocal header
        (values,) = csv.reader([codecs.decode(line, "utf-8-sig").rstrip("\r")],
                               delimiter=delimiter)
        if header is None:
            header = values
            return None
        item = {}
        for name, value in zip(header, values):
            kind = types.get(name, "S")
            if value == "" and kind != "S":
                continue
            if kind == "N":
                parse_number(value)
                item[name] = {"N": value}
            elif kind == "B":
                item[name] = {"B": base64.b64decode(value, validate=True)}
            else:
                item[name] = {"S": value}
        return item
    return read


_ION_NUMBER = re.compile(r"-?(?:0[xX][0-9a-fA-F_]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[dDeE][+-]?[0-9]+)?"
                         r"|\.[0-9]+)")
_ION_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[a-z]+)?")
_ION_SETS = {"$dynamodb_SS": "SS", "$dynamodb_NS": "NS", "$dynamodb_BS": "BS"}


class _IonText:
    """The Ion text values an item is made of, read into DynamoDB attribute values (strings
    S, numbers N, blobs B, bools, nulls, lists L or sets when annotated $dynamodb_SS/NS/BS,
    structs M) — what DynamoDB's ION exports hold and its imports take."""

    def __init__(self, text: str) -> None:
        self.text, self.at = text, 0

    def _skip(self) -> None:
        while self.at < len(self.text):
            if self.text[self.at].isspace():
                self.at += 1
            elif self.text.startswith("//", self.at):
                end = self.text.find("\n", self.at)
                self.at = len(self.text) if end < 0 else end
            elif self.text.startswith("/*", self.at):
                self.at = self.text.index("*/", self.at) + 2
            else:
                return

    def _expect(self, token: str) -> None:
        self._skip()
        if not self.text.startswith(token, self.at):
            raise ValueError(f"Ion: expected {token!r} at {self.at}")
        self.at += len(token)

    def _peek(self, token: str) -> bool:
        self._skip()
        return self.text.startswith(token, self.at)

    def _string(self, quote: str) -> str:
        end = self.at + 1
        while self.text[end] != quote:
            end += 2 if self.text[end] == "\\" else 1
        literal = self.text[self.at + 1:end]
        self.at = end + 1
        return orjson.loads(f'"{literal}"') if quote == '"' else literal.replace("\\'", "'")

    def _name(self) -> str:
        self._skip()
        if self._peek('"') or self._peek("'"):
            return self._string(self.text[self.at])
        found = _ION_IDENTIFIER.match(self.text, self.at)
        if found is None:
            raise ValueError(f"Ion: a field name expected at {self.at}")
        self.at = found.end()
        return found.group()

    def _sequence(self, close: str, read: Callable[[], Any]) -> list:
        values = []
        while not self._peek(close):
            values.append(read())
            if not self._peek(close):
                self._expect(",")
        self._expect(close)
        return values

    def _field(self) -> tuple[str, dict]:
        name = self._name()
        self._expect(":")
        return name, self.value()

    def value(self) -> dict:
        self._skip()
        annotation = None
        if self.text.startswith("$dynamodb_", self.at):
            annotation = self._name()
            self._expect("::")
            self._skip()
        if self.text.startswith("{{", self.at):
            end = self.text.index("}}", self.at)
            data = base64.b64decode("".join(self.text[self.at + 2:end].split()), validate=True)
            self.at = end + 2
            return {"B": data}
        if self._peek("{"):
            self.at += 1
            return {"M": dict(self._sequence("}", self._field))}
        if self._peek("["):
            self.at += 1
            values = self._sequence("]", self.value)
            kind = _ION_SETS.get(annotation or "")
            if kind is None:
                return {"L": values}
            return {kind: [v[kind[0]] for v in values]}
        if self._peek('"') or self._peek("'"):
            return {"S": self._string(self.text[self.at])}
        number = _ION_NUMBER.match(self.text, self.at)
        if number is not None:
            self.at = number.end()
            text = number.group().replace("_", "")
            if text.lower().lstrip("-").startswith("0x"):
                return {"N": str(int(text, 16))}
            return {"N": canonical_number(text.replace("d", "e").replace("D", "e"))}
        word = self._name()
        if word in ("true", "false"):
            return {"BOOL": word == "true"}
        if word == "null" or word.startswith("null."):
            return {"NULL": True}
        return {"S": word}  # a symbol

    def items(self) -> list[dict]:
        """The items of the top-level ``{Item: {...}}`` structs."""
        found = []
        while True:
            self._skip()
            if self.at >= len(self.text):
                return found
            if self.text.startswith("$ion_1_0", self.at):
                self.at += len("$ion_1_0")
                continue
            found.append(dict(self.value()["M"]["Item"]["M"]))


def _ion_reader(table: Table, options: dict | None) -> Callable[[bytes], dict | None]:
    def read(line: bytes) -> dict | None:
        items = _IonText(line.decode()).items()
        if not items:
            return None  # only a version marker
        (item,) = items
        return item
    return read


_LINE_READERS = {"DYNAMODB_JSON": _json_reader, "CSV": _csv_reader, "ION": _ion_reader}

