"""Secrets Manager resource policies, random passwords, rotation schedules and replication."""

from __future__ import annotations

import json
import string

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import ACCESS_KEY, SECRET_KEY, client_config, error_of
from tests.secretsmanager.conftest import unique

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
     "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
PUBLIC = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue",
     "Resource": "*"}]})


def test_resource_policy_round_trip(sm):
    name = unique()
    sm.create_secret(Name=name, SecretString="v")
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)
    sm.put_resource_policy(SecretId=name, ResourcePolicy=POLICY)
    assert sm.get_resource_policy(SecretId=name)["ResourcePolicy"] == POLICY
    sm.delete_resource_policy(SecretId=name)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)


def test_resource_policy_validation(sm):
    name = unique()
    sm.create_secret(Name=name, SecretString="v")
    with pytest.raises(ClientError) as raised:
        sm.put_resource_policy(SecretId=name, ResourcePolicy="{oops")
    assert error_of(raised)[0] == "MalformedPolicyDocumentException"
    with pytest.raises(ClientError) as raised:
        sm.put_resource_policy(SecretId=name, ResourcePolicy=PUBLIC, BlockPublicPolicy=True)
    assert error_of(raised)[:2] == ("PublicPolicyException", "BlockPublicPolicy parameter is "
                                    "set to true and the resource policy did not prevent broad "
                                    "access to the secret.")
    assert sm.validate_resource_policy(ResourcePolicy=POLICY)["PolicyValidationPassed"] is True
    answer = sm.validate_resource_policy(ResourcePolicy=json.dumps({"Statement": [{}]}))
    assert answer["PolicyValidationPassed"] is False and answer["ValidationErrors"]


def test_random_password_options(sm):
    default = sm.get_random_password()["RandomPassword"]
    assert len(default) == 32
    assert any(c.islower() for c in default) and any(c.isupper() for c in default)
    assert any(c.isdigit() for c in default)
    assert any(c in string.punctuation for c in default)
    digits_only = sm.get_random_password(PasswordLength=50, ExcludePunctuation=True,
                                         ExcludeUppercase=True, ExcludeLowercase=True)
    assert digits_only["RandomPassword"].isdigit()
    assert len(digits_only["RandomPassword"]) == 50
    no_vowels = sm.get_random_password(PasswordLength=200, ExcludeCharacters="aeiouAEIOU")
    assert not set(no_vowels["RandomPassword"]) & set("aeiouAEIOU")
    spaced = sm.get_random_password(PasswordLength=4096, IncludeSpace=True)["RandomPassword"]
    assert " " in spaced
    with pytest.raises(ClientError) as raised:
        sm.get_random_password(ExcludeNumbers=True, ExcludePunctuation=True,
                               ExcludeUppercase=True, ExcludeLowercase=True)
    assert error_of(raised)[0] == "InvalidParameterException"


def test_rotation_schedule_is_stored(sm):
    name = unique()
    sm.create_secret(Name=name, SecretString="v")
    function = "arn:aws:lambda:us-east-1:000000000000:function:rotate"
    sm.rotate_secret(SecretId=name, RotationLambdaARN=function,
                     RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
    described = sm.describe_secret(SecretId=name)
    assert described["RotationEnabled"] is True
    assert described["RotationLambdaARN"] == function
    assert described["RotationRules"]["AutomaticallyAfterDays"] == 30
    assert "NextRotationDate" in described
    sm.cancel_rotate_secret(SecretId=name)
    assert sm.describe_secret(SecretId=name)["RotationEnabled"] is False


def test_rotating_now_needs_lambda(sm):
    name = unique()
    sm.create_secret(Name=name, SecretString="v")
    with pytest.raises(ClientError) as raised:
        sm.rotate_secret(SecretId=name)
    assert error_of(raised)[0] == "InvalidRequestException"  # no rotation function yet
    with pytest.raises(ClientError) as raised:
        sm.rotate_secret(SecretId=name, RotationLambdaARN="arn:aws:lambda:us-east-1:"
                         "000000000000:function:rotate")
    assert error_of(raised)[2] == 501
    assert sm.describe_secret(SecretId=name)["RotationEnabled"] is False


@pytest.fixture
def sm_west(make_client):
    session = boto3.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            region_name="us-west-2")
    return make_client("secretsmanager", session=session, config=client_config())


def test_replication_keeps_replicas_in_sync(sm, sm_west):
    name = unique("replicated")
    created = sm.create_secret(Name=name, SecretString="one",
                               AddReplicaRegions=[{"Region": "us-west-2"}])
    assert created["ReplicationStatus"] == [{"Region": "us-west-2", "Status": "InSync",
                                             "StatusMessage": "Replication succeeded"}]
    replica = sm_west.describe_secret(SecretId=name)
    assert replica["PrimaryRegion"] == "us-east-1"
    assert replica["ARN"] == created["ARN"].replace("us-east-1", "us-west-2")
    assert sm_west.get_secret_value(SecretId=name)["SecretString"] == "one"
    sm.put_secret_value(SecretId=name, SecretString="two")
    assert sm_west.get_secret_value(SecretId=replica["ARN"])["SecretString"] == "two"
    with pytest.raises(ClientError) as raised:
        sm_west.put_secret_value(SecretId=name, SecretString="not here")
    assert error_of(raised)[:2] == ("InvalidRequestException", "Operation not permitted on a "
                                    "replica secret. Call must be made in primary secret's "
                                    "region.")
    # Promote the replica: it keeps its versions and stands alone.
    sm_west.stop_replication_to_replica(SecretId=name)
    assert sm_west.get_secret_value(SecretId=name)["SecretString"] == "two"
    sm_west.put_secret_value(SecretId=name, SecretString="west only")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "two"
    assert "ReplicationStatus" not in sm.describe_secret(SecretId=name)


def test_remove_regions_from_replication(sm, sm_west):
    name = unique("replicated")
    sm.create_secret(Name=name, SecretString="v")
    status = sm.replicate_secret_to_regions(SecretId=name,
                                            AddReplicaRegions=[{"Region": "us-west-2"}])
    assert status["ReplicationStatus"][0]["Status"] == "InSync"
    with pytest.raises(ClientError) as raised:
        sm.delete_secret(SecretId=name)
    assert error_of(raised)[0] == "InvalidRequestException"
    sm.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=["us-west-2"])
    with pytest.raises(ClientError) as raised:
        sm_west.describe_secret(SecretId=name)
    assert error_of(raised)[0] == "ResourceNotFoundException"
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
