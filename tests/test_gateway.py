"""The gateway: routing, identity, internal endpoints, errors every service shares, HTTP details."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import ACCESS_KEY, SECRET_KEY


def raw(server, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sqs/"
                           "aws4_request, SignedHeaders=host, Signature=abc"}


def test_health_reports_version_and_services(nubo_server):
    for path in ("/_nubo/health", "/_localstack/health"):
        status, headers, body = raw(nubo_server, "GET", path)
        assert status == 200
        health = json.loads(body)
        assert health["version"]
        assert health["services"]["sqs"] in ("available", "running")
        assert health["services"]["sts"] in ("available", "running")


def test_sts_get_caller_identity(make_client, aws_cli):
    identity = make_client("sts").get_caller_identity()
    assert identity["Account"] == "000000000000"
    assert identity["Arn"] == "arn:aws:iam::000000000000:root"
    assert aws_cli("sts", "get-caller-identity")["Account"] == "000000000000"


def test_twelve_digit_access_key_is_the_account(make_client):
    session = boto3.Session(aws_access_key_id="111122223333", aws_secret_access_key=SECRET_KEY,
                            region_name="eu-west-1")
    identity = make_client("sts", session=session).get_caller_identity()
    assert identity["Account"] == "111122223333"
    assert identity["Arn"] == "arn:aws:iam::111122223333:root"


def test_state_is_isolated_per_account_and_region(make_client):
    name = f"iso-{uuid.uuid4().hex[:8]}"

    def client(key: str, region: str):
        session = boto3.Session(aws_access_key_id=key, aws_secret_access_key=SECRET_KEY,
                                region_name=region)
        return make_client("sqs", session=session)

    owner = client("111111111111", "us-east-1")
    url = owner.create_queue(QueueName=name)["QueueUrl"]
    assert "111111111111" in url
    assert owner.get_queue_url(QueueName=name)["QueueUrl"] == url
    for other in (client("222222222222", "us-east-1"), client("111111111111", "eu-west-1")):
        with pytest.raises(ClientError) as error:
            other.get_queue_url(QueueName=name)
        assert error.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_unimplemented_operation_answers_501_naming_it(make_client):
    # custom key stores front a CloudHSM cluster or an external key manager: not emulated
    with pytest.raises(ClientError) as error:
        make_client("kms").describe_custom_key_stores()
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    message = error.value.response["Error"]["Message"]
    assert "DescribeCustomKeyStores" in message and "kms" in message


def not_implemented_member(call) -> str:
    """The message of the 501 ``call`` is answered with."""
    with pytest.raises(ClientError) as error:
        call()
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert error.value.response["Error"]["Code"] == "NotImplemented"
    return error.value.response["Error"]["Message"]


def test_unimplemented_member_answers_501_naming_it(make_client):
    """A request giving a member nubo does not implement is refused naming it, not served as
    if the member were absent: one a handler does not declare (STS token sizes), and one a
    provider lists (DynamoDB vector indexes, S3 event holds), nested ones too."""
    sts = make_client("sts")
    message = not_implemented_member(lambda: sts.get_session_token(MinimumSessionTokenSize=2048))
    assert "MinimumSessionTokenSize" in message and "GetSessionToken" in message
    ddb = make_client("dynamodb")
    message = not_implemented_member(lambda: ddb.import_table(
        S3BucketSource={"S3Bucket": "no-such-bucket"}, InputFormat="CSV",
        TableCreationParameters={
            "TableName": "vectors", "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "VectorIndexes": [{"IndexName": "vec-index", "VectorAttribute": {"AttributeName": "vec"},
                               "Projection": {"ProjectionType": "KEYS_ONLY"},
                               "Dimensions": 3, "DistanceFunction": "COSINE"}]}))
    assert "TableCreationParameters.VectorIndexes" in message
    assert "vectors" not in ddb.list_tables()["TableNames"]
    s3 = make_client("s3")
    message = not_implemented_member(lambda: s3.put_object(
        Bucket="no-such-bucket-for-event-hold", Key="k", Body=b"x", ObjectLockEventHold="ON"))
    assert "ObjectLockEventHold" in message


def test_unimplemented_service_answers_501_naming_operation(make_client):
    with pytest.raises(ClientError) as error:
        make_client("sns").list_topics()
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "ListTopics" in error.value.response["Error"]["Message"]


def test_request_without_credentials_is_rejected(nubo_server):
    status, headers, body = raw(nubo_server, "POST", "/", b"{}", {
        "X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"})
    assert status == 400
    assert json.loads(body)["__type"].endswith("MissingAuthenticationTokenException")
    status, headers, body = raw(nubo_server, "POST", "/", b"Action=GetCallerIdentity&"
                                b"Version=2011-06-15", {
                                    "Content-Type": "application/x-www-form-urlencoded",
                                    "Host": "sts.us-east-1.localhost"})
    assert status == 403
    assert b"<Code>MissingAuthenticationToken</Code>" in body


def test_unknown_service_gets_an_error_not_a_crash(nubo_server):
    status, headers, body = raw(nubo_server, "POST", "/", b"Action=Nothing&Version=1999-01-01",
                                {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400
    assert b"UnknownService" in body


def test_unsigned_requests_to_a_bare_path_are_s3s(nubo_server):
    """Browsers and curl read public objects without signing: such requests are S3's."""
    status, headers, body = raw(nubo_server, "GET", "/no-such-bucket-anywhere/key")
    assert status == 404
    assert b"<Code>NoSuchBucket</Code>" in body


