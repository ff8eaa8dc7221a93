"""Exports to S3 and imports from S3: background jobs with status transitions, AWS's object
layout and manifests, formats and compressions, and their errors."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import time

import pytest
import zstandard
from botocore.exceptions import ClientError

from tests.dynamodb.conftest import error_of, unique

ITEMS = [{"pk": {"S": f"user#{n}"}, "n": {"N": str(n)}, "blob": {"B": bytes([n, 0, 255])},
          "tags": {"SS": ["a", "b"]}, "doc": {"M": {"nested": {"L": [{"BOOL": True},
                                                                   {"NULL": True}]}}}}
         for n in range(30)]


@pytest.fixture(scope="module")
def s3(make_client):
    return make_client("s3")


@pytest.fixture
def bucket(s3):
    name = unique("transfers")
    s3.create_bucket(Bucket=name)
    return name


def wait_for(describe, key: str, status_key: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        description = describe()[key]
        if description[status_key] != "IN_PROGRESS" or time.monotonic() > deadline:
            return description
        time.sleep(0.05)


def pitr_table(ddb, make_table) -> tuple[str, str]:
    name = make_table()
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    return name, ddb.describe_table(TableName=name)["Table"]["TableArn"]


def test_export_writes_aws_layout_and_completes(ddb, s3, make_table, bucket):
    name, arn = pitr_table(ddb, make_table)
    for item in ITEMS:
        ddb.put_item(TableName=name, Item=item)
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket,
                                                S3Prefix="nightly")["ExportDescription"]
    assert started["ExportStatus"] == "IN_PROGRESS"
    assert started["ExportFormat"] == "DYNAMODB_JSON" and started["S3Prefix"] == "nightly"
    export_arn = started["ExportArn"]
    assert export_arn.startswith(arn + "/export/")
    ddb.put_item(TableName=name, Item={"pk": {"S": "after-the-export"}})
    done = wait_for(lambda: ddb.describe_export(ExportArn=export_arn), "ExportDescription",
                    "ExportStatus")
    assert done["ExportStatus"] == "COMPLETED", (done.get("FailureCode"), done.get("FailureMessage"))
    assert done["ItemCount"] == 30 and done["BilledSizeBytes"] > 0 and "EndTime" in done
    export_id = export_arn.rsplit("/", 1)[1]
    base = f"nightly/AWSDynamoDB/{export_id}"
    assert done["ExportManifest"] == f"{base}/manifest-summary.json"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert {f"{base}/_started", f"{base}/manifest-summary.json",
            f"{base}/manifest-summary.md5", f"{base}/manifest-files.json",
            f"{base}/manifest-files.md5"} <= keys

    def read(key: str) -> bytes:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    summary_bytes = read(f"{base}/manifest-summary.json")
    assert read(f"{base}/manifest-summary.md5").decode() == \
        base64.b64encode(hashlib.md5(summary_bytes).digest()).decode()
    summary = json.loads(summary_bytes)
    assert summary["version"] == "2020-06-30" and summary["exportArn"] == export_arn
    assert "exportType" not in summary and "ExportType" not in started
    assert summary["itemCount"] == 30 and summary["outputFormat"] == "DYNAMODB_JSON"
    assert summary["manifestFilesS3Key"] == f"{base}/manifest-files.json"
    files = [json.loads(line) for line in read(f"{base}/manifest-files.json").splitlines()]
    exported = []
    for entry in files:
        data = read(entry["dataFileS3Key"])
        assert entry["dataFileS3Key"].startswith(f"{base}/data/")
        assert base64.b64decode(entry["md5Checksum"]) == hashlib.md5(data).digest()
        lines = gzip.decompress(data).splitlines()
        assert len(lines) == entry["itemCount"]
        exported += [json.loads(line)["Item"] for line in lines]
    by_key = {item["pk"]["S"]: item for item in exported}
    assert sorted(by_key) == sorted(item["pk"]["S"] for item in ITEMS)  # not the later write
    assert by_key["user#7"]["blob"] == {"B": base64.b64encode(bytes([7, 0, 255])).decode()}
    assert by_key["user#7"]["doc"] == ITEMS[7]["doc"]

    listed = ddb.list_exports(TableArn=arn)["ExportSummaries"]
    assert listed == [{"ExportArn": export_arn, "ExportStatus": "COMPLETED",
                       "ExportType": "FULL_EXPORT"}]


def test_export_at_an_earlier_time_and_client_token(ddb, make_table, bucket, s3):
    name, arn = pitr_table(ddb, make_table)
    ddb.put_item(TableName=name, Item={"pk": {"S": "kept"}, "v": {"N": "1"}})
    # The server's clock (other tests move it): ExportTime travels in whole seconds.
    server_now = ddb.describe_continuous_backups(TableName=name)[
        "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "LatestRestorableDateTime"].timestamp()
    moment = math.ceil(server_now)
    time.sleep(moment - server_now + 0.05)
    ddb.put_item(TableName=name, Item={"pk": {"S": "kept"}, "v": {"N": "2"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "later"}})
    first = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ExportTime=moment,
                                              ClientToken="tok-1")["ExportDescription"]
    again = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ExportTime=moment,
                                              ClientToken="tok-1")["ExportDescription"]
    assert again["ExportArn"] == first["ExportArn"]
    with pytest.raises(ClientError) as excinfo:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket + "-other",
                                          ClientToken="tok-1")
    assert error_of(excinfo)[:2] == ("ExportConflictException", "Export conflict: Duplicate "
                                     "request detected with conflicting parameters")
    done = wait_for(lambda: ddb.describe_export(ExportArn=first["ExportArn"]),
                    "ExportDescription", "ExportStatus")
    assert done["ExportStatus"] == "COMPLETED" and done["ItemCount"] == 1
    files = s3.get_object(Bucket=bucket, Key=done["ExportManifest"].replace(
        "manifest-summary", "manifest-files"))["Body"].read().splitlines()
    data = s3.get_object(Bucket=bucket, Key=json.loads(files[0])["dataFileS3Key"])["Body"].read()
    assert json.loads(gzip.decompress(data))["Item"] == {"pk": {"S": "kept"}, "v": {"N": "1"}}


def test_export_errors(ddb, make_table, bucket):
    name = make_table()
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    with pytest.raises(ClientError) as excinfo:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket)
    assert error_of(excinfo)[:2] == ("PointInTimeRecoveryUnavailableException",
                                     f"Point in time recovery is not enabled for table '{name}'")
    with pytest.raises(ClientError) as excinfo:
        ddb.export_table_to_point_in_time(TableArn=arn + "-missing", S3Bucket=bucket)
    assert error_of(excinfo)[0] == "TableNotFoundException"
    missing = arn + "/export/01234567890123-abcdef12"
    with pytest.raises(ClientError) as excinfo:
        ddb.describe_export(ExportArn=missing)
    assert error_of(excinfo)[:2] == ("ExportNotFoundException",
                                     f"Export not found: Export not found: {missing}")
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    for moment in (time.time() + 3600, time.time() - 3600):  # after now, before PITR began
        with pytest.raises(ClientError) as excinfo:
            ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, ExportTime=moment)
        assert error_of(excinfo)[:2] == ("InvalidExportTimeException", "Export Time is invalid")


def test_export_to_a_missing_bucket_fails_in_the_background(ddb, make_table):
    name, arn = pitr_table(ddb, make_table)
    started = ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=unique("no-such-bucket"))["ExportDescription"]
    done = wait_for(lambda: ddb.describe_export(ExportArn=started["ExportArn"]),
                    "ExportDescription", "ExportStatus")
    assert done["ExportStatus"] == "FAILED" and done["FailureCode"] == "S3NoSuchBucket"


def creation(name: str, **extra) -> dict:
    return {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], **extra}


def import_and_wait(ddb, **params) -> dict:
    started = ddb.import_table(**params)["ImportTableDescription"]
    assert started["ImportStatus"] == "IN_PROGRESS"
    return wait_for(lambda: ddb.describe_import(ImportArn=started["ImportArn"]),
                    "ImportTableDescription", "ImportStatus")


def scan_all(ddb, name: str) -> dict:
    items = ddb.get_paginator("scan").paginate(TableName=name).build_full_result()["Items"]
    return {item["pk"]["S"]: item for item in items}


@pytest.mark.parametrize("data_format", ["DYNAMODB_JSON", "ION"])
def test_export_then_import_round_trip(ddb, s3, make_table, bucket, data_format):
    name, arn = pitr_table(ddb, make_table)
    for item in ITEMS:
        ddb.put_item(TableName=name, Item=item)
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="rt",
                                                ExportFormat=data_format)["ExportDescription"]
    export_id = started["ExportArn"].rsplit("/", 1)[1]
    assert wait_for(lambda: ddb.describe_export(ExportArn=started["ExportArn"]),
                    "ExportDescription", "ExportStatus")["ExportStatus"] == "COMPLETED"
    target = unique("imported")
    try:
        done = import_and_wait(ddb, S3BucketSource={
            "S3Bucket": bucket, "S3KeyPrefix": f"rt/AWSDynamoDB/{export_id}/data/"},
            InputFormat=data_format, InputCompressionType="GZIP",
            TableCreationParameters=creation(target))
        assert done["ImportStatus"] == "COMPLETED", done.get("FailureMessage")
        assert (done["ImportedItemCount"], done["ProcessedItemCount"], done["ErrorCount"]) == \
            (30, 30, 0)
        assert scan_all(ddb, target) == scan_all(ddb, name)
        assert ddb.describe_table(TableName=target)["Table"]["TableStatus"] == "ACTIVE"
        assert done["TableArn"].endswith(f":table/{target}")
        assert done["ImportArn"].startswith(done["TableArn"] + "/import/")
        summaries = ddb.list_imports(TableArn=done["TableArn"])["ImportSummaryList"]
        assert [s["ImportArn"] for s in summaries] == [done["ImportArn"]]
        assert summaries[0]["ImportStatus"] == "COMPLETED"
    finally:
        ddb.delete_table(TableName=target)


def test_import_csv_zstd_and_errors_counted(ddb, s3, bucket):
    csv_text = "pk,score,comment\nalpha,10,first\nbeta,,\"with, comma\"\n,3,no key\n"
    s3.put_object(Bucket=bucket, Key="csv/part-1.csv.zst",
                  Body=zstandard.ZstdCompressor().compress(csv_text.encode()))
    s3.put_object(Bucket=bucket, Key="csv/part-2.csv.zst",  # its own header
                  Body=zstandard.ZstdCompressor().compress(b"comment,pk\nthird,gamma\n"))
    target = unique("csv")
    try:
        done = import_and_wait(ddb, S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": "csv/"},
                               InputFormat="CSV", InputCompressionType="ZSTD",
                               TableCreationParameters=creation(target))
        assert done["ImportStatus"] == "COMPLETED", done.get("FailureMessage")
        assert (done["ImportedItemCount"], done["ErrorCount"]) == (3, 1)
        items = scan_all(ddb, target)
        assert items["alpha"] == {"pk": {"S": "alpha"}, "score": {"S": "10"},
                                  "comment": {"S": "first"}}
        assert items["beta"]["comment"] == {"S": "with, comma"}
        assert items["gamma"] == {"pk": {"S": "gamma"}, "comment": {"S": "third"}}
    finally:
        ddb.delete_table(TableName=target)


def test_import_plain_json_with_header_list_csv_and_conflicts(ddb, s3, bucket, make_table):
    lines = b"\n".join(json.dumps({"Item": {"pk": {"S": f"k{n}"}}}).encode() for n in range(3))
    s3.put_object(Bucket=bucket, Key="plain/items.json", Body=lines + b"\nnot json\n")
    target = unique("plain")
    try:
        done = import_and_wait(ddb, S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": "plain/"},
                               InputFormat="DYNAMODB_JSON",
                               TableCreationParameters=creation(target))
        assert (done["ImportStatus"], done["ImportedItemCount"], done["ErrorCount"]) == \
            ("COMPLETED", 3, 1)
        assert done["InputCompressionType"] == "NONE"
        with pytest.raises(ClientError) as excinfo:
            ddb.import_table(S3BucketSource={"S3Bucket": bucket}, InputFormat="DYNAMODB_JSON",
                             TableCreationParameters=creation(target))
        assert error_of(excinfo)[:2] == ("ResourceInUseException",
                                         f"Table already exists: {target}")
    finally:
        ddb.delete_table(TableName=target)
    s3.put_object(Bucket=bucket, Key="headless/a.csv", Body=b"x1;7\nx2;8\n")
    target = unique("headless")
    try:
        done = import_and_wait(ddb, S3BucketSource={"S3Bucket": bucket,
                                                    "S3KeyPrefix": "headless/"},
                               InputFormat="CSV", InputFormatOptions={"Csv": {
                                   "Delimiter": ";", "HeaderList": ["pk", "n"]}},
                               TableCreationParameters=creation(target))
        assert done["ImportedItemCount"] == 2
        assert scan_all(ddb, target)["x2"] == {"pk": {"S": "x2"}, "n": {"S": "8"}}
    finally:
        ddb.delete_table(TableName=target)
    with pytest.raises(ClientError) as excinfo:
        ddb.describe_import(ImportArn="arn:aws:dynamodb:us-east-1:000000000000:table/x/import/1")
    assert error_of(excinfo)[0] == "ImportNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        ddb.import_table(S3BucketSource={"S3Bucket": bucket}, InputFormat="DYNAMODB_JSON",
                         InputFormatOptions={"Csv": {"Delimiter": ";"}},
                         TableCreationParameters=creation(unique("refused")))
    assert error_of(excinfo)[:2] == ("ValidationException", "Invalid Request: Unsupported "
                                     "InputFormatOptions for the given input format: "
                                     "DYNAMODB_JSON.")


def test_export_in_ion(ddb, s3, make_table, bucket):
    name, arn = pitr_table(ddb, make_table)
    ddb.put_item(TableName=name, Item={
        "pk": {"S": "a \"quoted\" key"}, "n": {"N": "600"}, "f": {"N": "-1.25"},
        "b": {"B": b"\x00\x01"}, "ok": {"BOOL": False}, "none": {"NULL": True},
        "tags": {"SS": ["x"]}, "nums": {"NS": ["2"]}, "list": {"L": [{"S": "v"}]},
        "map": {"M": {"with space": {"N": "1"}, "null": {"S": "kw"}}}})
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket,
                                                ExportFormat="ION")["ExportDescription"]
    assert started["ExportFormat"] == "ION"
    done = wait_for(lambda: ddb.describe_export(ExportArn=started["ExportArn"]),
                    "ExportDescription", "ExportStatus")
    assert done["ExportStatus"] == "COMPLETED"
    summary = json.loads(s3.get_object(Bucket=bucket, Key=done["ExportManifest"])["Body"].read())
    assert summary["outputFormat"] == "ION"
    [entry] = [json.loads(line) for line in s3.get_object(
        Bucket=bucket, Key=summary["manifestFilesS3Key"])["Body"].read().splitlines()]
    assert entry["dataFileS3Key"].endswith(".ion.gz")
    data = gzip.decompress(s3.get_object(Bucket=bucket, Key=entry["dataFileS3Key"])[
        "Body"].read()).decode()
    fields = ('pk:"a \\"quoted\\" key"', "n:600.", "f:-1.25", "b:{{AAE=}}", "ok:false",
              "none:null", 'tags:$dynamodb_SS::["x"]', "nums:$dynamodb_NS::[2.]",
              'list:["v"]', 'map:{"with space":1.,"null":"kw"}')
    assert data.startswith("$ion_1_0 {Item:{") and data.endswith("}}\n")
    for field in fields:
        assert field in data, (field, data)


def test_list_exports_pages(ddb, make_table, bucket):
    name, arn = pitr_table(ddb, make_table)
    arns = [ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket)[
        "ExportDescription"]["ExportArn"] for _ in range(3)]
    first = ddb.list_exports(TableArn=arn, MaxResults=2)
    assert [s["ExportArn"] for s in first["ExportSummaries"]] == sorted(arns)[:2]
    rest = ddb.list_exports(TableArn=arn, MaxResults=2, NextToken=first["NextToken"])
    assert [s["ExportArn"] for s in rest["ExportSummaries"]] == sorted(arns)[2:]
    assert "NextToken" not in rest
    for listing, token in ((ddb.list_exports, "not-a-token"),
                           (ddb.list_imports, first["NextToken"])):  # an export listing's
        with pytest.raises(ClientError) as excinfo:
            listing(NextToken=token)
        assert error_of(excinfo)[:2] == ("ValidationException", "Invalid Request: Provided "
                                         f"nextToken is invalid: {token}")
    with pytest.raises(ClientError) as excinfo:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3SseKmsKeyId="key",
                                          S3SseAlgorithm="AES256")
    assert error_of(excinfo)[:2] == ("ValidationException", "Invalid Request: KMS Key Id is "
                                     "not supported for this encryption type")
    everything = ddb.list_exports(MaxResults=25)  # every table's, this account and region
    assert set(arns) <= {s["ExportArn"] for s in everything["ExportSummaries"]} or \
        "NextToken" in everything
    for export_arn in arns:
        wait_for(lambda: ddb.describe_export(ExportArn=export_arn), "ExportDescription",
                 "ExportStatus")


def put_numbered(ddb, name: str, count: int) -> None:
    """Items k0..k<count-1> with v = their number, 25 a request."""
    for first in range(0, count, 25):
        ddb.batch_write_item(RequestItems={name: [
            {"PutRequest": {"Item": {"pk": {"S": f"k{n}"}, "v": {"N": str(n)}}}}
            for n in range(first, first + 25)]})


def race_writes(ddb, name: str, count: int, every: int) -> None:
    """Writes racing an export: an item changed, the next one deleted, a new one."""
    for n in range(0, count, every):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{n}"}, "v": {"N": "-1"}})
        ddb.delete_item(TableName=name, Key={"pk": {"S": f"k{n + 1}"}})
        ddb.put_item(TableName=name, Item={"pk": {"S": f"new{n}"}})


def test_export_is_the_table_as_asked_whatever_is_written_meanwhile(ddb, s3, make_table, bucket):
    name, arn = pitr_table(ddb, make_table)
    put_numbered(ddb, name, 2500)  # several snapshot chunks
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket)[
        "ExportDescription"]
    race_writes(ddb, name, 2500, every=100)  # changes racing the background copy
    done = wait_for(lambda: ddb.describe_export(ExportArn=started["ExportArn"]),
                    "ExportDescription", "ExportStatus", timeout=60)
    assert done["ExportStatus"] == "COMPLETED" and done["ItemCount"] == 2500
    files = s3.get_object(Bucket=bucket, Key=done["ExportManifest"].replace(
        "manifest-summary", "manifest-files"))["Body"].read().splitlines()
    exported = {}
    for entry in map(json.loads, files):
        data = s3.get_object(Bucket=bucket, Key=entry["dataFileS3Key"])["Body"].read()
        for line in gzip.decompress(data).splitlines():
            item = json.loads(line)["Item"]
            exported[item["pk"]["S"]] = item["v"]["N"]
    assert exported == {f"k{n}": str(n) for n in range(2500)}


def test_export_with_a_filter_specification(ddb, s3, make_table, bucket):
    """A FilterSpecification exports the items of its key condition that pass its filter,
    with its projection, and is echoed by DescribeExport; its expressions are checked as a
    Query's when the export is asked for."""
    name = make_table(range_key=("sk", "N"))
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    for pk in ("a", "b"):
        ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": {
            "pk": {"S": pk}, "sk": {"N": str(n)}, "colour": {"S": "red" if n % 2 else "blue"},
            "extra": {"S": "x" * 10}}}} for n in range(20)]})
    spec = {"KeyConditionExpression": "pk = :pk AND sk >= :low",
            "FilterExpression": "#c = :red", "ProjectionExpression": "pk, sk, #c",
            "ExpressionAttributeNames": {"#c": "colour"},
            "ExpressionAttributeValues": {":pk": {"S": "a"}, ":low": {"N": "10"},
                                          ":red": {"S": "red"}}}
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket,
                                                FilterSpecification=spec)["ExportDescription"]
    assert started["FilterSpecification"] == spec
    done = wait_for(lambda: ddb.describe_export(ExportArn=started["ExportArn"]),
                    "ExportDescription", "ExportStatus")
    assert done["ExportStatus"] == "COMPLETED" and done["ItemCount"] == 5
    assert done["FilterSpecification"] == spec
    _, lines = exported_lines(s3, bucket, done["ExportManifest"])
    items = sorted((json.loads(line)["Item"] for line in lines), key=lambda i: int(i["sk"]["N"]))
    assert items == [{"pk": {"S": "a"}, "sk": {"N": str(n)}, "colour": {"S": "red"}}
                     for n in (11, 13, 15, 17, 19)]
    only_filter = ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=bucket, FilterSpecification={
            "FilterExpression": "sk < :two", "ExpressionAttributeValues": {":two": {"N": "2"}}})
    done = wait_for(lambda: ddb.describe_export(
        ExportArn=only_filter["ExportDescription"]["ExportArn"]), "ExportDescription",
        "ExportStatus")
    assert done["ItemCount"] == 4  # sk 0 and 1 of both partitions, every attribute
    for wrong, message in (
            ({"KeyConditionExpression": "pk = :pk", "FilterExpression": "sk > :pk",
              "ExpressionAttributeValues": {":pk": {"S": "a"}}},
             "Filter Expression can only contain non-primary key attributes"),
            ({"FilterExpression": "colour = :unset"}, ":unset"),
            ({"FilterExpression": "colour = :red", "ExpressionAttributeValues": {
                ":red": {"S": "red"}, ":unused": {"S": "x"}}}, ":unused")):
        with pytest.raises(ClientError) as raised:
            ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket,
                                              FilterSpecification=wrong)
        code, text = error_of(raised)[:2]
        assert code == "ValidationException" and message in text, text


