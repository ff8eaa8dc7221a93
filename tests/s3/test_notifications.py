"""S3 event notifications delivered to SQS: the configuration's validation (events, filters,
overlaps, destinations), the s3:TestEvent, the event JSON of every operation that publishes,
and, under IAM enforcement, the queue policy deciding whether S3 may send."""

from __future__ import annotations

import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import connector, error_of, private_server
from tests.s3.conftest import empty_and_delete, unique
from tests.s3.test_post import post_form

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _queue(sqs, name=None):
    url = sqs.create_queue(QueueName=name or unique("events"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return url, arn


def _messages(sqs, url, count, wait=5.0):
    found = []
    deadline = time.monotonic() + wait
    while len(found) < count and time.monotonic() < deadline:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                    WaitTimeSeconds=1).get("Messages", [])
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            found.append(json.loads(message["Body"]))
    return found


def _records(sqs, url, count):
    messages = _messages(sqs, url, count)
    records = [r for m in messages for r in m.get("Records", [])]
    assert len(records) == count, messages
    return records


def _configure(s3, bucket, arn, events, rules=None, config_id="cfg"):
    entry = {"Id": config_id, "QueueArn": arn, "Events": events}
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": [{"Name": n, "Value": v}
                                                   for n, v in rules]}}
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [entry]})


@pytest.fixture
def queue(sqs):
    url, arn = _queue(sqs)
    yield url, arn
    sqs.delete_queue(QueueUrl=url)


def test_test_event_and_object_created_put(s3, sqs, bucket, queue):
    url, arn = queue
    _configure(s3, bucket, arn, ["s3:ObjectCreated:*"])
    test_event = _messages(sqs, url, 1)[0]
    assert test_event["Service"] == "Amazon S3" and test_event["Event"] == "s3:TestEvent"
    assert test_event["Bucket"] == bucket and ISO_MS.fullmatch(test_event["Time"])
    assert test_event["RequestId"] and test_event["HostId"]

    put = s3.put_object(Bucket=bucket, Key="dir/my file+ü.txt", Body=b"hello")
    record = _records(sqs, url, 1)[0]
    assert record["eventVersion"] == "2.1" and record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "us-east-1" and ISO_MS.fullmatch(record["eventTime"])
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["userIdentity"]["principalId"]
    assert record["requestParameters"]["sourceIPAddress"] == "127.0.0.1"
    assert record["responseElements"]["x-amz-request-id"] == \
        put["ResponseMetadata"]["RequestId"]
    assert record["responseElements"]["x-amz-id-2"]
    s3_part = record["s3"]
    assert s3_part["s3SchemaVersion"] == "1.0" and s3_part["configurationId"] == "cfg"
    assert s3_part["bucket"]["name"] == bucket
    assert s3_part["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert s3_part["bucket"]["ownerIdentity"]["principalId"]
    obj = s3_part["object"]
    assert obj["key"] == "dir/my+file%2B%C3%BC.txt"
    assert obj["size"] == 5 and obj["eTag"] == put["ETag"].strip('"')
    assert "versionId" not in obj and re.fullmatch(r"[0-9A-F]{18}", obj["sequencer"])


def test_created_copy_multipart_post_and_removed(s3, sqs, nubo_server, bucket, queue):
    url, arn = queue
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:Copy",
                                                              "s3:ObjectCreated:Post",
                                                              "s3:ObjectCreated:Complete"
                                                              "MultipartUpload",
                                                              "s3:ObjectRemoved:*"]}]})
    _messages(sqs, url, 1)  # the test event
    s3.put_object(Bucket=bucket, Key="src", Body=b"x" * 10)  # Put: not configured
    s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": "src"})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1,
                          Body=b"p" * 100)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload,
                                        MultipartUpload={"Parts": [
                                            {"PartNumber": 1, "ETag": part["ETag"]}]})
    # the form's policy expires by the server's clock, which other tests move on
    ahead = int(nubo_server.get("/_nubo/clock")["offset"])
    form = s3.generate_presigned_post(bucket, "posted", ExpiresIn=600 + max(ahead, 0))
    status, _, body = post_form(form["url"], form["fields"], "posted", b"form data")
    assert status == 204, body
    s3.delete_object(Bucket=bucket, Key="src")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "copied"}]})
    records = _records(sqs, url, 5)
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records] == [
        ("ObjectCreated:Copy", "copied"), ("ObjectCreated:CompleteMultipartUpload", "big"),
        ("ObjectCreated:Post", "posted"), ("ObjectRemoved:Delete", "src"),
        ("ObjectRemoved:Delete", "copied")]
    assert records[2]["s3"]["object"]["size"] == 9
    assert records[2]["userIdentity"]["principalId"] == \
        records[0]["userIdentity"]["principalId"]  # the form's signer
    assert records[1]["s3"]["object"]["eTag"] == done["ETag"].strip('"')
    assert records[1]["s3"]["object"]["size"] == 100
    assert "size" not in records[3]["s3"]["object"]
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert config["QueueConfigurations"][0]["Id"]  # S3 names a configuration without one
    sequencers = [r["s3"]["object"]["sequencer"] for r in records]
    assert len(set(sequencers)) == 5
    assert sequencers == sorted(sequencers)


