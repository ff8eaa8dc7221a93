"""Multipart uploads: create, upload parts, complete (ETag md5-of-md5s-N, part rules), abort,
list uploads and parts, copy parts, checksums."""

from __future__ import annotations

import base64
import hashlib

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of

MIB = 1024 * 1024


def _etag(parts: list[bytes]) -> str:
    return f'"{hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()}' \
           f'-{len(parts)}"'


def test_complete_upload(s3, bucket):
    parts = [b"a" * (5 * MIB), b"b" * (5 * MIB), b"tail"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="text/plain",
                                        Metadata={"m": "1"})
    upload_id = upload["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=n + 1,
                            Body=body)["ETag"] for n, body in enumerate(parts)]
    assert etags[0] == f'"{hashlib.md5(parts[0]).hexdigest()}"'
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3]
    assert [p["Size"] for p in listed["Parts"]] == [len(p) for p in parts]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n + 1, "ETag": e}
                                   for n, e in enumerate(etags)]})
    assert done["ETag"] == _etag(parts)
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == b"".join(parts)
    assert (got["ContentType"], got["Metadata"]) == ("text/plain", {"m": "1"})
    assert s3.head_object(Bucket=bucket, Key="mp")["ETag"] == _etag(parts)
    part2 = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert part2["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part2["PartsCount"] == 3
    assert part2["Body"].read() == parts[1]
    ranged = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MIB - 2}-{5 * MIB + 1}")
    assert ranged["Body"].read() == b"aabb"
    with pytest.raises(ClientError) as caught:
        s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)
    assert error_of(caught)[0::2] == ("NoSuchUpload", 404)


def test_part_rules(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="r")["UploadId"]
    small = s3.upload_part(Bucket=bucket, Key="r", UploadId=upload_id, PartNumber=1,
                           Body=b"small")["ETag"]
    last = s3.upload_part(Bucket=bucket, Key="r", UploadId=upload_id, PartNumber=2,
                          Body=b"last")["ETag"]
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(Bucket=bucket, Key="r", UploadId=upload_id,
                                     MultipartUpload={"Parts": [
                                         {"PartNumber": 1, "ETag": small},
                                         {"PartNumber": 2, "ETag": last}]})
    assert error_of(caught) == ("EntityTooSmall", "Your proposed upload is smaller than the "
                                "minimum allowed size", 400)
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(Bucket=bucket, Key="r", UploadId=upload_id,
                                     MultipartUpload={"Parts": [
                                         {"PartNumber": 2, "ETag": last},
                                         {"PartNumber": 1, "ETag": small}]})
    assert error_of(caught)[0::2] == ("InvalidPartOrder", 400)
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(Bucket=bucket, Key="r", UploadId=upload_id,
                                     MultipartUpload={"Parts": [
                                         {"PartNumber": 1, "ETag": '"0000"'}]})
    assert error_of(caught)[0::2] == ("InvalidPart", 400)
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(Bucket=bucket, Key="r", UploadId=upload_id,
                                     MultipartUpload={"Parts": [
                                         {"PartNumber": 3, "ETag": last}]})
    assert error_of(caught)[0::2] == ("InvalidPart", 400)
    with pytest.raises(ClientError) as caught:
        s3.upload_part(Bucket=bucket, Key="r", UploadId=upload_id, PartNumber=10001, Body=b"x")
    assert error_of(caught)[0::2] == ("InvalidArgument", 400)
    # a single small part is a valid upload (the last part may be small)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="r", UploadId=upload_id,
                                        MultipartUpload={"Parts": [
                                            {"PartNumber": 1, "ETag": small}]})
    assert done["ETag"] == _etag([b"small"])
    assert s3.get_object(Bucket=bucket, Key="r")["Body"].read() == b"small"


def test_replacing_a_part(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="p")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="p", UploadId=upload_id, PartNumber=1, Body=b"old")
    etag = s3.upload_part(Bucket=bucket, Key="p", UploadId=upload_id, PartNumber=1,
                          Body=b"new")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="p", UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket=bucket, Key="p")["Body"].read() == b"new"


def test_abort_and_no_such_upload(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="a")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="a", UploadId=upload_id, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket=bucket, Key="a", UploadId=upload_id)
    for call in (lambda: s3.abort_multipart_upload(Bucket=bucket, Key="a", UploadId=upload_id),
                 lambda: s3.upload_part(Bucket=bucket, Key="a", UploadId=upload_id,
                                        PartNumber=1, Body=b"x"),
                 lambda: s3.list_parts(Bucket=bucket, Key="a", UploadId="bogus")):
        with pytest.raises(ClientError) as caught:
            call()
        code, message, status = error_of(caught)
        assert (code, status) == ("NoSuchUpload", 404)
        assert message.startswith("The specified upload does not exist.")


