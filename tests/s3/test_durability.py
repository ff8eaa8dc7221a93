"""S3 durability and memory: acknowledged objects survive kill -9, interrupted uploads leave
nothing behind, and a 1 GiB upload and download keep the server's memory flat."""

from __future__ import annotations

import hashlib
import http.client
import socket
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import cbor2

from tests.conftest import NuboProcess, client_config

MIB = 1024 * 1024
_AUTH = ("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/s3/aws4_request, "
         "SignedHeaders=host, Signature=" + "0" * 64)


def _client(server: NuboProcess):
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=client_config())


def _blob_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "s3" / "blobs").rglob("*") if p.is_file()]


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_kill_during_upload_keeps_acknowledged_and_drops_partial(tmp_path):
    server = NuboProcess(tmp_path).start()
    try:
        s3 = _client(server)
        s3.create_bucket(Bucket="durable")
        done = bytes(range(256)) * 8192  # 2 MiB: a blob file
        s3.put_object(Bucket="durable", Key="done", Body=done)
        upload = s3.create_multipart_upload(Bucket="durable", Key="mp")["UploadId"]
        part = s3.upload_part(Bucket="durable", Key="mp", UploadId=upload, PartNumber=1,
                              Body=b"p" * (5 * MIB))["ETag"]
        files_before = len(_blob_files(tmp_path))
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall((f"PUT /durable/partial HTTP/1.1\r\nHost: localhost\r\n"
                      f"Authorization: {_AUTH}\r\nContent-Length: {64 * MIB}\r\n\r\n").encode())
        sock.sendall(b"x" * (8 * MIB))
        deadline = time.monotonic() + 10
        while len(_blob_files(tmp_path)) == files_before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_blob_files(tmp_path)) == files_before + 1  # the partial upload's file
        server.kill()
        sock.close()
        server.start()
        s3 = _client(server)
        assert s3.get_object(Bucket="durable", Key="done")["Body"].read() == done
        assert s3.list_objects_v2(Bucket="durable")["KeyCount"] == 1
        assert len(_blob_files(tmp_path)) == files_before  # the partial file was removed
        parts = s3.list_parts(Bucket="durable", Key="mp", UploadId=upload)["Parts"]
        assert [p["ETag"] for p in parts] == [part]
        s3.complete_multipart_upload(Bucket="durable", Key="mp", UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                 "ETag": part}]})
        assert s3.head_object(Bucket="durable", Key="mp")["ContentLength"] == 5 * MIB
        # deleted objects' files go too
        s3.delete_object(Bucket="durable", Key="done")
        s3.delete_object(Bucket="durable", Key="mp")
        deadline = time.monotonic() + 5
        while _blob_files(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _blob_files(tmp_path) == []
        # nubo reset wipes buckets and their files
        s3.put_object(Bucket="durable", Key="big", Body=done)
        server.post("/_nubo/reset")
        assert _blob_files(tmp_path) == []
        assert s3.list_buckets()["Buckets"] == []
    finally:
        server.stop()


def test_one_gib_upload_and_download_keep_memory_flat(nubo_server, s3, bucket):
    size = 1024 * MIB
    block = bytes(range(256)) * 4096  # 1 MiB
    pid = nubo_server.process.pid
    baseline = _rss_mib(pid)
    peak = baseline
    digest = hashlib.md5()

    def body():
        nonlocal peak
        for index in range(size // len(block)):
            digest.update(block)
            if index % 64 == 0:
                peak = max(peak, _rss_mib(pid))
            yield block

    connection = http.client.HTTPConnection("127.0.0.1", nubo_server.port, timeout=120)
    connection.request("PUT", f"/{bucket}/huge", body=body(),
                       headers={"Authorization": _AUTH, "Content-Length": str(size)})
    response = connection.getresponse()
    assert response.status == 200, response.read()
    assert response.getheader("ETag") == f'"{digest.hexdigest()}"'
    response.read()
    upload_peak = peak - baseline
    connection.request("GET", f"/{bucket}/huge", headers={"Authorization": _AUTH})
    response = connection.getresponse()
    assert response.status == 200
    received, check = 0, hashlib.md5()
    while chunk := response.read(4 * MIB):
        received += len(chunk)
        check.update(chunk)
        peak = max(peak, _rss_mib(pid))
    connection.close()
    assert received == size and check.hexdigest() == digest.hexdigest()
    print(f"server RSS: baseline {baseline:.0f} MiB, +{upload_peak:.0f} MiB during the 1 GiB "
          f"upload, +{peak - baseline:.0f} MiB peak overall")
    assert peak - baseline < 64, (baseline, peak)



def test_concurrent_large_uploads_keep_their_etags_and_one_file_per_key(tmp_path):
    """Uploads hashed and written by worker threads, many at once and over the same keys:
    each answers its own bytes' ETag, each key reads back whole, and the files replaced are
    removed (after their responses)."""
    bodies = [bytes([n]) * (3 * MIB) + str(n).encode() for n in range(3)]
    server = NuboProcess(tmp_path).start()
    try:
        client = _client(server)
        client.create_bucket(Bucket="lanes")

        def upload(n: int) -> tuple[str, str]:
            body = bodies[n % 3]
            answer = client.put_object(Bucket="lanes", Key=f"k{n % 3}", Body=body)
            return answer["ETag"], f'"{hashlib.md5(body).hexdigest()}"'
        with ThreadPoolExecutor(8) as pool:
            answered = list(pool.map(upload, range(12)))
        assert all(etag == expected for etag, expected in answered)
        for n in range(3):
            assert client.get_object(Bucket="lanes", Key=f"k{n}")["Body"].read() == bodies[n]
        deadline = time.monotonic() + 10
        while len(_blob_files(tmp_path)) != 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(_blob_files(tmp_path)) == 3
    finally:
        server.stop()


def test_acknowledged_small_puts_survive_kill(tmp_path):
    """Small objects (inline in the store) written concurrently, several per group commit, and
    overwritten: after kill -9 every key holds what its last acknowledged PUT wrote."""
    server = NuboProcess(tmp_path).start()
    try:
        s3 = _client(server)
        s3.create_bucket(Bucket="small")

        def writer(worker: int) -> dict[str, bytes]:
            acknowledged = {}
            for round_ in range(3):
                for index in range(20):
                    key, body = f"w{worker}/k{index}", f"{worker}:{index}:{round_}".encode() * 64
                    s3.put_object(Bucket="small", Key=key, Body=body)
                    acknowledged[key] = body
            return acknowledged

        with ThreadPoolExecutor(8) as pool:
            expected = {k: v for found in pool.map(writer, range(8)) for k, v in found.items()}
        server.kill()
        server.start()
        s3 = _client(server)
        assert s3.list_objects_v2(Bucket="small")["KeyCount"] == len(expected) == 160
        for key, body in expected.items():
            got = s3.get_object(Bucket="small", Key=key)
            assert got["Body"].read() == body
            assert got["ContentLength"] == len(body)
        ranged = s3.get_object(Bucket="small", Key="w0/k0", Range="bytes=2-5")
        assert ranged["Body"].read() == expected["w0/k0"][2:6]
        assert ranged["ContentRange"] == f"bytes 2-5/{len(expected['w0/k0'])}"
        assert s3.head_object(Bucket="small", Key="w7/k19")["ContentLength"] == \
            len(expected["w7/k19"])
    finally:
        server.stop()


def test_kill_during_replication_resumes_it(tmp_path):
    """A version committed but not yet replicated when the server dies is replicated once it
    is back: its ReplicationStatus does not stay PENDING."""
    server = NuboProcess(tmp_path).start()
    try:
        s3 = _client(server)
        for name in ("replicated", "replica"):
            s3.create_bucket(Bucket=name)
            s3.put_bucket_versioning(Bucket=name,
                                     VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_replication(Bucket="replicated", ReplicationConfiguration={
            "Role": "arn:aws:iam::000000000000:role/r", "Rules": [{
                "ID": "all", "Status": "Enabled", "Priority": 1, "Filter": {},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": "arn:aws:s3:::replica"}}]})
        body = bytes(range(256)) * (256 * 1024)  # 64 MiB: its copy takes a while
        pool = ThreadPoolExecutor(1)
        pool.submit(lambda: _client(server).put_object(Bucket="replicated", Key="big",
                                                       Body=body))
        deadline = time.monotonic() + 60
        status = None
        while status != "PENDING" and time.monotonic() < deadline:
            try:
                status = s3.head_object(Bucket="replicated", Key="big").get("ReplicationStatus")
            except s3.exceptions.ClientError:
                time.sleep(0.01)
        assert status == "PENDING"  # committed, being copied
        server.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        server.start()
        s3 = _client(server)
        deadline = time.monotonic() + 60
        while s3.head_object(Bucket="replicated", Key="big").get(
                "ReplicationStatus") != "COMPLETED":
            assert time.monotonic() < deadline, "replication not resumed"
            time.sleep(0.1)
        copy = s3.get_object(Bucket="replica", Key="big")
        assert copy["ReplicationStatus"] == "REPLICA"
        assert hashlib.md5(copy["Body"].read()).hexdigest() == hashlib.md5(body).hexdigest()
    finally:
        server.stop()


def test_small_objects_of_an_earlier_data_directory_still_read_and_delete(tmp_path):
    """Data directories from before the rowid table keep small objects' bytes under text ids
    in s3_inline_data: they are still read, and released when their object goes."""
    server = NuboProcess(tmp_path).start()
    try:
        client = _client(server)
        client.create_bucket(Bucket="earlier")
        client.put_object(Bucket="earlier", Key="old", Body=b"written by an earlier nubo")
    finally:
        server.stop()
    with sqlite3.connect(tmp_path / "nubo.db") as db:  # as the earlier layout had it
        (doc,) = db.execute("SELECT _doc FROM s3_objects WHERE key='old'").fetchone()
        record = cbor2.loads(doc)
        [[blob, size]] = record["segments"]
        (data,) = db.execute("SELECT data FROM s3_inline_blobs WHERE blob=?", (blob,)).fetchone()
        db.execute("DELETE FROM s3_inline_blobs WHERE blob=?", (blob,))
        db.execute("INSERT INTO s3_inline_data (blob, data) VALUES ('0123456789abcdef', ?)",
                   (data,))
        record["segments"] = [["0123456789abcdef", size]]
        db.execute("UPDATE s3_objects SET _doc=? WHERE key='old'", (cbor2.dumps(record),))
    server.start()
    try:
        client = _client(server)
        assert client.get_object(Bucket="earlier", Key="old")["Body"].read() == \
            b"written by an earlier nubo"
        assert client.get_object(Bucket="earlier", Key="old", Range="bytes=0-6")["Body"].read() \
            == b"written"
        client.delete_object(Bucket="earlier", Key="old")
    finally:
        server.stop()
    with sqlite3.connect(tmp_path / "nubo.db") as db:
        assert db.execute("SELECT COUNT(*) FROM s3_inline_data").fetchone() == (0,)
    assert _blob_files(tmp_path) == []


def test_overwrites_keep_one_stored_copy_of_each_version(tmp_path):
    """Overwriting a small object with a small one rewrites its bytes in place; any mix of
    small and large overwrites, versioned or not, leaves exactly the live versions' bytes: one
    inline row per small version, one file per large one, each read back as last written."""
    server = NuboProcess(tmp_path).start()
    large = bytes(range(256)) * 512  # 128 KiB: a blob file
    try:
        s3 = _client(server)
        s3.create_bucket(Bucket="plain")
        for body in (b"first", b"second, longer than the first", large, b"third", b"4"):
            s3.put_object(Bucket="plain", Key="k", Body=body)
        assert s3.get_object(Bucket="plain", Key="k")["Body"].read() == b"4"
        s3.put_object(Bucket="plain", Key="gone", Body=b"small")
        s3.put_object(Bucket="plain", Key="gone", Body=b"smaller")
        s3.delete_object(Bucket="plain", Key="gone")

        s3.create_bucket(Bucket="versions")
        s3.put_object(Bucket="versions", Key="k", Body=b"null version")
        s3.put_bucket_versioning(Bucket="versions",
                                 VersioningConfiguration={"Status": "Enabled"})
        versioned = s3.put_object(Bucket="versions", Key="k", Body=b"a version")["VersionId"]
        s3.put_bucket_versioning(Bucket="versions",
                                 VersioningConfiguration={"Status": "Suspended"})
        s3.put_object(Bucket="versions", Key="k", Body=b"null again")  # replaces the null one
        s3.put_object(Bucket="versions", Key="k", Body=b"null, third")
        assert s3.get_object(Bucket="versions", Key="k")["Body"].read() == b"null, third"
        assert s3.get_object(Bucket="versions", Key="k", VersionId=versioned)["Body"].read() \
            == b"a version"
        assert [v["VersionId"] for v in s3.list_object_versions(Bucket="versions")["Versions"]] \
            == ["null", versioned]
    finally:
        server.stop()
    with sqlite3.connect(tmp_path / "nubo.db") as db:  # "plain/k", and the two of "versions/k"
        assert db.execute("SELECT COUNT(*) FROM s3_inline_blobs").fetchone() == (3,)
    assert _blob_files(tmp_path) == []
