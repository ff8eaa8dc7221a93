"""S3 on the wire: virtual-hosted names, the <Error> body, HEAD errors, response root elements,
aws-chunked bodies (signed chunks and unsigned with trailing checksums), Expect: 100-continue."""

from __future__ import annotations

import base64
import hashlib
import socket
import zlib
from urllib.parse import urlsplit

import pytest

from tests.s3.conftest import signed_request, unique


@pytest.mark.parametrize("host", ["{b}.s3.localhost", "{b}.s3.us-east-1.localhost.localstack.cloud",
                                  "{b}.localhost", "{b}.s3.amazonaws.com",
                                  "{b}.s3.localhost.localstack.cloud"])
def test_virtual_hosted_names(nubo_server, s3, bucket, host):
    port = urlsplit(nubo_server.endpoint).port
    name = host.format(b=bucket) + f":{port}"
    status, _, _ = signed_request(nubo_server, "PUT", "/dir/key.txt", b"virtual", host=name)
    assert status == 200
    assert s3.get_object(Bucket=bucket, Key="dir/key.txt")["Body"].read() == b"virtual"
    status, headers, body = signed_request(nubo_server, "GET", "/dir/key.txt", host=name)
    assert (status, body) == (200, b"virtual")
    status, _, body = signed_request(nubo_server, "GET", "/?list-type=2", host=name)
    assert status == 200 and b"<Key>dir/key.txt</Key>" in body
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
                           b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">')


def test_error_body(nubo_server, bucket):
    status, headers, body = signed_request(nubo_server, "GET", f"/{bucket}/missing-key")
    assert status == 404
    assert headers["content-type"] == "application/xml"
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code>'
                           b"<Message>The specified key does not exist.</Message>"
                           b"<Key>missing-key</Key><RequestId>")
    assert b"<HostId>" in body and body.endswith(b"</HostId></Error>")
    assert headers["x-amz-request-id"] and headers["x-amz-id-2"]
    status, headers, body = signed_request(nubo_server, "GET", "/no-such-bucket-wire/k")
    assert status == 404 and b"<BucketName>no-such-bucket-wire</BucketName>" in body


def test_head_errors_have_no_body(nubo_server, bucket):
    status, headers, body = signed_request(nubo_server, "HEAD", f"/{bucket}/missing-key")
    assert (status, body) == (404, b"")
    status, _, body = signed_request(nubo_server, "HEAD", "/no-such-bucket-wire")
    assert (status, body) == (404, b"")


