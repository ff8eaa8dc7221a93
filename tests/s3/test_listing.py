"""ListObjects v1 and v2: prefixes, delimiters and common prefixes, pagination, start-after,
URL encoding, max-keys; results in UTF-8 binary order."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of

KEYS = ["a.txt", "photos/2023/jan/1.jpg", "photos/2023/jan/2.jpg", "photos/2023/feb/1.jpg",
        "photos/2024/x.jpg", "photos/readme", "videos/v.mp4", "z", "Zeta", "é-accent", "~tilde"]


@pytest.fixture
def filled(s3, bucket):
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def _keys(page):
    return [o["Key"] for o in page.get("Contents", [])]


def _prefixes(page):
    return [p["Prefix"] for p in page.get("CommonPrefixes", [])]


def test_binary_order(s3, filled):
    page = s3.list_objects_v2(Bucket=filled)
    assert _keys(page) == sorted(KEYS, key=lambda k: k.encode())
    assert page["KeyCount"] == len(KEYS)
    assert page["IsTruncated"] is False
    assert page["MaxKeys"] == 1000


def test_prefix_and_delimiter(s3, filled):
    page = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert _prefixes(page) == ["photos/", "videos/"]
    assert _keys(page) == ["Zeta", "a.txt", "z", "~tilde", "é-accent"]
    assert page["KeyCount"] == 7
    page = s3.list_objects_v2(Bucket=filled, Prefix="photos/", Delimiter="/")
    assert _prefixes(page) == ["photos/2023/", "photos/2024/"]
    assert _keys(page) == ["photos/readme"]
    page = s3.list_objects_v2(Bucket=filled, Prefix="photos/2023/", Delimiter="/")
    assert _prefixes(page) == ["photos/2023/feb/", "photos/2023/jan/"]
    page = s3.list_objects_v2(Bucket=filled, Prefix="photos/2023/jan/")
    assert _keys(page) == ["photos/2023/jan/1.jpg", "photos/2023/jan/2.jpg"]
    assert s3.list_objects_v2(Bucket=filled, Prefix="nothing")["KeyCount"] == 0
    # a delimiter other than "/"
    page = s3.list_objects_v2(Bucket=filled, Delimiter=".")
    assert "a." in _prefixes(page) and "photos/2023/jan/1." in _prefixes(page)


def test_pagination_with_tokens(s3, filled):
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=filled, MaxKeys=3, **kwargs)
        pages += 1
        seen += _keys(page)
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == sorted(KEYS, key=lambda k: k.encode())
    assert pages == 4


def test_pagination_counts_common_prefixes(s3, filled):
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=filled, Delimiter="/", PaginationConfig={"PageSize": 2}))
    flat = [item for p in pages for item in _prefixes(p) + _keys(p)]
    assert sorted(flat) == sorted(["photos/", "videos/", "Zeta", "a.txt", "z", "~tilde",
                                   "é-accent"])
    assert all(p["KeyCount"] <= 2 for p in pages)


def test_start_after_and_max_keys(s3, filled):
    page = s3.list_objects_v2(Bucket=filled, StartAfter="photos/2024/x.jpg")
    assert _keys(page) == ["photos/readme", "videos/v.mp4", "z", "~tilde", "é-accent"]
    assert page["StartAfter"] == "photos/2024/x.jpg"
    page = s3.list_objects_v2(Bucket=filled, MaxKeys=0)
    assert page["KeyCount"] == 0 and "Contents" not in page
    page = s3.list_objects_v2(Bucket=filled, MaxKeys=5000)
    assert page["MaxKeys"] == 1000
    # v2 names each object's owner only when asked to (fetch-owner)
    assert "Owner" not in s3.list_objects_v2(Bucket=filled, MaxKeys=1)["Contents"][0]
    owned = s3.list_objects_v2(Bucket=filled, MaxKeys=1, FetchOwner=True)["Contents"][0]
    assert owned["Owner"]["ID"] == s3.get_bucket_acl(Bucket=filled)["Owner"]["ID"]


def test_encoding_type_url(s3, filled):
    s3.put_object(Bucket=filled, Key="with space/and+plus", Body=b"x")
    page = s3.list_objects_v2(Bucket=filled, Prefix="with space/", EncodingType="url")
    assert page["EncodingType"] == "url"
    assert _keys(page) == ["with%20space/and%2Bplus"]
    # without an explicit encoding, botocore asks for url and decodes for its user
    assert _keys(s3.list_objects_v2(Bucket=filled, Prefix="with space/")) == \
        ["with space/and+plus"]
    with pytest.raises(ClientError) as caught:
        s3.list_objects_v2(Bucket=filled, EncodingType="base64")
    assert error_of(caught)[0::2] == ("InvalidArgument", 400)


def test_list_objects_v1_markers(s3, filled):
    page = s3.list_objects(Bucket=filled, MaxKeys=4)
    assert page["IsTruncated"] is True
    assert "NextMarker" not in page  # only with a delimiter
    assert _keys(page)[0] == "Zeta"
    assert page["Contents"][0]["Owner"]["ID"]
    rest = s3.list_objects(Bucket=filled, Marker=_keys(page)[-1])
    assert _keys(page) + _keys(rest) == sorted(KEYS, key=lambda k: k.encode())
    page = s3.list_objects(Bucket=filled, Delimiter="/", MaxKeys=2)
    assert page["NextMarker"] == "a.txt"
    after = s3.list_objects(Bucket=filled, Delimiter="/", Marker="photos/")
    assert _prefixes(after) == ["videos/"]
    every = [item for p in s3.get_paginator("list_objects").paginate(
        Bucket=filled, Delimiter="/", PaginationConfig={"PageSize": 2})
        for item in _prefixes(p) + _keys(p)]
    assert len(every) == 7


def test_listing_is_a_range_scan(s3, bucket):
    """Many keys under one prefix: a page skips the rest of a common prefix in one jump."""
    for i in range(300):
        s3.put_object(Bucket=bucket, Key=f"deep/{i:04d}", Body=b"")
    s3.put_object(Bucket=bucket, Key="top", Body=b"")
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert (_prefixes(page), _keys(page)) == (["deep/"], ["top"])
    page = s3.list_objects_v2(Bucket=bucket, Prefix="deep/", MaxKeys=1000)
    assert page["KeyCount"] == 300


def test_no_such_bucket(s3):
    with pytest.raises(ClientError) as caught:
        s3.list_objects_v2(Bucket="no-such-bucket-nubo-list")
    assert error_of(caught)[0::2] == ("NoSuchBucket", 404)


def test_folder_markers(s3, bucket):
    s3.put_object(Bucket=bucket, Key="dir/", Body=b"")
    s3.put_object(Bucket=bucket, Key="dir/file", Body=b"x")
    assert s3.head_object(Bucket=bucket, Key="dir/")["ContentLength"] == 0
    page = s3.list_objects_v2(Bucket=bucket, Prefix="dir/", Delimiter="/")
    assert _keys(page) == ["dir/", "dir/file"]
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert _prefixes(page) == ["dir/"] and _keys(page) == []
