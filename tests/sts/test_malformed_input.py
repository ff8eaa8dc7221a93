"""Bad input of every STS operation gets a 4xx answer (or 501 for what nubo does not
implement), never a server error: a seeded fuzz over every operation's input members."""

from __future__ import annotations

import json
import random

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import REGION, SECRET_KEY

VALUES = ["", "x", "a" * 3000, "{}", "[]", "null", "1", "\u00e9", "*", "arn:", "=", "a.b.c",
          "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL3gifQ.", "arn:aws:iam::123123123123:role/r",
          "arn:aws:iam::aws:policy/root-task/SQSUnlockQueuePolicy", "123123123123", "RS256",
          "ES384", "HS256", "arn:aws:iam::123123123123:saml-provider/p", "PHNhbWw+PC9zYW1sPg==",
          "arn:aws:iam::123123123123:mfa/m", "123456",
          json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                              "Action": [1]}]})]


def _value(member, rng: random.Random):
    kind = member.type_name
    if kind == "string":
        return rng.choice(VALUES)
    if kind in ("integer", "long"):
        return rng.choice([0, 1, 60, 900, 3600, 99999, -1])
    if kind == "list" and member.member.type_name == "string":
        return [rng.choice(VALUES)]
    if kind in ("list", "structure"):
        inner = member.member if kind == "list" else member
        item = {name: rng.choice(VALUES) for name, shape in inner.members.items()
                if shape.type_name == "string"}
        return [item] if kind == "list" else item
    return None


def test_no_server_errors(make_client):
    session = boto3.Session(aws_access_key_id="123123123123", aws_secret_access_key=SECRET_KEY,
                            region_name=REGION)
    make_client("iam", session=session).enable_outbound_web_identity_federation()
    sts = make_client("sts", session=session, config=Config(parameter_validation=False,
                                                            retries={"max_attempts": 1}))
    rng = random.Random(20261123)
    failures = []
    model = sts.meta.service_model
    for operation in model.operation_names:
        shape = model.operation_model(operation).input_shape
        if shape is None:
            continue
        for _ in range(12):
            params = {name: _value(member, rng) for name, member in shape.members.items()
                      if name in shape.required_members or rng.random() < 0.7}
            params = {name: value for name, value in params.items() if value is not None}
            try:
                getattr(sts, xform_name(operation))(**params)
            except ClientError as error:
                status = error.response["ResponseMetadata"]["HTTPStatusCode"]
                if status >= 500 and status != 501:
                    failures.append((operation, params, error.response["Error"]))
    assert failures == []
