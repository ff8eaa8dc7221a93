"""Queues: create, URLs, attributes, listing, tags, permissions, deletion rules."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.sqs.conftest import attributes_of, error_of, unique


def test_create_queue_returns_aws_style_url_and_defaults(client, make_queue):
    url = make_queue(client=client)
    name = url.rsplit("/", 1)[1]
    port = client.meta.endpoint_url.rsplit(":", 1)[1]
    assert url == f"http://sqs.us-east-1.localhost:{port}/000000000000/{name}"
    attributes = attributes_of(client, url)
    assert attributes["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    assert {k: attributes[k] for k in ("VisibilityTimeout", "MaximumMessageSize",
                                       "MessageRetentionPeriod", "DelaySeconds",
                                       "ReceiveMessageWaitTimeSeconds",
                                       "SqsManagedSseEnabled")} == {
        "VisibilityTimeout": "30", "MaximumMessageSize": "1048576",
        "MessageRetentionPeriod": "345600", "DelaySeconds": "0",
        "ReceiveMessageWaitTimeSeconds": "0", "SqsManagedSseEnabled": "true"}
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["CreatedTimestamp"].isdigit()
    assert attributes["CreatedTimestamp"] == attributes["LastModifiedTimestamp"]
    assert "FifoQueue" not in attributes


def test_create_existing_queue_same_attributes_returns_url(client, make_queue):
    url = make_queue(client=client, VisibilityTimeout=45)
    name = url.rsplit("/", 1)[1]
    again = client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})
    assert again["QueueUrl"] == url


def test_create_existing_queue_different_attributes_fails(client, make_queue):
    url = make_queue(client=client)
    name = url.rsplit("/", 1)[1]
    with pytest.raises(ClientError) as raised:
        client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "31"})
    code, message, status = error_of(raised)
    assert code in ("QueueAlreadyExists", "QueueNameExists")
    assert message == ("A queue already exists with the same name and a different value for "
                       "attribute VisibilityTimeout")
    assert status == 400


@pytest.mark.parametrize("name", ["has space", "a" * 81, "dot.name", "", "x.fifo"])
def test_invalid_queue_names(sqs, name):
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName=name)
    code, message, status = error_of(raised)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == ("Can only include alphanumeric characters, hyphens, or underscores. "
                       "1 to 80 in length")


def test_fifo_name_rules(sqs, make_queue):
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName=unique(), Attributes={"FifoQueue": "true"})
    assert error_of(raised)[0] == "InvalidParameterValue"
    assert "must end with .fifo suffix" in error_of(raised)[1]
    # 80 characters including the .fifo suffix is the limit
    url = make_queue(fifo=True, name="f" * 75 + ".fifo")
    assert url.endswith("f" * 75 + ".fifo")
    with pytest.raises(ClientError):
        sqs.create_queue(QueueName="f" * 76 + ".fifo", Attributes={"FifoQueue": "true"})


@pytest.mark.parametrize("attribute,value", [
    ("VisibilityTimeout", "43201"), ("VisibilityTimeout", "-1"), ("DelaySeconds", "901"),
    ("MessageRetentionPeriod", "59"), ("MessageRetentionPeriod", "1209601"),
    ("MaximumMessageSize", "1023"), ("MaximumMessageSize", "1048577"),
    ("ReceiveMessageWaitTimeSeconds", "21"), ("VisibilityTimeout", "abc"),
    ("KmsDataKeyReusePeriodSeconds", "59"), ("SqsManagedSseEnabled", "maybe"),
])
def test_attribute_ranges(client, attribute, value):
    with pytest.raises(ClientError) as raised:
        client.create_queue(QueueName=unique(), Attributes={attribute: value})
    assert error_of(raised) == ("InvalidAttributeValue",
                                f"Invalid value for the parameter {attribute}.", 400)


def test_unknown_read_only_and_fifo_only_attributes_are_rejected(sqs, make_queue):
    for attribute in ("Foo", "QueueArn", "ApproximateNumberOfMessages",
                      "ContentBasedDeduplication"):
        with pytest.raises(ClientError) as raised:
            sqs.create_queue(QueueName=unique(), Attributes={attribute: "true"})
        assert error_of(raised)[:2] == ("InvalidAttributeName", f"Unknown Attribute {attribute}.")
    url = make_queue()
    with pytest.raises(ClientError) as raised:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Nope"])
    assert error_of(raised)[0] == "InvalidAttributeName"


def test_fifo_queue_attributes_and_high_throughput(sqs, make_queue):
    url = make_queue(fifo=True, DeduplicationScope="messageGroup",
                     FifoThroughputLimit="perMessageGroupId")
    attributes = attributes_of(sqs, url)
    assert attributes["FifoQueue"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"
    assert attributes["DeduplicationScope"] == "messageGroup"
    assert attributes["FifoThroughputLimit"] == "perMessageGroupId"
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName=unique() + ".fifo", Attributes={
            "FifoQueue": "true", "DeduplicationScope": "queue",
            "FifoThroughputLimit": "perMessageGroupId"})
    assert error_of(raised)[0] == "InvalidAttributeValue"
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName=unique() + ".fifo", Attributes={
            "FifoQueue": "true", "DeduplicationScope": "everywhere"})
    assert error_of(raised)[:2] == ("InvalidAttributeValue",
                                    "Invalid value for the parameter DeduplicationScope.")
    with pytest.raises(ClientError) as raised:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false"})
    assert error_of(raised)[0] == "InvalidAttributeValue"


def test_set_and_get_single_attributes(client, make_queue):
    url = make_queue(client=client)
    created = attributes_of(client, url)["LastModifiedTimestamp"]
    client.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "60",
                                                          "DelaySeconds": "5"})
    assert attributes_of(client, url, "VisibilityTimeout", "DelaySeconds") == {
        "VisibilityTimeout": "60", "DelaySeconds": "5"}
    assert attributes_of(client, url, "LastModifiedTimestamp")["LastModifiedTimestamp"] >= created
    # No attribute names: no attributes
    assert "Attributes" not in client.get_queue_attributes(QueueUrl=url)
    with pytest.raises(ClientError) as raised:
        client.set_queue_attributes(QueueUrl=url, Attributes={"QueueArn": "x"})
    assert error_of(raised)[:2] == ("InvalidAttributeName", "Unknown Attribute QueueArn.")


def test_policy_and_kms_attributes(sqs, make_queue):
    url = make_queue()
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    assert attributes_of(sqs, url, "Policy")["Policy"] == policy
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert "Policy" not in attributes_of(sqs, url)
    with pytest.raises(ClientError) as raised:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": "{not json"})
    assert error_of(raised)[0] == "InvalidAttributeValue"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"KmsMasterKeyId": "alias/aws/sqs"})
    attributes = attributes_of(sqs, url)
    assert attributes["KmsMasterKeyId"] == "alias/aws/sqs"
    assert attributes["KmsDataKeyReusePeriodSeconds"] == "300"
    assert attributes["SqsManagedSseEnabled"] == "false"


def test_get_queue_url(client, make_queue):
    url = make_queue(client=client)
    name = url.rsplit("/", 1)[1]
    assert client.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId="000000000000")[
        "QueueUrl"] == url
    with pytest.raises(ClientError) as raised:
        client.get_queue_url(QueueName=unique())
    code, message, status = error_of(raised)
    assert code in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
    assert status == 400
    assert message.startswith("The specified queue does not exist")


def test_queue_url_accepted_in_any_form(sqs, make_queue):
    url = make_queue()
    name = url.rsplit("/", 1)[1]
    for form in (f"http://localhost:4566/000000000000/{name}",
                 f"http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/{name}",
                 f"https://sqs.us-east-1.amazonaws.com/000000000000/{name}",
                 f"https://queue.amazonaws.com/000000000000/{name}",
                 f"/000000000000/{name}"):
        sqs.send_message(QueueUrl=form, MessageBody=form)
    assert attributes_of(sqs, url, "ApproximateNumberOfMessages") == {
        "ApproximateNumberOfMessages": "5"}


def test_list_queues_prefix_and_pagination(client, make_queue):
    prefix = unique("list")
    urls = sorted(make_queue(client=client, name=f"{prefix}-{i}") for i in range(5))
    listed = client.list_queues(QueueNamePrefix=prefix)
    assert sorted(listed["QueueUrls"]) == urls and "NextToken" not in listed
    pages, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = client.list_queues(QueueNamePrefix=prefix, MaxResults=2, **kwargs)
        pages.append(page["QueueUrls"])
        token = page.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(sum(pages, [])) == urls
    assert "QueueUrls" not in client.list_queues(QueueNamePrefix=unique("none"))


def test_delete_queue_and_name_reuse_after_60_seconds(sqs, nubo_server):
    name = unique()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="gone")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as raised:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert error_of(raised)[0] in ("AWS.SimpleQueueService.NonExistentQueue",
                                   "QueueDoesNotExist")
    with pytest.raises(ClientError) as raised:
        sqs.create_queue(QueueName=name)
    code, message, _ = error_of(raised)
    assert code in ("AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently")
    assert message == ("You must wait 60 seconds after deleting a queue before you can create "
                       "another with the same name.")
    nubo_server.advance_clock(61)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert attributes_of(sqs, url, "ApproximateNumberOfMessages") == {
        "ApproximateNumberOfMessages": "0"}
    sqs.delete_queue(QueueUrl=url)


def test_tags(client, make_queue):
    name = unique()
    url = client.create_queue(QueueName=name, tags={"team": "a", "env": "dev"})["QueueUrl"]
    assert client.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "dev"}
    client.tag_queue(QueueUrl=url, Tags={"env": "prod", "cost": "1"})
    client.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert client.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "prod", "cost": "1"}
    client.untag_queue(QueueUrl=url, TagKeys=["env", "cost"])
    assert "Tags" not in client.list_queue_tags(QueueUrl=url)
    client.delete_queue(QueueUrl=url)


def test_add_and_remove_permission_edit_the_policy(client, make_queue):
    url = make_queue(client=client)
    arn = attributes_of(client, url, "QueueArn")["QueueArn"]
    client.add_permission(QueueUrl=url, Label="send", AWSAccountIds=["111122223333"],
                          Actions=["SendMessage"])
    client.add_permission(QueueUrl=url, Label="both", AWSAccountIds=["111122223333",
                                                                     "444455556666"],
                          Actions=["ReceiveMessage", "DeleteMessage"])
    policy = json.loads(attributes_of(client, url, "Policy")["Policy"])
    assert policy["Statement"] == [
        {"Sid": "send", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
         "Action": "SQS:SendMessage", "Resource": arn},
        {"Sid": "both", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam::111122223333:root",
                               "arn:aws:iam::444455556666:root"]},
         "Action": ["SQS:ReceiveMessage", "SQS:DeleteMessage"], "Resource": arn}]
    with pytest.raises(ClientError) as raised:
        client.add_permission(QueueUrl=url, Label="send", AWSAccountIds=["111122223333"],
                              Actions=["SendMessage"])
    assert error_of(raised)[0] == "InvalidParameterValue"
    with pytest.raises(ClientError) as raised:
        client.add_permission(QueueUrl=url, Label="bad", AWSAccountIds=["111122223333"],
                              Actions=["Fly"])
    assert error_of(raised)[1].startswith("Value SQS:Fly for parameter ActionName is invalid.")
    client.remove_permission(QueueUrl=url, Label="send")
    client.remove_permission(QueueUrl=url, Label="both")
    assert "Policy" not in attributes_of(client, url)
    with pytest.raises(ClientError) as raised:
        client.remove_permission(QueueUrl=url, Label="send")
    assert error_of(raised)[0] == "InvalidParameterValue"


def test_accounts_and_regions_are_isolated(sqs, other_account_sqs, make_queue, make_client):
    url = make_queue()
    name = url.rsplit("/", 1)[1]
    with pytest.raises(ClientError):
        other_account_sqs.get_queue_url(QueueName=name)
    assert url not in other_account_sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    # Naming the owner reaches another account's queue (policies are enforced later)
    assert other_account_sqs.get_queue_url(
        QueueName=name, QueueOwnerAWSAccountId="000000000000")["QueueUrl"] == url
    west = make_client("sqs", region_name="us-west-2")
    with pytest.raises(ClientError):
        west.get_queue_url(QueueName=name)
    west_url = west.create_queue(QueueName=name)["QueueUrl"]
    assert "us-west-2" in west_url and west_url != url
    west.delete_queue(QueueUrl=west_url)
