"""Round trips against botocore's own client code, for every operation of every service.

Input: values generated from the input shape are serialized by botocore's request serializer,
parsed by nubo, and must come back equal. Output: nubo serializes generated output values and
botocore's response parser must read them back equal. Errors: every modeled error shape,
serialized by nubo, must be recognized by botocore (same code, boto3's exception class, fields).
"""

from __future__ import annotations

import os
import zlib

import botocore.handlers
import botocore.session
import pytest
from botocore.errorfactory import ClientExceptionsFactory
from botocore.loaders import Loader
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from nubo.core.errors import ServiceError
from nubo.protocols import (detect_protocol, load_service_model, parse_request, serialize_error,
                            serialize_response)
from nubo.protocols.models import protocol_view, service_protocols
from tests.protocols.helpers import (ValueGenerator, has_event_stream, normalize,
                                     to_botocore_response, to_http_request)

# The services the brief names are always run; NUBO_PROTOCOL_SERVICES=all runs every service.
CORE = ["sqs", "s3", "dynamodb", "ec2", "cloudwatch", "lambda", "iam", "sts", "sns", "kinesis",
        "apigateway", "route53", "s3control", "glacier", "cloudfront", "apigatewayv2", "kms",
        "logs", "events", "secretsmanager", "ssm", "rds", "elbv2", "autoscaling", "sesv2",
        "cognito-idp", "ecs", "efs", "eks", "stepfunctions", "firehose", "appsync", "iot",
        "mediaconvert", "elasticache", "cloudformation", "redshift", "ses", "route53domains",
        "sagemaker", "glue", "athena", "xray", "wafv2", "acm", "ecr", "organizations", "sdb",
        "importexport", "cloudsearchdomain", "lex-runtime", "lexv2-runtime", "polly",
        "rekognition", "translate", "transcribe", "backup", "batch", "codebuild", "opensearch",
        "es", "neptune", "docdb", "emr", "kafka", "mq", "pinpoint", "amplify", "servicediscovery",
        "application-autoscaling", "elb", "cloudtrail", "config", "guardduty", "securityhub",
        "shield", "waf", "directconnect", "storagegateway", "workspaces", "qldb" ]
_AVAILABLE = set(Loader().list_available_services("service-2"))
if os.environ.get("NUBO_PROTOCOL_SERVICES") == "all":
    SERVICES = sorted(_AVAILABLE)
else:
    SERVICES = [name for name in CORE if name in _AVAILABLE]

_session = botocore.session.get_session()
# Members that share one wire name (the old SQS query API had a single AttributeName.N list):
# a client sends one, the parser fills both.
_ALIASES = {("sqs", "query", "ReceiveMessage"): ("AttributeNames", "MessageSystemAttributeNames")}
# Members the protocol itself fills in: the message, the code, the error type header.
_ENVELOPE_MEMBERS = {"message", "Message", "errorMessage", "ErrorMessage", "Code", "Type"}


def _error_fields(shape, generator) -> dict:
    fields = generator.structure(shape, 0, False)
    return {k: v for k, v in fields.items() if k not in _ENVELOPE_MEMBERS
            and shape.members[k].serialization.get("name", "").lower() != "x-amzn-errortype"}


# Cases botocore itself cannot round-trip, with the reason.
SKIPS = {
    ("s3", "GetBucketNotification"): "deprecated model names two members <Event>",
    ("s3", "PutBucketNotification"): "deprecated model names two members <Event>",
    ("s3", "WriteGetObjectResponse"): "its host prefix ({RequestRoute}.) on a *.localhost name "
                                      "reads as a virtual-hosted bucket",
}
# Responses botocore reads with an event handler rather than its parser.
_CLIENT_HANDLERS = {("s3", "GetBucketLocation"): botocore.handlers.parse_get_bucket_location}
# Deprecated operations whose requests are byte-identical to their replacement's: the server
# routes them to the replacement, as AWS does.
DEPRECATED_TWINS = {("s3", "GetBucketLifecycle"), ("s3", "PutBucketLifecycle")}


class _Raw:
    """What botocore's response handlers read of an HTTP response."""

    def __init__(self, body: bytes) -> None:
        self.raw = self.content = body


def _seed(*parts: str) -> int:
    return zlib.crc32("/".join(parts).encode())


def _client_model(service: str, protocol: str):
    """The model a real client of this protocol has: botocore's own, or nubo's view for a
    protocol botocore's model no longer describes (SQS query: the old query model's names)."""
    stock = _session.get_service_model(service)
    if protocol in service_protocols(stock):
        return stock
    return protocol_view(load_service_model(service), protocol)


