"""Model constraints broken: Organizations answers InvalidInputException with a Reason, never
Coral's ValidationException (protocols/validation.py's "reason" style)."""

from __future__ import annotations

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


@pytest.fixture
def unchecked(org, client_of):
    """The organization's client with the SDK's own parameter checks off."""
    _, organization, root_id = org
    client = client_of("organizations", organization["MasterAccountId"],
                       config=Config(parameter_validation=False))
    return client, root_id


@pytest.mark.parametrize("call,reason,message", [
    (lambda c, root: c.create_organizational_unit(ParentId=root, Name="n" * 129),
     "MAX_LENGTH_EXCEEDED", "You provided a string parameter that is longer than allowed."),
    (lambda c, root: c.create_organizational_unit(ParentId=root, Name=""),
     "MIN_LENGTH_EXCEEDED", "You provided a string parameter that is shorter than allowed."),
    (lambda c, root: c.list_children(ParentId=root, ChildType="NOT_A_TYPE"),
     "INVALID_ENUM", "You specified an invalid value."),
    (lambda c, root: c.list_policies(Filter="NOT_A_TYPE"),
     "INVALID_ENUM_POLICY_TYPE", "You specified an invalid policy type string."),
    (lambda c, root: c.enable_policy_type(RootId=root, PolicyType="service_control_policy"),
     "INVALID_ENUM_POLICY_TYPE", "You specified an invalid policy type string."),
    (lambda c, root: c.describe_effective_policy(PolicyType="SERVICE_CONTROL_POLICY"),
     "INVALID_ENUM_POLICY_TYPE", "You specified an invalid policy type string."),
    (lambda c, root: c.list_create_account_status(States=["SUCCEEDED", "DONE"]),
     "INVALID_LIST_MEMBER",
     "You provided a list to a parameter that contains at least one invalid value."),
    (lambda c, root: c.list_roots(MaxResults=21),
     "MAX_VALUE_EXCEEDED",
     "You provided a numeric parameter that has a larger value than allowed."),
    (lambda c, root: c.create_organizational_unit(ParentId=root),
     "INPUT_REQUIRED", "You must include a value for all required parameters."),
])
def test_invalid_input_reasons(unchecked, call, reason, message):
    client, root_id = unchecked
    with pytest.raises(ClientError) as caught:
        call(client, root_id)
    error = caught.value.response
    assert error["Error"]["Code"] == "InvalidInputException"
    assert error["Error"]["Message"] == message
    assert error["Reason"] == reason
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
