"""STS identities. Until the IAM work lands, every caller is its account's root user."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallerIdentity:
    user_id: str
    account: str
    arn: str


def caller_identity(account_id: str, partition: str) -> CallerIdentity:
    # For root credentials AWS reports the account id as UserId and the account's root ARN.
    return CallerIdentity(account_id, account_id, f"arn:{partition}:iam::{account_id}:root")