def test_versioned_bucket_events_carry_version_ids(s3, sqs, bucket, queue):
    url, arn = queue
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    _configure(s3, bucket, arn, ["s3:ObjectCreated:Put", "s3:ObjectRemoved:*",
                                 "s3:ObjectTagging:*", "s3:ObjectAcl:Put"])
    _messages(sqs, url, 1)
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["VersionId"]
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [
        {"Key": "a", "Value": "b"}]})
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="private")
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=version)
    records = _records(sqs, url, 6)
    assert [(r["eventName"], r["s3"]["object"].get("versionId")) for r in records] == [
        ("ObjectCreated:Put", version), ("ObjectTagging:Put", version),
        ("ObjectTagging:Delete", version), ("ObjectAcl:Put", version),
        ("ObjectRemoved:DeleteMarkerCreated", marker), ("ObjectRemoved:Delete", version)]
    assert [r["eventVersion"] for r in records] == ["2.1", "2.3", "2.3", "2.3", "2.1", "2.1"]


def test_filters_and_separate_configurations(s3, sqs, bucket, queue):
    url, arn = queue
    other_url, other_arn = _queue(sqs)
    try:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [
                {"Id": "images", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "img/"},
                                                    {"Name": "Suffix", "Value": ".jpg"}]}}},
                {"Id": "logs", "QueueArn": other_arn, "Events": ["s3:ObjectCreated:Put"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "Prefix",
                                                     "Value": "logs/"}]}}}]})
        _messages(sqs, url, 1), _messages(sqs, other_url, 1)
        for key in ("img/a.jpg", "img/a.png", "doc/a.jpg", "logs/x", "img/b.jpg"):
            s3.put_object(Bucket=bucket, Key=key, Body=b"1")
        assert [r["s3"]["object"]["key"] for r in _records(sqs, url, 2)] == \
            ["img/a.jpg", "img/b.jpg"]
        logs = _records(sqs, other_url, 1)
        assert logs[0]["s3"]["object"]["key"] == "logs/x"
        assert logs[0]["s3"]["configurationId"] == "logs"
        stored = s3.get_bucket_notification_configuration(Bucket=bucket)
        rules = stored["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"]
        assert rules == [{"Name": "Prefix", "Value": "img/"}, {"Name": "Suffix", "Value": ".jpg"}]
        assert _messages(sqs, url, 1, wait=1) == []  # nothing else arrived
    finally:
        sqs.delete_queue(QueueUrl=other_url)


