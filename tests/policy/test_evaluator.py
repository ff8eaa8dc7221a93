"""The evaluator, table-driven: the policy test cases P1-P37 of the study notes (seed_004 §3.5)
that concern evaluation alone, AWS's documented evaluation rules, and every condition operator.
End-to-end enforcement through real requests is tested in tests/iam_enforcement (P8-P11,
P15-P20, P23-P28, P33-P35, P37). P21 (VPC endpoint), P29 (SNS), P30 (Lambda), P31
(CloudFormation's iam:PassRole) and P32 (replication) are evaluated here until nubo has those
services or features."""

from __future__ import annotations

import pytest

from nubo.policy import AuthzRequest, PolicySet, Principal, evaluate, parse_policy

A, B = "111111111111", "222222222222"
USER = Principal(A, f"arn:aws:iam::{A}:user/alice", "user", user_id="AIDAALICE", name="alice")
ROOT = Principal(A, f"arn:aws:iam::{A}:root", "root", user_id=A)
ROLE_ARN = f"arn:aws:iam::{A}:role/app"
SESSION = Principal(A, f"arn:aws:sts::{A}:assumed-role/app/s1", "assumed-role",
                    user_id="AROAAPP:s1", name="app", role_arn=ROLE_ARN)
ANONYMOUS = Principal("", "*", "anonymous")
OBJECT = "arn:aws:s3:::bucket/key"
TOPIC = f"arn:aws:sns:us-east-1:{B}:alerts"
FUNCTION = f"arn:aws:lambda:us-east-1:{B}:function:worker"
S3_SERVICE = Principal(A, "s3.amazonaws.com", "service", name="s3.amazonaws.com")


def policy(*statements: dict) -> object:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action="s3:GetObject", resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="s3:GetObject", resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def grant(principal, action="s3:GetObject", effect="Allow", **extra) -> dict:
    return {"Effect": effect, "Principal": principal, "Action": action, "Resource": OBJECT,
            **extra}


def decide(principal=USER, action="s3:GetObject", arn=None, owner=None, context=None,
           **policies):
    arn = arn or {"sns": TOPIC, "lambda": FUNCTION, "iam": ROLE_ARN}.get(
        action.split(":")[0], OBJECT)
    request = AuthzRequest(principal, action, arn, owner, context or {})
    return evaluate(request, PolicySet(**policies))


