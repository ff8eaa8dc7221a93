"""The engine's answers on the wire: malformed input per protocol, validation wording, SQS errors
as boto3 sees them over json and query, and a fuzz test (arbitrary bytes never crash a parser)."""

from __future__ import annotations

import copy
import gzip
import json
import random
from urllib.parse import urlsplit

import boto3
import botocore.session
import cbor2
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compress import maybe_compress_request
from botocore.config import Config
from botocore.model import ServiceModel
from botocore.serialize import create_serializer

from nubo.core.errors import ServiceError
from nubo.core.http import HttpRequest
from nubo.protocols import (detect_protocol, load_service_model, parse_request, serialize_error,
                            serialize_response)
from nubo.protocols.models import protocol_view
from nubo.protocols.patterns import java_pattern
from nubo.protocols.rest import split_header_list
from tests.protocols.helpers import to_http_request

JSON_SQS = {"content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.SendMessage"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
CBOR_CW = {"content-type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}


def _request(method="POST", path="/", query="", headers=None, body=b""):
    return HttpRequest(method, path, query, dict(headers or {}), body)


def _parse_error(service: str, request: HttpRequest) -> ServiceError:
    model = load_service_model(service)
    with pytest.raises(ServiceError) as caught:
        parse_request(model, request, detect_protocol(model, request))
    return caught.value


@pytest.mark.parametrize("service,request_,code", [
    ("sqs", _request(headers=JSON_SQS, body=b"{not json"), "SerializationException"),
    ("sqs", _request(headers=JSON_SQS, body=b"[1, 2]"), "SerializationException"),
    ("sqs", _request(headers=JSON_SQS, body=b'{"QueueUrl": 5, "MessageBody": "x"}'),
     "SerializationException"),
    ("sqs", _request(headers={**JSON_SQS, "x-amz-target": "AmazonSQS.Nope"}, body=b"{}"),
     "UnknownOperationException"),
    ("sqs", _request(headers=FORM, body=b"Action=Nope"), "InvalidAction"),
    ("sqs", _request(headers=FORM, body=b"Action=SendMessage&QueueUrl=q&MessageBody=x"
                                       b"&DelaySeconds=abc"), "InvalidParameterValue"),
    ("sqs", _request(headers=FORM, body=b"Action=SendMessage&QueueUrl=\xff\xfe"),
     "MalformedQueryString"),
    ("sqs", _request(headers=FORM, body=b"Action=SendMessage&QueueUrl=q"), "MissingParameter"),
    ("cloudwatch", _request(path="/service/GraniteServiceVersion20100801/operation/ListMetrics",
                            headers=CBOR_CW, body=b"\xff\x00garbage"), "SerializationException"),
    ("cloudwatch", _request(path="/service/GraniteServiceVersion20100801/operation/Nope",
                            headers=CBOR_CW, body=cbor2.dumps({})), "UnknownOperationException"),
    ("s3", _request("PUT", "/bucket", "tagging", body=b"<Tagging><TagSet>"), "MalformedXML"),
    ("s3", _request("PUT", "/bucket", "tagging", body=b'<!DOCTYPE x [<!ENTITY a "b">]><x/>'),
     "MalformedXML"),
    ("lambda", _request("POST", "/2015-03-31/functions", body=b"{oops"),
     "SerializationException"),
    ("lambda", _request("PATCH", "/nowhere"), "UnknownOperationException"),
    ("ec2", _request(headers=FORM, body=b"Action=RunInstances&MinCount=1"), "MissingParameter"),
    ("ec2", _request(headers=FORM, body=b"Action=Nope"), "InvalidAction"),
])
def test_malformed_input(service, request_, code):
    error = _parse_error(service, request_)
    assert error.code == code
    assert 400 <= (error.status or 400) < 500


def test_sqs_missing_parameter_wording():
    error = _parse_error("sqs", _request(headers=FORM, body=b"Action=SendMessage&QueueUrl=q"))
    assert error.message == "The request must contain the parameter MessageBody."


def _dynamodb(target: str, document: dict) -> HttpRequest:
    return _request(headers={"content-type": "application/x-amz-json-1.0",
                             "x-amz-target": f"DynamoDB_20120810.{target}"},
                    body=json.dumps(document).encode())


def test_coral_validation_wording():
    error = _parse_error("dynamodb", _dynamodb("CreateTable", {
        "TableName": "", "BillingMode": "FREE"}))
    assert error.code == "ValidationException"
    assert error.message == (
        "2 validation errors detected: Value '' at 'tableName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1; Value 'FREE' at 'billingMode' "
        "failed to satisfy constraint: Member must satisfy enum value set: "
        "[PROVISIONED, PAY_PER_REQUEST]")
    error = _parse_error("dynamodb", _dynamodb("GetItem", {"TableName": "t"}))
    assert error.message == ("1 validation error detected: Value null at 'key' failed to "
                             "satisfy constraint: Member must not be null")


def _patterned_model(validate_patterns: bool) -> ServiceModel:
    """A json service whose strings carry patterns of the kinds AWS models use."""
    strings = {"Name": r"[a-zA-Z0-9_.-]+", "Label": r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*",
               "Text": r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*",
               "User": r"[\w+=,.@-]+",  # Java's \w is ASCII
               "Anything": r"[\p{all}]*"}  # not expressible in Python: not checked
    shapes = {name: {"type": "string", "pattern": pattern} for name, pattern in strings.items()}
    shapes["Input"] = {"type": "structure",
                       "members": {name: {"shape": name} for name in strings}}
    metadata = {"protocol": "json", "jsonVersion": "1.0", "targetPrefix": "Svc",
                "apiVersion": "2020-01-01", "nubo": {"validatePatterns": validate_patterns}}
    return ServiceModel({"metadata": metadata, "shapes": shapes, "operations": {"Put": {
        "name": "Put", "http": {"method": "POST", "requestUri": "/"},
        "input": {"shape": "Input"}}}}, service_name="patterned")


def _put(model: ServiceModel, document: dict):
    request = _request(headers={"content-type": "application/x-amz-json-1.0",
                                "x-amz-target": "Svc.Put"}, body=json.dumps(document).encode())
    return parse_request(model, request, "json")


def test_pattern_validation():
    model = _patterned_model(True)
    good = {"Name": "my-table_1.x", "Label": "Été 2024: a/b", "Text": "tab\there \U0001F600",
            "User": "a_b+c@d", "Anything": "\x00"}
    assert _put(model, good)[1] == good
    with pytest.raises(ServiceError) as caught:
        _put(model, {"Name": "bad name", "Label": "a;b", "Text": "bell\x07", "User": "usér"})
    assert caught.value.code == "ValidationException"
    assert caught.value.message == (
        "4 validation errors detected: Value 'bad name' at 'name' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "
        "Value 'a;b' at 'label' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*; Value 'bell\x07' at 'text' "
        "failed to satisfy constraint: Member must satisfy regular expression pattern: "
        "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*; "
        "Value 'usér' at 'user' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: [\\w+=,.@-]+")
    # services that do not enforce patterns (the default) let the same values through
    assert _put(_patterned_model(False), {"Name": "bad name"})[1] == {"Name": "bad name"}


@pytest.mark.parametrize("pattern,matching,failing", [
    (r"^[a-zA-Z0-9\s-_()\[\]]+$", "a b-_(x)[y]", "a;b"),  # "-" after a class is literal
    (r"[\p{Alnum}]+", "abc123", "abé"),  # Java's POSIX classes are ASCII
    (r"(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)", "i-0123456789abcdef0", "i-0123456789abcdéf0"),
    (r"^arn:\S+:kms:.*$", "arn:a\u00a0b:kms:x", "arn:a b:kms:x"),  # \u00a0 is no \s in Java
    (r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF]+", "a\U0001F600", "a\x01"),
])
def test_java_patterns(pattern, matching, failing):
    compiled = java_pattern(pattern)
    assert compiled.fullmatch(matching) and not compiled.fullmatch(failing)


def test_query_error_envelope_and_status():
    model = load_service_model("sqs")
    response = serialize_error(model, None, ServiceError("ReceiptHandleIsInvalid", "bad"),
                               "query", "rid-1")
    assert response.status == 404
    assert b"<Code>ReceiptHandleIsInvalid</Code>" in response.body
    assert b"<Type>Sender</Type>" in response.body and b"<RequestId>rid-1</RequestId>" in response.body


# --- SQS errors as boto3 raises them, over json (stock model) and query (old query model) ----
class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_):
        yield self.body


def _answering_client(session, protocol: str):
    """A real boto3 SQS client whose requests are answered in-process by nubo's engine, which
    raises QueueDoesNotExist for every request."""
    model = load_service_model("sqs")
    client = session.client("sqs", region_name="us-east-1", endpoint_url="http://sqs.localhost",
                            aws_access_key_id="AKID", aws_secret_access_key="SECRET")

    def answer(request, **_):
        url = urlsplit(request.url)
        body = request.body or b""
        http = HttpRequest(request.method, url.path or "/", url.query,
                           {k.lower(): (v.decode() if isinstance(v, bytes) else v)
                            for k, v in request.headers.items()},
                           body if isinstance(body, bytes) else body.encode())
        detected = detect_protocol(model, http)
        assert detected == protocol
        operation, _ = parse_request(model, http, detected)
        response = serialize_error(model, operation, ServiceError(
            "QueueDoesNotExist", "The specified queue does not exist."), detected, "rid")
        return AWSResponse(request.url, response.status, response.headers, _Raw(response.body))

    client.meta.events.register("before-send", answer)
    return client


@pytest.fixture(scope="module")
def query_session(tmp_path_factory):
    """A botocore session whose SQS model is the query one (as SDKs before the JSON switch)."""
    root = tmp_path_factory.mktemp("models")
    data = copy.deepcopy(protocol_view(load_service_model("sqs"), "query")._service_description)
    data["metadata"].update(protocol="query", protocols=["query"])
    target = root / "sqs" / "2012-11-05"
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(data))
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(root))
    return boto3.Session(botocore_session=session)


