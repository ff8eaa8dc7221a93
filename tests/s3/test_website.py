"""Static website hosting on the website endpoint: index and error documents, redirects,
public buckets only."""

from __future__ import annotations

import http.client
import json

import pytest


def _get(server, bucket: str, path: str, method: str = "GET"):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request(method, path, headers={
        "Host": f"{bucket}.s3-website.localhost:{server.port}"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def _make_public(s3, bucket: str) -> None:
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17",
                                                           "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]}))


@pytest.fixture
def site(s3, bucket):
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>home</h1>",
                  ContentType="text/html")
    s3.put_object(Bucket=bucket, Key="docs/index.html", Body=b"docs", ContentType="text/html")
    s3.put_object(Bucket=bucket, Key="error.html", Body=b"oops", ContentType="text/html")
    s3.put_object(Bucket=bucket, Key="moved", Body=b"", WebsiteRedirectLocation="/docs/")
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"},
        "RoutingRules": [{"Condition": {"KeyPrefixEquals": "old/"},
                          "Redirect": {"ReplaceKeyPrefixWith": "docs/"}}]})
    return bucket


def test_private_site_is_forbidden(nubo_server, site):
    status, headers, body = _get(nubo_server, site, "/")
    assert status == 403 and b"AccessDenied" in body
    assert headers["content-type"].startswith("text/html")


def test_public_site(nubo_server, s3, site):
    _make_public(s3, site)
    status, headers, body = _get(nubo_server, site, "/")
    assert (status, body, headers["content-type"]) == (200, b"<h1>home</h1>", "text/html")
    assert _get(nubo_server, site, "/docs/")[2] == b"docs"
    status, headers, _ = _get(nubo_server, site, "/docs")
    assert (status, headers["location"]) == (302, "/docs/")
    status, _, body = _get(nubo_server, site, "/missing.html")
    assert (status, body) == (404, b"oops")
    status, headers, _ = _get(nubo_server, site, "/moved")
    assert (status, headers["location"]) == (301, "/docs/")
    status, headers, _ = _get(nubo_server, site, "/old/page.html")
    assert status == 301 and headers["location"].endswith("/docs/page.html")
    status, headers, body = _get(nubo_server, site, "/", "HEAD")
    assert (status, body, headers["content-length"]) == (200, b"", "13")
    assert _get(nubo_server, site, "/", "POST")[0] == 405


def test_site_errors(nubo_server, s3, bucket):
    status, _, body = _get(nubo_server, bucket, "/")
    assert status == 404 and b"NoSuchWebsiteConfiguration" in body
    status, _, body = _get(nubo_server, "no-such-bucket-site", "/")
    assert status == 404 and b"NoSuchBucket" in body
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"RedirectAllRequestsTo": {
        "HostName": "example.com", "Protocol": "https"}})
    _make_public(s3, bucket)
    status, headers, _ = _get(nubo_server, bucket, "/a/b")
    assert (status, headers["location"]) == (301, "https://example.com/a/b")
