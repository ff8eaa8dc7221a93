"""Static website hosting on the website endpoint: the configuration's checks, index and error
documents, redirects and routing rules, only what anybody may read, conditions, ranges and
CORS on pages."""

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
        "Resource": f"arn:aws:s3:::{bucket}/*"}, {  # so that a missing page is a 404
        "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{bucket}"}]}))


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


def test_website_configuration_checks(s3, bucket):
    from botocore.exceptions import ClientError

    from tests.conftest import error_of

    def refused(config):
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=config)
        return error_of(caught)

    index = {"IndexDocument": {"Suffix": "index.html"}}

    def rule(redirect, condition=None):
        found = {"Redirect": redirect}
        if condition is not None:
            found["Condition"] = condition
        return {**index, "RoutingRules": [found]}

    assert refused({"ErrorDocument": {"Key": "e.html"}}) == (
        "InvalidArgument", "A value for IndexDocument Suffix must be provided if "
        "RedirectAllRequestsTo is empty", 400)
    assert refused({"IndexDocument": {"Suffix": "a/index.html"}}) == (
        "InvalidArgument", "The IndexDocument Suffix is not well formed", 400)
    assert refused({**index, "RedirectAllRequestsTo": {"HostName": "example.com"}}) == (
        "InvalidArgument", "RedirectAllRequestsTo cannot be provided in conjunction with other "
        "Routing Rules.", 400)
    assert refused({**index, "RoutingRules": [{"Redirect": {"HostName": "example.com"}}] * 51}) \
        == ("InvalidRequest", "51 routing rules provided, the number of routing rules in a "
            "website configuration is limited to 50.", 400)
    assert refused(rule({"HttpRedirectCode": "300"})) == (
        "InvalidRequest", "The provided HTTP redirect code (300) is not valid. Valid codes are "
        "3XX except 300.", 400)
    assert refused(rule({"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b/"})) == (
        "InvalidRequest", "You can only define ReplaceKeyPrefix or ReplaceKey but not both.",
        400)
    assert refused(rule({"HostName": "example.com"}, {"HttpErrorCodeReturnedEquals": "302"})) \
        == ("InvalidRequest", "The provided HTTP error code (302) is not valid. Valid codes are "
            "4XX or 5XX.", 400)
    assert refused(rule({"HostName": "example.com"}, {})) == (
        "InvalidRequest", "Condition cannot be empty. To redirect all requests without a "
        "condition, the condition element shouldn't be present.", 400)
    assert refused(rule({"Protocol": "ftp"})) == (
        "InvalidRequest", "Invalid protocol, protocol can be http or https. If not defined the "
        "protocol will be selected automatically.", 400)
    with pytest.raises(ClientError) as caught:  # nothing was stored
        s3.get_bucket_website(Bucket=bucket)
    assert error_of(caught)[0] == "NoSuchWebsiteConfiguration"
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"", WebsiteRedirectLocation="about/")
    assert error_of(caught) == ("InvalidRedirectLocation", "The website redirect location must "
                                "have a prefix of 'http://' or 'https://' or '/'.", 400)


def test_site_redirect_rules(nubo_server, s3, bucket, aws_cli, tmp_path):
    """`aws s3 website` and `aws s3 cp --website-redirect`, then routing rules: by prefix
    before the read, by error code after it, without a condition for every request."""
    page = tmp_path / "index.html"
    page.write_text("home")
    for command in (("cp", str(page), f"s3://{bucket}/index.html", "--content-type",
                     "text/html"),
                    ("cp", str(page), f"s3://{bucket}/old.html", "--website-redirect",
                     "https://example.com/new.html"),
                    ("website", f"s3://{bucket}", "--index-document", "index.html")):
        done = aws_cli("s3", *command, check=False)
        assert done.returncode == 0, done.stderr
    refused = aws_cli("s3", "cp", str(page), f"s3://{bucket}/bad.html", "--website-redirect",
                      "new.html", check=False)
    assert refused.returncode != 0 and "InvalidRedirectLocation" in refused.stderr
    assert s3.get_bucket_website(Bucket=bucket)["IndexDocument"] == {"Suffix": "index.html"}
    _make_public(s3, bucket)
    status, headers, _ = _get(nubo_server, bucket, "/old.html")
    assert (status, headers["location"]) == (301, "https://example.com/new.html")
    status, headers, _ = _get(nubo_server, bucket, "/missing")
    assert (status, headers["x-amz-error-code"]) == (404, "NoSuchKey")
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "RoutingRules": [
            {"Condition": {"KeyPrefixEquals": "docs/"},
             "Redirect": {"ReplaceKeyPrefixWith": "documents/"}},
            {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
             "Redirect": {"HostName": "example.com", "Protocol": "https",
                          "HttpRedirectCode": "307", "ReplaceKeyPrefixWith": "lost/"}}]})
    status, headers, _ = _get(nubo_server, bucket, "/docs/a%20b.html")
    assert (status, headers["location"].split("/", 3)[3]) == (301, "documents/a%20b.html")
    status, headers, _ = _get(nubo_server, bucket, "/gone")
    assert (status, headers["location"]) == (307, "https://example.com/lost/gone")
    assert _get(nubo_server, bucket, "/")[2] == b"home"  # found: no redirect
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "RoutingRules": [
            {"Redirect": {"HostName": "example.org", "ReplaceKeyWith": "moved.html"}}]})
    status, headers, _ = _get(nubo_server, bucket, "/")
    assert (status, headers["location"]) == (301, "http://example.org/moved.html")
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"RedirectAllRequestsTo": {
        "HostName": "example.org", "Protocol": "https"}})
    status, headers, _ = _get(nubo_server, bucket, "/a/b?c=d")
    assert (status, headers["location"]) == (301, "https://example.org/a/b?c=d")


