"""Bad input of every SSM operation gets SSM's 4xx error (501 for those nubo does not
implement), never a 500 or a dropped connection, and leaves the account's parameters as they
were."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of
from tests.fuzzing import Fuzzer, account_client, known_choice

ACCOUNT = "700000000008"


def test_bad_input_gets_client_errors(nubo_server, make_client):
    ssm = account_client(make_client, "ssm", ACCOUNT)
    ssm.put_parameter(Name="/kept/p", Value="kept", Type="String")
    ssm.put_parameter(Name="/fuzz/p", Value="v", Type="StringList")
    ssm.put_parameter(Name="/fuzz/s", Value="secret", Type="SecureString")
    names = known_choice("/fuzz/p", "/fuzz/s", "/fuzz/p:1", "/fuzz", "missing")
    fuzzer = Fuzzer(nubo_server, "ssm", account=ACCOUNT,
                    known={"Name": names, "Names": known_choice(["/fuzz/p", "/fuzz/s"]),
                           "Path": known_choice("/fuzz", "/"), "ResourceId": names})
    fuzzer.assert_answers(per_operation=8, well_typed=2)
    parameter = ssm.get_parameter(Name="/kept/p")["Parameter"]
    assert (parameter["Value"], parameter["Version"], parameter["Type"]) == ("kept", 1, "String")


@pytest.mark.parametrize("pattern", ["(", "a{99999999999}"])
def test_an_allowed_pattern_that_is_no_regex_is_a_validation_error(make_client, pattern):
    ssm = account_client(make_client, "ssm", ACCOUNT)
    with pytest.raises(ClientError) as caught:
        ssm.put_parameter(Name="/patterned", Value="v", Type="String", AllowedPattern=pattern)
    assert error_of(caught) == ("ValidationException", f"Invalid AllowedPattern: {pattern}", 400)


def test_an_allowed_pattern_that_backtracks_without_end_does_not_stall_the_server(make_client):
    ssm = account_client(make_client, "ssm", ACCOUNT)
    started = time.monotonic()
    with pytest.raises(ClientError) as caught:  # 2 minutes of backtracking for Python's re
        ssm.put_parameter(Name="/backtracking", Value="a" * 40 + "!", Type="String",
                          AllowedPattern="(a|a?)+$")
    assert error_of(caught)[0] == "ParameterPatternMismatchException"
    assert time.monotonic() - started < 5


def test_policies_whose_attributes_are_no_object_are_invalid(make_client):
    ssm = account_client(make_client, "ssm", ACCOUNT)
    policies = '[{"Type": "Expiration", "Version": "1.0", "Attributes": ["x"]}]'
    with pytest.raises(ClientError) as caught:
        ssm.put_parameter(Name="/policed", Value="v", Type="String", Tier="Advanced",
                          Policies=policies)
    assert error_of(caught)[0] == "InvalidPolicyAttributeException"
