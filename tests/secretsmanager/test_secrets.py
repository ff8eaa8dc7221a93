"""Secrets: creation, lookup forms, values and versions, staging labels, deletion and restore,
listing, tags, KMS encryption."""

from __future__ import annotations

import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of
from tests.secretsmanager.conftest import unique

NOT_FOUND = ("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")


def test_create_and_get_json_secret(sm):
    name = unique("prod/my-key-api")
    created = sm.create_secret(Name=name, SecretString=json.dumps({"api_key": "abc123"}),
                               Description="key/value pairs")
    assert re.fullmatch(rf"arn:aws:secretsmanager:us-east-1:000000000000:secret:{name}"
                        r"-[A-Za-z0-9]{6}", created["ARN"])
    value = sm.get_secret_value(SecretId=name)
    assert json.loads(value["SecretString"]) == {"api_key": "abc123"}
    assert value["VersionId"] == created["VersionId"]
    assert value["VersionStages"] == ["AWSCURRENT"]
    assert value["ARN"] == created["ARN"] and value["Name"] == name


def test_lookup_by_name_full_arn_and_partial_arn(sm):
    name = unique()
    arn = sm.create_secret(Name=name, SecretString="v")["ARN"]
    for secret_id in (name, arn, arn[:-7]):
        assert sm.describe_secret(SecretId=secret_id)["ARN"] == arn
    with pytest.raises(ClientError) as raised:
        sm.get_secret_value(SecretId=unique("missing"))
    assert error_of(raised)[:2] == NOT_FOUND
    with pytest.raises(ClientError) as raised:
        sm.describe_secret(SecretId=arn[:-6] + "XXXXXX")
    assert error_of(raised)[:2] == NOT_FOUND


def test_binary_secret(sm):
    name = unique()
    sm.create_secret(Name=name, SecretBinary=b"\x00\x01binary\xff")
    value = sm.get_secret_value(SecretId=name)
    assert value["SecretBinary"] == b"\x00\x01binary\xff" and "SecretString" not in value


def test_create_errors(sm):
    name = unique()
    sm.create_secret(Name=name, SecretString="v")
    with pytest.raises(ClientError) as raised:
        sm.create_secret(Name=name, SecretString="v")
    assert error_of(raised)[:2] == ("ResourceExistsException",
                                    f"The operation failed because the secret {name} already "
                                    "exists.")
    with pytest.raises(ClientError) as raised:
        sm.create_secret(Name=unique(), SecretString="a", SecretBinary=b"b")
    assert error_of(raised)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as raised:
        sm.create_secret(Name="bad name!", SecretString="v")
    assert error_of(raised)[0] == "ValidationException"


def test_secret_without_value(sm):
    name = unique()
    created = sm.create_secret(Name=name)
    assert "VersionId" not in created
    with pytest.raises(ClientError) as raised:
        sm.get_secret_value(SecretId=name)
    assert error_of(raised)[:2] == ("ResourceNotFoundException", "Secrets Manager can't find "
                                    "the specified secret value for staging label: AWSCURRENT")


def test_versions_and_staging_labels(sm):
    name = unique()
    first = sm.create_secret(Name=name, SecretString="one")["VersionId"]
    second = sm.put_secret_value(SecretId=name, SecretString="two")
    assert second["VersionStages"] == ["AWSCURRENT"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "two"
    previous = sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")
    assert (previous["SecretString"], previous["VersionId"]) == ("one", first)
    assert sm.get_secret_value(SecretId=name, VersionId=first)["SecretString"] == "one"
    third = sm.put_secret_value(SecretId=name, SecretString="three",
                                VersionStages=["AWSPENDING"])["VersionId"]
    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
    assert stages == {first: ["AWSPREVIOUS"], second["VersionId"]: ["AWSCURRENT"],
                      third: ["AWSPENDING"]}
    # Moving AWSCURRENT needs the version it leaves; the old current becomes AWSPREVIOUS.
    with pytest.raises(ClientError) as raised:
        sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                       MoveToVersionId=third)
    assert error_of(raised)[0] == "InvalidParameterException"
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                   MoveToVersionId=third,
                                   RemoveFromVersionId=second["VersionId"])
    current = sm.get_secret_value(SecretId=name)
    assert current["SecretString"] == "three"
    assert set(current["VersionStages"]) == {"AWSCURRENT", "AWSPENDING"}
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["VersionId"] == \
        second["VersionId"]
    # Custom labels, and removing one.
    sm.update_secret_version_stage(SecretId=name, VersionStage="blue", MoveToVersionId=first)
    assert sm.get_secret_value(SecretId=name, VersionStage="blue")["SecretString"] == "one"
    sm.update_secret_version_stage(SecretId=name, VersionStage="blue",
                                   RemoveFromVersionId=first)
    with pytest.raises(ClientError) as raised:
        sm.get_secret_value(SecretId=name, VersionStage="blue")
    assert error_of(raised)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                       RemoveFromVersionId=third)
    assert error_of(raised)[0] == "InvalidParameterException"