CASES = [
    # id, principal, action, owner account, policies, allowed, (explicit, policy type) if denied
    ("P1 identity allows", USER, "s3:GetObject", None, dict(identity=[policy(allow())]),
     True, None),
    ("P2 deny in identity", USER, "s3:GetObject", None,
     dict(identity=[policy(allow(), deny())]), False, (True, "identity-based policy")),
    ("P2 deny in boundary", USER, "s3:GetObject", None,
     dict(identity=[policy(allow())], boundary=policy(allow("s3:*"), deny())), False,
     (True, "permissions boundary")),
    ("P2 deny in SCP", USER, "s3:GetObject", None,
     dict(identity=[policy(allow())], scps=[[policy(allow("*"), deny())]]), False,
     (True, "service control policy")),
    ("P2 deny in bucket policy", USER, "s3:GetObject", None,
     dict(identity=[policy(allow())], resource=policy(grant("*", effect="Deny"))), False,
     (True, "resource-based policy")),
    ("P3 boundary narrows", USER, "s3:PutObject", None,
     dict(identity=[policy(allow("s3:*"))], boundary=policy(allow("s3:GetObject"))), False,
     (False, "permissions boundary")),
    ("P4 boundary never grants", USER, "s3:GetObject", None,
     dict(boundary=policy(allow("s3:*"))), False, (False, "identity-based policy")),
    ("P5 bucket policy names the user, boundary elsewhere", USER, "s3:GetObject", None,
     dict(boundary=policy(allow("ec2:*")), resource=policy(grant({"AWS": USER.arn}))),
     True, None),
    ("P6 bucket policy names the role, boundary elsewhere", SESSION, "s3:GetObject", None,
     dict(boundary=policy(allow("ec2:*")), resource=policy(grant({"AWS": ROLE_ARN}))),
     False, (False, "permissions boundary")),
    ("P6 bucket policy names the role, no boundary", SESSION, "s3:GetObject", None,
     dict(resource=policy(grant({"AWS": ROLE_ARN}))), True, None),
    ("P7 bucket policy names the session", SESSION, "s3:GetObject", None,
     dict(boundary=policy(allow("ec2:*")), resource=policy(grant({"AWS": SESSION.arn}))),
     True, None),
    ("account principal only delegates", USER, "s3:GetObject", None,
     dict(resource=policy(grant({"AWS": A}))), False, (False, "identity-based policy")),
    ("P8 SCP deny beats admin", USER, "s3:DeleteBucket", None,
     dict(identity=[policy(allow("*"))],
          scps=[[policy(allow("*"))], [policy(allow("*"), deny("s3:DeleteBucket"))]]),
     False, (True, "service control policy")),
    ("P9 every level must allow", USER, "s3:ListAllMyBuckets", None,
     dict(identity=[policy(allow("*"))], scps=[[policy(allow("*"))], [policy(allow("ec2:*"))]]),
     False, (False, "service control policy")),
    ("P10 management account: no SCPs apply", USER, "s3:DeleteBucket", None,
     dict(identity=[policy(allow("*"))], scps=None), True, None),
    ("P11 member root bound by SCP", ROOT, "iam:CreateUser", None,
     dict(scps=[[policy(allow("*"), deny("iam:*"))]]), False, (True, "service control policy")),
    ("root allowed in own account", ROOT, "iam:CreateUser", None, dict(), True, None),
    ("P12 cross-account: identity only", USER, "s3:GetObject", B,
     dict(identity=[policy(allow())]), False, (False, "resource-based policy")),
    ("P13 cross-account: resource only", USER, "s3:GetObject", B,
     dict(resource=policy(grant({"AWS": USER.arn}))), False, (False, "identity-based policy")),
    ("P14 cross-account: both", USER, "s3:GetObject", B,
     dict(identity=[policy(allow())], resource=policy(grant({"AWS": USER.arn}))), True, None),
    ("cross-account: grant to the account root", USER, "s3:GetObject", B,
     dict(identity=[policy(allow())], resource=policy(grant({"AWS": f"arn:aws:iam::{A}:root"}))),
     True, None),
    ("P17 session policy narrows", SESSION, "s3:PutObject", None,
     dict(identity=[policy(allow("s3:*"))], session=[policy(allow("s3:GetObject"))]), False,
     (False, "session policy")),
    ("P17 session policy within", SESSION, "s3:GetObject", None,
     dict(identity=[policy(allow("s3:*"))], session=[policy(allow("s3:GetObject"))]), True,
     None),
    ("P23 key policy without account trust", USER, "kms:Decrypt", None,
     dict(identity=[policy(allow("kms:*"))], resource=policy(), resource_authoritative=True),
     False, (False, "resource-based policy")),
    ("P24 key policy trusts account: IAM decides (allowed)", USER, "kms:Encrypt", None,
     dict(identity=[policy(allow("kms:Encrypt"))],
          resource=policy(grant({"AWS": f"arn:aws:iam::{A}:root"}, action="kms:*")),
          resource_authoritative=True), True, None),
    ("P24 key policy trusts account: IAM decides (denied)", USER, "kms:Decrypt", None,
     dict(identity=[policy(allow("kms:Encrypt"))],
          resource=policy(grant({"AWS": f"arn:aws:iam::{A}:root"}, action="kms:*")),
          resource_authoritative=True), False, (False, "identity-based policy")),
    ("key policy naming the user directly", USER, "kms:Decrypt", None,
     dict(resource=policy(grant({"AWS": USER.arn}, action="kms:Decrypt")),
          resource_authoritative=True), True, None),
    # P21: a gateway endpoint's policy bounds requests through it; it never grants.
    ("P21 endpoint policy denies the bucket", USER, "s3:GetObject", None,
     dict(identity=[policy(allow())],
          endpoint=policy(grant("*", action="s3:*"),
                          grant("*", effect="Deny", action="s3:*",
                                Resource="arn:aws:s3:::bucket/*"))),
     False, (True, "VPC endpoint policy")),
    ("P21 endpoint policy allows other buckets only", USER, "s3:GetObject", None,
     dict(identity=[policy(allow())],
          endpoint=policy(grant("*", action="s3:*") | {"Resource": "arn:aws:s3:::other/*"})),
     False, (False, "VPC endpoint policy")),
    ("P21 endpoint policy allows, identity decides", USER, "s3:GetObject", None,
     dict(identity=[policy(allow())], endpoint=policy(grant("*", action="s3:*"))), True, None),
    ("P21 endpoint policy never grants", USER, "s3:GetObject", None,
     dict(endpoint=policy(grant("*", action="s3:*"))), False, (False, "identity-based policy")),
    ("P21 endpoint policy naming another principal", USER, "s3:GetObject", None,
     dict(identity=[policy(allow())],
          endpoint=policy(grant({"AWS": ROLE_ARN}, action="s3:*"))),
     False, (False, "VPC endpoint policy")),
    # P29: cross-account SNS Publish with a topic policy that allows account A.
    ("P29 topic policy allows A, A's user allowed by identity", USER, "sns:Publish", B,
     dict(identity=[policy(allow("sns:Publish"))],
          resource=policy(grant({"AWS": A}, action="sns:Publish") | {"Resource": TOPIC})),
     True, None),
    ("P29 topic policy allows A, A's root", ROOT, "sns:Publish", B,
     dict(resource=policy(grant({"AWS": A}, action="sns:Publish") | {"Resource": TOPIC})),
     True, None),
    ("P29 topic policy allows A, A's user without identity policy", USER, "sns:Publish", B,
     dict(resource=policy(grant({"AWS": A}, action="sns:Publish") | {"Resource": TOPIC})),
     False, (False, "identity-based policy")),
    # P30: Lambda Invoke across accounts needs AddPermission's resource policy.
    ("P30 invoke without AddPermission", ROOT, "lambda:InvokeFunction", B, dict(),
     False, (False, "resource-based policy")),
    ("P30 invoke after AddPermission(Principal=A)", ROOT, "lambda:InvokeFunction", B,
     dict(resource=policy(grant({"AWS": f"arn:aws:iam::{A}:root"},
                                action="lambda:InvokeFunction") | {"Resource": FUNCTION})),
     True, None),
    # P31: CreateStack with a RoleARN also needs iam:PassRole on that role.
    ("P31 cloudformation:* without iam:PassRole", USER, "iam:PassRole", None,
     dict(identity=[policy(allow("cloudformation:*"))]), False,
     (False, "identity-based policy")),
    ("P31 with iam:PassRole on the role", USER, "iam:PassRole", None,
     dict(identity=[policy(allow("cloudformation:*"), allow("iam:PassRole", ROLE_ARN))]),
     True, None),
    # P32: replication. The role's trust policy admits s3.amazonaws.com; the role's session
    # writes into the destination account's bucket only if its bucket policy names the role.
    ("P32 trust policy admits the S3 service", S3_SERVICE, "sts:AssumeRole", None,
     dict(resource=policy({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                           "Action": "sts:AssumeRole"}), resource_authoritative=True),
     True, None),
    ("P32 destination bucket policy lacks the role", SESSION, "s3:ReplicateObject", B,
     dict(identity=[policy(allow("s3:Replicate*"))]), False,
     (False, "resource-based policy")),
    ("P32 destination bucket policy names the role", SESSION, "s3:ReplicateObject", B,
     dict(identity=[policy(allow("s3:Replicate*"))],
          resource=policy(grant({"AWS": ROLE_ARN}, action="s3:Replicate*"))), True, None),
    ("root resets a bucket policy that denies everyone", ROOT, "s3:PutBucketPolicy", None,
     dict(resource=policy(grant("*", action="s3:*", effect="Deny"))), True, None),
    ("the same policy still denies root other actions", ROOT, "s3:GetObject", None,
     dict(resource=policy(grant("*", action="s3:*", effect="Deny"))), False,
     (True, "resource-based policy")),
    ("another account's root gets no such override", ROOT, "s3:PutBucketPolicy", B,
     dict(resource=policy(grant("*", action="s3:*", effect="Deny"))), False,
     (True, "resource-based policy")),
    ("root session: the task policy only denies (allowed)", ROOT, "sqs:SetQueueAttributes", None,
     dict(session=[policy({"Effect": "Deny", "NotAction": "sqs:SetQueueAttributes",
                           "Resource": "*"})]), True, None),
    ("root session: the task policy only denies (denied)", ROOT, "sqs:CreateQueue", None,
     dict(session=[policy({"Effect": "Deny", "NotAction": "sqs:SetQueueAttributes",
                           "Resource": "*"})]), False, (True, "session policy")),
    ("anonymous: public grant", ANONYMOUS, "s3:GetObject", B,
     dict(resource=policy(grant("*"))), True, None),
    ("anonymous: no grant", ANONYMOUS, "s3:GetObject", B,
     dict(resource=policy(grant({"AWS": USER.arn}))), False, (False, "resource-based policy")),
    ("NotAction allow", USER, "s3:GetObject", None,
     dict(identity=[policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]),
     True, None),
    ("NotAction excludes", USER, "iam:CreateUser", None,
     dict(identity=[policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]),
     False, (False, "identity-based policy")),
    ("NotResource", USER, "s3:GetObject", None,
     dict(identity=[policy({"Effect": "Allow", "Action": "s3:*",
                            "NotResource": "arn:aws:s3:::bucket/*"})]),
     False, (False, "identity-based policy")),
    ("NotPrincipal deny spares the named", USER, "s3:GetObject", None,
     dict(identity=[policy(allow())],
          resource=policy({"Effect": "Deny", "NotPrincipal": {"AWS": USER.arn},
                           "Action": "s3:*", "Resource": OBJECT})), True, None),
    ("NotPrincipal deny hits others", SESSION, "s3:GetObject", None,
     dict(identity=[policy(allow())],
          resource=policy({"Effect": "Deny", "NotPrincipal": {"AWS": USER.arn},
                           "Action": "s3:*", "Resource": OBJECT})), False,
     (True, "resource-based policy")),
    ("action wildcards are case-insensitive", USER, "s3:GetObject", None,
     dict(identity=[policy(allow("S3:get*"))]), True, None),
    ("resource wildcard", USER, "s3:GetObject", None,
     dict(identity=[policy(allow(resource="arn:aws:s3:::buck?t/*"))]), True, None),
    ("resource mismatch", USER, "s3:GetObject", None,
     dict(identity=[policy(allow(resource="arn:aws:s3:::other/*"))]), False,
     (False, "identity-based policy")),
]


