"""The request-level policy test cases of the study notes (seed_004 §3.5) not covered in
test_enforcement.py, end to end on a server started with ``--iam enforce --verify-signatures``:
presigned URLs (P25, P27), S3 Object Lock permissions (P33-P35), GetCallerIdentity under an
explicit deny (P37), and KMS ReEncrypt, which needs both keys' permissions."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config

from tests.iam_enforcement.test_enforcement import (ACCOUNT, REGION, allow, create_role,
                                                    error_of, new_user, trust)
from tests.organizations.conftest import create_account


def presigned_get(server, bucket: str, key: str, credentials: dict, expires: int = 3600) -> str:
    # Clients sign with real time; nubo's clock may be ahead (tests advance it).
    ahead = int(server.get("/_nubo/clock")["offset"])
    signer = boto3.client("s3", endpoint_url=server.endpoint, region_name=REGION,
                          config=Config(signature_version="s3v4"), **credentials)
    return signer.generate_presigned_url("get_object", ExpiresIn=expires + ahead,
                                         Params={"Bucket": bucket, "Key": key})


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_p25_presigned_url_follows_the_signers_current_permissions(iam, connect, server):
    """A presigned URL carries no permission of its own: once the signer loses s3:GetObject,
    the URL is refused."""
    s3 = connect("s3")
    s3.create_bucket(Bucket="p25-reports")
    s3.put_object(Bucket="p25-reports", Key="q3.txt", Body=b"numbers")
    new_user(iam, connect, "p25-user", allow("s3:GetObject", "arn:aws:s3:::p25-reports/*"))
    key = iam.create_access_key(UserName="p25-user")["AccessKey"]
    url = presigned_get(server, "p25-reports", "q3.txt", {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"]})
    assert fetch(url) == (200, b"numbers")
    iam.delete_user_policy(UserName="p25-user", PolicyName="p0")
    status, body = fetch(url)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert b"is not authorized to perform: s3:GetObject" in body


def test_p27_presigned_url_of_an_expired_session(iam, connect, server):
    """A URL signed with role credentials stops working when the session expires, even
    before the URL's own expiry: S3 answers 400 ExpiredToken (the notes' 403 is wrong)."""
    s3 = connect("s3")
    s3.create_bucket(Bucket="p27-reports")
    s3.put_object(Bucket="p27-reports", Key="q3.txt", Body=b"numbers")
    role_arn = create_role(iam, "p27-reader", trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
                           allow("s3:GetObject", "arn:aws:s3:::p27-reports/*"))
    credentials = connect("sts").assume_role(RoleArn=role_arn, RoleSessionName="p27",
                                             DurationSeconds=900)["Credentials"]
    url = presigned_get(server, "p27-reports", "q3.txt", {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"]}, expires=3600)
    assert fetch(url) == (200, b"numbers")
    server.advance_clock(901)
    status, body = fetch(url)
    assert status == 400
    assert b"<Code>ExpiredToken</Code>" in body
    assert b"<Message>The provided token has expired.</Message>" in body


@pytest.fixture(scope="module")
def locked_bucket(connect, server):
    s3 = connect("s3")
    s3.create_bucket(Bucket="p33-locked", ObjectLockEnabledForBucket=True)
    return "p33-locked"


def retain(server, days: int) -> datetime:
    now = server.get("/_nubo/clock")["now"]
    return datetime.fromtimestamp(now, timezone.utc) + timedelta(days=days)


def test_p33_governance_bypass_needs_the_header_and_the_permission(iam, connect, server,
                                                                  locked_bucket):
    s3 = connect("s3")
    version = s3.put_object(Bucket=locked_bucket, Key="governed", Body=b"v1",
                            ObjectLockMode="GOVERNANCE",
                            ObjectLockRetainUntilDate=retain(server, 1))["VersionId"]
    plain = new_user(iam, connect, "p33-plain", allow("s3:DeleteObjectVersion"))
    bypasser = new_user(iam, connect, "p33-bypass", allow(
        ["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"]))
    # Without the header, even a user allowed to bypass is refused by the lock.
    code, message = error_of(lambda: bypasser("s3").delete_object(
        Bucket=locked_bucket, Key="governed", VersionId=version))
    assert (code, message) == ("AccessDenied",
                               "Access Denied because object protected by object lock.")
    # The header without s3:BypassGovernanceRetention: the policy refuses.
    code, message = error_of(lambda: plain("s3").delete_object(
        Bucket=locked_bucket, Key="governed", VersionId=version, BypassGovernanceRetention=True))
    assert code == "AccessDenied"
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/p33-plain is not authorized to "
                       "perform: s3:BypassGovernanceRetention on resource: "
                       f'"arn:aws:s3:::{locked_bucket}/governed" because no identity-based '
                       "policy allows the s3:BypassGovernanceRetention action")
    # Deleting a version is s3:DeleteObjectVersion, not s3:DeleteObject.
    only_delete = new_user(iam, connect, "p33-delete", allow(
        ["s3:DeleteObject", "s3:BypassGovernanceRetention"]))
    code, message = error_of(lambda: only_delete("s3").delete_object(
        Bucket=locked_bucket, Key="governed", VersionId=version, BypassGovernanceRetention=True))
    assert code == "AccessDenied" and "s3:DeleteObjectVersion" in message
    bypasser("s3").delete_object(Bucket=locked_bucket, Key="governed", VersionId=version,
                                 BypassGovernanceRetention=True)
    assert error_of(lambda: s3.head_object(Bucket=locked_bucket, Key="governed",
                                           VersionId=version))[0] in ("404", "405")


def test_p34_compliance_mode_binds_even_the_root_user(connect, server, locked_bucket):
    s3 = connect("s3")  # the account's root user
    version = s3.put_object(Bucket=locked_bucket, Key="compliant", Body=b"v1",
                            ObjectLockMode="COMPLIANCE",
                            ObjectLockRetainUntilDate=retain(server, 2))["VersionId"]
    for call in (
            lambda: s3.delete_object(Bucket=locked_bucket, Key="compliant", VersionId=version,
                                     BypassGovernanceRetention=True),
            lambda: s3.put_object_retention(
                Bucket=locked_bucket, Key="compliant", VersionId=version,
                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": retain(server, 1)}),
            lambda: s3.put_object_retention(
                Bucket=locked_bucket, Key="compliant", VersionId=version,
                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": retain(server, 3)},
                BypassGovernanceRetention=True)):
        assert error_of(call) == ("AccessDenied",
                                  "Access Denied because object protected by object lock.")
    # Extending COMPLIANCE retention is allowed.
    s3.put_object_retention(Bucket=locked_bucket, Key="compliant", VersionId=version,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": retain(server, 5)})


def test_p35_lifting_a_legal_hold_needs_put_object_legal_hold(iam, connect, locked_bucket):
    s3 = connect("s3")
    s3.put_object(Bucket=locked_bucket, Key="held", Body=b"evidence",
                  ObjectLockLegalHoldStatus="ON")
    clerk = new_user(iam, connect, "p35-clerk", allow(["s3:GetObject",
                                                       "s3:GetObjectLegalHold"]))
    assert clerk("s3").get_object_legal_hold(Bucket=locked_bucket, Key="held")["LegalHold"] == \
        {"Status": "ON"}
    code, message = error_of(lambda: clerk("s3").put_object_legal_hold(
        Bucket=locked_bucket, Key="held", LegalHold={"Status": "OFF"}))
    assert code == "AccessDenied" and "s3:PutObjectLegalHold" in message
    iam.put_user_policy(UserName="p35-clerk", PolicyName="hold", PolicyDocument=json.dumps(
        allow("s3:PutObjectLegalHold", f"arn:aws:s3:::{locked_bucket}/*")))
    clerk("s3").put_object_legal_hold(Bucket=locked_bucket, Key="held",
                                      LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=locked_bucket, Key="held")["LegalHold"] == \
        {"Status": "OFF"}


def test_reading_a_version_needs_get_object_version(iam, connect, locked_bucket):
    s3 = connect("s3")
    version = s3.put_object(Bucket=locked_bucket, Key="versioned", Body=b"v1")["VersionId"]
    reader = new_user(iam, connect, "version-reader", allow("s3:GetObject"))
    assert reader("s3").get_object(Bucket=locked_bucket, Key="versioned")["Body"].read() == b"v1"
    code, message = error_of(lambda: reader("s3").get_object(
        Bucket=locked_bucket, Key="versioned", VersionId=version))
    assert code == "AccessDenied" and "s3:GetObjectVersion on resource" in message


def test_p37_get_caller_identity_under_an_explicit_deny(iam, connect):
    denied = new_user(iam, connect, "p37-denied", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "*", "Resource": "*"}]})
    assert denied("sts").get_caller_identity()["Arn"] == \
        f"arn:aws:iam::{ACCOUNT}:user/p37-denied"
    assert error_of(lambda: denied("sqs").list_queues())[1].endswith(
        "with an explicit deny in an identity-based policy")


def test_kms_re_encrypt_needs_both_keys(iam, connect):
    """ReEncrypt is kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the
    destination key, each under its own key policy."""
    kms = connect("kms")
    source = kms.create_key()["KeyMetadata"]["Arn"]
    destination = kms.create_key()["KeyMetadata"]["Arn"]
    blob = kms.encrypt(KeyId=source, Plaintext=b"payload")["CiphertextBlob"]
    rotator = new_user(iam, connect, "rotator", allow("kms:ReEncryptFrom", source))
    code, message = error_of(lambda: rotator("kms").re_encrypt(CiphertextBlob=blob,
                                                               DestinationKeyId=destination))
    assert code == "AccessDeniedException"
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/rotator is not authorized to "
                       f"perform: kms:ReEncryptTo on resource: {destination} because no "
                       "identity-based policy allows the kms:ReEncryptTo action")
    iam.put_user_policy(UserName="rotator", PolicyName="to", PolicyDocument=json.dumps(
        allow("kms:ReEncryptTo", destination)))
    rotated = rotator("kms").re_encrypt(CiphertextBlob=blob, DestinationKeyId=destination)
    assert (rotated["SourceKeyId"], rotated["KeyId"]) == (source, destination)
    assert kms.decrypt(CiphertextBlob=rotated["CiphertextBlob"])["Plaintext"] == b"payload"
    # Without kms:ReEncryptFrom on the source, the other direction is refused on the source.
    code, message = error_of(lambda: rotator("kms").re_encrypt(
        CiphertextBlob=rotated["CiphertextBlob"], DestinationKeyId=source))
    assert f"perform: kms:ReEncryptFrom on resource: {destination}" in message
    # A destination key whose policy does not trust the account refuses whatever IAM allows.
    locked = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalType": "Account"}}}]}),
        BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]["Arn"]
    iam.put_user_policy(UserName="rotator", PolicyName="to", PolicyDocument=json.dumps(
        allow("kms:ReEncryptTo", "*")))
    code, message = error_of(lambda: rotator("kms").re_encrypt(CiphertextBlob=blob,
                                                               DestinationKeyId=locked))
    assert code == "AccessDeniedException" and f"kms:ReEncryptTo on resource: {locked}" in \
        message
    # kms:ReEncryptOnSameKey: rotating under the same key only.
    same_key_only = new_user(iam, connect, "same-key-rotator", allow(
        ["kms:ReEncryptFrom", "kms:ReEncryptTo"], Condition={
            "Bool": {"kms:ReEncryptOnSameKey": "true"}}))
    assert same_key_only("kms").re_encrypt(CiphertextBlob=blob,
                                           DestinationKeyId=source)["KeyId"] == source
    assert error_of(lambda: same_key_only("kms").re_encrypt(
        CiphertextBlob=blob, DestinationKeyId=destination))[0] == "AccessDeniedException"


def test_assume_root_privileged_task_sessions(iam, connect):
    """AssumeRoot: an IAM principal of the management account gets a short session as a member
    account's root user, limited by the root task policy (here: unlock an SQS queue policy)."""
    orgs = connect("organizations")
    orgs.create_organization(FeatureSet="ALL")
    member = create_account(orgs)
    task = "arn:aws:iam::aws:policy/root-task/SQSUnlockQueuePolicy"
    operator = new_user(iam, connect, "root-operator", allow("sts:AssumeRoot", Condition={
        "StringEquals": {"sts:TaskPolicyArn": task}}))

    def assume(policy: str = task, duration: int = 900, who=operator):
        return who("sts").assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": policy},
                                      DurationSeconds=duration)["Credentials"]

    # Root sessions are off until the management account enables them.
    code, message = error_of(assume)
    assert code == "AccessDenied" and message == (
        f"User: arn:aws:iam::{ACCOUNT}:user/root-operator is not authorized to perform: "
        f"sts:AssumeRoot on resource: arn:aws:iam::{member}:root")
    orgs.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    iam.enable_organizations_root_sessions()
    # The operator's policy admits only the SQS task.
    other_task = "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy"
    code, message = error_of(lambda: assume(other_task))
    assert code == "AccessDenied" and "sts:AssumeRoot" in message
    admin = new_user(iam, connect, "root-admin", allow("sts:AssumeRoot"))
    code, message = error_of(lambda: assume("arn:aws:iam::aws:policy/AdministratorAccess",
                                            who=admin))
    assert (code, message) == ("ValidationError", "arn:aws:iam::aws:policy/AdministratorAccess "
                                                  "is not a valid root task policy ARN.")
    # The root user itself may not call AssumeRoot.
    assert error_of(lambda: assume(who=connect))[0] == "AccessDenied"

    credentials = assume()
    assert credentials["AccessKeyId"].startswith("ASIA")
    # TargetPrincipal may also be the member account's root ARN.
    by_arn = operator("sts").assume_root(TargetPrincipal=f"arn:aws:iam::{member}:root",
                                         TaskPolicyArn={"arn": task})["Credentials"]
    assert connect("sts", by_arn["AccessKeyId"], by_arn["SecretAccessKey"],
                   by_arn["SessionToken"]).get_caller_identity()["Arn"] == \
        f"arn:aws:iam::{member}:root"
    session = lambda service: connect(  # noqa: E731
        service, credentials["AccessKeyId"], credentials["SecretAccessKey"],
        credentials["SessionToken"])
    assert session("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{member}:root"
    # A queue of the member account whose policy locks everyone out, its root included.
    member_sqs = connect("sqs", member, "test")
    url = member_sqs.create_queue(QueueName="locked")["QueueUrl"]
    member_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
                                                "Action": "sqs:*", "Resource": "*"}]})})
    assert error_of(lambda: member_sqs.send_message(QueueUrl=url, MessageBody="x"))[0] == \
        "AccessDenied"
    # The task policy allows what unlocking needs (the root user may reset its queue's
    # policy whatever the policy says), and denies everything else.
    code, message = error_of(lambda: session("sqs").create_queue(QueueName="x"))
    assert code == "AccessDenied" and message.endswith(
        "with an explicit deny in a session policy")
    session("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    member_sqs.send_message(QueueUrl=url, MessageBody="unlocked")

    # A member account registered as IAM's delegated administrator may do the same.
    delegate = create_account(orgs, "delegate")
    delegate_iam = connect("iam", delegate, "test")
    helper = new_user(delegate_iam, connect, "helper", allow("sts:AssumeRoot"))
    assert error_of(lambda: assume(who=helper))[0] == "AccessDenied"
    orgs.register_delegated_administrator(AccountId=delegate,
                                          ServicePrincipal="iam.amazonaws.com")
    assert assume(who=helper)["AccessKeyId"].startswith("ASIA")


def test_web_identity_tokens_only_for_the_allowed_audiences(iam, connect):
    iam.enable_outbound_web_identity_federation()
    partner = new_user(iam, connect, "token-user", allow("sts:GetWebIdentityToken", Condition={
        "ForAllValues:StringEquals": {"sts:IdentityTokenAudience": ["https://partner.example"]},
        "StringEquals": {"sts:SigningAlgorithm": "ES384"},
        "NumericLessThanEquals": {"sts:DurationSeconds": "600"}}))
    assert partner("sts").get_web_identity_token(
        Audience=["https://partner.example"], SigningAlgorithm="ES384")["WebIdentityToken"]
    for request in ({"Audience": ["https://other.example"], "SigningAlgorithm": "ES384"},
                    {"Audience": ["https://partner.example"], "SigningAlgorithm": "RS256"},
                    {"Audience": ["https://partner.example"], "SigningAlgorithm": "ES384",
                     "DurationSeconds": 900}):
        code, message = error_of(lambda: partner("sts").get_web_identity_token(**request))
        assert code == "AccessDenied" and "sts:GetWebIdentityToken" in message


def test_access_advisor_counts_denied_attempts(iam, connect):
    """Service last accessed data includes attempts that were denied (AWS: "not just the
    successful ones")."""
    prober = new_user(iam, connect, "prober", allow("sqs:ListQueues"),
                      {"Version": "2012-10-17", "Statement": [
                          {"Effect": "Allow", "Action": "kms:ListKeys", "Resource": "*",
                           "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]})
    prober("sqs").list_queues()
    assert error_of(lambda: prober("kms").list_keys())[0] == "AccessDeniedException"
    job = iam.generate_service_last_accessed_details(
        Arn=f"arn:aws:iam::{ACCOUNT}:user/prober")["JobId"]
    services = {s["ServiceNamespace"]: s for s in iam.get_service_last_accessed_details(
        JobId=job)["ServicesLastAccessed"]}
    assert set(services) == {"sqs", "kms"}
    assert all(s["TotalAuthenticatedEntities"] == 1 and "LastAuthenticated" in s
               for s in services.values())


def test_resource_account_condition_keeps_requests_in_the_account(iam, connect):
    """A data-perimeter policy: aws:ResourceAccount must be the caller's own account, so a
    queue another account shares (its queue policy grants it) stays out of reach."""
    other = "246802468024"
    shared = connect("sqs", other, "test").create_queue(QueueName="shared-perimeter")["QueueUrl"]
    connect("sqs", other, "test").set_queue_attributes(QueueUrl=shared, Attributes={
        "Policy": json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sqs:SendMessage",
            "Resource": f"arn:aws:sqs:{REGION}:{other}:shared-perimeter"}]})})
    own = connect("sqs").create_queue(QueueName="own-perimeter")["QueueUrl"]
    inside = new_user(iam, connect, "perimeter", allow("sqs:SendMessage", Condition={
        "StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}))
    inside("sqs").send_message(QueueUrl=own, MessageBody="mine")
    code, message = error_of(lambda: inside("sqs").send_message(QueueUrl=shared,
                                                                MessageBody="theirs"))
    assert code == "AccessDenied" and "because no identity-based policy allows" in message
    iam.put_user_policy(UserName="perimeter", PolicyName="p0", PolicyDocument=json.dumps(
        allow("sqs:SendMessage")))
    inside("sqs").send_message(QueueUrl=shared, MessageBody="now allowed")


def test_sqs_batches_need_the_single_message_actions(iam, connect):
    """SendMessageBatch is sqs:SendMessage on the queue (there is no sqs:SendMessageBatch),
    as DeleteMessageBatch and ChangeMessageVisibilityBatch are their single actions."""
    url = connect("sqs").create_queue(QueueName="batches")["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:batches"
    sender = new_user(iam, connect, "batch-sender", allow(
        ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"], arn))
    sent = sender("sqs").send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "1"}, {"Id": "b", "MessageBody": "2"}])
    assert len(sent["Successful"]) == 2
    received = sender("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    handles = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
               for i, m in enumerate(received)]
    sender("sqs").change_message_visibility_batch(QueueUrl=url, Entries=[
        {**h, "VisibilityTimeout": 0} for h in handles])
    code, message = error_of(lambda: sender("sqs").delete_message_batch(QueueUrl=url,
                                                                        Entries=handles))
    assert code == "AccessDenied" and f"sqs:DeleteMessage on resource: {arn}" in message


def test_dynamodb_batches_transactions_and_partiql_need_item_actions(iam, connect):
    """Transactions need each item's own action on its table (dynamodb:PutItem,
    ConditionCheckItem, GetItem, ...), batches their action on every table they name, PartiQL
    statements dynamodb:PartiQLSelect/Insert/Update/Delete on the table."""
    ddb = connect("dynamodb")
    for name in ("orders", "audit"):
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
    clerk = new_user(iam, connect, "ddb-clerk", allow(
        ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:BatchWriteItem",
         "dynamodb:PartiQLInsert"], table))

    def put(table_name: str, key: str) -> dict:
        return {"Put": {"TableName": table_name, "Item": {"id": {"S": key}}}}

    clerk("dynamodb").transact_write_items(TransactItems=[put("orders", "o1")])
    assert clerk("dynamodb").transact_get_items(TransactItems=[
        {"Get": {"TableName": "orders", "Key": {"id": {"S": "o1"}}}}])["Responses"][0]["Item"]
    code, message = error_of(lambda: clerk("dynamodb").transact_write_items(TransactItems=[
        put("orders", "o2"), put("audit", "a1")]))
    assert code == "AccessDeniedException" and "dynamodb:PutItem on resource: " \
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/audit" in message
    code, message = error_of(lambda: clerk("dynamodb").transact_write_items(TransactItems=[
        {"ConditionCheck": {"TableName": "orders", "Key": {"id": {"S": "o1"}},
                            "ConditionExpression": "attribute_exists(id)"}}]))
    assert code == "AccessDeniedException" and "dynamodb:ConditionCheckItem" in message
    clerk("dynamodb").batch_write_item(RequestItems={
        "orders": [{"PutRequest": {"Item": {"id": {"S": "o3"}}}}]})
    code, message = error_of(lambda: clerk("dynamodb").batch_write_item(RequestItems={
        "orders": [{"PutRequest": {"Item": {"id": {"S": "o4"}}}}],
        "audit": [{"PutRequest": {"Item": {"id": {"S": "a2"}}}}]}))
    assert code == "AccessDeniedException" and "table/audit" in message
    clerk("dynamodb").execute_statement(Statement="INSERT INTO \"orders\" VALUE {'id': 'o5'}")
    code, message = error_of(lambda: clerk("dynamodb").execute_statement(
        Statement='SELECT * FROM "orders"'))
    assert code == "AccessDeniedException" and "dynamodb:PartiQLSelect" in message


def test_copying_an_object_needs_read_access_to_the_source(iam, connect):
    s3 = connect("s3")
    for bucket in ("copy-source", "copy-target"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="copy-source", Key="secret report.txt", Body=b"numbers")
    copier = new_user(iam, connect, "copier", allow("s3:PutObject", "arn:aws:s3:::copy-target/*"))
    source = {"Bucket": "copy-source", "Key": "secret report.txt"}
    code, message = error_of(lambda: copier("s3").copy_object(
        Bucket="copy-target", Key="copy.txt", CopySource=source))
    assert code == "AccessDenied" and message.startswith(
        f"User: arn:aws:iam::{ACCOUNT}:user/copier is not authorized to perform: s3:GetObject "
        'on resource: "arn:aws:s3:::copy-source/secret report.txt"')
    iam.put_user_policy(UserName="copier", PolicyName="read", PolicyDocument=json.dumps(
        allow("s3:GetObject", "arn:aws:s3:::copy-source/*")))
    copier("s3").copy_object(Bucket="copy-target", Key="copy.txt", CopySource=source)
    assert s3.get_object(Bucket="copy-target", Key="copy.txt")["Body"].read() == b"numbers"


def test_querying_an_index_is_authorized_on_the_index(iam, connect):
    connect("dynamodb").create_table(
        TableName="books", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "author", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-author", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "author", "KeyType": "HASH"}]}])
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/books"
    reader = new_user(iam, connect, "book-reader", allow("dynamodb:Query", table))
    query = {"TableName": "books", "KeyConditionExpression": "#k = :v",
             "ExpressionAttributeNames": {"#k": "id"},
             "ExpressionAttributeValues": {":v": {"S": "b1"}}}
    reader("dynamodb").query(**query)
    by_author = {**query, "IndexName": "by-author", "ExpressionAttributeNames": {"#k": "author"}}
    code, message = error_of(lambda: reader("dynamodb").query(**by_author))
    assert code == "AccessDeniedException" and f"on resource: {table}/index/by-author" in message
    iam.put_user_policy(UserName="book-reader", PolicyName="indexes", PolicyDocument=json.dumps(
        allow("dynamodb:Query", f"{table}/index/*")))
    assert reader("dynamodb").query(**by_author)["Count"] == 0


def test_writing_with_an_acl_or_tags_needs_their_permissions(iam, connect):
    connect("s3").create_bucket(Bucket="acl-writes")
    writer = new_user(iam, connect, "acl-writer", allow("s3:PutObject",
                                                        "arn:aws:s3:::acl-writes/*"))
    writer("s3").put_object(Bucket="acl-writes", Key="plain", Body=b"x")
    for extra, action in (({"ACL": "private"}, "s3:PutObjectAcl"),
                          ({"Tagging": "team=red"}, "s3:PutObjectTagging")):
        code, message = error_of(lambda: writer("s3").put_object(
            Bucket="acl-writes", Key="extra", Body=b"x", **extra))
        assert code == "AccessDenied" and f"perform: {action} on resource" in message
    # Creating a bucket with Object Lock also configures it.
    creator = new_user(iam, connect, "bucket-creator", allow("s3:CreateBucket"))
    code, message = error_of(lambda: creator("s3").create_bucket(
        Bucket="locked-by-creator", ObjectLockEnabledForBucket=True))
    assert code == "AccessDenied" and "s3:PutBucketObjectLockConfiguration" in message


def test_tagging_on_create_needs_the_tagging_permission(iam, connect):
    maker = new_user(iam, connect, "queue-maker", allow("sqs:CreateQueue"))
    maker("sqs").create_queue(QueueName="untagged-q")
    code, message = error_of(lambda: maker("sqs").create_queue(QueueName="tagged-q",
                                                               tags={"team": "red"}))
    assert code == "AccessDenied" and "sqs:TagQueue on resource" in message
    iam.put_user_policy(UserName="queue-maker", PolicyName="tag", PolicyDocument=json.dumps(
        allow("sqs:TagQueue")))
    maker("sqs").create_queue(QueueName="tagged-q", tags={"team": "red"})


def test_resources_named_by_their_arn(iam, connect):
    """Operations that name their resource by ARN (DynamoDB TagResource's ResourceArn) are
    authorized on that ARN."""
    ddb = connect("dynamodb")
    arns = [ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": "id",
                                                    "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])[
        "TableDescription"]["TableArn"] for name in ("tagged-mine", "tagged-theirs")]
    tagger = new_user(iam, connect, "table-tagger", allow(
        ["dynamodb:TagResource", "dynamodb:ListTagsOfResource"], arns[0]))
    tagger("dynamodb").tag_resource(ResourceArn=arns[0], Tags=[{"Key": "k", "Value": "v"}])
    assert tagger("dynamodb").list_tags_of_resource(ResourceArn=arns[0])["Tags"] == [
        {"Key": "k", "Value": "v"}]
    code, message = error_of(lambda: tagger("dynamodb").tag_resource(
        ResourceArn=arns[1], Tags=[{"Key": "k", "Value": "v"}]))
    assert code == "AccessDeniedException" and f"on resource: {arns[1]}" in message


def test_referer_and_user_agent_condition_keys(iam, connect, server):
    """aws:Referer (a bucket served only to pages of one site) and aws:UserAgent."""
    s3 = connect("s3")
    s3.create_bucket(Bucket="site-assets")
    s3.put_object(Bucket="site-assets", Key="logo.txt", Body=b"logo")
    s3.delete_public_access_block(Bucket="site-assets")
    s3.put_bucket_policy(Bucket="site-assets", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::site-assets/*",
            "Condition": {"StringLike": {"aws:Referer": "https://www.example.com/*"},
                          "StringNotLike": {"aws:UserAgent": "*BadBot*"}}}]}))
    url = f"{server.endpoint}/site-assets/logo.txt"

    def fetch_with(headers: dict) -> int:
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    assert fetch_with({"Referer": "https://www.example.com/home"}) == 200
    assert fetch_with({}) == 403
    assert fetch_with({"Referer": "https://evil.example/"}) == 403
    assert fetch_with({"Referer": "https://www.example.com/home",
                       "User-Agent": "BadBot/1.0"}) == 403
