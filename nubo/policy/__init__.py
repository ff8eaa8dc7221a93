"""nubo's policy engine: AWS's policy language and evaluation logic, used for every
authorization decision (gateway requests, service-to-service calls, AssumeRole trust policies,
KMS key policies, IAM's policy simulator)."""

from nubo.policy.document import Policy, parse_policy
from nubo.policy.evaluate import (AuthzRequest, Decision, PolicySet, Principal, ResourcePolicy,
                                  evaluate)

__all__ = ["Policy", "parse_policy", "AuthzRequest", "Decision", "PolicySet", "Principal",
           "ResourcePolicy", "evaluate"]
