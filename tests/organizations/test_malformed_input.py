"""Bad input of every Organizations operation gets a 4xx answer (or 501 for what nubo does not
implement), never a server error: a seeded fuzz over every operation's input members, with the
ids of a real organization among the values (the shared tests/fuzzing.py)."""

from __future__ import annotations

import json

from tests.fuzzing import Fuzzer
from tests.organizations.conftest import DENY_DELETE_BUCKET, create_account, doc, new_account

VALUES = ["", "x", "a" * 300, "{}", "[]", "null", "1", "%", "\u00e9", "*", "r-", "ou-", "p-",
          "h-", "car-", "rp-", "000000000000", "123456789012", "r-abcd", "ou-abcd-12345678",
          "p-12345678", "h-12345678", "car-12345678", "p-FullAWSAccess", "p-RCPFullAWSAccess",
          "sso.amazonaws.com", "x@y.z", "SERVICE_CONTROL_POLICY", "TAG_POLICY", "ACCOUNT",
          "ORGANIZATIONAL_UNIT", "INVITE", "ALL", doc(DENY_DELETE_BUCKET),
          json.dumps({"Statement": [{"Effect": "Deny", "Action": [1], "Resource": {}}]}),
          json.dumps({"tags": {"@@assign": []}}), "x" * 6000]


def test_no_server_errors(nubo_server, org):
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
    fuzzer = Fuzzer(nubo_server, "organizations", account=organization["MasterAccountId"],
                    strings=VALUES + ids * 8)
    # DeleteOrganization and LeaveOrganization would end the organization the others use
    fuzzer.assert_answers(per_operation=8, well_typed=10,
                          skip=["DeleteOrganization", "LeaveOrganization"])
    assert client.describe_organization()["Organization"] == organization