def server_now(ddb, name: str) -> float:
    """The server's clock (tests move it forward)."""
    return ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]["LatestRestorableDateTime"].timestamp()


def exported_lines(s3, bucket: str, summary_key: str) -> tuple[dict, list[bytes]]:
    summary = json.loads(s3.get_object(Bucket=bucket, Key=summary_key)["Body"].read())
    lines = []
    for entry in s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])[
            "Body"].read().splitlines():
        entry = json.loads(entry)
        data = s3.get_object(Bucket=bucket, Key=entry["dataFileS3Key"])["Body"].read()
        assert base64.b64decode(entry["md5Checksum"]) == hashlib.md5(data).digest()
        file_lines = gzip.decompress(data).splitlines()
        assert len(file_lines) == entry["itemCount"]
        lines += file_lines
    return summary, lines


def test_incremental_export_has_the_window_changes_with_old_and_new_images(
        ddb, s3, make_table, bucket, nubo_server):
    name, arn = pitr_table(ddb, make_table)

    def put(key: str, version: int) -> None:
        ddb.put_item(TableName=name, Item={"pk": {"S": key}, "v": {"N": str(version)}})

    for key in ("kept", "changed", "deleted"):
        put(key, 1)
    before = server_now(ddb, name)
    nubo_server.advance_clock(10)
    start = math.ceil(before) + 5  # whole seconds: the timestamps travel as such
    put("changed", 2)
    put("changed", 3)
    ddb.delete_item(TableName=name, Key={"pk": {"S": "deleted"}})
    put("inserted", 1)
    put("transient", 1)  # put, then deleted: no line
    ddb.delete_item(TableName=name, Key={"pk": {"S": "transient"}})
    last_write = server_now(ddb, name)
    end = start + 960
    nubo_server.advance_clock(1000)
    put("changed", 4)  # after the window: its NewImage stays version 3
    put("inserted", 2)
    put("after", 1)
    spec = {"ExportFromTime": start, "ExportToTime": end}
    started = ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=bucket, S3Prefix="cdc", ExportType="INCREMENTAL_EXPORT",
        IncrementalExportSpecification=spec)["ExportDescription"]
    assert started["ExportType"] == "INCREMENTAL_EXPORT" and "ExportTime" not in started
    described = started["IncrementalExportSpecification"]
    assert (described["ExportFromTime"].timestamp(), described["ExportToTime"].timestamp(),
            described["ExportViewType"]) == (start, end, "NEW_AND_OLD_IMAGES")
    done = wait_for(lambda: ddb.describe_export(ExportArn=started["ExportArn"]),
                    "ExportDescription", "ExportStatus")
    assert done["ExportStatus"] == "COMPLETED", done.get("FailureMessage")
    assert done["ItemCount"] == 3 and done["BilledSizeBytes"] == 10_000_000
    export_id = started["ExportArn"].rsplit("/", 1)[1]
    assert done["ExportManifest"] == f"cdc/AWSDynamoDB/{export_id}/manifest-summary.json"
    summary, lines = exported_lines(s3, bucket, done["ExportManifest"])
    assert {k: summary[k] for k in ("version", "exportType", "outputView", "outputFormat",
                                    "itemCount", "billedSizeBytes")} == {
        "version": "2023-08-01", "exportType": "INCREMENTAL_EXPORT",
        "outputView": "NEW_AND_OLD_IMAGES", "outputFormat": "DYNAMODB_JSON", "itemCount": 3,
        "billedSizeBytes": 10_000_000}
    assert summary["exportFromTime"].startswith(
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start)))
    assert "exportTime" not in summary
    files = s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])["Body"].read()
    assert all(json.loads(f)["dataFileS3Key"].startswith("cdc/AWSDynamoDB/data/")
               for f in files.splitlines())  # the data folder incremental exports share
    changes = {json.loads(line)["Keys"]["pk"]["S"]: json.loads(line) for line in lines}
    assert set(changes) == {"changed", "deleted", "inserted"}
    version = {"N": "1"}
    assert changes["changed"]["OldImage"] == {"pk": {"S": "changed"}, "v": version}
    assert changes["changed"]["NewImage"] == {"pk": {"S": "changed"}, "v": {"N": "3"}}
    assert changes["deleted"]["OldImage"]["v"] == version and \
        "NewImage" not in changes["deleted"]
    assert "OldImage" not in changes["inserted"] and \
        changes["inserted"]["NewImage"] == {"pk": {"S": "inserted"}, "v": version}
    written = int(changes["changed"]["Metadata"]["WriteTimestampMicros"]["N"]) / 1e6
    assert start <= written <= last_write + 1

    # NEW_IMAGE: the new image only; a deleted item is its key alone. ION lines too.
    started = ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=bucket, ExportType="INCREMENTAL_EXPORT", ExportFormat="ION",
        IncrementalExportSpecification=dict(spec, ExportViewType="NEW_IMAGE"))[
        "ExportDescription"]
    done = wait_for(lambda: ddb.describe_export(ExportArn=started["ExportArn"]),
                    "ExportDescription", "ExportStatus")
    assert done["ExportStatus"] == "COMPLETED", done.get("FailureMessage")
    summary, lines = exported_lines(s3, bucket, done["ExportManifest"])
    assert summary["outputView"] == "NEW_IMAGE" and summary["outputFormat"] == "ION"
    by_key = {line.split(b'Keys:{pk:"')[1].split(b'"')[0].decode(): line.decode()
              for line in lines}
    assert by_key["deleted"].startswith("$ion_1_0 {Metadata:{WriteTimestampMicros:")
    assert by_key["deleted"].endswith('Keys:{pk:"deleted"}}')
    assert by_key["changed"].endswith('Keys:{pk:"changed"},NewImage:{pk:"changed",v:3.}}')
    assert "OldImage" not in "".join(by_key.values())
    listed = ddb.list_exports(TableArn=arn)["ExportSummaries"]
    assert {s["ExportType"] for s in listed} == {"INCREMENTAL_EXPORT"}