def _payload_member(shape):
    name = shape.serialization.get("payload") if shape is not None else None
    return (name, shape.members[name]) if name else None


def _without_empty_structures(value):
    if isinstance(value, dict):
        kept = {k: _without_empty_structures(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v != {}}
    if isinstance(value, list):
        return [_without_empty_structures(v) for v in value]
    return value


def check_input(model, protocol, client_model, name, failures):
    operation = client_model.operation_model(name)
    if has_event_stream(operation.input_shape) or (model.service_name, name) in DEPRECATED_TWINS:
        return
    generator = ValueGenerator(_seed(model.service_name, protocol, name, "in"))
    params = generator.value(operation.input_shape) if operation.input_shape else {}
    expected = dict(params)
    alias = _ALIASES.get((model.service_name, protocol, name))
    if alias:
        params.pop(alias[1])
        expected[alias[1]] = expected[alias[0]]
    request = to_http_request(create_serializer(protocol).serialize_to_request(params, operation))
    try:
        assert detect_protocol(model, request) == protocol, "protocol detected"
        parsed_operation, parsed = parse_request(model, request, protocol)
        assert parsed_operation.name == name, f"routed to {parsed_operation.name}"
        if protocol in ("query", "ec2"):
            # These form encodings have no way to send an empty structure: nothing to parse.
            expected = _without_empty_structures(expected)
        assert normalize(parsed) == normalize(expected)
    except (AssertionError, ServiceError) as error:
        failures.append(f"{protocol} input {name}: {error!r}"[:2000])


def check_output(model, protocol, client_model, name, failures):
    operation = client_model.operation_model(name)
    if has_event_stream(operation.output_shape):
        return
    generator = ValueGenerator(_seed(model.service_name, protocol, name, "out"))
    output = generator.value(operation.output_shape) if operation.output_shape else {}
    expected = dict(output)
    payload = _payload_member(operation.output_shape)
    if payload is not None and payload[1].type_name in ("blob", "string") and payload[0] in output:
        # botocore hands blob and string payloads to its users as text
        output[payload[0]] = expected[payload[0]] = "payload text"
    response = serialize_response(model.operation_model(name), output, protocol, "request-1")
    try:
        raw = to_botocore_response(response)
        parsed = create_parser(protocol).parse(raw, operation.output_shape)
        handle = _CLIENT_HANDLERS.get((model.service_name, name))
        if handle is not None:
            handle(parsed, http_response=_Raw(raw["body"]))
        assert normalize(parsed) == normalize(expected)
    except Exception as error:  # noqa: BLE001 - a botocore parse failure is a test failure
        failures.append(f"{protocol} output {name}: {error!r}"[:2000])


def check_errors(model, protocol, client_model, failures):
    exceptions = ClientExceptionsFactory().create_client_exceptions(client_model)
    for shape in client_model.error_shapes:
        generator = ValueGenerator(_seed(model.service_name, protocol, shape.name))
        fields = _error_fields(shape, generator)
        error = ServiceError(shape.name, "it failed", fields=fields)
        response = to_botocore_response(serialize_error(model, None, error, protocol, "r-1"))
        try:
            parser = create_parser(protocol)
            parsed = parser.parse(response, None)["Error"]
            code = parsed["Code"]
            if model.service_name == "sqs" and parsed.get("QueryErrorCode"):
                code = parsed["QueryErrorCode"]  # botocore's SQS compatibility handler
            found = exceptions.from_code(code).__name__
            # a code shared by several shapes (CloudWatch) maps to one of them in botocore too
            assert client_model.shape_for(found).error_code == shape.error_code, f"code {code}"
            assert parsed.get("Message") == "it failed", parsed
            modeled = parser.parse(response, client_model.shape_for_error_code(code))
            got = {k: v for k, v in normalize(modeled).items()
                   if k in fields}
            assert got == normalize(fields)
        except Exception as error:  # noqa: BLE001
            failures.append(f"{protocol} error {shape.name}: {error!r}"[:2000])


@pytest.mark.parametrize("service", SERVICES)
def test_round_trip(service):
    model = load_service_model(service)
    failures: list[str] = []
    for protocol in service_protocols(model):
        client_model = _client_model(service, protocol)
        for name in client_model.operation_names:
            if (service, name) in SKIPS:
                continue
            check_input(model, protocol, client_model, name, failures)
            check_output(model, protocol, client_model, name, failures)
        check_errors(model, protocol, client_model, failures)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:15])
