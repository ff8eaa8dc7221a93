"""IAM test helpers on top of the shared fixtures (tests/conftest.py): clients, unique names,
error assertions, documents."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.config import Config

from tests.conftest import REGION, SECRET_KEY

TRUST_LAMBDA = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
READ_BUCKET = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}]}


def unique(prefix: str = "n") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def doc(document: dict) -> str:
    return json.dumps(document)


def error_of(excinfo) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a ClientError raised in a pytest.raises block."""
    error = excinfo.value.response
    return (error["Error"]["Code"], error["Error"].get("Message", ""),
            error["ResponseMetadata"]["HTTPStatusCode"])


@pytest.fixture(scope="session")
def iam(make_client):
    return make_client("iam")


@pytest.fixture(scope="session")
def unchecked_iam(make_client):
    """An IAM client that sends what it is given (no client-side parameter validation), to
    see the server's own checks."""
    return make_client("iam", config=Config(parameter_validation=False,
                                            retries={"max_attempts": 1}))


@pytest.fixture(scope="session")
def account_iam(make_client):
    """account_iam("123456789012", region=...): an IAM client of another account (a 12-digit
    access key id names the account)."""

    def make(account: str, region: str = REGION):
        session = boto3.Session(aws_access_key_id=account, aws_secret_access_key=SECRET_KEY,
                                region_name=region)
        return make_client("iam", session=session)

    return make


@pytest.fixture
def fresh_iam(account_iam):
    """The IAM client of an account no other test touches (counts, summaries, reports)."""
    return account_iam(str(uuid.uuid4().int)[:12].rjust(12, "1"))


@pytest.fixture
def user(iam):
    name = unique("user")
    iam.create_user(UserName=name)
    return name


@pytest.fixture
def role(iam):
    name = unique("role")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc(TRUST_LAMBDA))
    return name