def test_incremental_export_errors(ddb, make_table, bucket, nubo_server):
    name, arn = pitr_table(ddb, make_table)
    now = server_now(ddb, name)

    def refused(**params) -> tuple[str, str]:
        with pytest.raises(ClientError) as excinfo:
            ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, **params)
        return error_of(excinfo)[:2]

    invalid = "ValidationException"
    spec = {"ExportFromTime": now - 60}
    assert refused(IncrementalExportSpecification=spec) == (invalid, (
        "Invalid Request: Export Type expected to be Incremental Export when incremental "
        "export specification is provided"))
    assert refused(ExportType="FULL_EXPORT", IncrementalExportSpecification=spec) == (
        invalid, "Invalid Request: When Export Type is Full Export , Incremental Export "
                 "Specification should not be provided")
    assert refused(ExportType="INCREMENTAL_EXPORT") == (invalid, (
        "Invalid Request: Incremental Export Specification expected when export type is set "
        "as Incremental Export"))
    assert refused(ExportType="INCREMENTAL_EXPORT", IncrementalExportSpecification={
        "ExportViewType": "NEW_IMAGE"}) == (invalid, (
            "Invalid Request: ExportFromTime must be provided in "
            "IncrementalExportSpecification"))

    def window(start: float, end: float | None = None) -> tuple[str, str]:
        given = {"ExportFromTime": start} | ({"ExportToTime": end} if end else {})
        return refused(ExportType="INCREMENTAL_EXPORT", IncrementalExportSpecification=given)

    def iso(moment: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))

    bad_time = "InvalidExportTimeException"
    early = math.floor(now) - 3600  # before point-in-time recovery began
    assert window(early) == (bad_time, "Incremental export period from time cannot be less "
                                       f"than the table creation time : {iso(early)}")
    start = math.ceil(now) + 1
    nubo_server.advance_clock(25 * 3600 + 10)
    later = server_now(ddb, name)
    assert window(start + 3600, start + 1800)[1].endswith(f" : {iso(start + 3600)}")
    future = math.ceil(later) + 3600
    assert window(start, future) == (bad_time, "Incremental export period to time cannot be "
                                               f"greater than the current time : {iso(future)}")
    assert window(start, start + 600) == (bad_time, (
        "Difference between export period from time and export period to time is less than "
        "15 minutes"))
    assert window(start, start + 25 * 3600)[0] == bad_time  # more than 24 hours
    other = make_table()  # no point-in-time recovery
    other_arn = ddb.describe_table(TableName=other)["Table"]["TableArn"]
    with pytest.raises(ClientError) as excinfo:
        ddb.export_table_to_point_in_time(
            TableArn=other_arn, S3Bucket=bucket, ExportType="INCREMENTAL_EXPORT",
            IncrementalExportSpecification={"ExportFromTime": start})
    assert error_of(excinfo)[0] == bad_time
    # the window may end now (ExportToTime omitted)
    started = ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=bucket, ExportType="INCREMENTAL_EXPORT",
        IncrementalExportSpecification={"ExportFromTime": math.ceil(later) - 3600})[
        "ExportDescription"]
    assert started["IncrementalExportSpecification"]["ExportToTime"].timestamp() >= later
    done = wait_for(lambda: ddb.describe_export(ExportArn=started["ExportArn"]),
                    "ExportDescription", "ExportStatus")
    assert (done["ExportStatus"], done["ItemCount"]) == ("COMPLETED", 0)


def test_incremental_export_is_the_window_whatever_is_written_meanwhile(
        ddb, s3, make_table, bucket, nubo_server):
    name, arn = pitr_table(ddb, make_table)
    start = math.ceil(server_now(ddb, name)) + 1
    nubo_server.advance_clock(2)
    put_numbered(ddb, name, 2400)  # several chunks of history and of changes
    nubo_server.advance_clock(1000)
    started = ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=bucket, ExportType="INCREMENTAL_EXPORT",
        IncrementalExportSpecification={"ExportFromTime": start, "ExportToTime": start + 990})[
        "ExportDescription"]
    race_writes(ddb, name, 2400, every=80)  # changes racing the background reads
    done = wait_for(lambda: ddb.describe_export(ExportArn=started["ExportArn"]),
                    "ExportDescription", "ExportStatus", timeout=60)
    assert done["ExportStatus"] == "COMPLETED" and done["ItemCount"] == 2400
    _, lines = exported_lines(s3, bucket, done["ExportManifest"])
    changes = {}
    for line in lines:
        change = json.loads(line)
        assert "OldImage" not in change
        changes[change["Keys"]["pk"]["S"]] = change["NewImage"]["v"]["N"]
    assert changes == {f"k{n}": str(n) for n in range(2400)}
