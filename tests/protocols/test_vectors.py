"""botocore's public protocol test vectors (see vectors/README.md): each input case's serialized
request, parsed by nubo, must give the case's params."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.model import ServiceModel

from nubo.core.http import HttpRequest
from nubo.protocols import parse_request
from tests.protocols.helpers import normalize

VECTORS = Path(__file__).parent / "vectors"


def _input_cases():
    for path in sorted((VECTORS / "input").glob("*.json")):
        for suite_index, suite in enumerate(json.loads(path.read_text())):
            for case_index, case in enumerate(suite["cases"]):
                yield pytest.param(suite, case,
                                   id=f"{path.stem}-{suite_index}-{case_index}-"
                                      f"{suite['description']}")


def _expected(shape, value):
    """The case's params as nubo's parser gives them: blobs as bytes, timestamps as datetimes."""
    kind = shape.type_name
    if kind == "structure":
        return {k: _expected(shape.members[k], v) for k, v in value.items()}
    if kind == "list":
        return [_expected(shape.member, v) for v in value]
    if kind == "map":
        return {k: _expected(shape.value, v) for k, v in value.items()}
    if kind == "blob" and isinstance(value, str):
        return value.encode()
    if kind == "timestamp" and isinstance(value, (int, float)):
        return float(value)
    return value


@pytest.mark.parametrize("suite,case", list(_input_cases()))
def test_input_vector(suite, case):
    given = dict(case["given"])
    given.setdefault("http", {"method": "POST", "requestUri": "/"})
    model = ServiceModel({"metadata": suite["metadata"], "shapes": suite["shapes"],
                          "operations": {given["name"]: given}}, service_name="vectors")
    serialized = case["serialized"]
    path, _, query = (serialized.get("uri") or "/").partition("?")
    headers = {k.lower(): v for k, v in serialized.get("headers", {}).items()}
    request = HttpRequest(given["http"]["method"], path, query, headers,
                          serialized.get("body", "").encode())
    operation, params = parse_request(model, request, suite["metadata"]["protocol"])
    assert operation.name == given["name"]
    assert normalize(params) == normalize(_expected(operation.input_shape, case["params"]))