def test_list_secret_version_ids(sm):
    name = unique()
    sm.create_secret(Name=name, SecretString="1")
    for value in ("2", "3"):
        sm.put_secret_value(SecretId=name, SecretString=value)
    listed = sm.list_secret_version_ids(SecretId=name)["Versions"]
    assert len(listed) == 2  # the oldest lost its labels: deprecated
    assert all(v["KmsKeyIds"] == ["DefaultEncryptionKey"] for v in listed)
    everything = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]
    assert len(everything) == 3
    page = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True, MaxResults=2)
    assert len(page["Versions"]) == 2
    rest = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True,
                                      NextToken=page["NextToken"])
    assert len(rest["Versions"]) == 1 and "NextToken" not in rest


def test_client_request_token_is_idempotent(sm):
    name = unique()
    token = "a" * 32
    sm.create_secret(Name=name, SecretString="one")
    assert sm.put_secret_value(SecretId=name, SecretString="two",
                               ClientRequestToken=token)["VersionId"] == token
    assert sm.put_secret_value(SecretId=name, SecretString="two",
                               ClientRequestToken=token)["VersionId"] == token
    with pytest.raises(ClientError) as raised:
        sm.put_secret_value(SecretId=name, SecretString="changed", ClientRequestToken=token)
    assert error_of(raised)[:2] == ("ResourceExistsException", "You can't modify an existing "
                                    "version, you can only create a new version.")


def test_update_secret(sm):
    name = unique()
    sm.create_secret(Name=name, SecretString="one", Description="before")
    answer = sm.update_secret(SecretId=name, Description="after")
    assert "VersionId" not in answer
    assert sm.describe_secret(SecretId=name)["Description"] == "after"
    answer = sm.update_secret(SecretId=name, SecretString="two")
    assert sm.get_secret_value(SecretId=name)["VersionId"] == answer["VersionId"]


def test_delete_with_recovery_window_and_restore(sm, nubo_server):
    name = unique()
    sm.create_secret(Name=name, SecretString="v")
    deleted = sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    assert "DeletionDate" in deleted
    with pytest.raises(ClientError) as raised:
        sm.get_secret_value(SecretId=name)
    assert error_of(raised)[:2] == ("InvalidRequestException", "You can't perform this "
                                    "operation on the secret because it was marked for "
                                    "deletion.")
    with pytest.raises(ClientError) as raised:
        sm.create_secret(Name=name, SecretString="again")
    assert error_of(raised)[:2] == ("InvalidRequestException", "You can't create this secret "
                                    "because a secret with this name is already scheduled for "
                                    "deletion.")
    assert "DeletedDate" in sm.describe_secret(SecretId=name)
    names = {s["Name"] for s in sm.list_secrets()["SecretList"]}
    assert name not in names
    names = {s["Name"] for s in sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]}
    assert name in names
    sm.restore_secret(SecretId=name)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v"
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    nubo_server.advance_clock(7 * 86400 + 1)
    for _ in range(50):
        try:
            sm.describe_secret(SecretId=name)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ResourceNotFoundException"
            break
        time.sleep(0.1)
    else:
        pytest.fail("the secret was not deleted after its recovery window")
    sm.create_secret(Name=name, SecretString="new life")


def test_force_delete_and_window_rules(sm):
    name = unique()
    sm.create_secret(Name=name, SecretString="v")
    with pytest.raises(ClientError) as raised:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    assert error_of(raised)[:2] == ("InvalidParameterException", "You can't use "
                                    "ForceDeleteWithoutRecovery in conjunction with "
                                    "RecoveryWindowInDays.")
    for days in (6, 31):
        with pytest.raises(ClientError) as raised:
            sm.delete_secret(SecretId=name, RecoveryWindowInDays=days)
        assert error_of(raised)[:2] == ("InvalidParameterException", "The RecoveryWindowInDays "
                                        "value must be between 7 and 30 days (inclusive).")
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    with pytest.raises(ClientError) as raised:
        sm.describe_secret(SecretId=name)
    assert error_of(raised)[:2] == NOT_FOUND
    sm.create_secret(Name=name, SecretString="reused at once")


