"""Bad input of every SSM operation gets SSM's 4xx error (501 for those nubo does not
implement), never a 500 or a dropped connection, and leaves the account's parameters as they
were."""

from __future__ import annotations

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
