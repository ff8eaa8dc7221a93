"""Organization policies: SCPs (FullAWSAccess by default, at least one per target), RCPs
(RCPFullAWSAccess, never detachable), management policy types, validation and limits."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from tests.organizations.conftest import ALLOW_EC2, DENY_DELETE_BUCKET, create_account, doc, \
    error_of

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
FULL_ACCESS_ARN = "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"


def _scp(client, name="deny-delete-bucket", document=DENY_DELETE_BUCKET):
    return client.create_policy(Name=name, Description="d", Type=SCP,
                                Content=doc(document))["Policy"]["PolicySummary"]


def test_create_describe_update_delete(org):
    client, organization, _ = org
    summary = _scp(client)
    assert re.fullmatch(r"p-[a-z0-9]{8}", summary["Id"])
    assert summary == {
        "Id": summary["Id"], "Name": "deny-delete-bucket", "Description": "d", "Type": SCP,
        "AwsManaged": False,
        "Arn": f"arn:aws:organizations::{organization['MasterAccountId']}:policy/"
               f"{organization['Id']}/service_control_policy/{summary['Id']}"}
    described = client.describe_policy(PolicyId=summary["Id"])["Policy"]
    assert json.loads(described["Content"]) == DENY_DELETE_BUCKET
    updated = client.update_policy(PolicyId=summary["Id"], Name="renamed",
                                   Content=doc(ALLOW_EC2))["Policy"]
    assert updated["PolicySummary"]["Name"] == "renamed"
    assert updated["PolicySummary"]["Description"] == "d"
    assert json.loads(updated["Content"]) == ALLOW_EC2
    client.delete_policy(PolicyId=summary["Id"])
    with pytest.raises(ClientError) as raised:
        client.describe_policy(PolicyId=summary["Id"])
    assert error_of(raised) == ("PolicyNotFoundException",
                                "You specified a policy that doesn't exist.", 400)


def test_full_aws_access_is_aws_managed_and_immutable(org):
    client, _, _ = org
    policy = client.describe_policy(PolicyId="p-FullAWSAccess")["Policy"]
    assert policy["PolicySummary"] == {
        "Id": "p-FullAWSAccess", "Arn": FULL_ACCESS_ARN, "Name": "FullAWSAccess",
        "Description": "Allows access to every operation", "Type": SCP, "AwsManaged": True}
    assert json.loads(policy["Content"]) == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    for call in (lambda: client.update_policy(PolicyId="p-FullAWSAccess", Name="x"),
                 lambda: client.delete_policy(PolicyId="p-FullAWSAccess")):
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised)[0] == "InvalidInputException"
        assert raised.value.response["Reason"] == "IMMUTABLE_POLICY"


def test_list_policies_by_type(org):
    client, _, _ = org
    mine = _scp(client)
    tag = client.create_policy(Name="tags", Description="", Type="TAG_POLICY",
                               Content=doc({"tags": {"env": {"tag_key": {"@@assign": "env"}}}}))
    listed = client.list_policies(Filter=SCP)["Policies"]
    assert [p["Id"] for p in listed] == ["p-FullAWSAccess", mine["Id"]]
    assert [p["Id"] for p in client.list_policies(Filter="TAG_POLICY")["Policies"]] == [
        tag["Policy"]["PolicySummary"]["Id"]]
    assert [p["Name"] for p in client.list_policies(Filter=RCP)["Policies"]] == [
        "RCPFullAWSAccess"]
    others = {_scp(client, f"more-{i}")["Id"] for i in range(3)}
    pages = list(client.get_paginator("list_policies").paginate(
        Filter=SCP, PaginationConfig={"PageSize": 1}))
    assert [len(page["Policies"]) for page in pages] == [1, 1, 1, 1, 1]
    assert [p["Id"] for page in pages for p in page["Policies"]][0] == "p-FullAWSAccess"
    assert {p["Id"] for page in pages for p in page["Policies"]} == \
        {"p-FullAWSAccess", mine["Id"]} | others


@pytest.mark.parametrize("content", [
    "not json", "[]", json.dumps({"Statement": [{"Effect": "Maybe", "Action": "*",
                                                 "Resource": "*"}]}),
    json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                                                        "Resource": "*",
                                                        "Principal": "*"}]}),
    json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Resource": "*"}]}),
    json.dumps({"Version": "2012-10-17"})])
def test_malformed_scp(org, content):
    client, _, _ = org
    with pytest.raises(ClientError) as raised:
        client.create_policy(Name="bad", Description="", Type=SCP, Content=content)
    assert error_of(raised) == (
        "MalformedPolicyDocumentException",
        "The provided policy document does not meet the requirements of the specified policy "
        "type.", 400)


def test_scp_size_limit_counts_every_character(org):
    client, _, _ = org
    base = doc(DENY_DELETE_BUCKET)
    padded = base[:-1] + " " * (5120 - len(base)) + "}"
    assert len(padded) == 5120
    client.create_policy(Name="at-limit", Description="", Type=SCP, Content=padded)
    with pytest.raises(ClientError) as raised:
        client.create_policy(Name="over", Description="", Type=SCP, Content=padded + " ")
    assert error_of(raised)[0] == "ConstraintViolationException"
    assert raised.value.response["Reason"] == "POLICY_CONTENT_LIMIT_EXCEEDED"


def test_rcp_must_deny_to_every_principal(org):
    client, _, _ = org
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                     "Action": "s3:*", "Resource": "*"}]}
    with pytest.raises(ClientError) as raised:
        client.create_policy(Name="r", Description="", Type=RCP, Content=doc(allow))
    assert error_of(raised)[0] == "MalformedPolicyDocumentException"
    deny = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-x"}}}]}
    created = client.create_policy(Name="r", Description="", Type=RCP, Content=doc(deny))
    assert created["Policy"]["PolicySummary"]["Type"] == RCP


def test_duplicate_names(org):
    client, _, _ = org
    _scp(client, "same")
    with pytest.raises(ClientError) as raised:
        _scp(client, "same")
    assert error_of(raised) == ("DuplicatePolicyException",
                                "A policy with the same name already exists.", 400)
    with pytest.raises(ClientError) as raised:
        _scp(client, "FullAWSAccess")
    assert error_of(raised)[0] == "DuplicatePolicyException"


def test_attach_requires_the_type_enabled(org):
    client, _, root_id = org
    policy = _scp(client)
    with pytest.raises(ClientError) as raised:
        client.attach_policy(PolicyId=policy["Id"], TargetId=root_id)
    assert error_of(raised) == ("PolicyTypeNotEnabledException",
                                "This operation can be performed only for enabled policy types.",
                                400)


def test_enabling_scps_attaches_full_aws_access_everywhere(org):
    client, _, root_id = org
    unit = client.create_organizational_unit(ParentId=root_id, Name="u")["OrganizationalUnit"]
    member = create_account(client)
    client.enable_policy_type(RootId=root_id, PolicyType=SCP)
    later_unit = client.create_organizational_unit(ParentId=unit["Id"],
                                                   Name="later")["OrganizationalUnit"]
    later_member = create_account(client, "later")
    for target in (root_id, unit["Id"], member, later_unit["Id"], later_member):
        policies = client.list_policies_for_target(TargetId=target, Filter=SCP)["Policies"]
        assert [p["Id"] for p in policies] == ["p-FullAWSAccess"], target
    targets = client.list_targets_for_policy(PolicyId="p-FullAWSAccess")["Targets"]
    assert len(targets) == 6  # root, two OUs, management account and two members
    kinds = {t["TargetId"]: t["Type"] for t in targets}
    assert (kinds[root_id], kinds[unit["Id"]], kinds[member]) == (
        "ROOT", "ORGANIZATIONAL_UNIT", "ACCOUNT")
    with pytest.raises(ClientError) as raised:
        client.enable_policy_type(RootId=root_id, PolicyType=SCP)
    assert error_of(raised) == ("PolicyTypeAlreadyEnabledException",
                                "The specified policy type is already enabled.", 400)


def test_attach_and_detach(scp_org):
    client, _, root_id = scp_org
    unit = client.create_organizational_unit(ParentId=root_id, Name="u")["OrganizationalUnit"]
    policy = _scp(client)
    client.attach_policy(PolicyId=policy["Id"], TargetId=unit["Id"])
    with pytest.raises(ClientError) as raised:
        client.attach_policy(PolicyId=policy["Id"], TargetId=unit["Id"])
    assert error_of(raised) == ("DuplicatePolicyAttachmentException",
                                "A policy with the specified name and type already exists.", 400)
    assert {p["Id"] for p in client.list_policies_for_target(
        TargetId=unit["Id"], Filter=SCP)["Policies"]} == {"p-FullAWSAccess", policy["Id"]}
    assert [t["TargetId"] for t in client.list_targets_for_policy(
        PolicyId=policy["Id"])["Targets"]] == [unit["Id"]]
    with pytest.raises(ClientError) as raised:
        client.delete_policy(PolicyId=policy["Id"])
    assert error_of(raised)[0] == "PolicyInUseException"

    # FullAWSAccess may go while another SCP stays; the last one may not.
    client.detach_policy(PolicyId="p-FullAWSAccess", TargetId=unit["Id"])
    with pytest.raises(ClientError) as raised:
        client.detach_policy(PolicyId=policy["Id"], TargetId=unit["Id"])
    code, _, status = error_of(raised)
    assert (code, status) == ("ConstraintViolationException", 400)
    assert raised.value.response["Reason"] == "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
    with pytest.raises(ClientError) as raised:
        client.detach_policy(PolicyId="p-FullAWSAccess", TargetId=unit["Id"])
    assert error_of(raised)[0] == "PolicyNotAttachedException"
    client.attach_policy(PolicyId="p-FullAWSAccess", TargetId=unit["Id"])
    client.detach_policy(PolicyId=policy["Id"], TargetId=unit["Id"])
    client.delete_policy(PolicyId=policy["Id"])

    with pytest.raises(ClientError) as raised:
        client.attach_policy(PolicyId="p-FullAWSAccess", TargetId="123456789012")
    assert error_of(raised) == ("TargetNotFoundException",
                                "You specified a target that doesn't exist.", 400)
    with pytest.raises(ClientError) as raised:
        client.attach_policy(PolicyId="p-0000000000", TargetId=root_id)
    assert error_of(raised)[0] == "PolicyNotFoundException"
    with pytest.raises(ClientError) as raised:
        client.attach_policy(PolicyId="nope", TargetId=root_id)
    assert raised.value.response["Reason"] == "INVALID_SYNTAX_POLICY_ID"


def test_at_most_five_scps_per_target(scp_org):
    client, _, root_id = scp_org
    for i in range(4):
        client.attach_policy(PolicyId=_scp(client, f"p{i}")["Id"], TargetId=root_id)
    with pytest.raises(ClientError) as raised:
        client.attach_policy(PolicyId=_scp(client, "sixth")["Id"], TargetId=root_id)
    assert raised.value.response["Reason"] == "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"


def test_disable_policy_type_detaches_them(scp_org):
    client, _, root_id = scp_org
    policy = _scp(client)
    client.attach_policy(PolicyId=policy["Id"], TargetId=root_id)
    root = client.disable_policy_type(RootId=root_id, PolicyType=SCP)["Root"]
    assert root["PolicyTypes"] == []
    assert client.list_targets_for_policy(PolicyId=policy["Id"])["Targets"] == []
    with pytest.raises(ClientError) as raised:
        client.disable_policy_type(RootId=root_id, PolicyType=SCP)
    assert error_of(raised)[0] == "PolicyTypeNotEnabledException"
    with pytest.raises(ClientError) as raised:
        client.enable_policy_type(RootId="r-zzzz", PolicyType=SCP)
    assert error_of(raised) == ("RootNotFoundException",
                                "You specified a root that doesn't exist.", 400)


def test_rcp_full_aws_access_cannot_be_detached(org):
    client, _, root_id = org
    client.enable_policy_type(RootId=root_id, PolicyType=RCP)
    assert [p["Name"] for p in client.list_policies_for_target(
        TargetId=root_id, Filter=RCP)["Policies"]] == ["RCPFullAWSAccess"]
    with pytest.raises(ClientError) as raised:
        client.detach_policy(PolicyId="p-RCPFullAWSAccess", TargetId=root_id)
    assert raised.value.response["Reason"] == "NON_DETACHABLE_POLICY"


def test_policy_tags(org):
    client, _, _ = org
    created = client.create_policy(Name="t", Description="", Type=SCP,
                                   Content=doc(DENY_DELETE_BUCKET),
                                   Tags=[{"Key": "owner", "Value": "sec"}])
    policy_id = created["Policy"]["PolicySummary"]["Id"]
    assert client.list_tags_for_resource(ResourceId=policy_id)["Tags"] == [
        {"Key": "owner", "Value": "sec"}]
    client.untag_resource(ResourceId=policy_id, TagKeys=["owner"])
    assert client.list_tags_for_resource(ResourceId=policy_id)["Tags"] == []


def test_members_cannot_manage_policies(scp_org, client_of):
    client, _, root_id = scp_org
    member = client_of("organizations", create_account(client))
    with pytest.raises(ClientError) as raised:
        member.create_policy(Name="x", Description="", Type=SCP, Content=doc(ALLOW_EC2))
    assert error_of(raised)[0] == "AccessDeniedException"
    with pytest.raises(ClientError) as raised:
        member.detach_policy(PolicyId="p-FullAWSAccess", TargetId=root_id)
    assert error_of(raised)[0] == "AccessDeniedException"


def test_cli_scp_workflow(scp_org, cli):
    client, organization, root_id = scp_org
    account = organization["MasterAccountId"]
    created = cli(account, "organizations", "create-policy", "--name", "cli-scp", "--type", SCP,
                  "--description", "from the CLI", "--content", doc(DENY_DELETE_BUCKET))
    policy_id = created["Policy"]["PolicySummary"]["Id"]
    cli(account, "organizations", "attach-policy", "--policy-id", policy_id, "--target-id",
        root_id)
    listed = cli(account, "organizations", "list-policies-for-target", "--target-id", root_id,
                 "--filter", SCP)["Policies"]
    assert {p["Id"] for p in listed} == {"p-FullAWSAccess", policy_id}


def _tag_policy(client, name, document):
    return client.create_policy(Name=name, Description="", Type="TAG_POLICY",
                                Content=doc(document))["Policy"]["PolicySummary"]["Id"]


def test_effective_tag_policy_inherits_from_the_root_down(org, client_of):
    client, _, root_id = org
    client.enable_policy_type(RootId=root_id, PolicyType="TAG_POLICY")
    unit = client.create_organizational_unit(ParentId=root_id, Name="u")["OrganizationalUnit"]
    member = create_account(client)
    client.move_account(AccountId=member, SourceParentId=root_id, DestinationParentId=unit["Id"])
    with pytest.raises(ClientError) as raised:
        client.describe_effective_policy(PolicyType="TAG_POLICY", TargetId=member)
    assert error_of(raised)[0] == "EffectivePolicyNotFoundException"

    root_policy = _tag_policy(client, "root", {"tags": {"costcenter": {
        "tag_key": {"@@assign": "CostCenter"},
        "tag_value": {"@@assign": ["100", "200"]},
        "enforced_for": {"@@assign": ["secretsmanager:*"]}}}})
    unit_policy = _tag_policy(client, "unit", {"tags": {"costcenter": {
        "tag_value": {"@@append": ["300"]}}, "project": {"tag_key": {"@@assign": "Project"}}}})
    client.attach_policy(PolicyId=root_policy, TargetId=root_id)
    client.attach_policy(PolicyId=unit_policy, TargetId=unit["Id"])

    effective = client.describe_effective_policy(PolicyType="TAG_POLICY",
                                                 TargetId=member)["EffectivePolicy"]
    assert (effective["TargetId"], effective["PolicyType"]) == (member, "TAG_POLICY")
    assert json.loads(effective["PolicyContent"]) == {"tags": {
        "costcenter": {"tag_key": "CostCenter", "tag_value": ["100", "200", "300"],
                       "enforced_for": ["secretsmanager:*"]},
        "project": {"tag_key": "Project"}}}
    # The member asks about itself without naming a target.
    own = client_of("organizations", member).describe_effective_policy(
        PolicyType="TAG_POLICY")["EffectivePolicy"]
    assert own["PolicyContent"] == effective["PolicyContent"]
    with pytest.raises(ClientError) as raised:
        client.describe_effective_policy(PolicyType="TAG_POLICY", TargetId=unit["Id"])
    assert raised.value.response["Reason"] == "TARGET_NOT_SUPPORTED"


def test_child_policies_cannot_change_what_the_parent_locks(org):
    client, _, root_id = org
    client.enable_policy_type(RootId=root_id, PolicyType="AISERVICES_OPT_OUT_POLICY")
    member = create_account(client)
    locked = client.create_policy(
        Name="opt-out", Description="", Type="AISERVICES_OPT_OUT_POLICY",
        Content=doc({"services": {"default": {
            "@@operators_allowed_for_child_policies": ["@@none"],
            "opt_out_policy": {"@@operators_allowed_for_child_policies": ["@@none"],
                               "@@assign": "optOut"}}}}))["Policy"]["PolicySummary"]["Id"]
    override = client.create_policy(
        Name="opt-in", Description="", Type="AISERVICES_OPT_OUT_POLICY",
        Content=doc({"services": {"default": {"opt_out_policy": {"@@assign": "optIn"}}}}))[
        "Policy"]["PolicySummary"]["Id"]
    client.attach_policy(PolicyId=locked, TargetId=root_id)
    client.attach_policy(PolicyId=override, TargetId=member)
    effective = client.describe_effective_policy(PolicyType="AISERVICES_OPT_OUT_POLICY",
                                                 TargetId=member)["EffectivePolicy"]
    assert json.loads(effective["PolicyContent"]) == {
        "services": {"default": {"opt_out_policy": "optOut"}}}