@pytest.mark.parametrize("protocol", ["json", "query"])
def test_boto3_raises_modeled_sqs_error(protocol, query_session):
    session = boto3.Session() if protocol == "json" else query_session
    client = _answering_client(session, protocol)
    with pytest.raises(client.exceptions.QueueDoesNotExist) as caught:
        client.get_queue_url(QueueName="missing")
    assert caught.value.response["Error"]["Message"] == "The specified queue does not exist."
    with pytest.raises(client.exceptions.QueueDoesNotExist):
        client.send_message(QueueUrl="http://sqs.localhost/1/q", MessageBody="x",
                            MessageAttributes={"a": {"DataType": "String", "StringValue": "v"}})


def test_sqs_query_response_escapes_carriage_return():
    model = load_service_model("sqs")
    operation = model.operation_model("ReceiveMessage")
    response = serialize_response(operation, {"Messages": [{"Body": "a\r\nb<&>"}]}, "query", "r")
    assert b"<Body>a&#xD;\nb&lt;&amp;&gt;</Body>" in response.body


@pytest.mark.parametrize("text,http_dates,items", [
    ('"b,c", "\\"def\\"", a', False, ["b,c", '"def"', "a"]),
    (" a , b ", False, ["a", "b"]),
    ("", False, []),
    ("Mon, 16 Dec 2019 23:48:18 GMT,Tue, 17 Dec 2019 23:48:18 GMT", True,
     ["Mon, 16 Dec 2019 23:48:18 GMT", "Tue, 17 Dec 2019 23:48:18 GMT"]),
    ("1576540098, 1576540099", True, ["1576540098", "1576540099"]),  # not dates: kept apart
])
def test_list_header_items(text, http_dates, items):
    assert split_header_list(text, http_dates) == items


