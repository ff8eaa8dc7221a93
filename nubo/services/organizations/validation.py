"""Organizations' errors (AWS's codes, reasons and messages), identifier syntax, tags and policy
documents of each policy type."""

from __future__ import annotations

import json
import re

from nubo.core.errors import ServiceError

MAX_TAGS = 50
# Maximum size of a policy document, in characters, per policy type (Organizations quotas).
MAX_CONTENT = {"SERVICE_CONTROL_POLICY": 5120, "RESOURCE_CONTROL_POLICY": 5120,
               "AISERVICES_OPT_OUT_POLICY": 2500}
DEFAULT_MAX_CONTENT = 10000
IAM_POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")

_IDS = {
    "account": re.compile(r"^\d{12}$"),
    "root": re.compile(r"^r-[0-9a-z]{4,32}$"),
    "ou": re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"),
    "policy": re.compile(r"^p-[0-9a-zA-Z_]{8,128}$"),
    "handshake": re.compile(r"^h-[0-9a-z]{8,32}$"),
    "create_account": re.compile(r"^car-[a-z0-9]{8,32}$"),
}
_SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$")
_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
                   "Condition", "Principal", "NotPrincipal"}


# -- errors -----------------------------------------------------------------------------------

def not_in_use() -> ServiceError:
    return ServiceError("AWSOrganizationsNotInUseException",
                        "Your account is not a member of an organization.")


def access_denied() -> ServiceError:
    return ServiceError("AccessDeniedException",
                        "You don't have permissions to access this resource.")


def account_not_found() -> ServiceError:
    return ServiceError("AccountNotFoundException", "You specified an account that doesn't exist.")


def policy_not_found() -> ServiceError:
    return ServiceError("PolicyNotFoundException", "You specified a policy that doesn't exist.")


def target_not_found() -> ServiceError:
    return ServiceError("TargetNotFoundException", "You specified a target that doesn't exist.")


def constraint(reason: str, message: str) -> ServiceError:
    return ServiceError("ConstraintViolationException", message, fields={"Reason": reason})


def invalid_input(reason: str, message: str) -> ServiceError:
    return ServiceError("InvalidInputException", message, fields={"Reason": reason})


def handshake_constraint(reason: str, message: str) -> ServiceError:
    return ServiceError("HandshakeConstraintViolationException", message,
                        fields={"Reason": reason})


def malformed_policy() -> ServiceError:
    return ServiceError("MalformedPolicyDocumentException",
                        "The provided policy document does not meet the requirements of the "
                        "specified policy type.")


def policy_type_not_enabled() -> ServiceError:
    return ServiceError("PolicyTypeNotEnabledException",
                        "This operation can be performed only for enabled policy types.")


def invalid_next_token() -> ServiceError:
    return invalid_input("INVALID_NEXT_TOKEN", "You specified an invalid value for nextToken.")


# -- values the model's enums leave to the service ----------------------------------------------

def check_service_enums(operation, params: dict) -> None:
    """The input members whose values patches.py leaves to the service (``nuboEnum``): an
    unknown policy type is INVALID_ENUM_POLICY_TYPE, a list holding an unknown value (States)
    INVALID_LIST_MEMBER, as the InvalidInputException reasons describe them."""
    shape = operation.input_shape
    for member, member_shape in (shape.members.items() if shape is not None else ()):
        value = params.get(member)
        if value is None:
            continue
        if member_shape.type_name == "list":
            allowed = _service_enum(member_shape.member)
            if allowed and any(item not in allowed for item in value):
                raise invalid_input("INVALID_LIST_MEMBER", "You provided a list to a parameter "
                                    "that contains at least one invalid value.")
        elif (allowed := _service_enum(member_shape)) and value not in allowed:
            raise invalid_input("INVALID_ENUM_POLICY_TYPE",
                                "You specified an invalid policy type string.")


def _service_enum(shape) -> tuple[str, ...]:
    return tuple(shape._shape_model.get("nuboEnum", ()))  # the patched model's raw shape


# -- identifiers ------------------------------------------------------------------------------

def kind_of(resource_id: str) -> str | None:
    """"account", "root", "ou" or "policy" for a well-formed id, else None."""
    for kind in ("account", "root", "ou", "policy"):
        if _IDS[kind].match(resource_id):
            return kind
    return None