def test_response_roots(nubo_server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for path, root in ((f"/{bucket}?list-type=2", b"ListBucketResult"),
                       (f"/{bucket}", b"ListBucketResult"), ("/", b"ListAllMyBucketsResult"),
                       (f"/{bucket}?versions", b"ListVersionsResult"),
                       (f"/{bucket}?uploads", b"ListMultipartUploadsResult"),
                       (f"/{bucket}?location", b"LocationConstraint")):
        status, _, body = signed_request(nubo_server, "GET", path)
        assert status == 200, body
        assert body.split(b"?>", 1)[1].startswith(b"<" + root + b" xmlns="), (path, body)
    status, _, body = signed_request(nubo_server, "POST", f"/{bucket}/m?uploads")
    assert b"<InitiateMultipartUploadResult" in body and b"<UploadId>" in body


def _chunked(payload: bytes, size: int, trailer: bytes = b"", signed: bool = False) -> bytes:
    out = b""
    for start in range(0, len(payload), size):
        chunk = payload[start:start + size]
        extension = b";chunk-signature=" + b"0" * 64 if signed else b""
        out += f"{len(chunk):x}".encode() + extension + b"\r\n" + chunk + b"\r\n"
    out += b"0" + (b";chunk-signature=" + b"0" * 64 if signed else b"") + b"\r\n"
    return out + trailer + b"\r\n"


def _raw(nubo_server, request: bytes, body: bytes = b"", wait_continue: bool = False):
    port = urlsplit(nubo_server.endpoint).port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        if wait_continue:
            assert sock.recv(1024).startswith(b"HTTP/1.1 100")
        sock.sendall(body)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        return data


def _auth() -> str:
    return ("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/s3/"
            "aws4_request, SignedHeaders=host, Signature=" + "0" * 64)


def test_aws_chunked_unsigned_with_trailer(nubo_server, s3, bucket):
    payload = b"streamed payload " * 10_000
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    body = _chunked(payload, 65536, f"x-amz-checksum-crc32:{crc}\r\n".encode())
    head = (f"PUT /{bucket}/chunked HTTP/1.1\r\nHost: localhost\r\n"
            f"Authorization: {_auth()}\r\nContent-Encoding: aws-chunked\r\n"
            "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n"
            "x-amz-trailer: x-amz-checksum-crc32\r\n"
            f"x-amz-decoded-content-length: {len(payload)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    response = _raw(nubo_server, head, body)
    assert response.startswith(b"HTTP/1.1 200"), response
    assert f"x-amz-checksum-crc32: {crc}".encode() in response
    got = s3.get_object(Bucket=bucket, Key="chunked")
    assert got["Body"].read() == payload
    assert got["ETag"] == f'"{hashlib.md5(payload).hexdigest()}"'
    # a wrong trailing checksum is refused and stores nothing
    bad = _chunked(b"other", 65536, f"x-amz-checksum-crc32:{crc}\r\n".encode())
    response = _raw(nubo_server, head.replace(str(len(body)).encode(), str(len(bad)).encode())
                    .replace(f"length: {len(payload)}".encode(), b"length: 5")
                    .replace(b"/chunked ", b"/chunked-bad "), bad)
    assert response.startswith(b"HTTP/1.1 400"), response
    assert s3.list_objects_v2(Bucket=bucket, Prefix="chunked-bad")["KeyCount"] == 0


def test_aws_chunked_signed_with_expect_continue(nubo_server, s3, bucket):
    payload = bytes(range(256)) * 8000
    body = _chunked(payload, 64 * 1024, signed=True)
    head = (f"PUT /{bucket}/signed HTTP/1.1\r\nHost: localhost\r\n"
            f"Authorization: {_auth()}\r\n"
            "x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\r\n"
            f"x-amz-decoded-content-length: {len(payload)}\r\nExpect: 100-continue\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    response = _raw(nubo_server, head, body, wait_continue=True)
    assert b" 200 " in response.split(b"\r\n", 1)[0], response
    assert s3.get_object(Bucket=bucket, Key="signed")["Body"].read() == payload


def test_truncated_body_stores_nothing(nubo_server, s3, bucket):
    port = urlsplit(nubo_server.endpoint).port
    head = (f"PUT /{bucket}/cut HTTP/1.1\r\nHost: localhost\r\nAuthorization: {_auth()}\r\n"
            f"Content-Length: {4 * 1024 * 1024}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + b"x" * (2 * 1024 * 1024))
    # the server notices the disconnect; the object never appears
    s3.put_object(Bucket=bucket, Key="after", Body=b"ok")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["after"]


def test_create_bucket_virtual_hosted(nubo_server, s3):
    name = unique()
    port = urlsplit(nubo_server.endpoint).port
    status, _, body = signed_request(nubo_server, "PUT", "/", host=f"{name}.s3.localhost:{port}")
    assert status == 200, body
    assert s3.head_bucket(Bucket=name)
    s3.delete_bucket(Bucket=name)


def test_download_stops_when_the_client_leaves(nubo_server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="big", Body=b"z" * (64 * 1024 * 1024))
    port = urlsplit(nubo_server.endpoint).port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall((f"GET /{bucket}/big HTTP/1.1\r\nHost: localhost\r\n"
                      f"Authorization: {_auth()}\r\n\r\n").encode())
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    # the server keeps serving (and is not stuck streaming to nobody)
    assert s3.head_object(Bucket=bucket, Key="big")["ContentLength"] == 64 * 1024 * 1024
    assert s3.get_object(Bucket=bucket, Key="big", Range="bytes=0-3")["Body"].read() == b"zzzz"


def test_single_put_over_5_gib_is_refused_before_its_body(nubo_server, s3, bucket):
    """A PUT declaring more than 5 GiB is EntityTooLarge at once (multipart is the way)."""
    import http.client

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from tests.conftest import ACCESS_KEY, SECRET_KEY

    netloc = urlsplit(nubo_server.endpoint).netloc
    size = 5 * 1024 ** 3 + 1
    request = AWSRequest(method="PUT", url=f"{nubo_server.endpoint}/{bucket}/huge",
                         headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                                  "Content-Length": str(size)})
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1").add_auth(request)
    connection = http.client.HTTPConnection(netloc, timeout=30)
    try:
        connection.putrequest("PUT", f"/{bucket}/huge", skip_accept_encoding=True)
        for name, value in request.headers.items():
            connection.putheader(name, value)
        connection.endheaders()  # no body sent: the answer comes before it
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 400
    assert b"<Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum " \
        b"allowed size</Message><ProposedSize>5368709121</ProposedSize><MaxSizeAllowed>" \
        b"5368709120</MaxSizeAllowed>" in body
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