def test_site_serves_only_what_anybody_may_read(nubo_server, s3, site):
    """Each page is an anonymous GetObject: the policy's grants per object, a public-read ACL,
    and a missing page is 403 unless anybody may list the bucket; the error document is
    served with the error's status."""
    s3.put_public_access_block(Bucket=site, PublicAccessBlockConfiguration={
        "BlockPublicPolicy": False, "RestrictPublicBuckets": False, "BlockPublicAcls": False,
        "IgnorePublicAcls": False})
    s3.put_bucket_policy(Bucket=site, Policy=json.dumps({"Version": "2012-10-17",
                                                         "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{site}/*"}, {
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{site}/private/*"}]}))
    s3.put_object(Bucket=site, Key="private/index.html", Body=b"secret")
    assert _get(nubo_server, site, "/")[0:3:2] == (200, b"<h1>home</h1>")
    status, headers, body = _get(nubo_server, site, "/private/")
    assert (status, headers["x-amz-error-code"], body) == (403, "AccessDenied", b"oops")
    status, headers, body = _get(nubo_server, site, "/missing.html")  # nobody may list
    assert (status, headers["x-amz-error-code"], body) == (403, "AccessDenied", b"oops")
    s3.delete_object(Bucket=site, Key="error.html")
    status, headers, body = _get(nubo_server, site, "/missing.html")
    assert status == 403 and b"<li>Code: AccessDenied</li>" in body
    # without a policy, an object whose ACL makes it public
    s3.delete_bucket_policy(Bucket=site)
    assert _get(nubo_server, site, "/")[0] == 403
    s3.put_bucket_ownership_controls(Bucket=site, OwnershipControls={"Rules": [
        {"ObjectOwnership": "ObjectWriter"}]})
    s3.put_object_acl(Bucket=site, Key="index.html", ACL="public-read")
    assert _get(nubo_server, site, "/")[0:3:2] == (200, b"<h1>home</h1>")


def test_site_answers_follow_the_buckets_cors(nubo_server, s3, site):
    _make_public(s3, site)
    s3.put_bucket_cors(Bucket=site, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://app.example"], "AllowedMethods": ["GET"]}]})
    port = nubo_server.endpoint.rsplit(":", 1)[1]
    host = f"{site}.s3-website.localhost:{port}"
    for method, headers, expected in (
            ("GET", {"Origin": "https://app.example"}, 200),
            ("OPTIONS", {"Origin": "https://app.example",
                         "Access-Control-Request-Method": "GET"}, 200),
            ("OPTIONS", {"Origin": "https://other.example",
                         "Access-Control-Request-Method": "GET"}, 403)):
        connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
        connection.request(method, "/", headers={"Host": host, **headers})
        response = connection.getresponse()
        response.read()
        connection.close()
        assert response.status == expected
        if expected == 200:
            assert response.getheader("access-control-allow-origin") == "https://app.example"


def test_site_pages_take_conditions_and_ranges(nubo_server, s3, site):
    """A page is read as S3 reads an object: If-None-Match / If-Modified-Since answer 304,
    If-Match 412, a Range 206 (as browsers' caches and media players ask)."""
    _make_public(s3, site)
    port = nubo_server.endpoint.rsplit(":", 1)[1]

    def visit(headers: dict):
        connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
        connection.request("GET", "/", headers={"Host": f"{site}.s3-website.localhost:{port}",
                                                **headers})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    status, headers, body = visit({})
    assert (status, body, headers["accept-ranges"]) == (200, b"<h1>home</h1>", "bytes")
    etag, modified = headers["etag"], headers["last-modified"]
    status, headers, body = visit({"If-None-Match": etag})
    assert (status, body, headers["etag"]) == (304, b"", etag)
    assert visit({"If-Modified-Since": modified})[0] == 304
    assert visit({"If-Modified-Since": "not a date"})[0] == 200
    status, headers, _ = visit({"If-Match": '"other"'})
    assert (status, headers["x-amz-error-code"]) == (412, "PreconditionFailed")
    status, headers, body = visit({"Range": "bytes=4-7"})
    assert (status, body, headers["content-range"]) == (206, b"home", "bytes 4-7/13")
    assert visit({"Range": "bytes=100-"})[0] == 416


def test_site_never_serves_sse_kms_objects(nubo_server, s3, site):
    """KMS decrypts only for SigV4-signed requests, and a visitor is anonymous: an SSE-KMS
    page is refused (403), an SSE-KMS error document is not used."""
    _make_public(s3, site)
    s3.put_object(Bucket=site, Key="kms.html", Body=b"kms", ServerSideEncryption="aws:kms")
    assert _get(nubo_server, site, "/kms.html")[0:3:2] == (403, b"oops")  # the error document
    s3.put_object(Bucket=site, Key="error.html", Body=b"oops", ServerSideEncryption="aws:kms")
    status, _, body = _get(nubo_server, site, "/kms.html")
    assert status == 403 and b"AccessDenied" in body and b"oops" not in body
    status, _, body = _get(nubo_server, site, "/missing.html")
    assert status == 404 and b"NoSuchKey" in body and b"oops" not in body
    assert _get(nubo_server, site, "/")[0:3:2] == (200, b"<h1>home</h1>")