# --- compressed request bodies ----------------------------------------------------------------
@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "json", "query"])
def test_gzip_request_body(protocol):
    """botocore gzips PutMetricData (requestcompression) from 10 KiB on; nubo reads it."""
    model = load_service_model("cloudwatch")
    operation = model.operation_model("PutMetricData")
    params = {"Namespace": "app", "MetricData": [
        {"MetricName": "latency", "Value": 1.5, "Dimensions": [{"Name": "host", "Value": "a"}]}]}
    request_dict = create_serializer(protocol).serialize_to_request(params, operation)
    maybe_compress_request(Config(request_min_compression_size_bytes=1), request_dict, operation)
    request = to_http_request(request_dict)
    assert request.headers["content-encoding"] == "gzip"
    parsed_operation, parsed = parse_request(model, request, protocol)
    assert parsed_operation.name == "PutMetricData" and parsed == params
    assert "content-encoding" not in request.headers


_BAD_GZIP = {
    "garbage": lambda: b"\x1f\x8b\x08\x00garbage",
    "truncated": lambda: gzip.compress(b"Action=ListMetrics", mtime=0)[:-12],
    "bomb": lambda: gzip.compress(b"A" * (33 * 1024 * 1024), mtime=0),  # inflates too far
}


@pytest.mark.parametrize("body,code", [("garbage", "MalformedQueryString"),
                                       ("truncated", "MalformedQueryString"),
                                       ("bomb", "RequestEntityTooLarge")])
