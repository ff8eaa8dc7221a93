"""Objects: put/get/head/delete, metadata, ETags, Content-MD5, checksums, ranges, conditions,
copies, batch deletes and unusual keys."""

from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of


def test_put_get_head_delete(s3, bucket, nubo_server):
    body = b"hello world"
    put = s3.put_object(Bucket=bucket, Key="greeting.txt", Body=body, ContentType="text/plain",
                        Metadata={"Colour": "blue"}, CacheControl="max-age=60",
                        ContentDisposition="inline", ContentLanguage="en")
    etag = f'"{hashlib.md5(body).hexdigest()}"'
    assert put["ETag"] == etag
    assert put["ServerSideEncryption"] == "AES256"
    assert "VersionId" not in put
    got = s3.get_object(Bucket=bucket, Key="greeting.txt")
    assert got["Body"].read() == body
    assert (got["ETag"], got["ContentLength"], got["ContentType"]) == (etag, 11, "text/plain")
    assert got["Metadata"] == {"colour": "blue"}
    assert (got["CacheControl"], got["ContentDisposition"], got["ContentLanguage"]) == \
        ("max-age=60", "inline", "en")
    assert got["AcceptRanges"] == "bytes"
    now = datetime.fromtimestamp(nubo_server.get("/_nubo/clock")["now"], timezone.utc)
    assert abs(got["LastModified"] - now) < timedelta(minutes=1)  # nubo's clock: tests move it
    head = s3.head_object(Bucket=bucket, Key="greeting.txt")
    assert (head["ContentLength"], head["ETag"]) == (11, etag)
    assert s3.delete_object(Bucket=bucket, Key="greeting.txt")["ResponseMetadata"][
        "HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="greeting.txt")
    assert error_of(caught) == ("NoSuchKey", "The specified key does not exist.", 404)
    assert caught.value.response["Error"]["Key"] == "greeting.txt"
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="greeting.txt")
    assert error_of(caught)[0::2] == ("404", 404)  # HEAD errors have no body
    # deleting a missing key succeeds
    s3.delete_object(Bucket=bucket, Key="never-there")


def test_default_content_type_and_empty_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b""
    assert got["ContentLength"] == 0
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    assert got["ContentType"] == "binary/octet-stream"


def test_no_such_bucket(s3):
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket="no-such-bucket-nubo", Key="k", Body=b"x")
    assert error_of(caught)[0::2] == ("NoSuchBucket", 404)


def test_large_object_round_trip(s3, bucket):
    body = bytes(range(256)) * 40_000  # ~10 MB: a file blob, not inline
    put = s3.put_object(Bucket=bucket, Key="large", Body=body)
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert s3.get_object(Bucket=bucket, Key="large")["Body"].read() == body


def test_content_md5(s3, bucket):
    body = b"checked"
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5", Body=body, ContentMD5=good)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="md5", Body=body, ContentMD5=wrong)
    assert error_of(caught) == ("BadDigest", "The Content-MD5 you specified did not match what "
                                "we received.", 400)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="md5", Body=body, ContentMD5="not-an-md5")
    assert error_of(caught) == ("InvalidDigest", "The Content-MD5 you specified was not valid.",
                                400)
    assert s3.get_object(Bucket=bucket, Key="md5")["Body"].read() == body


def _b64(number: int, size: int) -> str:
    return base64.b64encode(number.to_bytes(size, "big")).decode()


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_additional_checksums(s3, bucket, algorithm):
    body = b"The quick brown fox jumps over the lazy dog" * 100
    put = s3.put_object(Bucket=bucket, Key=algorithm, Body=body, ChecksumAlgorithm=algorithm)
    member = f"Checksum{algorithm}"
    expected = {
        "CRC32": _b64(zlib.crc32(body), 4),
        "SHA1": base64.b64encode(hashlib.sha1(body).digest()).decode(),
        "SHA256": base64.b64encode(hashlib.sha256(body).digest()).decode(),
    }.get(algorithm, put[member])
    assert put[member] == expected
    head = s3.head_object(Bucket=bucket, Key=algorithm, ChecksumMode="ENABLED")
    assert head[member] == expected
    assert head["ChecksumType"] == "FULL_OBJECT"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=algorithm)["Contents"][0]
    assert listed["ChecksumAlgorithm"] == [algorithm]


