"""The protocol engine answers malformed requests of every wire protocol with the protocol's
4xx error, whatever the service: json, query and smithy-rpc-v2-cbor through CloudWatch (which
speaks all three) and rest-json through Lambda, services nubo does not implement, so a request
the engine accepts answers 501 and one it cannot read a 4xx, never a 500."""

from __future__ import annotations

import http.client

import pytest
from botocore.exceptions import ClientError

from tests.conftest import SECRET_KEY, NuboProcess, connector, error_of
from tests.fuzzing import Fuzzer, Wire, WireClient, send

ACCOUNT = "700000000006"


@pytest.mark.parametrize("service, protocol", [
    ("cloudwatch", "smithy-rpc-v2-cbor"), ("cloudwatch", "json"), ("cloudwatch", "query"),
    ("lambda", "rest-json")])
def test_malformed_requests_get_client_errors(nubo_server, service, protocol):
    fuzzer = Fuzzer(nubo_server, service, account=ACCOUNT, protocol=protocol)
    fuzzer.assert_answers(per_operation=6)
    assert set(fuzzer.statuses) - {400, 404, 413, 501} == set()


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"7"])
def test_an_input_is_an_object_even_for_operations_without_one(nubo_server, body):
    # SQS ListQueues has an input; STS-like operations without one (DynamoDB
    # DescribeEndpoints) must refuse a list all the same
    wire = Wire("POST", "/", "", {"X-Amz-Target": "DynamoDB_20120810.DescribeEndpoints",
                                  "Content-Type": "application/x-amz-json-1.0"}, body)
    reply, found = send(nubo_server, "dynamodb", wire, account=ACCOUNT)
    assert found is None, found
    assert reply.status == 400 and b"SerializationException" in reply.body, reply.body


@pytest.mark.parametrize("value", [2 ** 31, -(2 ** 31) - 1, 2 ** 70])
def test_integers_beyond_their_type_are_malformed(make_client, sqs, sqs_query, value):
    queue = sqs.create_queue(QueueName="integers")["QueueUrl"]
    for client, code in ((sqs, "SerializationException"), (sqs_query, "InvalidParameterValue")):
        with pytest.raises(ClientError) as caught:
            client.receive_message(QueueUrl=queue, MaxNumberOfMessages=value)
        assert error_of(caught)[::2] == (code, 400)
    s3 = make_client("s3")
    s3.create_bucket(Bucket="integers-beyond-their-type")
    with pytest.raises(ClientError) as caught:
        s3.list_objects_v2(Bucket="integers-beyond-their-type", MaxKeys=value)
    assert error_of(caught)[::2] == ("InvalidArgument", 400)


def test_what_a_fuzz_leaves_behind_survives_kill_9(tmp_path):
    """The odd state well-typed fuzz requests create (queues, tables, objects, keys, secrets,
    parameters, users with odd names and values) neither breaks a restart after kill -9 nor
    costs the state made before it."""
    server = NuboProcess(tmp_path).start()
    try:
        client = connector(server)
        sqs = client("sqs", ACCOUNT, SECRET_KEY)
        kept = sqs.create_queue(QueueName="kept")["QueueUrl"]
        sqs.send_message(QueueUrl=kept, MessageBody="kept")
        for service in ("sqs", "dynamodb", "s3", "kms", "secretsmanager", "ssm", "iam"):
            fuzzer = Fuzzer(server, service, account=ACCOUNT, known={"WaitTimeSeconds": 0})
            fuzzer.assert_answers(per_operation=2, well_typed=3)
        server.kill()
        server.start()
        sqs = connector(server)("sqs", ACCOUNT, SECRET_KEY)
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=kept)["Messages"]] == ["kept"]
        for service in ("dynamodb", "s3", "kms", "secretsmanager", "ssm", "iam"):
            Fuzzer(server, service, account=ACCOUNT).assert_answers(
                per_operation=0, operations=[LISTINGS[service]])
    finally:
        server.stop()


# An operation listing what each service holds, read after the restart.
LISTINGS = {"dynamodb": "ListTables", "s3": "ListBuckets", "kms": "ListKeys",
            "secretsmanager": "ListSecrets", "ssm": "DescribeParameters", "iam": "ListUsers"}


@pytest.mark.parametrize("chunked", [False, True])
def test_a_document_beyond_any_service_limit_is_refused_unread(nubo_server, chunked):
    """40 MiB of JSON to DynamoDB (whose requests hold 16 MB at most): 413, whether its length
    is declared or not, and the server keeps serving."""
    size = 40 << 20
    body = b'{"TableName": "' + b"x" * (size - 20) + b'"}'
    wire = Wire("POST", "/", "", {"X-Amz-Target": "DynamoDB_20120810.DescribeTable",
                                  "Content-Type": "application/x-amz-json-1.0"}, body)
    client = WireClient(nubo_server, "dynamodb", ACCOUNT)
    if not chunked:
        reply = client.send(wire)
        status, answer = reply.status, reply.body
    else:
        headers = {k: v for k, v in client.sign(wire).items() if k.lower() != "content-length"}
        connection = http.client.HTTPConnection("127.0.0.1", nubo_server.port, timeout=60)
        try:
            connection.request("POST", "/", body=(body[i:i + (1 << 20)]
                                                  for i in range(0, len(body), 1 << 20)),
                               headers=headers, encode_chunked=True)
            response = connection.getresponse()
            status, answer = response.status, response.read()
        finally:
            connection.close()
    assert status == 413 and b"RequestEntityTooLarge" in answer, answer[:300]
    client.close()
    assert client.send(Wire("GET", "/_nubo/health", "", {}, b"")).status == 200
