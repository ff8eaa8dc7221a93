"""The single place where botocore's service models are patched for a server.

botocore's models are the client's view of AWS. Where that view is wrong or incomplete for the
server side, the fix is data here, never a code path elsewhere:

* ``SERVICE_PATCHES``: applied to the model every protocol reads (error traits, accepted
  protocols, namespaces, and the ``nubo`` metadata block of wire conventions below).
* ``nuboWireValue: True`` on a shape: the service keeps its values in their wire form, so
  responses write them as they are (documents.py; DynamoDB's AttributeValue).
* ``nuboEnum`` on a shape: its ``enum``, moved where validation does not check it, for a
  service that answers unknown values itself with its own error (Organizations' policy
  types).
* ``PROTOCOL_VIEWS``: applied only to the copy of the model used for one protocol (SQS's query
  wire names, which its JSON model lost and which would be wrong on the JSON wire).

The ``nubo`` metadata block (read through models.nubo_settings):
    jsonErrorTypePrefix  prefix of the JSON/CBOR ``__type`` (SQS: ``com.amazonaws.sqs#``)
    validation           "parameter": MissingParameter / InvalidParameterValue, first error only
                         (EC2-era query services); "reason": InvalidInputException with a
                         Reason (Organizations); default "coral": ValidationException(s)
    validateEnums        False where the service answers unknown enum values itself
                         (SQS: InvalidAttributeName, not a validation error)
    xmlErrorEnvelope     "Error" for S3's bare ``<Error>`` (default ``<ErrorResponse>``)
    virtualHostedLabel   the URI label a virtual-hosted name carries (S3: ``Bucket`` in
                         ``bucket.s3.localhost``); rest.request_path moves it into the path
"""

from __future__ import annotations

from typing import Any, Callable

# --- SQS -------------------------------------------------------------------------------------
# Legacy query codes and HTTP statuses of SQS's errors: the awsQueryError / httpError traits of
# the Smithy SQS model (as carried by the AWS SDK for JavaScript v3's generated schema). botocore's
# SQS model has no `error` traits, so without these an error would answer 400 with the shape name.
# Errors without an awsQueryError trait keep their shape name as the query code.
_SQS_ERRORS: dict[str, tuple[str | None, int]] = {
    "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
    "BatchRequestTooLong": ("AWS.SimpleQueueService.BatchRequestTooLong", 400),
    "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
    "InvalidAddress": ("InvalidAddress", 404),
    "InvalidAttributeName": (None, 400),
    "InvalidAttributeValue": (None, 400),
    "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
    "InvalidIdFormat": (None, 400),
    "InvalidMessageContents": (None, 400),
    "InvalidSecurity": ("InvalidSecurity", 403),
    "KmsAccessDenied": ("KMS.AccessDeniedException", 400),
    "KmsDisabled": ("KMS.DisabledException", 400),
    "KmsInvalidKeyUsage": ("KMS.InvalidKeyUsageException", 400),
    "KmsInvalidState": ("KMS.InvalidStateException", 400),
    "KmsNotFound": ("KMS.NotFoundException", 400),
    "KmsOptInRequired": ("KMS.OptInRequired", 403),
    "KmsThrottled": ("KMS.ThrottlingException", 400),
    "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
    "OverLimit": ("OverLimit", 403),
    "PurgeQueueInProgress": ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
    "QueueDeletedRecently": ("AWS.SimpleQueueService.QueueDeletedRecently", 400),
    "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
    "QueueNameExists": ("QueueAlreadyExists", 400),
    "ReceiptHandleIsInvalid": ("ReceiptHandleIsInvalid", 404),
    "RequestThrottled": ("RequestThrottled", 403),
    "ResourceNotFoundException": ("ResourceNotFoundException", 404),
    "TooManyEntriesInBatchRequest": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
    "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
}