def test_known_crc_values(s3, bucket):
    # reference values of the check string "123456789" for each CRC
    put = s3.put_object(Bucket=bucket, Key="crc32c", Body=b"123456789",
                        ChecksumAlgorithm="CRC32C")
    assert put["ChecksumCRC32C"] == _b64(0xE3069283, 4)
    put = s3.put_object(Bucket=bucket, Key="crc64", Body=b"123456789",
                        ChecksumAlgorithm="CRC64NVME")
    assert put["ChecksumCRC64NVME"] == _b64(0xAE8B14860A799888, 8)


def test_wrong_checksum_is_refused(s3, bucket):
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data", ChecksumSHA256=base64.b64encode(
            hashlib.sha256(b"other").digest()).decode())
    assert error_of(caught) == ("BadDigest", "The SHA256 you specified did not match the "
                                "calculated checksum.", 400)
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="bad")
    assert error_of(caught)[2] == 404


def test_ranges(s3, bucket):
    body = bytes(range(100))
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    got = s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == body[10:20]
    assert got["ContentRange"] == "bytes 10-19/100"
    assert got["ContentLength"] == 10
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=90-")["Body"].read() == body[90:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")["Body"].read() == body[-5:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=95-500")["Body"].read() == \
        body[95:]
    head = s3.head_object(Bucket=bucket, Key="r", Range="bytes=0-0")
    assert (head["ResponseMetadata"]["HTTPStatusCode"], head["ContentLength"]) == (206, 1)
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=100-")
    assert error_of(caught) == ("InvalidRange", "The requested range is not satisfiable", 416)
    assert caught.value.response["Error"]["ActualObjectSize"] == "100"
    # a malformed range is ignored: the whole object
    whole = s3.get_object(Bucket=bucket, Key="r", Range="bytes=a-b")
    assert (whole["ResponseMetadata"]["HTTPStatusCode"], whole["Body"].read()) == (200, body)


def test_range_over_large_object(s3, bucket):
    body = bytes(range(256)) * 4096 * 2
    s3.put_object(Bucket=bucket, Key="big", Body=body)
    got = s3.get_object(Bucket=bucket, Key="big", Range="bytes=1000000-1500000")
    assert got["Body"].read() == body[1000000:1500001]


def test_read_conditions(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"v1")["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0123"')
    assert error_of(caught) == ("PreconditionFailed", "At least one of the pre-conditions you "
                                "specified did not hold", 412)
    assert caught.value.response["Error"]["Condition"] == "If-Match"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert error_of(caught)[2] == 304
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified + timedelta(seconds=5))
    assert error_of(caught)[2] == 304
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="c",
                      IfUnmodifiedSince=modified - timedelta(days=1))
    assert error_of(caught)[0::2] == ("PreconditionFailed", 412)
    # If-Match true wins over a false If-Unmodified-Since
    s3.get_object(Bucket=bucket, Key="c", IfMatch=etag,
                  IfUnmodifiedSince=modified - timedelta(days=1))
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert error_of(caught)[2] == 304


def test_conditional_writes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="w", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="w", Body=b"second", IfNoneMatch="*")
    assert error_of(caught)[0::2] == ("PreconditionFailed", 412)
    etag = s3.head_object(Bucket=bucket, Key="w")["ETag"]
    s3.put_object(Bucket=bucket, Key="w", Body=b"third", IfMatch=etag)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="w", Body=b"fourth", IfMatch=etag)
    assert error_of(caught)[0::2] == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="missing", Body=b"x", IfMatch=etag)
    assert error_of(caught)[0::2] == ("NoSuchKey", 404)
    assert s3.get_object(Bucket=bucket, Key="w")["Body"].read() == b"third"


