"""Which IAM actions and resources a request needs, where they depend on its input."""

from __future__ import annotations

import pytest

from nubo.policy.actions import action_spec, partiql_action, resources_of

NAMES = {"Partition": "aws", "Region": "us-east-1", "Account": "111111111111"}


def needs(service: str, operation: str, params: dict, signing_name: str | None = None):
    return [(spec.action, resources_of(spec, {**NAMES, **params}))
            for spec in action_spec(service, signing_name or service, operation, params)]


def table(name: str) -> str:
    return f"arn:aws:dynamodb:us-east-1:111111111111:table/{name}"


@pytest.mark.parametrize("statement,expected", [
    ('SELECT * FROM "Music" WHERE Artist = ?', ("PartiQLSelect", "Music")),
    ('select a from Music.by_year', ("PartiQLSelect", "Music")),
    ('SELECT * FROM "Music"."by_year"', ("PartiQLSelect", "Music")),
    ("INSERT INTO \"Music\" VALUE {'Artist': 'x'}", ("PartiQLInsert", "Music")),
    ('UPDATE "Music" SET Plays = 1 WHERE Artist = ?', ("PartiQLUpdate", "Music")),
    ('  delete from Music where Artist = ?', ("PartiQLDelete", "Music")),
    ("not partiql", ("PartiQLSelect", None)),
])
def test_partiql_statements(statement, expected):
    assert partiql_action(statement) == expected


def test_dynamodb_item_level_actions():
    assert needs("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "a"}}, {"Update": {"TableName": "b"}},
        {"ConditionCheck": {"TableName": "a"}}, {"Put": {"TableName": "b"}}]}) == [
        ("dynamodb:PutItem", [table("a"), table("b")]),
        ("dynamodb:UpdateItem", [table("b")]),
        ("dynamodb:ConditionCheckItem", [table("a")])]
    assert needs("dynamodb", "TransactGetItems", {"TransactItems": [
        {"Get": {"TableName": "a"}}]}) == [("dynamodb:GetItem", [table("a")])]
    assert needs("dynamodb", "BatchGetItem", {"RequestItems": {"a": {}, "b": {}}}) == [
        ("dynamodb:BatchGetItem", [table("a"), table("b")])]
    assert needs("dynamodb", "BatchExecuteStatement", {"Statements": [
        {"Statement": 'SELECT * FROM "a"'}, {"Statement": 'DELETE FROM "b" WHERE k = 1'}]}) == [
        ("dynamodb:PartiQLSelect", [table("a")]), ("dynamodb:PartiQLDelete", [table("b")])]


def test_actions_named_by_other_operations():
    queue = {"QueueName": "q"}
    assert needs("sqs", "SendMessageBatch", queue) == [
        ("sqs:SendMessage", ["arn:aws:sqs:us-east-1:111111111111:q"])]
    assert needs("s3control", "PutPublicAccessBlock", {}, "s3") == [
        ("s3:PutAccountPublicAccessBlock", ["*"])]
    obj = {"BucketName": "b", "ObjectName": "k"}
    assert needs("s3", "GetObject", {**obj, "VersionId": "v1"})[0][0] == "s3:GetObjectVersion"
    assert [a for a, _ in needs("s3", "DeleteObject", {**obj, "VersionId": "v1",
                                                       "BypassGovernanceRetention": True})] == [
        "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"]
    assert [a for a, _ in needs("kms", "ReEncrypt", {"KeyId": "k"})] == [
        "kms:ReEncryptFrom", "kms:ReEncryptTo"]


def test_copies_read_their_source_and_index_queries_name_the_index():
    assert needs("s3", "CopyObject", {"BucketName": "dst", "ObjectName": "k",
                                      "CopySource": "/src/a%20b?versionId=v1"}) == [
        ("s3:PutObject", ["arn:aws:s3:::dst/k"]),
        ("s3:GetObjectVersion", ["arn:aws:s3:::src/a b"])]
    assert needs("dynamodb", "Query", {"TableName": "t", "IndexName": "i"}) == [
        ("dynamodb:Query", [table("t") + "/index/i"])]
    assert needs("dynamodb", "Query", {"TableName": "t"}) == [("dynamodb:Query", [table("t")])]


