"""Bad input of every IAM operation gets a 4xx answer (or 501 for what nubo does not
implement), never a server error: a seeded fuzz over every operation's input members (the
shared tests/fuzzing.py), with IAM's own odd values and a real user, group and role."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.fuzzing import Fuzzer, account_client, known_choice
from tests.iam.conftest import TRUST_LAMBDA, doc, error_of

ACCOUNT = "987098709870"  # of its own: the fuzz changes account settings (password policy)
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


def test_no_server_errors(nubo_server, make_client):
    iam = account_client(make_client, "iam", ACCOUNT)
    for create in (lambda: iam.create_user(UserName="fuzz"),
                   lambda: iam.create_group(GroupName="fuzz"),
                   lambda: iam.create_role(RoleName="fuzz",
                                           AssumeRolePolicyDocument=doc(TRUST_LAMBDA))):
        try:
            create()
        except ClientError:
            pass  # a rerun in the same session
    names = known_choice("fuzz", "fuzz", "fuzz", "missing")
    fuzzer = Fuzzer(nubo_server, "iam", account=ACCOUNT, strings=VALUES,
                    known={"UserName": names, "GroupName": names, "RoleName": names})
    fuzzer.assert_answers(per_operation=5, well_typed=4)


def test_context_entry_without_a_key_name_is_a_validation_error(make_client):
    iam = account_client(make_client, "iam", ACCOUNT)
    with pytest.raises(ClientError) as caught:
        iam.simulate_custom_policy(PolicyInputList=[doc(TRUST_LAMBDA)],
                                   ActionNames=["s3:GetObject"],
                                   ContextEntries=[{"ContextKeyValues": ["x"]}])
    assert error_of(caught) == ("ValidationError", "1 validation error detected: Value null at "
                                "'contextEntries.1.member.contextKeyName' failed to satisfy "
                                "constraint: Member must not be null", 400)


def test_wildcards_that_would_backtrack_are_evaluated_at_once(make_client):
    # nine * against a 2,000-character ARN: a regex of .* runs would take hours
    iam = account_client(make_client, "iam", ACCOUNT)
    crafted = "*a" * 8 + "*b"
    policy = doc({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{crafted}",
        "Condition": {"StringLike": {"s3:prefix": crafted}}}]})
    started = time.monotonic()
    result = iam.simulate_custom_policy(
        PolicyInputList=[policy], ActionNames=["s3:GetObject"],
        ResourceArns=["arn:aws:s3:::" + "a" * 2000],
        ContextEntries=[{"ContextKeyName": "s3:prefix", "ContextKeyValues": ["a" * 2000],
                         "ContextKeyType": "string"}])["EvaluationResults"]
    assert [r["EvalDecision"] for r in result] == ["implicitDeny"]
    assert time.monotonic() - started < 5