def check_id(value: str, kind: str) -> str:
    if not _IDS[kind].match(value):
        if kind == "policy":
            raise invalid_input("INVALID_SYNTAX_POLICY_ID",
                                "You specified an invalid policy ID. Policy IDs must be "
                                "formatted as p- followed by 8 to 128 characters.")
        raise invalid_input("INVALID_PATTERN",
                            f"You specified an invalid value for {_LABELS[kind]}.")
    return value


_LABELS = {"account": "accountId", "root": "rootId", "ou": "organizationalUnitId",
           "policy": "policyId", "handshake": "handshakeId",
           "create_account": "createAccountRequestId"}


def check_target_id(value: str, allowed: tuple[str, ...] = ("account", "root", "ou")) -> str:
    """The kind of a parent, child or policy target id; InvalidInputException when malformed."""
    kind = kind_of(value)
    if kind not in allowed:
        raise invalid_input("INVALID_PATTERN_TARGET_ID",
                            "You specified a policy target ID that doesn't match the required "
                            "pattern.")
    return kind


def check_service_principal(principal: str) -> str:
    if not _SERVICE_PRINCIPAL.match(principal):
        raise invalid_input("UNRECOGNIZED_SERVICE_PRINCIPAL",
                            "You specified an unrecognized service principal.")
    return principal


# -- tags -------------------------------------------------------------------------------------

def merged_tags(current: list[dict], new: list[dict] | None) -> list[dict]:
    """``current`` with ``new`` applied (same key: new value), checked as TagResource does."""
    new = new or []
    keys = [tag["Key"] for tag in new]
    if len(set(keys)) != len(keys):
        raise invalid_input("DUPLICATE_TAG_KEY", "You specified duplicate tag keys.")
    if any(key.lower().startswith("aws:") for key in keys):
        raise invalid_input("INVALID_SYSTEM_TAGS_PARAMETER",
                            "You specified system tags (keys beginning with aws:), which you "
                            "can't create or modify.")
    tags = {tag["Key"]: tag["Value"] for tag in current}
    tags.update({tag["Key"]: tag.get("Value", "") for tag in new})
    if len(tags) > MAX_TAGS:
        raise constraint("MAX_TAG_LIMIT_EXCEEDED",
                         f"You have exceeded the maximum number of tags ({MAX_TAGS}) allowed "
                         "on a resource.")
    return [{"Key": key, "Value": value} for key, value in tags.items()]


# -- policy documents -------------------------------------------------------------------------

def check_content(policy_type: str, content: str) -> None:
    """Size and syntax of a policy of ``policy_type``: every policy is a JSON object; SCPs and
    RCPs are IAM policies (SCPs name no principal; customer RCPs only deny, to principal "*")."""
    if len(content) > MAX_CONTENT.get(policy_type, DEFAULT_MAX_CONTENT):
        raise constraint("POLICY_CONTENT_LIMIT_EXCEEDED",
                         "You have exceeded the maximum policy size.")
    try:
        document = json.loads(content)
    except ValueError:
        raise malformed_policy() from None
    if not isinstance(document, dict):
        raise malformed_policy()
    if policy_type in IAM_POLICY_TYPES:
        _check_iam_document(document, policy_type)


def _check_iam_document(document: dict, policy_type: str) -> None:
    if set(document) - {"Version", "Id", "Statement"} or "Statement" not in document:
        raise malformed_policy()
    if document.get("Version", "2012-10-17") not in ("2012-10-17", "2008-10-17"):
        raise malformed_policy()
    statements = document["Statement"]
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not statements:
        raise malformed_policy()
    for statement in statements:
        if not isinstance(statement, dict) or set(statement) - _STATEMENT_KEYS:
            raise malformed_policy()
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise malformed_policy()
        if ("Action" in statement) == ("NotAction" in statement):
            raise malformed_policy()
        if "Resource" in statement and "NotResource" in statement:
            raise malformed_policy()
        if policy_type == "SERVICE_CONTROL_POLICY":
            if "Principal" in statement or "NotPrincipal" in statement:
                raise malformed_policy()
        elif (statement["Effect"] != "Deny" or statement.get("Principal") != "*"
              or "NotPrincipal" in statement):
            raise malformed_policy()