def test_members_that_need_permissions_of_their_own():
    obj = {"BucketName": "b", "ObjectName": "k"}
    assert [a for a, _ in needs("s3", "PutObject", {**obj, "ACL": "public-read",
                                                    "Tagging": "a=b"})] == [
        "s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectTagging"]
    assert [a for a, _ in needs("s3", "CreateBucket", {"BucketName": "b",
                                                       "ObjectLockEnabledForBucket": True})] == [
        "s3:CreateBucket", "s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"]
    assert [a for a, _ in needs("s3", "CreateBucket", {"BucketName": "b",
                                                       "ObjectLockEnabledForBucket": False})] == [
        "s3:CreateBucket"]


def test_tagging_on_create_needs_the_tagging_action():
    assert needs("sqs", "CreateQueue", {"QueueName": "q", "tags": {"a": "b"}}) == [
        ("sqs:CreateQueue", ["arn:aws:sqs:us-east-1:111111111111:q"]),
        ("sqs:TagQueue", ["arn:aws:sqs:us-east-1:111111111111:q"])]
    assert [a for a, _ in needs("iam", "CreateUser", {"UserName": "u"})] == ["iam:CreateUser"]
    assert [a for a, _ in needs("iam", "CreateUser", {"UserName": "u", "Tags": [
        {"Key": "a", "Value": "b"}]})] == ["iam:CreateUser", "iam:TagUser"]


def test_resources_given_by_arn():
    stream = table("t") + "/stream/2026-01-01T00:00:00.000"
    assert needs("dynamodb", "TagResource", {"ResourceArn": table("t")}) == [
        ("dynamodb:TagResource", [table("t")])]
    assert needs("dynamodb", "TagResource", {"ResourceArn": stream}) == [
        ("dynamodb:TagResource", [stream])]
    assert needs("dynamodb", "DescribeStream", {"StreamArn": stream}) == [
        ("dynamodb:DescribeStream", [stream])]
    assert needs("dynamodb", "TagResource", {"ResourceArn": "arn:aws:sqs:us-east-1:1:q"}) == [
        ("dynamodb:TagResource", ["*"])]


RESTORE_WRITES = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                  "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchWriteItem"]


def test_restores_write_the_target_table():
    backup = table("src") + "/backup/01700000000000-abcdefgh"
    assert needs("dynamodb", "RestoreTableFromBackup", {
        "BackupArn": backup, "TargetTableName": "copy"}) == [
        ("dynamodb:RestoreTableFromBackup", [backup])] + [
        (action, [table("copy")]) for action in RESTORE_WRITES]
    for source in ({"SourceTableName": "src"}, {"SourceTableArn": table("src")}):
        assert needs("dynamodb", "RestoreTableToPointInTime", {
            **source, "TargetTableName": "copy"}) == [
            ("dynamodb:RestoreTableToPointInTime", [table("src")])] + [
            (action, [table("copy")]) for action in RESTORE_WRITES]


def test_names_listing_several_resources_give_one_arn_each():
    assert needs("ssm", "GetParameters", {"ParameterNameWithoutLeadingSlash": ["a", "b/c"]}) == [
        ("ssm:GetParameters", ["arn:aws:ssm:us-east-1:111111111111:parameter/a",
                               "arn:aws:ssm:us-east-1:111111111111:parameter/b/c"])]
    assert needs("ssm", "GetParameters", {"ParameterNameWithoutLeadingSlash": ["a", ""]}) == [
        ("ssm:GetParameters", ["*"])]
    assert needs("sqs", "SendMessage", {"QueueName": ""}) == [("sqs:SendMessage", ["*"])]
