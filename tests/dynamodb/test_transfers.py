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
    assert done["ExportStatus"] == "COMPLETED", done
    assert done["ItemCount"] == 30 and done["BilledSizeBytes"] > 0 and "EndTime" in done
    export_id = export_arn.rsplit("/", 1)[1]
    base = f"nightly/AWSDynamoDB/{export_id}"
    assert done["ExportManifest"] == f"{base}/manifest-summary.json"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert {f"{base}/_started", f"{base}/manifest-summary.json",
            f"{base}/manifest-summary.checksum", f"{base}/manifest-files.json",
            f"{base}/manifest-files.checksum"} <= keys

    def read(key: str) -> bytes:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    summary = json.loads(read(f"{base}/manifest-summary.json"))
    assert summary["version"] == "2020-06-30" and summary["exportArn"] == export_arn
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
    assert error_of(excinfo)[0] == "ExportConflictException"
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
    with pytest.raises(ClientError) as excinfo:
        ddb.describe_export(ExportArn=arn + "/export/01234567890123-abcdef12")
    assert error_of(excinfo)[0] == "ExportNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket,
                                          ExportType="INCREMENTAL_EXPORT")
    assert error_of(excinfo)[2] == 501  # not implemented yet, said so


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
    everything = ddb.list_exports(MaxResults=25)  # every table's, this account and region
    assert set(arns) <= {s["ExportArn"] for s in everything["ExportSummaries"]} or \
        "NextToken" in everything
    for export_arn in arns:
        wait_for(lambda: ddb.describe_export(ExportArn=export_arn), "ExportDescription",
                 "ExportStatus")


def test_export_is_the_table_as_asked_whatever_is_written_meanwhile(ddb, s3, make_table, bucket):
    name, arn = pitr_table(ddb, make_table)
    for start in range(0, 2500, 25):  # several snapshot chunks
        ddb.batch_write_item(RequestItems={name: [
            {"PutRequest": {"Item": {"pk": {"S": f"k{n}"}, "v": {"N": str(n)}}}}
            for n in range(start, start + 25)]})
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket)[
        "ExportDescription"]
    for n in range(0, 2500, 100):  # changes racing the background copy
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{n}"}, "v": {"N": "-1"}})
        ddb.delete_item(TableName=name, Key={"pk": {"S": f"k{n + 1}"}})
        ddb.put_item(TableName=name, Item={"pk": {"S": f"new{n}"}})
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