@pytest.mark.parametrize("name,principal,action,owner,policies,allowed,denial", CASES,
                         ids=[c[0] for c in CASES])
def test_evaluation(name, principal, action, owner, policies, allowed, denial):
    decision = decide(principal, action, owner=owner, **policies)
    assert decision.allowed is allowed, decision.matched
    if denial is not None:
        assert (decision.explicit, decision.policy_type) == denial


def test_p20_revoked_sessions_by_token_issue_time():
    revoke = policy({"Effect": "Deny", "Action": "*", "Resource": "*",
                     "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-11-23T10:00:00Z"}}})
    identity = [policy(allow("s3:*")), revoke]
    old = decide(SESSION, context={"aws:tokenissuetime": "2026-11-23T09:00:00Z"}, identity=identity)
    new = decide(SESSION, context={"aws:tokenissuetime": "2026-11-23T10:30:00Z"}, identity=identity)
    assert (old.allowed, old.explicit) == (False, True)
    assert new.allowed


def test_p19_external_id_in_the_trust_policy():
    trust = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": "secret-1"}}})
    partner = Principal(B, f"arn:aws:iam::{B}:user/deployer", "user", name="deployer")
    own_side = [policy(allow("sts:AssumeRole"))]

    def assume(context: dict):
        return decide(partner, "sts:AssumeRole", ROLE_ARN, owner=A, context=context,
                      identity=own_side, resource=trust, resource_authoritative=True)

    assert not assume({}).allowed
    assert not assume({"sts:externalid": "wrong"}).allowed
    assert assume({"sts:externalid": "secret-1"}).allowed