def test_configuration_errors(s3, sqs, bucket, queue):
    _, arn = queue

    def refused(config):
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_notification_configuration(Bucket=bucket,
                                                     NotificationConfiguration=config)
        return caught

    def rules(*pairs):
        return {"Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in pairs]}}

    caught = refused({"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                                               "Filter": rules(("middle", "x"))}]})
    assert error_of(caught) == ("InvalidArgument",
                                "filter rule name must be either prefix or suffix", 400)
    caught = refused({"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                                               "Filter": rules(("prefix", "a"),
                                                               ("Prefix", "b"))}]})
    assert error_of(caught)[1] == "Cannot specify more than one prefix rule in a filter."
    caught = refused({"QueueConfigurations": [
        {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": rules(("prefix", "a/"))},
        {"QueueArn": arn, "Events": ["s3:ObjectCreated:Put"],
         "Filter": rules(("prefix", "a/b"))}]})
    assert error_of(caught) == ("InvalidArgument", "Configurations overlap. Configurations on "
                                "the same bucket cannot share a common event type.", 400)
    # disjoint prefixes, or different events, do not overlap
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": rules(("prefix", "a/"))},
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:Put"],
             "Filter": rules(("prefix", "b/"))},
            {"QueueArn": arn, "Events": ["s3:ObjectRemoved:*"]}]})
    caught = refused({"QueueConfigurations": [
        {"QueueArn": arn.rsplit(":", 1)[0] + ":missing", "Events": ["s3:ObjectCreated:*"]}]})
    code, message, status = error_of(caught)
    assert (code, message, status) == ("InvalidArgument", "Unable to validate the following "
                                       "destination configurations", 400)
    body = caught.value.response["Error"]
    assert body["ArgumentName1"] == arn.rsplit(":", 1)[0] + ":missing"
    assert body["ArgumentValue1"] == "The destination queue does not exist"
    caught = refused({"QueueConfigurations": [{"QueueArn": arn,
                                               "Events": ["s3:ObjectCreated:Bogus"]}]})
    assert error_of(caught) == ("InvalidArgument", "The event is not supported for "
                                "notifications", 400)
    elsewhere = arn.replace(":us-east-1:", ":us-west-2:")
    caught = refused({"QueueConfigurations": [{"QueueArn": elsewhere,
                                               "Events": ["s3:ObjectCreated:*"]}]})
    assert caught.value.response["Error"]["ArgumentValue1"] == (
        "The notification destination service region is not valid for the bucket location "
        "constraint")
    topic = "arn:aws:sns:us-east-1:000000000000:topic"
    caught = refused({"TopicConfigurations": [{"TopicArn": topic,
                                               "Events": ["s3:ObjectCreated:*"]}]})
    assert error_of(caught)[1] == "Unable to validate the following destination configurations"
    assert caught.value.response["Error"]["ArgumentName1"] == topic
    function = "arn:aws:lambda:us-east-1:000000000000:function:handler"
    caught = refused({"QueueConfigurations": [{"QueueArn": arn,
                                               "Events": ["s3:ObjectCreated:*"]}],
                      "LambdaFunctionConfigurations": [{"LambdaFunctionArn": function,
                                                        "Events": ["s3:ObjectRemoved:*"]}]})
    failed = caught.value.response["Error"]
    assert (failed["ArgumentName1"], failed["ArgumentValue1"]) == (
        function, f"Not authorized to invoke function [{function}]")
    assert "ArgumentName2" not in failed  # the queue passed
    # a refused configuration leaves the previous one in place
    stored = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert len(stored["QueueConfigurations"]) == 3
    # validation skipped on request; EventBridge kept
    s3.put_bucket_notification_configuration(Bucket=bucket, SkipDestinationValidation=True,
                                             NotificationConfiguration={
                                                 "TopicConfigurations": [{
                                                     "TopicArn": topic,
                                                     "Events": ["s3:ObjectCreated:*"]}],
                                                 "EventBridgeConfiguration": {}})
    stored = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert stored["TopicConfigurations"][0]["TopicArn"] == topic
    assert "EventBridgeConfiguration" in stored
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


def test_lifecycle_expiration_and_restore_events(s3, sqs, nubo_server, bucket, queue):
    url, arn = queue
    _configure(s3, bucket, arn, ["s3:LifecycleExpiration:*", "s3:ObjectRestore:*"])
    _messages(sqs, url, 1)
    s3.put_object(Bucket=bucket, Key="cold", Body=b"ice", StorageClass="GLACIER")
    s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 1})
    post, completed = _records(sqs, url, 2)
    assert post["eventName"] == "ObjectRestore:Post"
    assert completed["eventName"] == "ObjectRestore:Completed"
    restore = completed["glacierEventData"]["restoreEventData"]
    assert restore["lifecycleRestoreStorageClass"] == "GLACIER"
    assert ISO_MS.fullmatch(restore["lifecycleRestorationExpiryTime"])
    s3.put_object(Bucket=bucket, Key="old", Body=b"x")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "expire", "Filter": {"Prefix": "old"}, "Status": "Enabled",
         "Expiration": {"Days": 1}}]})
    nubo_server.advance_clock(2 * 86_400)
    records = {r["eventName"]: r for r in _records(sqs, url, 2)}
    assert set(records) == {"LifecycleExpiration:Delete", "ObjectRestore:Delete"}
    ended = records["ObjectRestore:Delete"]  # the restored copy's days are over
    assert (ended["s3"]["object"]["key"], ended["eventVersion"]) == ("cold", "2.3")
    assert "Restore" not in s3.head_object(Bucket=bucket, Key="cold")
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="cold")
    assert error_of(caught)[0] == "InvalidObjectState"
    record = records["LifecycleExpiration:Delete"]
    assert record["eventVersion"] == "2.3"
    assert record["userIdentity"]["principalId"] == "s3.amazonaws.com"
    assert record["requestParameters"]["sourceIPAddress"] == "s3.amazonaws.com"
    assert record["s3"]["object"]["key"] == "old"


