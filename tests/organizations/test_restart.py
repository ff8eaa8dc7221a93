"""Organizations state across kill -9 and a restart of the same data directory."""

from __future__ import annotations

import json

import boto3

from tests.conftest import REGION, SECRET_KEY, NuboProcess, client_config
from tests.organizations.conftest import DENY_DELETE_BUCKET, create_account, new_account


def test_organization_survives_kill_9(tmp_path):
    server = NuboProcess(tmp_path).start()
    management = new_account()

    def client(service: str, account: str = management):
        return boto3.client(service, endpoint_url=server.endpoint, region_name=REGION,
                            aws_access_key_id=account, aws_secret_access_key=SECRET_KEY,
                            config=client_config())

    try:
        orgs = client("organizations")
        organization = orgs.create_organization()["Organization"]
        root_id = orgs.list_roots()["Roots"][0]["Id"]
        orgs.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
        unit = orgs.create_organizational_unit(ParentId=root_id,
                                               Name="prod")["OrganizationalUnit"]["Id"]
        member = create_account(orgs)
        orgs.move_account(AccountId=member, SourceParentId=root_id, DestinationParentId=unit)
        policy = orgs.create_policy(Name="deny", Description="", Type="SERVICE_CONTROL_POLICY",
                                    Content=json.dumps(DENY_DELETE_BUCKET))
        policy_id = policy["Policy"]["PolicySummary"]["Id"]
        orgs.attach_policy(PolicyId=policy_id, TargetId=unit)
        server.kill()

        server.start()
        orgs = client("organizations")
        assert orgs.describe_organization()["Organization"] == organization
        assert orgs.list_parents(ChildId=member)["Parents"] == [
            {"Id": unit, "Type": "ORGANIZATIONAL_UNIT"}]
        assert {p["Id"] for p in orgs.list_policies_for_target(
            TargetId=unit, Filter="SERVICE_CONTROL_POLICY")["Policies"]} == {
            "p-FullAWSAccess", policy_id}
        assert client("iam", member).get_role(
            RoleName="OrganizationAccountAccessRole")["Role"]["RoleName"]
        assert client("organizations", member).describe_organization()[
            "Organization"]["Id"] == organization["Id"]
    finally:
        server.stop()
