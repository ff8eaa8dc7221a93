"""S3 CORS as browsers meet it: preflights answered by the bucket's rules (403 without a match
or without rules) and CORS headers on actual responses only when a rule matches."""

from __future__ import annotations

import http.client

from tests.s3.conftest import signed_request

RULES = [{"AllowedOrigins": ["https://app.example"], "AllowedMethods": ["GET", "PUT"],
          "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"],
          "MaxAgeSeconds": 600},
         {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]


def _options(server, path: str, origin: str, method: str, headers: str = ""):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    extra = {"Access-Control-Request-Headers": headers} if headers else {}
    connection.request("OPTIONS", path, headers={"Origin": origin,
                                                 "Access-Control-Request-Method": method,
                                                 **extra})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_preflight_without_rules_is_refused(nubo_server, bucket):
    status, _, body = _options(nubo_server, f"/{bucket}/k", "https://app.example", "PUT")
    assert status == 403
    assert b"<Code>AccessForbidden</Code>" in body
    assert b"CORS is not enabled for this bucket." in body


def test_preflight_by_rules(nubo_server, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    status, headers, _ = _options(nubo_server, f"/{bucket}/upload.txt", "https://app.example",
                                  "PUT", "Content-Type, X-Amz-Meta-Owner")
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-allow-methods"] == "GET, PUT"
    assert headers["access-control-allow-headers"] == "content-type, x-amz-meta-owner"
    assert headers["access-control-expose-headers"] == "ETag"
    assert headers["access-control-max-age"] == "600"
    assert headers["access-control-allow-credentials"] == "true"
    # any origin may GET through the second rule
    status, headers, _ = _options(nubo_server, f"/{bucket}/x", "https://other.example", "GET")
    assert (status, headers["access-control-allow-origin"]) == (200, "*")
    # but not PUT, nor send headers no rule allows
    status, _, body = _options(nubo_server, f"/{bucket}/x", "https://other.example", "PUT")
    assert status == 403 and b"This CORS request is not allowed" in body
    status, _, _ = _options(nubo_server, f"/{bucket}/x", "https://app.example", "PUT",
                            "authorization-extra")
    assert status == 403
    # virtual-hosted names too
    connection = http.client.HTTPConnection("127.0.0.1", nubo_server.port, timeout=10)
    connection.request("OPTIONS", "/k", headers={
        "Host": f"{bucket}.s3.localhost:{nubo_server.port}", "Origin": "https://app.example",
        "Access-Control-Request-Method": "GET"})
    assert connection.getresponse().status == 200
    connection.close()


def test_actual_responses_carry_matching_rules_only(nubo_server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    status, headers, _ = signed_request(nubo_server, "GET", f"/{bucket}/k",
                                        headers={"Origin": "https://app.example"})
    assert status == 200 and "access-control-allow-origin" not in headers
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES[:1]})
    status, headers, _ = signed_request(nubo_server, "GET", f"/{bucket}/k",
                                        headers={"Origin": "https://app.example"})
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-expose-headers"] == "ETag"
    status, headers, _ = signed_request(nubo_server, "GET", f"/{bucket}/k",
                                        headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in headers


def test_other_services_keep_permissive_cors(nubo_server):
    status, headers, _ = _options(nubo_server, "/", "https://app.example", "POST",
                                  "x-amz-target")
    assert status == 200 and headers["access-control-allow-headers"] == "x-amz-target"