def test_deleted_queue_loses_events_without_failing_writes(s3, sqs, bucket):
    url, arn = _queue(sqs)
    _configure(s3, bucket, arn, ["s3:ObjectCreated:*"])
    sqs.delete_queue(QueueUrl=url)
    s3.put_object(Bucket=bucket, Key="still-works", Body=b"ok")
    assert s3.get_object(Bucket=bucket, Key="still-works")["Body"].read() == b"ok"


# --- under IAM enforcement: the queue policy decides ------------------------------------------

@pytest.fixture(scope="module")
def enforced():
    with private_server("--iam", "enforce") as server:
        yield connector(server)


def test_queue_policy_decides_under_enforcement(enforced):
    s3, sqs = enforced("s3"), enforced("sqs")
    bucket = unique()
    s3.create_bucket(Bucket=bucket)
    url, arn = _queue(sqs)
    try:
        with pytest.raises(ClientError) as caught:
            _configure(s3, bucket, arn, ["s3:ObjectCreated:*"])
        assert caught.value.response["Error"]["ArgumentValue1"] == \
            "Permissions on the destination queue do not allow S3 to publish notifications " \
            "from this bucket"
        wrong_source = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": arn,
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::another-bucket"}}}]}
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(wrong_source)})
        with pytest.raises(ClientError) as caught:
            _configure(s3, bucket, arn, ["s3:ObjectCreated:*"])
        assert error_of(caught)[0] == "InvalidArgument"
        allowed = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": arn,
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"},
                          "StringEquals": {"aws:SourceAccount": "000000000000"}}}]}
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(allowed)})
        _configure(s3, bucket, arn, ["s3:ObjectCreated:*"])
        assert _messages(sqs, url, 1)[0]["Event"] == "s3:TestEvent"
        s3.put_object(Bucket=bucket, Key="k", Body=b"v")
        assert _records(sqs, url, 1)[0]["eventName"] == "ObjectCreated:Put"
    finally:
        empty_and_delete(s3, bucket)
        sqs.delete_queue(QueueUrl=url)


def test_cli_configures_and_uploads(aws_cli, s3, sqs, queue, tmp_path):
    url, arn = queue
    name = unique()
    aws_cli("s3", "mb", f"s3://{name}", check=False)
    try:
        aws_cli("s3api", "put-bucket-notification-configuration", "--bucket", name,
                "--notification-configuration", json.dumps({"QueueConfigurations": [
                    {"Id": "cli", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}))
        assert _messages(sqs, url, 1)[0]["Event"] == "s3:TestEvent"
        shown = aws_cli("s3api", "get-bucket-notification-configuration", "--bucket", name)
        assert shown["QueueConfigurations"][0]["QueueArn"] == arn
        (tmp_path / "report.csv").write_text("a,b\n")
        result = aws_cli("s3", "cp", str(tmp_path / "report.csv"), f"s3://{name}/in/report.csv",
                         check=False)
        assert result.returncode == 0, result.stderr
        record = _records(sqs, url, 1)[0]
        assert (record["eventName"], record["s3"]["object"]["key"],
                record["s3"]["configurationId"]) == ("ObjectCreated:Put", "in/report.csv", "cli")
    finally:
        empty_and_delete(s3, name)


def test_fifo_queue_is_not_a_destination(s3, sqs, bucket):
    """S3 event notifications cannot target a FIFO queue: the configuration is refused and
    nothing is stored."""
    url = sqs.create_queue(QueueName=unique("events") + ".fifo",
                           Attributes={"FifoQueue": "true"})["QueueUrl"]
    try:
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        with pytest.raises(ClientError) as caught:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
        assert error_of(caught) == ("InvalidArgument", "Unable to validate the following "
                                    "destination configurations", 400)
        assert caught.value.response["Error"]["ArgumentName1"] == arn
        assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(
            Bucket=bucket)
    finally:
        sqs.delete_queue(QueueUrl=url)
