"""Bad input of every S3 operation gets S3's 4xx error, never a 500 or a dropped connection, and
leaves the account's buckets and objects as they were: malformed XML configuration bodies,
object keys with odd bytes, bad headers (x-amz-copy-source, Range, Content-MD5,
x-amz-checksum-*, dates of conditional requests)."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import uuid
import xml.etree.ElementTree as ElementTree

import pytest

from tests.fuzzing import (Fuzzer, Wire, WireClient, account_client, known_choice, problem,
                           send)

ACCOUNT = "700000000005"
ODD_KEYS = ["k", "k", "\u00e9/\u4e2d/\U0001f600", "../../x", " lead and trail ", "a" * 1024,
            "a\x7fb", "~!@#$%^&*()+=[]{};:'\",<>?|\\", "%2F%00", "dir/", "a\tb\nc"]


@pytest.fixture(scope="module")
def s3(make_client):
    return account_client(make_client, "s3", ACCOUNT)


@pytest.fixture(scope="module")
def buckets(s3):
    """A bucket no request names, one the fuzz may change, one for the header tests."""
    names = [f"{role}-{uuid.uuid4().hex[:12]}" for role in ("kept", "fuzz", "headers")]
    for name in names:
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="k", Body=b"0123456789")
    s3.put_bucket_tagging(Bucket=names[0], Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    return names


def test_bad_input_gets_client_errors(nubo_server, s3, buckets):
    kept, target, _ = buckets
    upload = s3.create_multipart_upload(Bucket=target, Key="k")["UploadId"]
    s3.upload_part(Bucket=target, Key="k", UploadId=upload, PartNumber=1, Body=b"part")
    fuzzer = Fuzzer(nubo_server, "s3", account=ACCOUNT,
                    known={"Bucket": known_choice(target, target, "no-such-bucket-fuzz"),
                           "Key": known_choice(*ODD_KEYS), "UploadId": known_choice(upload, "x"),
                           "CopySource": known_choice(f"{target}/k", f"/{kept}/k", "x/",
                                                      f"{target}/k?versionId=null")})
    fuzzer.assert_answers(per_operation=8)
    assert s3.get_object(Bucket=kept, Key="k")["Body"].read() == b"0123456789"
    assert s3.get_bucket_tagging(Bucket=kept)["TagSet"] == [{"Key": "a", "Value": "b"}]


def test_every_configuration_put_refuses_broken_xml(nubo_server, buckets):
    """Every Put* operation with an XML body (bucket configurations, tagging, ACLs, ...)
    answers MalformedXML for a body that is no XML document, and 4xx for the rest."""
    fuzzer = Fuzzer(nubo_server, "s3", account=ACCOUNT, known={"Bucket": buckets[1]})
    operations = [fuzzer.model.operation_model(name) for name in fuzzer.model.operation_names
                  if name.startswith("Put")]
    puts = [operation for operation in operations if xml_payload(operation)]
    assert len(puts) > 20
    for operation in puts:
        for case in fuzzer.broken_bodies(operation):
            if case.strict:
                reply = fuzzer.client.send(case.wire)
                assert problem(case, reply, "rest-xml") is None, (operation.name, case.label)
                assert b"<Code>MalformedXML</Code>" in reply.body, (operation.name, case.label)


def xml_payload(operation) -> bool:
    shape = operation.input_shape
    payload = shape.serialization.get("payload")
    return payload is not None and shape.members[payload].type_name == "structure"


def test_bad_control_input_gets_client_errors(nubo_server):
    # the fuzz runs in an account of its own, so another's configuration must stay as it is
    fuzzed, kept = "700000000015", ACCOUNT
    owner = Fuzzer(nubo_server, "s3control", account=kept)
    block = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
             "RestrictPublicBuckets": False}
    assert owner.request("PutPublicAccessBlock", {
        "AccountId": kept, "PublicAccessBlockConfiguration": block}).status == 200
    fuzzer = Fuzzer(nubo_server, "s3control", account=fuzzed,
                    known={"AccountId": known_choice(fuzzed, fuzzed, kept, "x")})
    fuzzer.assert_answers(per_operation=8, well_typed=3)
    reply = owner.request("GetPublicAccessBlock", {"AccountId": kept})
    assert reply.status == 200
    assert {e.tag.rpartition("}")[2]: e.text for e in ElementTree.fromstring(reply.body)} == {
        name: str(value).lower() for name, value in block.items()}


BAD_HEADERS = [
    ("PUT", "/{bucket}/md5", {"Content-MD5": "not base64!"}, "InvalidDigest"),
    ("PUT", "/{bucket}/md5", {"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="}, "BadDigest"),
    ("PUT", "/{bucket}/crc", {"x-amz-checksum-crc32": "%%%"}, None),
    ("PUT", "/{bucket}/crc", {"x-amz-checksum-crc32": "AAAAAA=="}, "BadDigest"),
    ("PUT", "/{bucket}/crc", {"x-amz-checksum-sha256": "short"}, None),
    ("PUT", "/{bucket}/copy", {"x-amz-copy-source": "no-slash"}, None),
    ("PUT", "/{bucket}/copy", {"x-amz-copy-source": "/%ff%fe/%00"}, None),
    ("PUT", "/{bucket}/copy", {"x-amz-copy-source": "/{bucket}/k?versionId=%%%"}, None),
    ("PUT", "/{bucket}/copy", {"x-amz-copy-source": "/{bucket}/k",
                               "x-amz-copy-source-range": "bytes=garbage"}, None),
    ("PUT", "/{bucket}/copy", {"x-amz-copy-source": "/{bucket}/k",
                               "x-amz-copy-source-if-modified-since": "not a date"}, None),
    ("GET", "/{bucket}/k", {"Range": "bytes=garbage"}, None),
    ("GET", "/{bucket}/k", {"Range": "bytes=5-2"}, None),
    ("GET", "/{bucket}/k", {"Range": "bytes=99999999999999999999999-"}, None),
    ("GET", "/{bucket}/k", {"Range": "bytes=100-200"}, "InvalidRange"),
    ("GET", "/{bucket}/k", {"If-Modified-Since": "not a date"}, None),
    ("GET", "/{bucket}/k", {"If-Unmodified-Since": "Mon, 99 Foo 2026 99:99:99 GMT"}, None),
    ("GET", "/{bucket}/k", {"If-Match": "\"unterminated, *, W/"}, None),
    ("GET", "/{bucket}/k?partNumber=abc", {}, None),
    ("GET", "/{bucket}/k?partNumber=99999999999999999999", {}, None),
    ("GET", "/{bucket}?list-type=2&max-keys=abc", {}, None),
    ("GET", "/{bucket}?list-type=2&max-keys=-1", {}, None),
    ("GET", "/{bucket}?list-type=2&continuation-token=%ff%fe", {}, None),
    ("PUT", "/{bucket}/k?x-id=PutObject", {"x-amz-object-lock-retain-until-date": "garbage",
                                           "x-amz-object-lock-mode": "GOVERNANCE"}, None),
    ("PUT", "/{bucket}/k", {"x-amz-storage-class": "NUBO_BAD"}, None),
    ("PUT", "/{bucket}/k", {"x-amz-tagging": "%%%=&&="}, None),
    ("PUT", "/{bucket}/k", {"x-amz-meta-a": "\u00e9\u00ff".encode().decode("latin-1")}, None),
    ("PUT", "/{bucket}/k", {"Expires": "garbage"}, None),
    ("POST", "/{bucket}?delete", {"Content-MD5": "garbage"}, None),
]


@pytest.mark.parametrize("method, path, headers, code", BAD_HEADERS,
                         ids=[f"{m} {list(h) or p}" for m, p, h, _ in BAD_HEADERS])
def test_bad_headers_get_client_errors(nubo_server, buckets, method, path, headers, code):
    target = buckets[2]
    path = path.format(bucket=target)
    headers = {k: v.format(bucket=target) for k, v in headers.items()}
    body = b"abc" if method in ("PUT", "POST") and "x-amz-copy-source" not in headers else b""
    wire = Wire(method, *path.partition("?")[::2], headers, body)
    reply, found = send(nubo_server, "s3", wire, account=ACCOUNT, strict=code is not None)
    assert found is None, found
    if code is not None:
        assert f"<Code>{code}</Code>".encode() in reply.body, reply.body


def chunked(*chunks: bytes, final: bytes = b"0\r\n\r\n") -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + final


CHUNKED = {"Content-Encoding": "aws-chunked",
           "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}
BAD_CHUNKED_BODIES = [
    ("a chunk size that is not hex", b"zz\r\nhello\r\n0\r\n\r\n", 5, None),
    ("a chunk longer than the body", b"100\r\nhello", 5, "IncompleteBody"),
    ("no final chunk", chunked(b"hello", final=b""), 5, "IncompleteBody"),
    ("more bytes than the decoded length", chunked(b"hello world"), 5, None),
    ("fewer bytes than the decoded length", chunked(b"hello"), 500, "IncompleteBody"),
    ("a trailer with a wrong checksum", chunked(b"hello", final=b"0\r\n"
     b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n"), 5, "BadDigest"),
    ("a trailer that is not base64", chunked(b"hello", final=b"0\r\n"
     b"x-amz-checksum-crc32:%%%\r\n\r\n"), 5, None),
    ("a chunk without its line end", b"5\r\nhelloX0\r\n\r\n", 5, None),
    ("a huge chunk size", b"ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n", 5, None),
]


@pytest.mark.parametrize("body, decoded, code", [case[1:] for case in BAD_CHUNKED_BODIES],
                         ids=[case[0] for case in BAD_CHUNKED_BODIES])
def test_broken_aws_chunked_uploads_store_nothing(nubo_server, s3, buckets, body, decoded, code):
    bucket = buckets[2]
    key = f"chunked-{uuid.uuid4().hex[:8]}"
    headers = {**CHUNKED, "x-amz-decoded-content-length": str(decoded)}
    if b"x-amz-checksum" in body:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    reply, found = send(nubo_server, "s3", Wire("PUT", f"/{bucket}/{key}", "", headers, body),
                        account=ACCOUNT)
    assert found is None, found
    if code is not None:
        assert f"<Code>{code}</Code>".encode() in reply.body, reply.body
    assert s3.list_objects_v2(Bucket=bucket, Prefix=key)["KeyCount"] == 0


def test_a_body_cut_short_stores_nothing(nubo_server, s3, buckets):
    """The client promises 1 MiB, sends 10 bytes and closes: no object, and the server keeps
    serving."""
    bucket = buckets[2]
    for size in (100, 8 << 20):  # read at once, and streamed
        key = f"cut-{size}"
        wire = Wire("PUT", f"/{bucket}/{key}", "", {}, b"0123456789")
        client = WireClient(nubo_server, "s3", ACCOUNT)
        headers = client.sign(wire)
        with socket.create_connection(("127.0.0.1", nubo_server.port), timeout=10) as sock:
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items()
                           if k.lower() != "content-length")
            sock.sendall(f"PUT /{bucket}/{key} HTTP/1.1\r\nHost: {client.netloc}\r\n{head}"
                         f"Content-Length: {size}\r\n\r\n".encode() + b"0123456789")
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(10)
            try:
                answer = sock.recv(65536)
            except ConnectionResetError:
                answer = b""
        assert not answer.startswith(b"HTTP/1.1 5"), answer
        assert s3.list_objects_v2(Bucket=bucket, Prefix=key)["KeyCount"] == 0
    assert s3.get_object(Bucket=buckets[0], Key="k")["Body"].read() == b"0123456789"


def test_odd_keys_round_trip(s3, buckets):
    bucket = buckets[2]
    keys = sorted({key for key in ODD_KEYS if len(key) < 1000})
    for number, key in enumerate(keys):
        s3.put_object(Bucket=bucket, Key=f"odd/{key}", Body=str(number).encode())
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="odd/")["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(f"odd/{key}" for key in keys)
    for number, key in enumerate(keys):
        assert s3.get_object(Bucket=bucket, Key=f"odd/{key}")["Body"].read() == \
            str(number).encode()


def form(policy: object) -> bytes:
    encoded = base64.b64encode(json.dumps(policy).encode()).decode()
    return "".join(f'--B\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                   for name, value in (("key", "posted"), ("policy", encoded))).encode() + \
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\ndata\r\n--B--\r\n'


LATER = "2099-01-01T00:00:00Z"
BAD_POLICIES = [{"expiration": 123, "conditions": []}, [1, 2], "policy",
                {"expiration": LATER, "conditions": "abc"},
                {"expiration": LATER, "conditions": {"key": "posted"}},
                {"expiration": LATER, "conditions": [5]},
                {"expiration": LATER, "conditions": [["eq"]]},
                {"expiration": LATER, "conditions": [["eq", 5, "x"]]},
                {"expiration": LATER, "conditions": [{"key": ["posted"]}]},
                {"expiration": LATER, "conditions": [["content-length-range", "a", "b"]]}]


@pytest.mark.parametrize("policy", BAD_POLICIES, ids=[json.dumps(p) for p in BAD_POLICIES])
def test_form_uploads_with_malformed_policies_are_invalid_arguments(nubo_server, s3, buckets,
                                                                     policy):
    bucket = buckets[2]
    connection = http.client.HTTPConnection("127.0.0.1", nubo_server.port, timeout=10)
    try:
        connection.request("POST", f"/{bucket}", body=form(policy),
                           headers={"Content-Type": "multipart/form-data; boundary=B"})
        response = connection.getresponse()
        status, body = response.status, response.read()
    finally:
        connection.close()
    assert status == 400, body
    assert b"<Code>InvalidArgument</Code><Message>Invalid Policy: " in body, body
    assert s3.list_objects_v2(Bucket=bucket, Prefix="posted")["KeyCount"] == 0