def test_gzip_request_body_errors(body, code):
    request = _request(headers={**FORM, "content-encoding": "gzip"}, body=_BAD_GZIP[body]())
    assert _parse_error("cloudwatch", request).code == code


# --- fuzz -------------------------------------------------------------------------------------
_SEEDS = {
    ("sqs", "json"): _request(headers=JSON_SQS, body=json.dumps({
        "QueueUrl": "q", "MessageBody": "b", "DelaySeconds": 1,
        "MessageAttributes": {"a": {"DataType": "Binary", "BinaryValue": "AAE="}}}).encode()),
    ("sqs", "query"): _request(headers=FORM, body=b"Action=SendMessageBatch&QueueUrl=q"
                               b"&SendMessageBatchRequestEntry.1.Id=a"
                               b"&SendMessageBatchRequestEntry.1.MessageBody=b"
                               b"&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=n"
                               b"&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value."
                               b"DataType=String"),
    ("cloudwatch", "smithy-rpc-v2-cbor"): _request(
        path="/service/GraniteServiceVersion20100801/operation/PutMetricData", headers=CBOR_CW,
        body=cbor2.dumps({"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1.5}]})),
    ("ec2", "ec2"): _request(headers=FORM, body=b"Action=RunInstances&MinCount=1&MaxCount=1"
                             b"&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=v"),
    ("s3", "rest-xml"): _request("PUT", "/bucket", "tagging", body=(
        b"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>")),
    ("lambda", "rest-json"): _request("POST", "/2015-03-31/functions", body=json.dumps({
        "FunctionName": "f", "Role": "arn:aws:iam::123456789012:role/r",
        "Code": {"ZipFile": "AAE="}, "Timeout": 3}).encode()),
}


def _mutate(rng: random.Random, body: bytes) -> bytes:
    data = bytearray(body)
    for _ in range(rng.randint(1, 6)):
        choice = rng.random()
        position = rng.randrange(len(data) + 1)
        if choice < 0.4 and data:
            data[min(position, len(data) - 1)] = rng.randrange(256)
        elif choice < 0.7:
            data[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        else:
            del data[position:position + rng.randint(1, 8)]
    return bytes(data)


@pytest.mark.parametrize("service,protocol", sorted(_SEEDS))
def test_fuzz_never_crashes(service, protocol):
    model = load_service_model(service)
    seed = _SEEDS[(service, protocol)]
    rng = random.Random(f"{service}/{protocol}")
    for attempt in range(400):
        body = (bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
                if attempt % 4 == 0 else _mutate(rng, seed.body))
        request = HttpRequest(seed.method, seed.path, seed.query_string, dict(seed.headers), body)
        try:
            parse_request(model, request, protocol)
        except ServiceError as error:
            response = serialize_error(model, None, error, protocol, "fuzz")
            assert 400 <= response.status < 500, (error, body)


def test_control_characters_echoed_in_xml_errors_keep_the_body_parseable(make_client):
    """XML 1.0 cannot carry NUL and most C0 controls: a message quoting such input must still
    be an error clients can read (found by fuzzing IAM)."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        make_client("iam").get_policy(PolicyArn="arn:aws:iam::000000000000:policy/\x00bad")
    error = caught.value.response["Error"]
    assert error["Code"] in ("InvalidInput", "ValidationError", "NoSuchEntity")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 404)
