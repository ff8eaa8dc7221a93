"""Versioning: version ids, delete markers, the null version, reads and deletes by version,
ListObjectVersions with markers."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of


@pytest.fixture
def versioned(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def test_versions_and_delete_markers(s3, versioned):
    v1 = s3.put_object(Bucket=versioned, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=versioned, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2 and len(v1) == 32
    got = s3.get_object(Bucket=versioned, Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (b"two", v2)
    assert s3.get_object(Bucket=versioned, Key="k", VersionId=v1)["Body"].read() == b"one"
    deleted = s3.delete_object(Bucket=versioned, Key="k")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=versioned, Key="k")
    assert error_of(caught)[0::2] == ("NoSuchKey", 404)
    headers = caught.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=versioned, Key="k", VersionId=marker)
    assert error_of(caught) == ("MethodNotAllowed", "The specified method is not allowed "
                                "against this resource.", 405)
    assert s3.list_objects_v2(Bucket=versioned)["KeyCount"] == 0
    listed = s3.list_object_versions(Bucket=versioned)
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == \
        [(v2, False), (v1, False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == \
        [(marker, True)]
    # deleting the marker brings the object back
    undo = s3.delete_object(Bucket=versioned, Key="k", VersionId=marker)
    assert (undo["VersionId"], undo["DeleteMarker"]) == (marker, True)
    assert s3.get_object(Bucket=versioned, Key="k")["Body"].read() == b"two"
    # deleting the latest version permanently makes the previous one current
    s3.delete_object(Bucket=versioned, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=versioned, Key="k")["Body"].read() == b"one"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=versioned)["Contents"]] == ["k"]
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=versioned, Key="k", VersionId=v2)
    assert error_of(caught)[0::2] == ("NoSuchVersion", 404)


def test_null_version(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")
    assert "VersionId" not in s3.head_object(Bucket=bucket, Key="k")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    new = s3.put_object(Bucket=bucket, Key="k", Body=b"after")["VersionId"]
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == [new, "null"]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"before"
    # suspended: new writes replace the null version
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"suspended")
    assert put["VersionId"] == "null"
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [("null", True), (new, False)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == \
        b"suspended"
    marker = s3.delete_object(Bucket=bucket, Key="k")
    assert (marker["DeleteMarker"], marker["VersionId"]) == (True, "null")
    listed = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listed["Versions"]] == [new]
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == ["null"]


def test_list_object_versions_pagination(s3, versioned):
    expected = []
    for key in ("a", "b", "c"):
        ids = [s3.put_object(Bucket=versioned, Key=key, Body=key.encode() * n)["VersionId"]
               for n in range(1, 4)]
        expected += [(key, version) for version in reversed(ids)]
    pages = list(s3.get_paginator("list_object_versions").paginate(
        Bucket=versioned, PaginationConfig={"PageSize": 2}))
    seen = [(v["Key"], v["VersionId"]) for p in pages for v in p.get("Versions", [])]
    assert seen == expected
    assert len(pages) == 5
    latest = [(v["Key"], v["IsLatest"]) for p in pages for v in p.get("Versions", [])]
    assert [k for k, is_latest in latest if is_latest] == ["a", "b", "c"]
    page = s3.list_object_versions(Bucket=versioned, KeyMarker="a")
    assert [v["Key"] for v in page["Versions"]][0] == "b"


def test_delete_objects_with_versions(s3, versioned):
    v1 = s3.put_object(Bucket=versioned, Key="d", Body=b"1")["VersionId"]
    result = s3.delete_objects(Bucket=versioned, Delete={"Objects": [{"Key": "d"}]})
    assert result["Deleted"][0]["DeleteMarker"] is True
    marker = result["Deleted"][0]["DeleteMarkerVersionId"]
    result = s3.delete_objects(Bucket=versioned, Delete={"Objects": [
        {"Key": "d", "VersionId": v1}, {"Key": "d", "VersionId": marker}]})
    assert sorted(d["VersionId"] for d in result["Deleted"]) == sorted([v1, marker])
    assert "Versions" not in s3.list_object_versions(Bucket=versioned)
