"""The AWS CLI's high-level s3 commands and s3api against nubo."""

from __future__ import annotations

import os
import re

from tests.s3.conftest import fetch as fetch_url, unique


def _run(aws_cli, *args: str) -> str:
    """A high-level `aws s3` command (text output): its stdout, after checking it succeeded."""
    result = aws_cli(*args, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_cp_ls_sync_rm_rb(aws_cli, s3, tmp_path):
    name = unique()
    _run(aws_cli, "s3", "mb", f"s3://{name}")
    source = tmp_path / "src"
    (source / "nested").mkdir(parents=True)
    (source / "one.txt").write_text("one")
    (source / "nested" / "two.bin").write_bytes(os.urandom(9 * 1024 * 1024))  # multipart
    _run(aws_cli, "s3", "cp", str(source / "one.txt"), f"s3://{name}/one.txt")
    assert "one.txt" in _run(aws_cli, "s3", "ls", f"s3://{name}/")
    _run(aws_cli, "s3", "sync", str(source), f"s3://{name}/synced")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"])
    assert keys == ["one.txt", "synced/nested/two.bin", "synced/one.txt"]
    head = s3.head_object(Bucket=name, Key="synced/nested/two.bin")
    assert head["ETag"].endswith('-2"')  # the CLI uploaded it in 8 MiB parts
    target = tmp_path / "back"
    _run(aws_cli, "s3", "sync", f"s3://{name}/synced", str(target))
    assert (target / "nested" / "two.bin").read_bytes() == \
        (source / "nested" / "two.bin").read_bytes()
    assert (target / "one.txt").read_text() == "one"
    _run(aws_cli, "s3", "cp", f"s3://{name}/one.txt", str(tmp_path / "copy.txt"))
    assert (tmp_path / "copy.txt").read_text() == "one"
    failed = aws_cli("s3", "rb", f"s3://{name}", check=False)
    assert failed.returncode != 0 and "BucketNotEmpty" in failed.stderr
    _run(aws_cli, "s3", "rb", f"s3://{name}", "--force")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_s3api(aws_cli, tmp_path):
    name = unique()
    aws_cli("s3api", "create-bucket", "--bucket", name)
    body = tmp_path / "body"
    body.write_bytes(b"api body")
    put = aws_cli("s3api", "put-object", "--bucket", name, "--key", "k", "--body", str(body))
    assert put["ETag"]
    listed = aws_cli("s3api", "list-objects-v2", "--bucket", name)
    assert [o["Key"] for o in listed["Contents"]] == ["k"]
    head = aws_cli("s3api", "head-object", "--bucket", name, "--key", "k")
    assert head["ContentLength"] == 8
    out = tmp_path / "out"
    aws_cli("s3api", "get-object", "--bucket", name, "--key", "k", str(out))
    assert out.read_bytes() == b"api body"
    location = aws_cli("s3api", "get-bucket-location", "--bucket", name)
    assert location["LocationConstraint"] is None
    aws_cli("s3api", "delete-object", "--bucket", name, "--key", "k")
    aws_cli("s3api", "delete-bucket", "--bucket", name)


def test_presign_expires(aws_cli, s3, bucket, nubo_server, make_client,
                         signing_at_server_time):
    """`aws s3 presign --expires-in N` (SigV2 from the CLI v1) and a SigV4 presigned URL: the
    object until N seconds have passed by nubo's clock, then 403 "Request has expired"."""
    from botocore.config import Config

    def fetch(url: str) -> tuple[int, bytes]:
        status, _, body = fetch_url(url)
        return status, body

    s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"for a minute")
    # the CLI signs SigV2 by the machine's clock: its URL outlives nubo's offset by a minute
    lifetime = int(nubo_server.get("/_nubo/clock")["offset"]) + 60
    url = aws_cli("s3", "presign", f"s3://{bucket}/shared.txt", "--expires-in",
                  str(lifetime), check=False).stdout.strip()
    v4 = make_client("s3", config=Config(signature_version="s3v4")).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=60)
    assert "X-Amz-Expires" in v4 and "AWSAccessKeyId" in url
    assert fetch(url) == (200, b"for a minute") and fetch(v4) == (200, b"for a minute")
    too_long = make_client("s3", config=Config(signature_version="s3v4")).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=604801)
    status, body = fetch(too_long)
    assert status == 400 and b"<Code>AuthorizationQueryParametersError</Code><Message>" \
        b"X-Amz-Expires must be less than a week (in seconds) that is 604800</Message>" in body
    nubo_server.advance_clock(120)
    for expired in (url, v4):
        status, body = fetch(expired)
        assert status == 403, body
        assert b"<Code>AccessDenied</Code><Message>Request has expired</Message>" in body
        # the times as S3 states them: the expiry and the server's time, to the second
        assert re.search(rb"<Expires>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</Expires>"
                         rb"<ServerTime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</ServerTime>", body)
        assert (b"<X-Amz-Expires>60</X-Amz-Expires>" in body) == (expired is v4)


