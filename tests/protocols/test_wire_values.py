"""Values kept in their wire form (patches.py ``nuboWireValue``: DynamoDB's AttributeValue) are
written as they are, and read member by member with every type check: what botocore reads back,
what a wrong patch or a wrong value gets."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.model import ServiceModel
from botocore.parsers import create_parser

from nubo.core.errors import ServiceError
from nubo.core.http import HttpRequest
from nubo.protocols import load_service_model, parse_request, serialize_response
from nubo.protocols.documents import JSON, compile_writer
from tests.protocols.helpers import to_botocore_response

NESTED = {"pk": {"S": "user#1"}, "n": {"N": "-12.5"}, "b": {"B": b"\x00\x01\xff"},
          "empty": {"B": b""}, "bs": {"BS": [b"x", b"\xfe"]}, "ok": {"BOOL": False},
          "none": {"NULL": True}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]},
          "deep": {"M": {"l": {"L": [{"B": b"\x02"}, {"M": {"bs": {"BS": [b"y"]}}},
                                     {"S": ""}]}}}}


def _ddb_request(operation: str, document: dict) -> HttpRequest:
    return HttpRequest("POST", "/", "", {"content-type": "application/x-amz-json-1.0",
                                         "x-amz-target": f"DynamoDB_20120810.{operation}"},
                       json.dumps(document).encode())


@pytest.mark.parametrize("service,operation,output", [
    ("dynamodb", "Scan", {"Items": [NESTED] * 3, "Count": 3, "ScannedCount": 3,
                          "LastEvaluatedKey": {"pk": {"S": "user#1"}, "b": {"B": b"\x00"}}}),
    ("dynamodb", "GetItem", {"Item": NESTED}),
    ("dynamodbstreams", "GetRecords", {"Records": [{"eventName": "INSERT", "dynamodb": {
        "Keys": {"pk": {"S": "user#1"}}, "NewImage": NESTED, "SizeBytes": 10}}]}),
])
def test_wire_values_read_back_by_botocore(service, operation, output):
    model = load_service_model(service)
    operation_model = model.operation_model(operation)
    response = serialize_response(operation_model, output, "json", "r-1")
    document = json.loads(response.body)
    found = document["Items"][0] if operation == "Scan" else (
        document["Item"] if operation == "GetItem" else document["Records"][0]["dynamodb"]["NewImage"])
    assert found["b"] == {"B": base64.b64encode(b"\x00\x01\xff").decode()}  # base64 on the wire
    assert found["deep"]["M"]["l"]["L"][1] == {"M": {"bs": {"BS": ["eQ=="]}}}
    parsed = create_parser("json").parse(to_botocore_response(response),
                                         operation_model.output_shape)
    parsed.pop("ResponseMetadata", None)
    assert parsed == output


def test_input_attribute_values_keep_type_checks():
    model = load_service_model("dynamodb")
    item = {"pk": {"S": "a"}, "b": {"B": "AAH/"}, "m": {"M": {"x": {"L": [{"N": "1"}]}}}}
    _, params = parse_request(model, _ddb_request("PutItem", {"TableName": "tbl", "Item": item}),
                              "json")
    assert params["Item"] == {"pk": {"S": "a"}, "b": {"B": b"\x00\x01\xff"},
                              "m": {"M": {"x": {"L": [{"N": "1"}]}}}}
    for wrong in ({"S": 5}, {"B": "not base64!"}, {"BOOL": "yes"}, {"L": {"S": "a"}}):
        with pytest.raises(ServiceError) as error:
            parse_request(model, _ddb_request("PutItem", {"TableName": "tbl",
                                                          "Item": {"a": wrong}}), "json")
        assert error.value.code == "SerializationException"
    # Members the model lacks are ignored: DynamoDB then answers that the value is empty.
    _, params = parse_request(model, _ddb_request("PutItem", {"TableName": "tbl",
                                                              "Item": {"a": {"X": "1"}}}), "json")
    assert params["Item"] == {"a": {}}


def test_wire_value_patch_refused_on_shapes_that_convert():
    shapes = {"Stamped": {"type": "structure", "nuboWireValue": True,
                          "members": {"At": {"shape": "Time"}}},
              "Time": {"type": "timestamp"}}
    model = ServiceModel({"metadata": {"protocol": "json", "apiVersion": "2020-01-01"},
                          "shapes": shapes, "operations": {}}, service_name="stamped")
    with pytest.raises(ValueError, match="does not travel as its Python value"):
        compile_writer(model.shape_for("Stamped"), JSON)
