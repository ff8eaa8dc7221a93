"""Parameter Store input rules: names and hierarchies, tiers and sizes, labels, policies,
allowed patterns and data types."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from nubo.core.errors import ServiceError
from nubo.protocols.patterns import java_pattern

MAX_NAME_LENGTH = 1011  # fully qualified; the model's 2048 includes AWS's internal prefix
MAX_HIERARCHY_LEVELS = 15
MAX_VALUE = {"Standard": 4096, "Advanced": 8192}
MAX_PARAMETERS = {"Standard": 10_000, "Advanced": 100_000}
MAX_VERSIONS = 100
MAX_LABELS_PER_VERSION = 10
MAX_LABEL_LENGTH = 100
PATTERN_SECONDS = 0.05  # the most an AllowedPattern may take to match a value
MAX_TAGS = 50
DATA_TYPES = ("text", "aws:ec2:image", "aws:ssm:integration")
_NAME = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
_LABEL = re.compile(r"^[a-zA-Z0-9_.\-]+$")
_AMI = re.compile(r"^ami-[0-9a-f]{8}([0-9a-f]{9})?$")
_RESERVED = ("aws", "ssm")
NAME_RULES = ('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If '
              "formed as a path, it can consist of sub-paths divided by slash symbol; each "
              "sub-path can be formed as a mix of letters, numbers and the following 3 "
              "symbols .-_")


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def check_name(name: str) -> None:
    bare = name.lstrip("/").lower()
    if (not _NAME.match(name) or bare.startswith(_RESERVED) or "//" in name
            or name.endswith("/") or ("/" in name and not name.startswith("/"))):
        raise validation_error(NAME_RULES)
    if len(name) > MAX_NAME_LENGTH:
        raise validation_error(f"Parameter name: {name} exceeds the maximum length of "
                               f"{MAX_NAME_LENGTH} characters.")
    if name.count("/") > MAX_HIERARCHY_LEVELS:
        raise ServiceError("HierarchyLevelLimitExceededException",
                           "A parameter name can include a maximum of 15 levels of hierarchy.")


def parent_of(name: str) -> str | None:
    """The hierarchy level a name sits in: "/a/b" -> "/a", "/a" -> "/", "a" -> None."""
    if not name.startswith("/"):
        return None
    return name.rsplit("/", 1)[0] or "/"


def check_path(path: str) -> str:
    """A GetParametersByPath path, normalized without its trailing slash ("/" stays)."""
    if not path.startswith("/"):
        raise validation_error('The parameter doesn\'t meet the parameter name requirements. '
                               'The parameter name must begin with a forward slash "/". It '
                               "can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). "
                               "It must use only letters, numbers, or the following symbols: "
                               ". (period), - (hyphen), _ (underscore). Special characters "
                               "are not allowed. All sub-paths, if specified, must use the "
                               'forward slash symbol "/". Valid example: /get/parameters2-/'
                               "by1./path0_.")
    if path.count("/") > MAX_HIERARCHY_LEVELS + 1:
        raise ServiceError("HierarchyLevelLimitExceededException",
                           "A parameter name can include a maximum of 15 levels of hierarchy.")
    return path.rstrip("/") or "/"


def choose_tier(requested: str | None, current: str | None, value: str,
                policies: list | None) -> str:
    """The tier a put lands in. Intelligent-Tiering picks Advanced only when it must; an
    Advanced parameter never goes back to Standard."""
    if requested == "Intelligent-Tiering":
        needs_advanced = len(value) > MAX_VALUE["Standard"] or bool(policies)
        tier = "Advanced" if needs_advanced or current == "Advanced" else "Standard"
    elif requested is None:  # the default tier; an existing parameter keeps its own
        tier = current or "Standard"
    else:
        tier = requested
    if tier == "Standard" and current == "Advanced":
        raise validation_error("This parameter uses the advanced-parameter tier. You can't "
                               "downgrade a parameter from the advanced-parameter tier to the "
                               "standard-parameter tier. If necessary, you can delete the "
                               "advanced parameter and recreate it as a standard parameter.")
    if len(value) > MAX_VALUE[tier]:
        if tier == "Standard":
            raise validation_error(
                "Standard tier parameters support a maximum parameter value of 4096 "
                "characters. To create a larger parameter value, upgrade the parameter to use "
                "the advanced-parameter tier. For more information, see https://docs.aws."
                "amazon.com/systems-manager/latest/userguide/parameter-store-advanced-"
                "parameters.html")
        raise validation_error("Advanced tier parameters support a maximum parameter value "
                               "of 8192 characters.")
    if policies and tier == "Standard":
        raise validation_error("Standard tier parameters don't support parameter policies. "
                               "To use parameter policies, upgrade the parameter to use the "
                               "advanced-parameter tier.")
    return tier


def limit_exceeded(tier: str) -> ServiceError:
    return ServiceError("ParameterLimitExceeded",
                        f"You have reached the maximum number of {tier.lower()} parameters "
                        f"for this AWS account and Region ({MAX_PARAMETERS[tier]}). To add "
                        "more parameters, either delete existing parameters or upgrade to "
                        "the advanced-parameter tier (charges apply).")


def check_value(value: str, allowed_pattern: str | None, data_type: str) -> None:
    if allowed_pattern:
        compiled = java_pattern(allowed_pattern)  # SSM's patterns are Java's
        if compiled is None:
            raise validation_error(f"Invalid AllowedPattern: {allowed_pattern}")
        try:
            matched = compiled.fullmatch(value, timeout=PATTERN_SECONDS) is not None
        except TimeoutError:  # a pattern that backtracks without end must not stall the server
            matched = False
        if not matched:
            raise ServiceError("ParameterPatternMismatchException", "Parameter value, cannot "
                               f"be validated against allowedPattern: {allowed_pattern}")
    if data_type not in DATA_TYPES:
        raise validation_error(f"The following data type is not supported: {data_type} (Data "
                               "type names are all lowercase.)")
    if data_type == "aws:ec2:image" and not _AMI.match(value):
        raise validation_error(f"Invalid formatted parameter value: {value}. The parameter "
                               "value must be an Amazon Machine Image ID such as "
                               "ami-12345678.")


def label_is_valid(label: str) -> bool:
    return (len(label) <= MAX_LABEL_LENGTH and bool(_LABEL.match(label))
            and not label[0].isdigit() and not label.lower().startswith(_RESERVED))


def parse_policies(text: str | None) -> tuple[list[dict], float | None]:
    """The stored form of a Policies document and the expiration time it sets, if any."""
    if text is None:
        return [], None
    try:
        policies = json.loads(text)
    except ValueError:
        raise ServiceError("InvalidPolicyTypeException", "The policies are not valid JSON.") \
            from None
    if not isinstance(policies, list):
        policies = [policies]
    stored, expires = [], None
    for policy in policies:
        kind = policy.get("Type") if isinstance(policy, dict) else None
        attributes = policy.get("Attributes") if isinstance(policy, dict) else None
        if not isinstance(attributes, dict):
            attributes = {}  # none to read: the policy's own error names what it needs
        if kind == "Expiration":
            expires = _timestamp(attributes.get("Timestamp"))
        elif kind in ("ExpirationNotification", "NoChangeNotification"):
            field = "Before" if kind == "ExpirationNotification" else "After"
            if not str(attributes.get(field, "")).isdigit() or \
                    attributes.get("Unit") not in ("Days", "Hours"):
                raise ServiceError("InvalidPolicyAttributeException",
                                   f"A policy of type {kind} needs {field} (a number) and "
                                   "Unit (Days or Hours).")
        else:
            raise ServiceError("InvalidPolicyTypeException",
                               f"The policy type {kind} is not supported.")
        stored.append({"PolicyText": json.dumps(policy, separators=(",", ":")),
                       "PolicyType": kind, "PolicyStatus": "Pending"})
    return stored, expires


def _timestamp(text) -> float:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise ServiceError("InvalidPolicyAttributeException", "The Expiration policy needs a "
                           "Timestamp in ISO 8601 format.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
