"""The HTTP/1.1 edge (nubo/gateway/http.py) at the socket level: what clients other than boto3
send too (pipelining, chunked bodies, HTTP/1.0, garbage), refused bodies, and a graceful stop."""

from __future__ import annotations

import signal
import socket
import threading
import time
import uuid

import pytest

from tests.conftest import NuboProcess, connector

S3_AUTH = ("Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request,"
           " SignedHeaders=host, Signature=abc\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\n")


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def read_response(sock: socket.socket, buffer: bytearray) -> tuple[bytes, dict, bytes]:
    """One response off the connection (content-length or chunked), leaving the rest in
    ``buffer``."""
    while b"\r\n\r\n" not in buffer:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError(f"closed after {bytes(buffer)!r}")
        buffer += data
    end = buffer.index(b"\r\n\r\n")
    status_line, *lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    del buffer[:end + 4]
    headers = {name.lower(): value.strip() for name, _, value in
               (line.partition(":") for line in lines)}
    if headers.get("transfer-encoding") == "chunked":
        body = bytearray()
        while True:
            while b"\r\n" not in buffer:
                buffer += sock.recv(65536)
            size_end = buffer.index(b"\r\n")
            size = int(buffer[:size_end], 16)
            while len(buffer) < size_end + 2 + size + 2:
                buffer += sock.recv(65536)
            body += buffer[size_end + 2:size_end + 2 + size]
            del buffer[:size_end + 2 + size + 2]
            if size == 0:
                return status_line.encode(), headers, bytes(body)
    length = int(headers.get("content-length", 0))
    while len(buffer) < length:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed inside a body")
        buffer += data
    body = bytes(buffer[:length])
    del buffer[:length]
    return status_line.encode(), headers, body


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.fixture(scope="module")
def bucket(make_client):
    name = f"edge-{uuid.uuid4().hex[:10]}"
    make_client("s3").create_bucket(Bucket=name)
    return name


def test_pipelined_requests_are_answered_in_order(nubo_server, bucket):
    requests = (f"PUT /{bucket}/first HTTP/1.1\r\nHost: localhost\r\n{S3_AUTH}"
                "Content-Length: 5\r\n\r\nfirst"
                f"GET /{bucket}/first HTTP/1.1\r\nHost: localhost\r\n{S3_AUTH}\r\n"
                "GET /_nubo/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    with connect(nubo_server) as sock:
        sock.sendall(requests.encode())  # all three in one packet
        buffer = bytearray()
        put, _, _ = read_response(sock, buffer)
        get, _, body = read_response(sock, buffer)
        health, headers, _ = read_response(sock, buffer)
        assert (put, get, body) == (b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK", b"first")
        assert health == b"HTTP/1.1 200 OK" and headers["connection"] == "close"
        assert closed_by_server(sock)


def test_chunked_request_body(nubo_server, make_client, bucket):
    with connect(nubo_server) as sock:
        sock.sendall(f"PUT /{bucket}/chunked HTTP/1.1\r\nHost: localhost\r\n{S3_AUTH}"
                     "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                     .encode())
        status, _, _ = read_response(sock, bytearray())
    assert status == b"HTTP/1.1 200 OK"
    stored = make_client("s3").get_object(Bucket=bucket, Key="chunked")
    assert stored["Body"].read() == b"hello world"


def test_http_1_0_request_is_answered_and_closed(nubo_server):
    with connect(nubo_server) as sock:
        sock.sendall(b"GET /_nubo/health HTTP/1.0\r\n\r\n")
        status, _, body = read_response(sock, bytearray())
        assert status.endswith(b"200 OK") and b'"version"' in body
        assert closed_by_server(sock)


def test_malformed_request_gets_400_and_close(nubo_server):
    with connect(nubo_server) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        status, headers, _ = read_response(sock, bytearray())
        assert status == b"HTTP/1.1 400 Bad Request" and headers["connection"] == "close"
        assert closed_by_server(sock)


def test_refused_expect_continue_body_is_never_asked_for(nubo_server):
    """A request refused before its body is read gets no `100 Continue`; the connection then
    closes, as the client may still send the body."""
    with connect(nubo_server) as sock:
        sock.sendall(f"PUT /no-such-bucket-{uuid.uuid4().hex[:8]}/k HTTP/1.1\r\n"
                     f"Host: localhost\r\n{S3_AUTH}Content-Length: 50000000\r\n"
                     "Expect: 100-continue\r\n\r\n".encode())
        status, headers, body = read_response(sock, bytearray())
        assert status == b"HTTP/1.1 404 Not Found" and b"<Code>NoSuchBucket</Code>" in body
        assert headers["connection"] == "close"
        assert closed_by_server(sock)


def test_refused_body_is_drained_and_the_connection_kept(nubo_server, make_client, bucket):
    make_client("s3").put_object(Bucket=bucket, Key="kept", Body=b"hello world")
    data = b"q" * (3 << 20)  # streamed, never read by the refusing handler
    with connect(nubo_server) as sock:
        sock.sendall(f"PUT /no-such-bucket-{uuid.uuid4().hex[:8]}/k HTTP/1.1\r\n"
                     f"Host: localhost\r\n{S3_AUTH}Content-Length: {len(data)}\r\n\r\n"
                     .encode() + data)
        buffer = bytearray()
        status, _, _ = read_response(sock, buffer)
        assert status == b"HTTP/1.1 404 Not Found"
        sock.sendall(f"GET /{bucket}/kept HTTP/1.1\r\nHost: localhost\r\n{S3_AUTH}\r\n"
                     .encode())
        status, _, body = read_response(sock, buffer)
        assert (status, body) == (b"HTTP/1.1 200 OK", b"hello world")


def test_client_leaving_a_streamed_download(nubo_server, make_client, bucket):
    make_client("s3").put_object(Bucket=bucket, Key="big", Body=b"b" * (8 << 20))
    for _ in range(3):
        with connect(nubo_server) as sock:
            sock.sendall(f"GET /{bucket}/big HTTP/1.1\r\nHost: localhost\r\n{S3_AUTH}\r\n"
                         .encode())
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")
    assert nubo_server.get("/_nubo/health")["version"]


def test_stop_ends_long_polls_and_exits_cleanly():
    server = NuboProcess(None).start()
    sqs = connector(server)("sqs")
    url = sqs.create_queue(QueueName="stopping")["QueueUrl"]
    waiting = threading.Thread(target=lambda: _swallow(sqs.receive_message, QueueUrl=url,
                                                       WaitTimeSeconds=20))
    waiting.start()
    time.sleep(0.5)
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(10) == 0
    assert time.monotonic() - started < 5  # a 2-second grace, then in-flight requests are cut
    waiting.join(30)


def _swallow(call, **params) -> None:
    try:
        call(**params)
    except Exception:  # the cut long poll: the client sees its connection end
        pass


@pytest.mark.parametrize("head", [
    b"GET /_nubo/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
], ids=["head over 64 KiB", "bad length", "length and chunked"])
def test_requests_that_are_not_http_get_400(nubo_server, head):
    with connect(nubo_server) as sock:
        sock.sendall(head)
        status, _, body = read_response(sock, bytearray())
        assert status == b"HTTP/1.1 400 Bad Request"
        assert closed_by_server(sock)
    if len(head) > 65536:  # refused as S3 refuses a head over its limit
        assert b"<Code>RequestHeaderSectionTooLarge</Code>" in body
    assert nubo_server.get("/_nubo/health")["version"]