def test_p28_cross_account_send_needs_the_queue_policy():
    queue = f"arn:aws:sqs:us-east-1:{B}:orders"
    identity = [policy(allow("sqs:SendMessage"))]
    denied = decide(USER, "sqs:SendMessage", queue, owner=B, identity=identity)
    assert (denied.allowed, denied.policy_type) == (False, "resource-based policy")
    queue_policy = policy({"Effect": "Allow", "Principal": {"AWS": A},
                           "Action": "sqs:SendMessage", "Resource": queue})
    assert decide(USER, "sqs:SendMessage", queue, owner=B, identity=identity,
                  resource=queue_policy).allowed


def test_p22_source_vpce_condition():
    bucket = policy(grant("*", action="s3:*"),
                    grant("*", effect="Deny", action="s3:*",
                          Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-123"}}))
    assert not decide(context={}, resource=bucket).allowed
    assert not decide(context={"aws:sourcevpce": "vpce-999"}, resource=bucket).allowed
    assert decide(context={"aws:sourcevpce": "vpce-123"}, resource=bucket).allowed


def test_p36_policy_variables_scope_to_own_user():
    own = policy(allow("iam:ChangePassword", resource="arn:aws:iam::*:user/${aws:username}"))
    context = {"aws:username": "alice"}
    assert decide(action="iam:ChangePassword", arn=f"arn:aws:iam::{A}:user/alice",
                  context=context, identity=[policy(allow("iam:*"))], boundary=own).allowed
    other = decide(action="iam:ChangePassword", arn=f"arn:aws:iam::{A}:user/bob",
                   context=context, identity=[policy(allow("iam:*"))], boundary=own)
    assert (other.allowed, other.policy_type) == (False, "permissions boundary")
    # No value for the variable: the statement matches nothing.
    assert not decide(action="iam:ChangePassword", arn=f"arn:aws:iam::{A}:user/alice",
                      identity=[own]).allowed


def test_variable_defaults_and_literals():
    tagged = policy(allow(resource="arn:aws:s3:::${aws:PrincipalTag/team, 'shared'}/*"))
    assert decide(arn="arn:aws:s3:::shared/x", identity=[tagged]).allowed
    assert decide(arn="arn:aws:s3:::red/x", context={"aws:principaltag/team": "red"},
                  identity=[tagged]).allowed
    star = policy(allow(resource="arn:aws:s3:::bucket/${*}"))
    assert decide(arn="arn:aws:s3:::bucket/*", identity=[star]).allowed
    assert not decide(arn="arn:aws:s3:::bucket/key", identity=[star]).allowed


def condition_holds(operator: str, key_values, context_value) -> bool:
    statement = allow(Condition={operator: {"k": key_values}})
    context = {} if context_value is None else {"k": context_value}
    return decide(context=context, identity=[policy(statement)]).allowed


@pytest.mark.parametrize("operator,values,actual,expected", [
    ("StringEquals", ["a", "b"], "b", True),
    ("StringEquals", "a", "A", False),
    ("StringEquals", "a", None, False),
    ("StringNotEquals", ["a", "b"], "c", True),
    ("StringNotEquals", ["a", "b"], "a", False),
    ("StringNotEquals", "a", None, True),
    ("StringEqualsIgnoreCase", "abc", "ABC", True),
    ("StringNotEqualsIgnoreCase", "abc", "ABC", False),
    ("StringLike", "ab*", "abc", True),
    ("StringLike", "a?c", "abc", True),
    ("StringLike", "a?c", "abbc", False),
    ("StringNotLike", "ab*", "xyz", True),
    ("StringEqualsIfExists", "a", None, True),
    ("StringEqualsIfExists", "a", "b", False),
    ("NumericLessThan", "10", "9", True),
    ("NumericLessThan", "10", "10", False),
    ("NumericLessThanEquals", "10", "10", True),
    ("NumericGreaterThan", "10", "11", True),
    ("NumericGreaterThanEquals", "10", "9.5", False),
    ("NumericEquals", "10", "10.0", True),
    ("NumericNotEquals", "10", "11", True),
    ("NumericEquals", "10", "ten", False),
    ("DateGreaterThan", "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z", True),
    ("DateLessThan", "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z", False),
    ("DateEquals", "2026-01-01T00:00:00Z", "1767225600", True),
    ("DateNotEquals", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", True),
    ("DateLessThanEquals", "2026-01-01", "2026-01-01T00:00:00Z", True),
    ("DateGreaterThanEquals", "2026-01-01T00:00:00Z", "2025-12-31T23:59:59Z", False),
    ("Bool", "true", "true", True),
    ("Bool", "true", "false", False),
    ("Bool", "false", None, False),
    ("BoolIfExists", "false", None, True),
    ("BinaryEquals", "QmluYXJ5", "QmluYXJ5", True),
    ("IpAddress", "203.0.113.0/24", "203.0.113.7", True),
    ("IpAddress", ["10.0.0.0/8", "2001:db8::/32"], "2001:db8::1", True),
    ("IpAddress", "203.0.113.0/24", "198.51.100.1", False),
    ("NotIpAddress", "203.0.113.0/24", "198.51.100.1", True),
    ("ArnLike", "arn:aws:sqs:*:111111111111:*", "arn:aws:sqs:us-east-1:111111111111:q", True),
    ("ArnLike", "arn:aws:sqs:*", "arn:aws:sqs:us-east-1:111111111111:q", False),
    ("ArnEquals", "arn:aws:sqs:us-east-1:111111111111:q",
     "arn:aws:sqs:us-east-1:111111111111:q", True),
    ("ArnNotEquals", "arn:aws:sqs:us-east-1:111111111111:q",
     "arn:aws:sqs:us-east-1:111111111111:r", True),
    ("ArnNotLike", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k", False),
    ("Null", "true", None, True),
    ("Null", "true", "x", False),
    ("Null", "false", "x", True),
    ("ForAnyValue:StringEquals", ["a", "b"], ["x", "b"], True),
    ("ForAnyValue:StringEquals", ["a", "b"], ["x", "y"], False),
    ("ForAnyValue:StringEquals", ["a"], None, False),
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "b"], True),
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "c"], False),
    ("ForAllValues:StringEquals", ["a"], None, True),
    ("ForAllValues:StringLike", ["team-*"], ["team-a", "team-b"], True),
    ("ForAnyValue:StringNotEquals", ["a"], ["a", "b"], True),
    ("NoSuchOperator", "a", "a", False),
])
def test_condition_operators(operator, values, actual, expected):
    assert condition_holds(operator, values, actual) is expected


def test_condition_keys_are_case_insensitive_and_blocks_and_together():
    statement = allow(Condition={"StringEquals": {"AWS:UserName": "alice"},
                                 "Bool": {"aws:SecureTransport": "true"}})
    assert decide(context={"aws:username": "alice", "aws:securetransport": "true"},
                  identity=[policy(statement)]).allowed
    assert not decide(context={"aws:username": "alice", "aws:securetransport": "false"},
                      identity=[policy(statement)]).allowed


def test_denial_messages():
    denied = decide(identity=[policy(allow("s3:PutObject"))])
    assert denied.reason("s3:GetObject") == \
        "because no identity-based policy allows the s3:GetObject action"
    explicit = decide(identity=[policy(deny())])
    assert explicit.reason("s3:GetObject") == "with an explicit deny in an identity-based policy"
    assert explicit.matched == ["identity-based policy #0 Deny"]
