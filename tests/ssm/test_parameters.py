"""Parameter Store: types, SecureString through KMS, versions, labels and selectors, history,
hierarchies, descriptions and filters, tiers and limits, policies, patterns, data types,
tags, public parameters and Secrets Manager references."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of


def test_string_and_string_list(ssm, root):
    put = ssm.put_parameter(Name=f"{root}/url", Value="dev.db:3306", Type="String")
    assert (put["Version"], put["Tier"]) == (1, "Standard")
    parameter = ssm.get_parameter(Name=f"{root}/url")["Parameter"]
    assert (parameter["Value"], parameter["Type"], parameter["Version"]) == \
        ("dev.db:3306", "String", 1)
    assert parameter["ARN"] == f"arn:aws:ssm:us-east-1:000000000000:parameter{root}/url"
    assert parameter["DataType"] == "text"
    ssm.put_parameter(Name=f"{root}/list", Value="a,b,c", Type="StringList")
    assert ssm.get_parameter(Name=f"{root}/list")["Parameter"]["Value"] == "a,b,c"


def test_secure_string_is_a_kms_ciphertext(ssm, kms, root):
    name = f"{root}/db-password"
    ssm.put_parameter(Name=name, Value="hunter2", Type="SecureString")
    hidden = ssm.get_parameter(Name=name)["Parameter"]
    assert hidden["Value"] != "hunter2"
    # The stored value is a real KMS ciphertext under alias/aws/ssm, bound to the parameter.
    arn = hidden["ARN"]
    decrypted = kms.decrypt(CiphertextBlob=base64.b64decode(hidden["Value"]),
                            EncryptionContext={"PARAMETER_ARN": arn})
    assert decrypted["Plaintext"] == b"hunter2"
    managed = kms.describe_key(KeyId="alias/aws/ssm")["KeyMetadata"]
    assert decrypted["KeyId"] == managed["Arn"] and managed["KeyManager"] == "AWS"
    shown = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert shown["Value"] == "hunter2" and shown["Type"] == "SecureString"
    [described] = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
    assert described["KeyId"] == "alias/aws/ssm"


def test_secure_string_with_a_customer_key(ssm, kms, root):
    key = kms.create_key()["KeyMetadata"]
    name = f"{root}/guarded"
    ssm.put_parameter(Name=name, Value="s3cret", Type="SecureString", KeyId=key["KeyId"])
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "s3cret"
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as raised:
        ssm.get_parameter(Name=name, WithDecryption=True)
    assert error_of(raised)[0] == "DisabledException"
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] != "s3cret"
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name=f"{root}/bad-key", Value="x", Type="SecureString",
                          KeyId="alias/does-not-exist")
    assert error_of(raised)[0] == "InvalidKeyId"


def test_advanced_secure_string_over_4_kb(ssm, root):
    name = f"{root}/big"
    value = "x" * 8000
    assert ssm.put_parameter(Name=name, Value=value, Type="SecureString",
                             Tier="Advanced")["Tier"] == "Advanced"
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == value


def test_missing_parameters(ssm, root):
    with pytest.raises(ClientError) as raised:
        ssm.get_parameter(Name=f"{root}/missing")
    assert error_of(raised)[:2] == ("ParameterNotFound", "")
    answer = ssm.get_parameters(Names=[f"{root}/missing", f"{root}/also-missing"])
    assert answer["Parameters"] == []
    assert answer["InvalidParameters"] == [f"{root}/missing", f"{root}/also-missing"]
    with pytest.raises(ClientError) as raised:
        ssm.delete_parameter(Name=f"{root}/missing")
    assert error_of(raised)[0] == "ParameterNotFound"


def test_overwrite_versions_and_history(ssm, root):
    name = f"{root}/conf"
    ssm.put_parameter(Name=name, Value="v1", Type="String", Description="first")
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name=name, Value="v2", Type="String")
    assert error_of(raised)[:2] == ("ParameterAlreadyExists", "The parameter already exists. "
                                    "To overwrite this value, set the overwrite option in the "
                                    "request to true.")
    assert ssm.put_parameter(Name=name, Value="v2", Overwrite=True)["Version"] == 2
    assert ssm.put_parameter(Name=name, Value="v3", Type="String", Overwrite=True)["Version"] == 3
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "v3"
    second = ssm.get_parameter(Name=f"{name}:2")["Parameter"]
    assert (second["Value"], second["Version"], second["Selector"]) == ("v2", 2, ":2")
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [(h["Version"], h["Value"]) for h in history] == [(1, "v1"), (2, "v2"), (3, "v3")]
    assert all(h["Description"] == "first" for h in history)
    with pytest.raises(ClientError) as raised:
        ssm.get_parameter(Name=f"{name}:9")
    assert error_of(raised)[0] == "ParameterVersionNotFound"
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name=name, Value="x", Overwrite=True,
                          Tags=[{"Key": "a", "Value": "b"}])
    assert error_of(raised)[0] == "ValidationException"


def test_labels(ssm, root):
    name = f"{root}/labelled"
    ssm.put_parameter(Name=name, Value="one", Type="String")
    ssm.put_parameter(Name=name, Value="two", Type="String", Overwrite=True)
    answer = ssm.label_parameter_version(Name=name, ParameterVersion=1,
                                         Labels=["stable", "1bad", "awsreserved"])
    assert answer["ParameterVersion"] == 1
    assert answer["InvalidLabels"] == ["1bad", "awsreserved"]
    assert ssm.get_parameter(Name=f"{name}:stable")["Parameter"]["Value"] == "one"
    ssm.label_parameter_version(Name=name, Labels=["stable"])  # moves to the latest version
    assert ssm.get_parameter(Name=f"{name}:stable")["Parameter"]["Value"] == "two"
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [h["Labels"] for h in history] == [[], ["stable"]]
    removed = ssm.unlabel_parameter_version(Name=name, ParameterVersion=2,
                                            Labels=["stable", "other"])
    assert removed["RemovedLabels"] == ["stable"] and removed["InvalidLabels"] == ["other"]
    answer = ssm.get_parameters(Names=[f"{name}:stable", f"{name}:1"])
    assert answer["InvalidParameters"] == [f"{name}:stable"]
    assert answer["Parameters"][0]["Selector"] == ":1"


def test_seed_hierarchy_demo(ssm, root):
    ssm.put_parameter(Name=f"{root}/dev/db-url", Value="dev.database.subbu.com:3306",
                      Type="String")
    ssm.put_parameter(Name=f"{root}/dev/db-password", Value="dev-pass", Type="SecureString")
    ssm.put_parameter(Name=f"{root}/prod/db-url", Value="prod.database.subbu.com:3306",
                      Type="String")
    ssm.put_parameter(Name=f"{root}/prod/db-password", Value="prod-pass",
                      Type="SecureString")
    answer = ssm.get_parameters(Names=[f"{root}/dev/db-url", f"{root}/dev/db-password"],
                                WithDecryption=True)
    assert {p["Name"]: p["Value"] for p in answer["Parameters"]} == {
        f"{root}/dev/db-url": "dev.database.subbu.com:3306",
        f"{root}/dev/db-password": "dev-pass"}
    level = ssm.get_parameters_by_path(Path=f"{root}/dev")["Parameters"]
    assert sorted(p["Name"] for p in level) == [f"{root}/dev/db-password", f"{root}/dev/db-url"]
    assert ssm.get_parameters_by_path(Path=root)["Parameters"] == []  # not recursive
    everything = ssm.get_parameters_by_path(Path=f"{root}/", Recursive=True,
                                            WithDecryption=True)["Parameters"]
    assert {p["Name"]: p["Value"] for p in everything}[f"{root}/prod/db-password"] == \
        "prod-pass"
    assert len(everything) == 4
    # The notes' bug: a wrong path is not an error, the names come back as invalid.
    wrong = ssm.get_parameters(Names=[f"{root}/dev/dev/db-url"], WithDecryption=True)
    assert wrong["Parameters"] == [] and wrong["InvalidParameters"] == [f"{root}/dev/dev/db-url"]


def test_by_path_pages_and_filters(ssm, root):
    for index in range(5):
        ssm.put_parameter(Name=f"{root}/p/{index}", Value=str(index),
                          Type="SecureString" if index % 2 else "String")
    ssm.put_parameter(Name=f"{root}/pother", Value="not below /p", Type="String")
    names, token = [], None
    while True:
        page = ssm.get_parameters_by_path(Path=f"{root}/p", Recursive=True, MaxResults=2,
                                          **({"NextToken": token} if token else {}))
        assert len(page["Parameters"]) <= 2
        names += [p["Name"] for p in page["Parameters"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == [f"{root}/p/{i}" for i in range(5)]
    secure = ssm.get_parameters_by_path(
        Path=f"{root}/p", ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}])
    assert [p["Name"] for p in secure["Parameters"]] == [f"{root}/p/1", f"{root}/p/3"]
    with pytest.raises(ClientError) as raised:
        ssm.get_parameters_by_path(Path=f"{root}/p",
                                   ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
    assert error_of(raised)[0] == "InvalidFilterKey"
    with pytest.raises(ClientError) as raised:
        ssm.get_parameters_by_path(Path="no-slash")
    assert error_of(raised)[0] == "ValidationException"


def test_describe_parameters_filters(ssm, root):
    ssm.put_parameter(Name=f"{root}/a/one", Value="1", Type="String",
                      Tags=[{"Key": "team", "Value": "red"}])
    ssm.put_parameter(Name=f"{root}/a/two", Value="2", Type="StringList")
    ssm.put_parameter(Name=f"{root}/b/three", Value="3", Type="String", Tier="Advanced")

    def names(**params) -> list[str]:
        return [p["Name"] for p in ssm.describe_parameters(**params)["Parameters"]]

    assert names(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith",
                                    "Values": [f"{root}/a/"]}]) == [f"{root}/a/one",
                                                                    f"{root}/a/two"]
    assert names(ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [root]},
                                   {"Key": "Type", "Values": ["String"]}]) == [
        f"{root}/a/one", f"{root}/b/three"]
    assert names(ParameterFilters=[{"Key": "Path", "Values": [f"{root}/b"]}]) == [
        f"{root}/b/three"]
    assert names(ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [root]},
                                   {"Key": "tag:team", "Values": ["red"]}]) == [f"{root}/a/one"]
    assert names(ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [root]},
                                   {"Key": "Tier", "Values": ["Advanced"]}]) == [
        f"{root}/b/three"]
    assert names(Filters=[{"Key": "Name", "Values": [f"{root}/a/t"]}]) == [f"{root}/a/two"]
    with pytest.raises(ClientError) as raised:
        ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "Recursive",
                                                   "Values": ["x"]}])
    assert error_of(raised)[0] == "InvalidFilterOption"


def test_names_and_limits(ssm, root):
    for bad in ("/aws/mine", "ssm-thing", "/has space", "no/leading/slash"):
        with pytest.raises(ClientError) as raised:
            ssm.put_parameter(Name=bad, Value="x", Type="String")
        assert error_of(raised)[0] == "ValidationException", bad
    deep = root + "".join(f"/l{i}" for i in range(15))
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name=deep, Value="x", Type="String")
    assert error_of(raised)[0] == "HierarchyLevelLimitExceededException"
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name=f"{root}/big", Value="x" * 4097, Type="String")
    assert error_of(raised)[:2] == ("ValidationException", "Standard tier parameters support a "
                                    "maximum parameter value of 4096 characters. To create a "
                                    "larger parameter value, upgrade the parameter to use the "
                                    "advanced-parameter tier. For more information, see "
                                    "https://docs.aws.amazon.com/systems-manager/latest/"
                                    "userguide/parameter-store-advanced-parameters.html")
    assert ssm.put_parameter(Name=f"{root}/big", Value="x" * 4097, Type="String",
                             Tier="Intelligent-Tiering")["Tier"] == "Advanced"
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name=f"{root}/big", Value="small", Type="String", Tier="Standard",
                          Overwrite=True)
    assert error_of(raised)[0] == "ValidationException"  # no downgrade
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name=f"{root}/untyped", Value="x")
    assert error_of(raised)[0] == "ValidationException"


def test_allowed_pattern_and_data_types(ssm, root):
    name = f"{root}/port"
    ssm.put_parameter(Name=name, Value="8080", Type="String", AllowedPattern=r"^\d+$")
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name=name, Value="eighty", Overwrite=True)
    assert error_of(raised)[:2] == ("ParameterPatternMismatchException", "Parameter value, "
                                    r"cannot be validated against allowedPattern: ^\d+$")
    ssm.put_parameter(Name=f"{root}/ami", Value="ami-0123456789abcdef0", Type="String",
                      DataType="aws:ec2:image")
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name=f"{root}/ami2", Value="not-an-ami", Type="String",
                          DataType="aws:ec2:image")
    assert error_of(raised)[0] == "ValidationException"
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name=f"{root}/odd", Value="x", Type="String", DataType="Text")
    assert error_of(raised)[0] == "ValidationException"


def test_expiration_policy_deletes_the_parameter(ssm, root, nubo_server):
    now = datetime.fromtimestamp(nubo_server.get("/_nubo/clock")["now"], timezone.utc)
    when = (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    policies = json.dumps([
        {"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": when}},
        {"Type": "ExpirationNotification", "Version": "1.0",
         "Attributes": {"Before": "15", "Unit": "Days"}},
        {"Type": "NoChangeNotification", "Version": "1.0",
         "Attributes": {"After": "20", "Unit": "Days"}}])
    name = f"{root}/expiring"
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name=name, Value="x", Type="String", Policies=policies,
                          Tier="Standard")
    assert error_of(raised)[0] == "ValidationException"
    assert ssm.put_parameter(Name=name, Value="x", Type="String", Policies=policies,
                             Tier="Advanced")["Tier"] == "Advanced"
    [described] = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
    assert [p["PolicyType"] for p in described["Policies"]] == [
        "Expiration", "ExpirationNotification", "NoChangeNotification"]
    nubo_server.advance_clock(3 * 86400)
    for _ in range(50):
        if ssm.get_parameters(Names=[name])["InvalidParameters"]:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the Expiration policy did not delete the parameter")
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name=f"{root}/bad-policy", Value="x", Type="String", Tier="Advanced",
                          Policies=json.dumps([{"Type": "Explode", "Attributes": {}}]))
    assert error_of(raised)[0] == "InvalidPolicyTypeException"


def test_tags_and_delete_parameters(ssm, root):
    name = f"{root}/tagged"
    ssm.put_parameter(Name=name, Value="x", Type="String", Tags=[{"Key": "env", "Value": "dev"}])
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name,
                             Tags=[{"Key": "team", "Value": "a"}])
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {"env": "dev", "team": "a"}
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=["env"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"] == [
        {"Key": "team", "Value": "a"}]
    with pytest.raises(ClientError) as raised:
        ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"{root}/none")
    assert error_of(raised)[0] == "InvalidResourceId"
    answer = ssm.delete_parameters(Names=[name, f"{root}/none"])
    assert answer["DeletedParameters"] == [name]
    assert answer["InvalidParameters"] == [f"{root}/none"]


def test_public_parameters(ssm):
    path = "/aws/service/ami-amazon-linux-latest"
    parameter = ssm.get_parameter(Name=f"{path}/amzn2-ami-hvm-x86_64-gp2")["Parameter"]
    assert parameter["Value"].startswith("ami-") and len(parameter["Value"]) == 21
    assert parameter["DataType"] == "aws:ec2:image"
    assert parameter["ARN"] == ("arn:aws:ssm:us-east-1::parameter/aws/service/"
                                "ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2")
    listed = ssm.get_parameters_by_path(Path=path)["Parameters"]
    assert f"{path}/al2023-ami-kernel-default-x86_64" in {p["Name"] for p in listed}
    with pytest.raises(ClientError) as raised:
        ssm.get_parameter(Name="/aws/service/not/a/real/one")
    assert error_of(raised)[0] == "ParameterNotFound"


def test_secrets_manager_reference(ssm, make_client, root):
    sm = make_client("secretsmanager")
    name = f"ref{root.replace('/', '-')}"
    sm.create_secret(Name=name, SecretString='{"password": "pw"}')
    reference = f"/aws/reference/secretsmanager/{name}"
    with pytest.raises(ClientError) as raised:
        ssm.get_parameter(Name=reference)
    assert error_of(raised)[:2] == ("ValidationException", "WithDecryption flag must be True "
                                    "for retrieving a Secret Manager secret.")
    parameter = ssm.get_parameter(Name=reference, WithDecryption=True)["Parameter"]
    assert json.loads(parameter["Value"]) == {"password": "pw"}
    assert parameter["Type"] == "SecureString"
    assert json.loads(parameter["SourceResult"])["Name"] == name
    with pytest.raises(ClientError) as raised:
        ssm.get_parameter(Name="/aws/reference/secretsmanager/no-such-secret",
                          WithDecryption=True)
    assert error_of(raised)[0] == "ParameterNotFound"
