"""S3 test helpers on top of the shared fixtures (tests/conftest.py): clients, unique buckets,
raw signed HTTP for wire-level checks."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import ACCESS_KEY, REGION, SECRET_KEY


def unique(prefix: str = "b") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


@pytest.fixture(scope="session")
def s3(make_client):
    return make_client("s3")


@pytest.fixture
def bucket(s3):
    """A new empty bucket (emptied of every version and deleted afterwards)."""
    name = unique()
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete(s3, name)


def empty_and_delete(s3, name: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        items = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                 for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if items:
            s3.delete_objects(Bucket=name, Delete={"Objects": items, "Quiet": True})
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    s3.delete_bucket(Bucket=name)


@pytest.fixture(scope="session")
def s3_region(make_client):
    """make(region) -> an S3 client signing for another region."""
    return lambda region: make_client("s3", region_name=region)


def signed_request(server, method: str, path: str, body: bytes = b"", headers=None,
                   host: str | None = None, region: str = REGION):
    """A SigV4-signed raw HTTP request (host may be a virtual-hosted name): status, headers
    (lower-case), body."""
    netloc = urlsplit(server.endpoint).netloc
    host = host or netloc
    request = AWSRequest(method=method, url=f"http://{host}{path}", data=body,
                         headers=dict(headers or {}))
    request.headers["Host"] = host
    stated = (headers or {}).get("x-amz-content-sha256")
    request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", region).add_auth(request)
    if stated is not None:  # what the caller states, even if false (signatures not verified)
        request.headers.replace_header("x-amz-content-sha256", stated)
    connection = http.client.HTTPConnection(netloc, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers.items():
            connection.putheader(name, value)
        if body or method in ("PUT", "POST"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, \
            response.read()
    finally:
        connection.close()


def fetch(url: str, method: str = "GET", data: bytes | None = None,
          headers: dict | None = None) -> tuple[int, dict[str, str], bytes]:
    """A plain HTTP request (a presigned URL, as a browser or curl sends it): status, headers
    (lower-case), body."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, \
                response.read()
    except urllib.error.HTTPError as failed:
        return failed.code, {k.lower(): v for k, v in failed.headers.items()}, failed.read()
