"""Lifecycle storage-class transitions: their validation, and the sweeper moving current and
noncurrent versions colder (archived ones then needing RestoreObject), with the LifecycleTransition
event."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of
from tests.s3.conftest import unique

BIG = b"b" * (200 * 1024)


def _wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def _storage_class(s3, bucket, key):
    return s3.head_object(Bucket=bucket, Key=key).get("StorageClass", "STANDARD")


def _refused(s3, bucket, rule):
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={
            "Rules": [{"ID": "r", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", **rule}]})
    return error_of(caught)


def test_transition_validation(s3, bucket):
    assert _refused(s3, bucket, {"Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}]}) \
        == ("InvalidArgument", "'Days' in Transition action must be greater than or equal to 30 "
            "for storageClass 'STANDARD_IA'", 400)
    assert _refused(s3, bucket, {"NoncurrentVersionTransitions": [
        {"NoncurrentDays": 29, "StorageClass": "ONEZONE_IA"}]})[1] == \
        "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal " \
        "to 30 for storageClass 'ONEZONE_IA'"
    assert _refused(s3, bucket, {"Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
                                 "Expiration": {"Days": 30}}) == (
        "InvalidArgument", "'Days' in the Expiration action for filter '(prefix=logs/)' must be "
        "greater than 'Days' in the Transition action", 400)
    assert _refused(s3, bucket, {"Expiration": {"Date": datetime(2030, 1, 1, 12,
                                                                 tzinfo=timezone.utc)}}) == (
        "InvalidArgument", "'Date' must be at midnight GMT", 400)
    assert _refused(s3, bucket, {"Expiration": {"Days": 3, "ExpiredObjectDeleteMarker": True}}
                    )[1] == "Delete marker cannot be specified with Days or Date in a " \
        "Lifecycle Expiration Policy"
    response = s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, TransitionDefaultMinimumObjectSize="varies_by_storage_class",
        LifecycleConfiguration={"Rules": [
            {"ID": "ok", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 400},
             "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"},
                             {"Days": 0, "StorageClass": "GLACIER"}]}]})
    assert response["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    stored = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert stored["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    assert len(stored["Rules"][0]["Transitions"]) == 2


def test_transitions_applied_by_the_sweeper(s3, sqs, nubo_server, bucket):
    url = sqs.create_queue(QueueName=unique("transitions"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:LifecycleTransition"]}]})
    s3.put_object(Bucket=bucket, Key="archive/big", Body=BIG)
    s3.put_object(Bucket=bucket, Key="archive/small", Body=b"tiny")  # under 128 KiB: stays
    s3.put_object(Bucket=bucket, Key="deep/small", Body=b"tiny")  # the rule filters by size
    s3.put_object(Bucket=bucket, Key="other/big", Body=BIG)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "archive", "Filter": {"Prefix": "archive/"}, "Status": "Enabled",
         "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]},
        {"ID": "deep", "Filter": {"And": {"Prefix": "deep/", "ObjectSizeGreaterThan": 1}},
         "Status": "Enabled", "Transitions": [{"Days": 1, "StorageClass": "GLACIER"},
                                              {"Days": 1, "StorageClass": "DEEP_ARCHIVE"}]}]})
    nubo_server.advance_clock(2 * 86_400)
    _wait_for(lambda: _storage_class(s3, bucket, "archive/big") == "GLACIER")
    _wait_for(lambda: _storage_class(s3, bucket, "deep/small") == "DEEP_ARCHIVE")
    assert _storage_class(s3, bucket, "archive/small") == "STANDARD"
    assert _storage_class(s3, bucket, "other/big") == "STANDARD"
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed["archive/big"] == "GLACIER" and listed["other/big"] == "STANDARD"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="archive/big")
    assert error_of(caught)[0::2] == ("InvalidObjectState", 403)
    s3.restore_object(Bucket=bucket, Key="archive/big", RestoreRequest={"Days": 1})
    assert s3.get_object(Bucket=bucket, Key="archive/big")["Body"].read() == BIG
    events = []
    deadline = time.monotonic() + 5
    while len(events) < 2 and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=1).get("Messages", []):
            body = json.loads(message["Body"])
            events += body.get("Records", [])
    assert sorted((e["s3"]["object"]["key"], e["lifecycleEventData"]["transitionEventData"][
        "destinationStorageClass"]) for e in events) == [("archive/big", "GLACIER"),
                                                         ("deep/small", "DEEP_ARCHIVE")]
    assert all(e["eventName"] == "LifecycleTransition" and e["eventVersion"] == "2.3"
               for e in events)
    # objects written later become due later, and are moved then
    s3.put_object(Bucket=bucket, Key="archive/later", Body=BIG)
    nubo_server.advance_clock(2 * 86_400)
    _wait_for(lambda: _storage_class(s3, bucket, "archive/later") == "GLACIER")
    sqs.delete_queue(QueueUrl=url)


def test_noncurrent_versions_transition(s3, nubo_server, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=bucket, Key="k", Body=BIG)["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=BIG)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "old", "Filter": {}, "Status": "Enabled", "NoncurrentVersionTransitions": [
            {"NoncurrentDays": 1, "StorageClass": "GLACIER_IR"}]}]})
    nubo_server.advance_clock(2 * 86_400)

    def classes():
        return {v["VersionId"]: v["StorageClass"]
                for v in s3.list_object_versions(Bucket=bucket)["Versions"]}
    _wait_for(lambda: classes()[old] == "GLACIER_IR")
    assert list(classes().values()).count("STANDARD") == 1  # the current version stays
    assert _storage_class(s3, bucket, "k") == "STANDARD"


def test_rules_reach_past_versions_they_leave_alone(s3, nubo_server, bucket):
    """More old objects than a sweep reads at once, none of them the rule's, do not hide the
    rule's objects behind them."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket=bucket, Key=f"keep/{i:05d}", Body=b"k"),
                      range(1001)))
    s3.put_object(Bucket=bucket, Key="tmp/a", Body=b"t")
    s3.put_object(Bucket=bucket, Key="tmp/b", Body=b"t")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
         "Expiration": {"Days": 1}}]})
    nubo_server.advance_clock(2 * 86_400)
    _wait_for(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="tmp/")["KeyCount"] == 0)
    assert s3.list_objects_v2(Bucket=bucket, Prefix="keep/")["KeyCount"] == 1000  # a page


def test_newer_noncurrent_versions_kept(s3, nubo_server, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    versions = [s3.put_object(Bucket=bucket, Key="k", Body=f"v{i}".encode())["VersionId"]
                for i in range(5)]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "keep-two", "Filter": {}, "Status": "Enabled", "NoncurrentVersionExpiration": {
            "NoncurrentDays": 1, "NewerNoncurrentVersions": 2}}]})
    nubo_server.advance_clock(2 * 86_400)

    def listed():
        return [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]]
    _wait_for(lambda: len(listed()) == 3)
    assert listed() == versions[:1:-1]  # the current one and the two newest noncurrent
    # a newer version makes the oldest kept one go, once it is due
    versions.append(s3.put_object(Bucket=bucket, Key="k", Body=b"v5")["VersionId"])
    nubo_server.advance_clock(2 * 86_400)
    _wait_for(lambda: len(listed()) == 3)
    assert listed() == versions[:2:-1]
