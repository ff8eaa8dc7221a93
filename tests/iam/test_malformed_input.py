"""Bad input of every IAM operation gets a 4xx answer (or 501 for what nubo does not
implement), never a server error: a seeded fuzz over every operation's input members."""

from __future__ import annotations

import json
import random

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import REGION, SECRET_KEY
from tests.iam.conftest import TRUST_LAMBDA, doc

VALUES = [
    "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----",
    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==", "ssh-unknown AAAA", "<x/>", "x" * 3000,
    "https://a.example.com", "https://", "v2Token", "Active", "PEM", "codecommit.amazonaws.com",
    "arn:aws:iam::987098709870:mfa/fuzz", "arn:aws:iam::987098709870:role/fuzz",
    "arn:aws:iam::987098709870:oidc-provider/a.example.com", "task/aws-service-role/x/y/z",
    "autoscaling.amazonaws.com", "${aws:username}", "%",
    "", "x", "a" * 200, "/", "//", "/a/", "{}", "[]", "null", "1", "\u00e9", "\u4e2d", "*",
    "arn:", "v1", "v0", "vv", "arn:aws:iam::987098709870:policy/x",
    "arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::987098709870:user/fuzz",
    json.dumps({"Statement": []}),
    json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [1],
                                                        "Resource": "*"}]}),
    json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                        "Resource": {"a": 1}}]}),
    json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "s3:*", "Resource": "*",
        "Condition": {"StringEquals": {"a:b": {"x": 1}}}}}),
    json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": [1]}, "Action": "sts:AssumeRole"}]}),
    json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "NotPrincipal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}),
]


def _value(member, rng: random.Random):
    kind = member.type_name
    if kind == "string":
        return rng.choice(VALUES + ["fuzz"] * 6)
    if kind in ("integer", "long"):
        return rng.choice([0, 1, 5, 3600, 99999, -1])
    if kind == "boolean":
        return rng.choice([True, False])
    if kind == "blob":
        return b"x"
    if kind == "list" and member.member.type_name == "string":
        return [rng.choice(VALUES)]
    if kind == "list" and member.member.type_name == "structure":
        return [{name: rng.choice(VALUES) for name, inner in member.member.members.items()
                 if inner.type_name == "string"}]
    return None


def test_no_server_errors(make_client):
    # An account of its own: the fuzz changes account settings (password policy, alias).
    session = boto3.Session(aws_access_key_id="987098709870", aws_secret_access_key=SECRET_KEY,
                            region_name=REGION)
    iam = make_client("iam", session=session, config=Config(parameter_validation=False,
                                                            retries={"max_attempts": 1}))
    for create in (lambda: iam.create_user(UserName="fuzz"),
                   lambda: iam.create_group(GroupName="fuzz"),
                   lambda: iam.create_role(RoleName="fuzz",
                                           AssumeRolePolicyDocument=doc(TRUST_LAMBDA))):
        try:
            create()
        except ClientError:
            pass  # a rerun in the same session
    rng = random.Random(20261123)
    failures = []
    model = iam.meta.service_model
    for operation in model.operation_names:
        shape = model.operation_model(operation).input_shape
        if shape is None:
            continue
        for _ in range(6):
            params = {name: _value(member, rng) for name, member in shape.members.items()
                      if name in shape.required_members or rng.random() < 0.7}
            params = {name: value for name, value in params.items() if value is not None}
            try:
                getattr(iam, xform_name(operation))(**params)
            except ClientError as error:
                status = error.response["ResponseMetadata"]["HTTPStatusCode"]
                if status >= 500 and status != 501:
                    failures.append((operation, params, error.response["Error"]))
    assert failures == []