# SQS query wire names (the xmlName / xmlFlattened traits of the Smithy SQS model): structure
# member -> name of its flattened list or map on the query wire (`Attribute.1.Name=...`).
_SQS_QUERY_MEMBERS: dict[str, dict[str, str]] = {
    "AddPermissionRequest": {"AWSAccountIds": "AWSAccountId", "Actions": "ActionName"},
    "ChangeMessageVisibilityBatchRequest": {"Entries": "ChangeMessageVisibilityBatchRequestEntry"},
    "ChangeMessageVisibilityBatchResult": {"Successful": "ChangeMessageVisibilityBatchResultEntry",
                                           "Failed": "BatchResultErrorEntry"},
    "CreateQueueRequest": {"Attributes": "Attribute", "tags": "Tag"},
    "DeleteMessageBatchRequest": {"Entries": "DeleteMessageBatchRequestEntry"},
    "DeleteMessageBatchResult": {"Successful": "DeleteMessageBatchResultEntry",
                                 "Failed": "BatchResultErrorEntry"},
    "GetQueueAttributesRequest": {"AttributeNames": "AttributeName"},
    "GetQueueAttributesResult": {"Attributes": "Attribute"},
    "ListDeadLetterSourceQueuesResult": {"queueUrls": "QueueUrl"},
    "ListMessageMoveTasksResult": {"Results": "ListMessageMoveTasksResultEntry"},
    "ListQueuesResult": {"QueueUrls": "QueueUrl"},
    "ListQueueTagsResult": {"Tags": "Tag"},
    "Message": {"Attributes": "Attribute", "MessageAttributes": "MessageAttribute"},
    "MessageAttributeValue": {"StringListValues": "StringListValue",
                              "BinaryListValues": "BinaryListValue"},
    "MessageSystemAttributeValue": {"StringListValues": "StringListValue",
                                    "BinaryListValues": "BinaryListValue"},
    # Both name lists travel as AttributeName.N on the query wire (one list in the old API).
    "ReceiveMessageRequest": {"AttributeNames": "AttributeName",
                              "MessageSystemAttributeNames": "AttributeName",
                              "MessageAttributeNames": "MessageAttributeName"},
    "ReceiveMessageResult": {"Messages": "Message"},
    "SendMessageBatchRequest": {"Entries": "SendMessageBatchRequestEntry"},
    "SendMessageBatchRequestEntry": {"MessageAttributes": "MessageAttribute",
                                     "MessageSystemAttributes": "MessageSystemAttribute"},
    "SendMessageBatchResult": {"Successful": "SendMessageBatchResultEntry",
                               "Failed": "BatchResultErrorEntry"},
    "SendMessageRequest": {"MessageAttributes": "MessageAttribute",
                           "MessageSystemAttributes": "MessageSystemAttribute"},
    "SetQueueAttributesRequest": {"Attributes": "Attribute"},
    "TagQueueRequest": {"Tags": "Tag"},
    "UntagQueueRequest": {"TagKeys": "TagKey"},
}
# Map shape -> (key name, value name) on the query wire.
_SQS_QUERY_MAPS = {
    "MessageBodyAttributeMap": ("Name", "Value"),
    "MessageBodySystemAttributeMap": ("Name", "Value"),
    "MessageSystemAttributeMap": ("Name", "Value"),
    "QueueAttributeMap": ("Name", "Value"),
    "TagMap": ("Key", "Value"),
}
_SQS_QUERY_LIST_MEMBERS = {"StringList": "StringListValue", "BinaryList": "BinaryListValue"}


def _patch_sqs(model: dict) -> None:
    metadata = model["metadata"]
    metadata["protocols"] = ["json", "query"]  # the old query API is still served
    metadata["xmlNamespace"] = "http://queue.amazonaws.com/doc/2012-11-05/"
    metadata["nubo"] = {"jsonErrorTypePrefix": "com.amazonaws.sqs#", "validation": "parameter",
                        "validateEnums": False}
    shapes = model["shapes"]
    for name, (code, status) in _SQS_ERRORS.items():
        trait: dict[str, Any] = {"httpStatusCode": status, "senderFault": True}
        if code:
            trait["code"] = code
        shapes[name]["error"] = trait


def _sqs_query_view(model: dict) -> None:
    for operation in model["operations"].values():  # <OpResponse><OpResult> as in the query API
        if "output" in operation:
            operation["output"]["resultWrapper"] = f"{operation['name']}Result"
    shapes = model["shapes"]
    for shape_name, members in _SQS_QUERY_MEMBERS.items():
        for member, wire_name in members.items():
            shapes[shape_name]["members"][member].update(locationName=wire_name, flattened=True)
    for shape_name, (key, value) in _SQS_QUERY_MAPS.items():
        shapes[shape_name]["key"]["locationName"] = key
        shapes[shape_name]["value"]["locationName"] = value
    for shape_name, member_name in _SQS_QUERY_LIST_MEMBERS.items():
        shapes[shape_name]["member"]["locationName"] = member_name


# --- other services --------------------------------------------------------------------------
# The root element of each S3 response body as AWS sends it (botocore's client ignores the
# root's name, so its model leaves them as the output shapes' names).
_S3_RESPONSE_ROOTS = {
    "CompleteMultipartUploadOutput": "CompleteMultipartUploadResult",
    "CreateMultipartUploadOutput": "InitiateMultipartUploadResult",
    "CreateSessionOutput": "CreateSessionResult",
    "DeleteObjectsOutput": "DeleteResult",
    "GetBucketAccelerateConfigurationOutput": "AccelerateConfiguration",
    "GetBucketAclOutput": "AccessControlPolicy",
    "GetBucketCorsOutput": "CORSConfiguration",
    "GetBucketLifecycleOutput": "LifecycleConfiguration",
    "GetBucketLifecycleConfigurationOutput": "LifecycleConfiguration",
    "GetBucketLoggingOutput": "BucketLoggingStatus",
    "GetBucketRequestPaymentOutput": "RequestPaymentConfiguration",
    "GetBucketTaggingOutput": "Tagging",
    "GetBucketVersioningOutput": "VersioningConfiguration",
    "GetBucketWebsiteOutput": "WebsiteConfiguration",
    "GetObjectAclOutput": "AccessControlPolicy",
    "GetObjectAttributesOutput": "GetObjectAttributesResponse",
    "GetObjectTaggingOutput": "Tagging",
    "ListBucketAnalyticsConfigurationsOutput": "ListBucketAnalyticsConfigurationResult",
    "ListBucketInventoryConfigurationsOutput": "ListInventoryConfigurationsResult",
    "ListBucketMetricsConfigurationsOutput": "ListMetricsConfigurationsResult",
    "ListBucketsOutput": "ListAllMyBucketsResult",
    "ListDirectoryBucketsOutput": "ListAllMyDirectoryBucketsResult",
    "ListMultipartUploadsOutput": "ListMultipartUploadsResult",
    "ListObjectVersionsOutput": "ListVersionsResult",
    "ListObjectsOutput": "ListBucketResult",
    "ListObjectsV2Output": "ListBucketResult",
    "ListPartsOutput": "ListPartsResult",
    "NotificationConfiguration": "NotificationConfiguration",
    "NotificationConfigurationDeprecated": "NotificationConfiguration",
}
_S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"


