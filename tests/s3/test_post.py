"""Browser form uploads (POST multipart/form-data) with boto3's presigned POST policies."""

from __future__ import annotations

import uuid
import urllib.error
import urllib.request

import pytest


def post_form(url: str, fields: dict[str, str], filename: str, content: bytes):
    """POST the fields and then the file as multipart/form-data: (status, headers, body)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'.encode()
                 + content + f"\r\n--{boundary}--\r\n".encode())
    request = urllib.request.Request(url, data=b"".join(parts), method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def lifetime(nubo_server) -> int:
    """Seconds a policy must last to be valid by nubo's clock, which other tests advance."""
    return int(nubo_server.get("/_nubo/clock")["offset"]) + 600


def test_presigned_post_upload(s3, bucket, lifetime):
    form = s3.generate_presigned_post(
        bucket, "uploads/${filename}", Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}, ["starts-with", "$key", "uploads/"],
                    ["content-length-range", 1, 10 * 1024 * 1024]], ExpiresIn=lifetime)
    content = b"uploaded from a browser form" * 10_000
    status, headers, body = post_form(form["url"], form["fields"], "hello.txt", content)
    assert status == 201, body
    assert b"<Key>uploads/hello.txt</Key>" in body and b"<PostResponse>" in body
    assert s3.get_object(Bucket=bucket, Key="uploads/hello.txt")["Body"].read() == content
    status, headers, _ = post_form(form["url"], {**form["fields"], "success_action_status":
                                                 "201"}, "again.txt", b"x")
    assert status == 201


def test_post_policy_conditions(s3, bucket, lifetime):
    form = s3.generate_presigned_post(bucket, "fixed-key", Conditions=[
        ["content-length-range", 1, 10]], ExpiresIn=lifetime)
    status, _, body = post_form(form["url"], form["fields"], "f.txt", b"0123456789ABC")
    assert status == 400 and b"<Code>EntityTooLarge</Code>" in body
    status, _, _ = post_form(form["url"], form["fields"], "f.txt", b"small")
    assert status == 204
    tampered = {**form["fields"], "key": "other-key"}
    status, _, body = post_form(form["url"], tampered, "f.txt", b"small")
    assert status == 403 and b"Policy Condition failed" in body
    expired = s3.generate_presigned_post(bucket, "late", ExpiresIn=-60)
    status, _, body = post_form(expired["url"], expired["fields"], "f.txt", b"x")
    assert status == 403 and b"Policy expired" in body
    status, _, body = post_form(form["url"], {"policy": form["fields"]["policy"]}, "f.txt", b"x")
    assert status == 400 and b"must contain a field named 'key'" in body