def test_conditional_deletes(s3, bucket):
    """DeleteObject and DeleteObjects with If-Match (the key's current ETag, or * for any),
    and the modification time and size conditions: 412 when they do not hold, 404 for If-Match
    on a missing key."""
    etag = s3.put_object(Bucket=bucket, Key="d", Body=b"12345")["ETag"]
    head = s3.head_object(Bucket=bucket, Key="d")
    for wrong in ({"IfMatch": '"0123456789abcdef0123456789abcdef"'},
                  {"IfMatchSize": 4},
                  {"IfMatchLastModifiedTime": head["LastModified"] - timedelta(seconds=5)}):
        with pytest.raises(ClientError) as caught:
            s3.delete_object(Bucket=bucket, Key="d", **wrong)
        assert error_of(caught)[0::2] == ("PreconditionFailed", 412)
    assert s3.head_object(Bucket=bucket, Key="d")["ETag"] == etag
    s3.delete_object(Bucket=bucket, Key="d", IfMatch=etag, IfMatchSize=5,
                     IfMatchLastModifiedTime=head["LastModified"])
    with pytest.raises(ClientError) as caught:
        s3.delete_object(Bucket=bucket, Key="d", IfMatch="*")
    assert error_of(caught)[0::2] == ("NoSuchKey", 404)
    s3.delete_object(Bucket=bucket, Key="d", IfMatchSize=5)  # absent: nothing to compare
    kept = s3.put_object(Bucket=bucket, Key="kept", Body=b"x")["ETag"]
    gone = s3.put_object(Bucket=bucket, Key="gone", Body=b"y")["ETag"]
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "kept", "ETag": gone}, {"Key": "gone", "ETag": gone}]})
    assert [d["Key"] for d in result["Deleted"]] == ["gone"]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("kept", "PreconditionFailed")]
    assert s3.head_object(Bucket=bucket, Key="kept")["ETag"] == kept


def test_overwrite_replaces(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"x" * 200_000)
    s3.put_object(Bucket=bucket, Key="o", Body=b"small")
    assert s3.get_object(Bucket=bucket, Key="o")["Body"].read() == b"small"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


@pytest.mark.parametrize("key", [
    "../../../etc/passwd", "a//b///c", "unicode/ÿ漢字🙂", "spaces and +plus%percent",
    "/leading-slash", "k" * 1024, "question?mark&amp=1#hash", "dot/./segment", "tab\tkey"])
def test_unusual_keys(s3, bucket, key):
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]


def test_key_too_long(s3, bucket):
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert error_of(caught) == ("KeyTooLongError", "Your key is too long", 400)


def test_response_header_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="h", Body=b"x", ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key="h", ResponseContentType="application/json",
                        ResponseContentDisposition="attachment; filename=x.json",
                        ResponseCacheControl="no-cache")
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "attachment; filename=x.json"
    assert got["CacheControl"] == "no-cache"


def test_copy_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", ContentType="text/plain",
                  Metadata={"a": "1"})
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket,
                                                                   "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"payload").hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == \
        (b"payload", "text/plain", {"a": "1"})
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src",
                   MetadataDirective="REPLACE", Metadata={"b": "2"}, ContentType="x/y")
    got = s3.head_object(Bucket=bucket, Key="dst2")
    assert (got["Metadata"], got["ContentType"]) == ({"b": "2"}, "x/y")
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src")
    assert error_of(caught)[0::2] == ("InvalidRequest", 400)
    s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src",
                   MetadataDirective="REPLACE", Metadata={"c": "3"})
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"c": "3"}
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="dst3", CopySource=f"{bucket}/src",
                       CopySourceIfMatch='"nope"')
    assert error_of(caught)[0::2] == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as caught:
        s3.copy_object(Bucket=bucket, Key="dst3", CopySource=f"{bucket}/missing")
    assert error_of(caught)[0::2] == ("NoSuchKey", 404)


def test_copy_large_object(s3, bucket):
    body = b"z" * (2 * 1024 * 1024 + 7)
    s3.put_object(Bucket=bucket, Key="big", Body=body)
    s3.copy_object(Bucket=bucket, Key="big-copy", CopySource=f"{bucket}/big")
    assert s3.get_object(Bucket=bucket, Key="big-copy")["Body"].read() == body


def test_delete_objects(s3, bucket):
    for key in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "a"}, {"Key": "b"}, {"Key": "missing"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "b", "missing"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["c"]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    for objects in ([{"Key": str(i)} for i in range(1001)], []):
        with pytest.raises(ClientError) as caught:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
        assert error_of(caught)[0::2] == ("MalformedXML", 400)


def test_transfer_manager_and_presigned_urls(s3, bucket, tmp_path, nubo_server,
                                             signing_at_server_time):
    """boto3's upload_file/download_file (multipart, ranged parallel GETs) and presigned URLs."""
    import urllib.request

    from boto3.s3.transfer import TransferConfig

    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)) * 80_000)  # ~20 MB
    config = TransferConfig(multipart_threshold=8 * 1024 * 1024,
                            multipart_chunksize=8 * 1024 * 1024, max_concurrency=4)
    s3.upload_file(str(source), bucket, "transferred", Config=config)
    assert s3.head_object(Bucket=bucket, Key="transferred")["ETag"].endswith('-3"')
    target = tmp_path / "target.bin"
    s3.download_file(bucket, "transferred", str(target), Config=config)
    assert target.read_bytes() == source.read_bytes()
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket,
                                                          "Key": "transferred"},
                                    ExpiresIn=300)
    with urllib.request.urlopen(url) as response:
        assert response.read() == source.read_bytes()
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket,
                                                              "Key": "presigned"},
                                        ExpiresIn=300)
    request = urllib.request.Request(put_url, data=b"via url", method="PUT")
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    assert s3.get_object(Bucket=bucket, Key="presigned")["Body"].read() == b"via url"