def _patch_s3(model: dict) -> None:
    # S3 answers with a bare <Error> and its responses carry the 2006-03-01 namespace. Buckets
    # are also named by the host (virtual-hosted style: bucket.s3.localhost).
    model["metadata"]["xmlNamespace"] = _S3_NAMESPACE
    # S3 checks enum values itself, with its own errors (InvalidLocationConstraint, ...); a
    # configuration document missing a required element is MalformedXML ("xml" validation).
    model["metadata"]["nubo"] = {"xmlErrorEnvelope": "Error", "virtualHostedLabel": "Bucket",
                                 "validateEnums": False, "validation": "xml"}
    shapes = model["shapes"]
    for shape, root in _S3_RESPONSE_ROOTS.items():
        shapes[shape]["locationName"] = root
    # GetBucketLocation's body is the bare element <LocationConstraint>region</..> (empty for
    # us-east-1), which botocore reads as the root's text.
    # GetObject and HeadObject answer 206 for a range or a part, RestoreObject 202 for a new
    # restore: a status code member.
    shapes["NuboStatusCode"] = {"type": "integer"}
    for output in ("GetObjectOutput", "HeadObjectOutput", "RestoreObjectOutput"):
        shapes[output]["members"]["StatusCode"] = {"shape": "NuboStatusCode",
                                                   "location": "statusCode"}
    location = shapes["GetBucketLocationOutput"]
    location["payload"] = "LocationConstraint"
    location["members"]["LocationConstraint"].update(locationName="LocationConstraint",
                                                     xmlNamespace={"uri": _S3_NAMESPACE})


def _patch_dynamodb(model: dict) -> None:
    # DynamoDB (and DynamoDB Streams) errors carry the service namespace in __type, as on AWS:
    # "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException".
    model["metadata"]["nubo"] = {"jsonErrorTypePrefix": "com.amazonaws.dynamodb.v20120810#"}
    # Items are kept as their wire form ({"S": "x"}, B values as bytes) from request to store to
    # response, so responses write them as they are instead of walking the 10-member union per
    # attribute (most of a large Query or Scan's serialization otherwise).
    model["shapes"]["AttributeValue"]["nuboWireValue"] = True
    # A stored item read without filter or projection is answered as its stored JSON bytes
    # (an orjson.Fragment), so whole items are kept as given too.
    model["shapes"]["AttributeMap"]["nuboWireValue"] = True


def _parameter_validation(model: dict) -> None:
    # EC2-era query services answer MissingParameter / InvalidParameterValue.
    model["metadata"]["nubo"] = {"validation": "parameter"}


def _reason_validation(model: dict) -> None:
    # Organizations answers invalid input with InvalidInputException and a Reason
    # (MAX_LENGTH_EXCEEDED, INVALID_ENUM, ...), never ValidationException. Its id patterns are
    # checked by the service, which words each one (organizations/validation.py), and so are
    # policy types (INVALID_ENUM_POLICY_TYPE) and the States list (INVALID_LIST_MEMBER).
    model["metadata"]["nubo"] = {"validation": "reason"}
    for name in ("PolicyType", "EffectivePolicyType", "CreateAccountState"):
        model["shapes"][name]["nuboEnum"] = model["shapes"][name].pop("enum")


SERVICE_PATCHES: dict[str, Callable[[dict], None]] = {
    "sqs": _patch_sqs,
    "s3": _patch_s3,
    "ec2": _parameter_validation,
    "cloudwatch": _parameter_validation,
    "dynamodb": _patch_dynamodb,
    "dynamodbstreams": _patch_dynamodb,
    "organizations": _reason_validation,
}
PROTOCOL_VIEWS: dict[tuple[str, str], Callable[[dict], None]] = {
    ("sqs", "query"): _sqs_query_view,
}


def apply(service_name: str, model: dict) -> None:
    patch = SERVICE_PATCHES.get(service_name)
    if patch is not None:
        patch(model)


def has_view(service_name: str, protocol: str) -> bool:
    return (service_name, protocol) in PROTOCOL_VIEWS


def apply_view(service_name: str, protocol: str, model: dict) -> None:
    PROTOCOL_VIEWS[(service_name, protocol)](model)
