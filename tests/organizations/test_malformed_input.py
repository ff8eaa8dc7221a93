"""Bad input of every Organizations operation gets a 4xx answer (or 501 for what nubo does not
implement), never a server error: a seeded fuzz over every operation's input members, with the
ids of a real organization among the values."""

from __future__ import annotations

import json
import random

from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.organizations.conftest import DENY_DELETE_BUCKET, create_account, doc, new_account

VALUES = ["", "x", "a" * 300, "{}", "[]", "null", "1", "%", "\u00e9", "*", "r-", "ou-", "p-",
          "h-", "car-", "rp-", "000000000000", "123456789012", "r-abcd", "ou-abcd-12345678",
          "p-12345678", "h-12345678", "car-12345678", "p-FullAWSAccess", "p-RCPFullAWSAccess",
          "sso.amazonaws.com", "x@y.z", "SERVICE_CONTROL_POLICY", "TAG_POLICY", "ACCOUNT",
          "ORGANIZATIONAL_UNIT", "INVITE", "ALL", doc(DENY_DELETE_BUCKET),
          json.dumps({"Statement": [{"Effect": "Deny", "Action": [1], "Resource": {}}]}),
          json.dumps({"tags": {"@@assign": []}}), "x" * 6000]


def _value(member, rng: random.Random, ids: list[str]):
    kind = member.type_name
    if kind == "string":
        return rng.choice(VALUES + ids * 8)
    if kind in ("integer", "long"):
        return rng.choice([0, 1, 5, 20, 21, -1])
    if kind == "boolean":
        return rng.choice([True, False])
    if kind == "timestamp":
        return rng.choice([0, 1700000000])
    if kind == "list" and member.member.type_name == "string":
        return [rng.choice(VALUES + ids * 8)]
    if kind in ("list", "structure"):
        inner = member.member if kind == "list" else member
        item = {name: rng.choice(VALUES + ids * 8) for name, shape in inner.members.items()
                if shape.type_name == "string"}
        return [item] if kind == "list" else item
    return None


def test_no_server_errors(org, client_of):
    client, organization, root_id = org
    client.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    unit = client.create_organizational_unit(ParentId=root_id, Name="u")["OrganizationalUnit"]
    member = create_account(client)
    policy = client.create_policy(Name="p", Description="", Type="SERVICE_CONTROL_POLICY",
                                  Content=doc(DENY_DELETE_BUCKET))["Policy"]["PolicySummary"]
    handshake = client.invite_account_to_organization(
        Target={"Type": "ACCOUNT", "Id": new_account()})["Handshake"]
    ids = [root_id, unit["Id"], member, organization["MasterAccountId"], policy["Id"],
           handshake["Id"], organization["Id"]]
    fuzzed = client_of("organizations", organization["MasterAccountId"],
                       config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    rng = random.Random(20261123)
    failures = []
    model = fuzzed.meta.service_model
    for operation in model.operation_names:
        if operation in ("DeleteOrganization", "LeaveOrganization"):
            continue  # keep the organization for the operations after them
        shape = model.operation_model(operation).input_shape
        for _ in range(15 if shape is not None else 1):
            params = {} if shape is None else {
                name: _value(member_shape, rng, ids)
                for name, member_shape in shape.members.items()
                if name in shape.required_members or rng.random() < 0.7}
            params = {name: value for name, value in params.items() if value is not None}
            try:
                getattr(fuzzed, xform_name(operation))(**params)
            except ClientError as error:
                status = error.response["ResponseMetadata"]["HTTPStatusCode"]
                if status >= 500 and status != 501:
                    failures.append((operation, params, error.response["Error"]))
    assert failures == []