def test_payload_hash_and_metadata_limits(nubo_server, s3, bucket):
    from tests.s3.conftest import signed_request

    body = b"hashed payload"
    good = hashlib.sha256(body).hexdigest()
    status, _, _ = signed_request(nubo_server, "PUT", f"/{bucket}/h", body,
                                  headers={"x-amz-content-sha256": good})
    assert status == 200
    status, _, answer = signed_request(nubo_server, "PUT", f"/{bucket}/h2", body,
                                       headers={"x-amz-content-sha256": "0" * 64})
    assert status == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in answer
    assert s3.list_objects_v2(Bucket=bucket, Prefix="h2")["KeyCount"] == 0
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata={"big": "v" * 2100})
    assert error_of(caught) == ("MetadataTooLarge", "Your metadata headers exceed the maximum "
                                "allowed metadata size", 400)


def test_copy_tagging_directive(s3, bucket):
    """Tags are copied with the object (COPY), or replaced by the request's (REPLACE), whatever
    the metadata directive; an unknown directive is refused before anything is written."""
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="t=1", Metadata={"m": "1"})

    def tags(key: str) -> dict:
        return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket,
                                                                    Key=key)["TagSet"]}

    s3.copy_object(Bucket=bucket, Key="copied", CopySource=f"{bucket}/src")
    assert tags("copied") == {"t": "1"}
    s3.copy_object(Bucket=bucket, Key="replaced", CopySource=f"{bucket}/src",
                   TaggingDirective="REPLACE", Tagging="u=2&v=3")
    assert tags("replaced") == {"u": "2", "v": "3"}
    assert s3.head_object(Bucket=bucket, Key="replaced")["Metadata"] == {"m": "1"}
    s3.copy_object(Bucket=bucket, Key="both", CopySource=f"{bucket}/src",
                   TaggingDirective="REPLACE", Tagging="w=4", MetadataDirective="REPLACE",
                   Metadata={"n": "2"})
    assert tags("both") == {"w": "4"}
    s3.copy_object(Bucket=bucket, Key="cleared", CopySource=f"{bucket}/src",
                   TaggingDirective="REPLACE")
    assert tags("cleared") == {}
    for member, value, header in (("TaggingDirective", "MERGE", "tagging"),
                                  ("MetadataDirective", "replace", "metadata")):
        with pytest.raises(ClientError) as caught:
            s3.copy_object(Bucket=bucket, Key="refused", CopySource=f"{bucket}/src",
                           **{member: value})
        assert error_of(caught) == ("InvalidArgument", f"Unknown {header} directive.", 400)
        assert caught.value.response["Error"]["ArgumentName"] == f"x-amz-{header}-directive"
    assert s3.list_objects_v2(Bucket=bucket, Prefix="refused")["KeyCount"] == 0


def test_unknown_storage_class_is_refused(s3, bucket, aws_cli, tmp_path):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    for write in (lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="FOO"),
                  lambda: s3.copy_object(Bucket=bucket, Key="k", CopySource=f"{bucket}/src",
                                         StorageClass="FOO"),
                  lambda: s3.create_multipart_upload(Bucket=bucket, Key="k",
                                                     StorageClass="FOO")):
        with pytest.raises(ClientError) as caught:
            write()
        assert error_of(caught) == ("InvalidStorageClass",
                                    "The storage class you specified is not valid", 400)
        assert caught.value.response["Error"]["StorageClassRequested"] == "FOO"
    assert s3.list_objects_v2(Bucket=bucket, Prefix="k")["KeyCount"] == 0
    body = tmp_path / "body"
    body.write_bytes(b"cold")
    done = aws_cli("s3", "cp", str(body), f"s3://{bucket}/cold", "--storage-class",
                   "GLACIER_IR", check=False)
    assert done.returncode == 0, done.stderr
    assert s3.head_object(Bucket=bucket, Key="cold")["StorageClass"] == "GLACIER_IR"