def test_cli_pagination_and_lifecycle_tag_filter(aws_cli, s3, bucket, nubo_server, tmp_path):
    """`aws s3api list-objects-v2 --max-items/--starting-token`, and a lifecycle rule filtered
    by prefix and tag (s3://mybucket/mp3/*, Department: Finance) stored and applied."""
    import json
    import time

    for key in ("mp3/a", "mp3/b", "mp3/c", "other/d"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x",
                      Tagging="Department=Finance" if key != "mp3/b" else "Department=Sales")
    first = aws_cli("s3api", "list-objects-v2", "--bucket", bucket, "--max-items", "2")
    assert [o["Key"] for o in first["Contents"]] == ["mp3/a", "mp3/b"] and first["NextToken"]
    rest = aws_cli("s3api", "list-objects-v2", "--bucket", bucket, "--max-items", "2",
                   "--starting-token", first["NextToken"])
    assert [o["Key"] for o in rest["Contents"]] == ["mp3/c", "other/d"]
    assert "NextToken" not in rest
    rule = {"ID": "finance-mp3", "Status": "Enabled", "Expiration": {"Days": 1},
            "Filter": {"And": {"Prefix": "mp3/", "Tags": [
                {"Key": "Department", "Value": "Finance"}]}}}
    config = tmp_path / "lifecycle.json"
    config.write_text(json.dumps({"Rules": [rule]}))
    aws_cli("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
            "--lifecycle-configuration", f"file://{config}")
    stored = aws_cli("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket)
    assert stored["Rules"][0]["Filter"] == rule["Filter"]
    nubo_server.advance_clock(2 * 86_400)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        if keys == ["mp3/b", "other/d"]:
            break
        time.sleep(0.1)
    assert keys == ["mp3/b", "other/d"]


def test_cli_with_a_bucket_in_another_region(aws_cli, tmp_path):
    """`aws s3 mb --region eu-west-1`, then commands configured for us-east-1: the CLI follows
    the bucket's region as S3's wrong-region answers tell it to."""
    name = unique()
    _run(aws_cli, "s3", "mb", f"s3://{name}", "--region", "eu-west-1")
    body = tmp_path / "f.txt"
    body.write_text("west")
    _run(aws_cli, "s3", "cp", str(body), f"s3://{name}/f.txt")
    assert "f.txt" in _run(aws_cli, "s3", "ls", f"s3://{name}")
    assert aws_cli("s3api", "get-bucket-location", "--bucket", name)["LocationConstraint"] == \
        "eu-west-1"
    _run(aws_cli, "s3", "rb", f"s3://{name}", "--force")


def test_presigned_url_signed_ahead_of_the_server_is_not_yet_valid(s3, bucket, nubo_server,
                                                                    make_client):
    """A SigV4 URL dated more than 15 minutes after the server's time is refused (signatures
    are not verified here, so the date is simply moved on)."""
    import time
    from botocore.config import Config

    s3.put_object(Bucket=bucket, Key="later.txt", Body=b"not yet")
    url = make_client("s3", config=Config(signature_version="s3v4")).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "later.txt"}, ExpiresIn=3600)
    now = nubo_server.get("/_nubo/clock")["now"]
    signed = re.search(r"X-Amz-Date=(\d{8}T\d{6}Z)", url).group(1)
    ahead = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now + 3600))
    status, _, body = fetch_url(url.replace(signed, ahead))
    assert status == 403, body
    assert b"<Code>AccessDenied</Code><Message>Request is not yet valid</Message>" in body
    assert b"<X-Amz-Date>%d</X-Amz-Date>" % (int(now + 3600) * 1000) in body
    soon = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now + 300))  # within the 15 minutes
    assert fetch_url(url.replace(signed, soon))[0] == 200