def test_list_secrets_filters_and_pages(sm):
    prefix = unique("list")
    for index, team in enumerate(("red", "blue", "red")):
        sm.create_secret(Name=f"{prefix}/{index}", SecretString="v", Description=f"team {team}",
                         Tags=[{"Key": "team", "Value": team}])
    named = sm.list_secrets(Filters=[{"Key": "name", "Values": [prefix]}])["SecretList"]
    assert [s["Name"] for s in named] == [f"{prefix}/0", f"{prefix}/1", f"{prefix}/2"]
    red = sm.list_secrets(Filters=[{"Key": "name", "Values": [prefix]},
                                   {"Key": "tag-value", "Values": ["red"]}])["SecretList"]
    assert {s["Name"] for s in red} == {f"{prefix}/0", f"{prefix}/2"}
    not_red = sm.list_secrets(Filters=[{"Key": "name", "Values": [prefix]},
                                       {"Key": "tag-value", "Values": ["!red"]}])["SecretList"]
    assert [s["Name"] for s in not_red] == [f"{prefix}/1"]
    page = sm.list_secrets(Filters=[{"Key": "name", "Values": [prefix]}], MaxResults=2)
    assert len(page["SecretList"]) == 2 and page["NextToken"]
    rest = sm.list_secrets(Filters=[{"Key": "name", "Values": [prefix]}], MaxResults=2,
                           NextToken=page["NextToken"])
    assert [s["Name"] for s in rest["SecretList"]] == [f"{prefix}/2"]
    descending = sm.list_secrets(Filters=[{"Key": "name", "Values": [prefix]}],
                                 SortOrder="desc")["SecretList"]
    assert descending[0]["Name"] == f"{prefix}/2"


def test_batch_get_secret_value(sm):
    names = [unique("batch") for _ in range(2)]
    for name in names:
        sm.create_secret(Name=name, SecretString=name)
    missing = unique("missing")
    answer = sm.batch_get_secret_value(SecretIdList=names + [missing])
    assert sorted(v["SecretString"] for v in answer["SecretValues"]) == sorted(names)
    assert answer["Errors"] == [{"SecretId": missing, "ErrorCode": "ResourceNotFoundException",
                                 "Message": NOT_FOUND[1]}]
    filtered = sm.batch_get_secret_value(Filters=[{"Key": "name", "Values": [names[0]]}])
    assert [v["Name"] for v in filtered["SecretValues"]] == [names[0]]
    with pytest.raises(ClientError) as raised:
        sm.batch_get_secret_value(SecretIdList=names,
                                  Filters=[{"Key": "name", "Values": ["x"]}])
    assert error_of(raised)[0] == "InvalidParameterException"


def test_tags(sm):
    name = unique()
    sm.create_secret(Name=name, SecretString="v", Tags=[{"Key": "a", "Value": "1"}])
    sm.tag_resource(SecretId=name, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    assert sm.describe_secret(SecretId=name)["Tags"] == [{"Key": "a", "Value": "3"},
                                                         {"Key": "b", "Value": "2"}]
    sm.untag_resource(SecretId=name, TagKeys=["a"])
    assert sm.describe_secret(SecretId=name)["Tags"] == [{"Key": "b", "Value": "2"}]


def test_customer_key_and_disabled_key(sm, kms):
    key = kms.create_key()["KeyMetadata"]
    name = unique()
    sm.create_secret(Name=name, SecretString="guarded", KmsKeyId=key["Arn"])
    described = sm.describe_secret(SecretId=name)
    assert described["KmsKeyId"] == key["Arn"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "guarded"
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as raised:
        sm.get_secret_value(SecretId=name)
    assert error_of(raised)[0] == "DecryptionFailure"
    with pytest.raises(ClientError) as raised:
        sm.put_secret_value(SecretId=name, SecretString="new")
    assert error_of(raised)[0] == "EncryptionFailure"
    kms.enable_key(KeyId=key["KeyId"])
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "guarded"


def test_default_key_is_the_aws_managed_key(sm, kms):
    sm.create_secret(Name=unique(), SecretString="v")
    managed = kms.describe_key(KeyId="alias/aws/secretsmanager")["KeyMetadata"]
    assert managed["KeyManager"] == "AWS" and managed["KeyState"] == "Enabled"
    with pytest.raises(ClientError) as raised:
        kms.disable_key(KeyId=managed["KeyId"])
    assert error_of(raised)[0] == "UnsupportedOperationException"


def test_create_secret_retry_with_the_same_token(sm):
    name, token = unique(), "b" * 32
    first = sm.create_secret(Name=name, SecretString="v", ClientRequestToken=token)
    again = sm.create_secret(Name=name, SecretString="v", ClientRequestToken=token)
    assert again["ARN"] == first["ARN"] and again["VersionId"] == token
    with pytest.raises(ClientError) as raised:
        sm.create_secret(Name=name, SecretString="other", ClientRequestToken=token)
    assert error_of(raised)[0] == "ResourceExistsException"
