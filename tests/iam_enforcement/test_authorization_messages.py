"""STS DecodeAuthorizationMessage on an enforcing server.

Only EC2 (the ec2 protocol's UnauthorizedOperation) returns encoded authorization messages, and
nubo has no EC2 yet: the message decoded here is the one the authorizer would return for a real
denial, made in-process by the same code (authorizer, evaluator, encoder) on the server's data
directory while the server is stopped, and decoded by the restarted server through boto3. Once
EC2 exists, the message comes from an EC2 request instead.
"""

from __future__ import annotations

import json


from nubo.config import Config
from nubo.core.context import RequestContext
from nubo.core.runtime import Runtime
from nubo.gateway.authorization import Authorizer
from nubo.services.sts.messages import unauthorized_operation
from nubo.store import Store
from tests.iam_enforcement.test_enforcement import ACCOUNT, REGION, error_of

MARKER = ". Encoded authorization failure message: "
INSTANCES = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*"


def ec2_denial(data_dir, access_key: str, operation: str) -> str:
    """The UnauthorizedOperation message nubo answers ``operation`` with for this key."""
    store = Store(Config(data_dir=data_dir).store_path)
    try:
        runtime = Runtime(Config(data_dir=data_dir, iam="enforce"), store)
        authorizer = Authorizer(runtime)
        ctx = RequestContext("test", "ec2", operation, ACCOUNT, REGION, access_key, "ec2",
                             "localhost")
        caller = authorizer.caller(access_key, ACCOUNT)
        action = f"ec2:{operation}"
        decision = authorizer.decide(ctx, caller, action, INSTANCES)
        assert not decision.allowed
        request = authorizer.authz_request(ctx, caller, action, INSTANCES, None, None)
        error = unauthorized_operation(store, operation, "User: ...", request, decision)
        assert (error.code, error.status) == ("UnauthorizedOperation", 403)
        return error.message
    finally:
        store.close()


def user(iam, name: str, *documents: dict) -> dict:
    iam.create_user(UserName=name)
    for index, document in enumerate(documents):
        iam.put_user_policy(UserName=name, PolicyName=f"p{index}",
                            PolicyDocument=json.dumps(document))
    return iam.create_access_key(UserName=name)["AccessKey"]


def test_decode_authorization_message(server, connect, iam):
    deny_run = {"Version": "2012-10-17", "Statement": [
        {"Sid": "NoLaunches", "Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*"},
        {"Effect": "Allow", "Action": "sts:DecodeAuthorizationMessage", "Resource": "*"}]}
    debugger = user(iam, "debugger", deny_run)
    plain = user(iam, "plain")
    server.stop()
    explicit = ec2_denial(server.data_dir, debugger["AccessKeyId"], "RunInstances")
    implicit = ec2_denial(server.data_dir, plain["AccessKeyId"], "StartInstances")
    described = ec2_denial(server.data_dir, plain["AccessKeyId"], "DescribeInstances")
    server.start()
    assert explicit.startswith("You are not authorized to perform this operation. User: ...")
    assert MARKER not in described  # EC2's Describe operations carry no encoded message

    sts = connect("sts", debugger["AccessKeyId"], debugger["SecretAccessKey"])
    decoded = json.loads(sts.decode_authorization_message(
        EncodedMessage=explicit.split(MARKER)[1])["DecodedMessage"])
    assert {k: decoded[k] for k in ("allowed", "explicitDeny", "failures")} == {
        "allowed": False, "explicitDeny": True, "failures": {"items": []}}
    statement, = decoded["matchedStatements"]["items"]
    assert statement["statementId"] == "NoLaunches" and statement["effect"] == "DENY"
    assert statement["actions"] == {"items": [{"value": "ec2:RunInstances"}]}
    assert statement["resources"] == {"items": [{"value": "*"}]}
    context = decoded["context"]
    assert context["principal"]["name"] == "debugger"
    assert context["principal"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/debugger"
    assert context["principal"]["id"].startswith("AIDA")
    assert (context["action"], context["resource"]) == ("ec2:RunInstances", INSTANCES)
    conditions = {c["key"]: [v["value"] for v in c["values"]["items"]]
                  for c in context["conditions"]["items"]}
    assert conditions["aws:Region"] == [REGION]
    assert conditions["aws:Service"] == ["ec2"]
    assert conditions["aws:Resource"] == ["instance/*"]
    assert conditions["aws:username"] == ["debugger"]
    assert conditions["aws:PrincipalType"] == ["User"]

    decoded = json.loads(sts.decode_authorization_message(
        EncodedMessage=implicit.split(MARKER)[1])["DecodedMessage"])
    assert (decoded["allowed"], decoded["explicitDeny"], decoded["matchedStatements"]) == (
        False, False, {"items": []})
    assert decoded["context"]["action"] == "ec2:StartInstances"

    # Decoding needs sts:DecodeAuthorizationMessage.
    code, message = error_of(lambda: connect("sts", plain["AccessKeyId"], plain["SecretAccessKey"])
                             .decode_authorization_message(EncodedMessage=implicit.split(MARKER)[1]))
    assert code == "AccessDenied"
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/plain is not authorized to perform: "
                       "sts:DecodeAuthorizationMessage because no identity-based policy allows "
                       "the sts:DecodeAuthorizationMessage action")
    # Anything that is not an intact message of this installation is refused.
    encoded = explicit.split(MARKER)[1]
    tampered = encoded[:40] + ("A" if encoded[40] != "A" else "B") + encoded[41:]
    for bad in ("not-a-message", tampered, encoded[:-5], encoded[:50] + "\n" + encoded[50:]):
        code, _ = error_of(lambda: sts.decode_authorization_message(EncodedMessage=bad))
        assert code == "InvalidAuthorizationMessageException"