def test_list_uploads_and_parts_pagination(s3, bucket):
    ids = {}
    for key in ("x/1", "x/2", "y", "z"):
        ids[key] = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    second = s3.create_multipart_upload(Bucket=bucket, Key="y")["UploadId"]
    listed = s3.list_multipart_uploads(Bucket=bucket)
    assert [u["Key"] for u in listed["Uploads"]] == ["x/1", "x/2", "y", "y", "z"]
    assert [u["UploadId"] for u in listed["Uploads"]][2:4] == [ids["y"], second]
    grouped = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["x/"]
    assert [u["Key"] for u in grouped["Uploads"]] == ["y", "y", "z"]
    pages = list(s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}))
    assert [u["UploadId"] for p in pages for u in p.get("Uploads", [])] == \
        [u["UploadId"] for u in listed["Uploads"]]
    for n in range(1, 6):
        s3.upload_part(Bucket=bucket, Key="z", UploadId=ids["z"], PartNumber=n, Body=b"p")
    page = s3.list_parts(Bucket=bucket, Key="z", UploadId=ids["z"], MaxParts=2)
    assert ([p["PartNumber"] for p in page["Parts"]], page["IsTruncated"],
            page["NextPartNumberMarker"]) == ([1, 2], True, 2)
    page = s3.list_parts(Bucket=bucket, Key="z", UploadId=ids["z"], PartNumberMarker=4)
    assert [p["PartNumber"] for p in page["Parts"]] == [5]


def test_upload_part_copy(s3, bucket):
    source = bytes(range(256)) * 50_000
    s3.put_object(Bucket=bucket, Key="source", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    first = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id,
                                PartNumber=1, CopySource={"Bucket": bucket, "Key": "source"},
                                CopySourceRange=f"bytes=0-{5 * MIB - 1}")
    second = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id,
                                 PartNumber=2, CopySource=f"{bucket}/source",
                                 CopySourceRange=f"bytes={5 * MIB}-{len(source) - 1}")
    s3.complete_multipart_upload(
        Bucket=bucket, Key="assembled", UploadId=upload_id, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]},
            {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="assembled")["Body"].read() == source


@pytest.mark.parametrize("algorithm,kind", [("CRC32", "COMPOSITE"), ("SHA256", "COMPOSITE"),
                                            ("CRC64NVME", "FULL_OBJECT"),
                                            ("CRC32C", "FULL_OBJECT")])
def test_multipart_checksums(s3, bucket, algorithm, kind):
    parts = [b"1" * (5 * MIB), b"2" * 1000]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="c", ChecksumAlgorithm=algorithm,
                                        ChecksumType=kind)
    assert (upload["ChecksumAlgorithm"], upload["ChecksumType"]) == (algorithm, kind)
    sent = []
    for n, body in enumerate(parts, 1):
        part = s3.upload_part(Bucket=bucket, Key="c", UploadId=upload["UploadId"],
                              PartNumber=n, Body=body, ChecksumAlgorithm=algorithm)
        sent.append({"PartNumber": n, "ETag": part["ETag"],
                     f"Checksum{algorithm}": part[f"Checksum{algorithm}"]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="c", UploadId=upload["UploadId"],
                                        MultipartUpload={"Parts": sent})
    assert done["ChecksumType"] == kind
    whole = done[f"Checksum{algorithm}"]
    if kind == "COMPOSITE":
        digests = b"".join(base64.b64decode(p[f"Checksum{algorithm}"]) for p in sent)
        if algorithm == "SHA256":
            expected = base64.b64encode(hashlib.sha256(digests).digest()).decode()
            assert whole == f"{expected}-2"
        assert whole.endswith("-2")
    else:
        single = s3.put_object(Bucket=bucket, Key="single", Body=b"".join(parts),
                               ChecksumAlgorithm=algorithm)
        assert whole == single[f"Checksum{algorithm}"]
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == whole


def test_complete_checks_stated_checksums_and_size(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="s", ChecksumAlgorithm="CRC32",
                                        ChecksumType="FULL_OBJECT")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="s", UploadId=upload, PartNumber=1, Body=b"abc",
                          ChecksumAlgorithm="CRC32")
    wrong = base64.b64encode(b"\0\0\0\0").decode()
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(Bucket=bucket, Key="s", UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumCRC32": wrong}]})
    assert error_of(caught)[0] == "InvalidPart"
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(Bucket=bucket, Key="s", UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}, ChecksumCRC32=wrong)
    assert error_of(caught)[0] == "BadDigest"
    with pytest.raises(ClientError) as caught:
        s3.complete_multipart_upload(Bucket=bucket, Key="s", UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}, MpuObjectSize=4)
    assert error_of(caught)[0::2] == ("InvalidRequest", 400)
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="s", UploadId=upload, MpuObjectSize=3,
        ChecksumCRC32=part["ChecksumCRC32"], MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]}]})
    assert done["ChecksumCRC32"] == part["ChecksumCRC32"]


def test_delete_bucket_with_uploads_in_progress(s3):
    from tests.s3.conftest import unique

    name = unique()
    s3.create_bucket(Bucket=name)
    upload = s3.create_multipart_upload(Bucket=name, Key="k")["UploadId"]
    s3.upload_part(Bucket=name, Key="k", UploadId=upload, PartNumber=1, Body=b"x" * 100_000)
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=name)
    s3.delete_bucket(Bucket=name)