def test_routing_by_host_name(nubo_server):
    """A SigV2-signed request has no credential scope: the host names service and region."""
    for host in (f"sts.eu-central-1.localhost:{nubo_server.port}",
                 f"sts.eu-central-1.localhost.localstack.cloud:{nubo_server.port}",
                 "sts.eu-central-1.amazonaws.com"):
        status, headers, body = raw(nubo_server, "POST", "/", b"Action=GetCallerIdentity&"
                                    b"Version=2011-06-15", {
                                        "Content-Type": "application/x-www-form-urlencoded",
                                        "Authorization": f"AWS {ACCESS_KEY}:c2lnbmF0dXJl",
                                        "Host": host})
        assert status == 200, body
        assert b"<Account>000000000000</Account>" in body


def test_request_ids_on_every_response(nubo_server):
    status, headers, body = raw(nubo_server, "POST", "/", b"{}", {
        **SIGNED, "X-Amz-Target": "AmazonSQS.ListQueues",
        "Content-Type": "application/x-amz-json-1.0"})
    assert status == 200
    assert len(headers["x-amzn-requestid"]) == 36


def test_cors_preflight_and_headers(nubo_server):
    status, headers, body = raw(nubo_server, "OPTIONS", "/", headers={
        "Origin": "http://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-amz-target,content-type,authorization"})
    assert status == 200
    assert headers["access-control-allow-origin"] == "*"
    assert "POST" in headers["access-control-allow-methods"]
    assert "x-amz-target" in headers["access-control-allow-headers"]
    status, headers, body = raw(nubo_server, "POST", "/", b"{}", {
        **SIGNED, "Origin": "http://app.example", "X-Amz-Target": "AmazonSQS.ListQueues",
        "Content-Type": "application/x-amz-json-1.0"})
    assert status == 200
    assert headers["access-control-allow-origin"] == "*"
    assert "x-amzn-RequestId" in headers["access-control-expose-headers"]


def test_expect_100_continue(nubo_server):
    body = b"{}"
    head = ("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.0\r\n"
            f"X-Amz-Target: AmazonSQS.ListQueues\r\nAuthorization: {SIGNED['Authorization']}\r\n"
            f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", nubo_server.port), timeout=10) as sock:
        sock.sendall(head.encode())
        interim = sock.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        final = b""
        while b"\r\n\r\n" not in final:
            final += sock.recv(4096)
        assert final.startswith(b"HTTP/1.1 200")


def test_long_poll_does_not_block_other_clients(sqs):
    url = sqs.create_queue(QueueName=f"lp-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    results = {}

    def long_poll():
        started = time.monotonic()
        results["messages"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3).get(
            "Messages", [])
        results["waited"] = time.monotonic() - started

    thread = threading.Thread(target=long_poll)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    sqs.list_queues()
    assert time.monotonic() - started < 1.0
    thread.join()
    assert results["messages"] == []
    assert results["waited"] >= 2.5


def test_clock_advances(nubo_server):
    before = nubo_server.get("/_nubo/clock")
    after = nubo_server.post("/_nubo/clock", {"advance": 0})
    assert after["now"] >= before["now"]
    status, headers, body = raw(nubo_server, "POST", "/_nubo/clock", b"not json")
    assert status == 400
