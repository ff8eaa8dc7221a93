"""Bad input of every Secrets Manager operation gets its 4xx error, never a 500 or a dropped
connection, and leaves the account's secrets as they were."""

from __future__ import annotations

from tests.fuzzing import Fuzzer, account_client, known_choice

ACCOUNT = "700000000007"
# Strings Secrets Manager reads for their content: resource policies, schedules, filters
ODD_STRINGS = ['{"Version": "2012-10-17", "Statement": {}}', "{", "[]",
               '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": [1]}]}',
               "rate(0 days)", "rate(1000 days)", "rate(x hours)", "cron(* * * * ? *)",
               "cron(0 16 1,15 * ? *)", "cron(", "1h", "24h", "0h", "99999h", "aws/",
               "arn:aws:secretsmanager:us-east-1:700000000007:secret:",
               "arn:aws:kms:us-east-1:700000000007:key/" + "0" * 36]


def test_bad_input_gets_client_errors(nubo_server, make_client):
    sm = account_client(make_client, "secretsmanager", ACCOUNT)
    kept = sm.create_secret(Name="kept", SecretString="kept-value")
    target = sm.create_secret(Name="fuzzed", SecretString="v")["ARN"]
    version = sm.put_secret_value(SecretId=target, SecretString="v2")["VersionId"]
    fuzzer = Fuzzer(nubo_server, "secretsmanager", account=ACCOUNT, strings=ODD_STRINGS,
                    known={"SecretId": known_choice(target, "fuzzed", "missing"),
                           "VersionId": known_choice(version, "missing"),
                           "ClientRequestToken": known_choice(version, "x" * 32)})
    fuzzer.assert_answers(per_operation=10, well_typed=3)
    value = sm.get_secret_value(SecretId="kept")
    assert (value["ARN"], value["VersionId"], value["SecretString"]) == (
        kept["ARN"], kept["VersionId"], "kept-value")


def test_replicating_to_a_region_again_keeps_one_replica(make_client):
    sm = account_client(make_client, "secretsmanager", ACCOUNT)
    arn = sm.create_secret(Name="twice", SecretString="v")["ARN"]
    sm.replicate_secret_to_regions(SecretId=arn, AddReplicaRegions=[{"Region": "us-west-2"}])
    for regions in ([{"Region": "us-west-2"}], [{"Region": "eu-west-1"}] * 2):
        status = sm.replicate_secret_to_regions(SecretId=arn, AddReplicaRegions=regions)
        assert {s["Status"] for s in status["ReplicationStatus"]} == {"InSync"}
    described = sm.describe_secret(SecretId=arn)["ReplicationStatus"]
    assert sorted(s["Region"] for s in described) == ["eu-west-1", "us-west-2"]
    replica = account_client(make_client, "secretsmanager", ACCOUNT, region_name="us-west-2")
    assert replica.get_secret_value(SecretId="twice")["SecretString"] == "v"
