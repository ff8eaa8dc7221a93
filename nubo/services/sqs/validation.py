"""SQS's input rules and checksums: pure functions, no store access.

Messages are AWS's own wording where known (SQS Developer Guide, API Reference, SDK issues).
"""

from __future__ import annotations

import hashlib
import re
import struct
from typing import Any

from nubo.core.errors import ServiceError

MAX_MESSAGE_SIZE = 1_048_576  # the largest MaximumMessageSize; also the batch payload limit
MAX_BATCH_ENTRIES = 10
MAX_MESSAGE_ATTRIBUTES = 10
MAX_VISIBILITY_TIMEOUT = 43_200
MAX_DELAY_SECONDS = 900
MAX_WAIT_TIME_SECONDS = 20

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_BATCH_ENTRY_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_FIFO_ID = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\.[^\s]+)?$")
# XML 1.0 characters: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF
_INVALID_CHARACTER = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", message)


def invalid_value(parameter: str, value: Any, reason: str) -> ServiceError:
    return invalid_parameter(f"Value {value} for parameter {parameter} is invalid. Reason: {reason}")


def missing_parameter(name: str) -> ServiceError:
    return ServiceError("MissingParameter", f"The request must contain the parameter {name}.")


# -- queues ---------------------------------------------------------------------------------


def check_queue_name(name: str, fifo: bool) -> None:
    if fifo:
        if not name.endswith(".fifo") or not _QUEUE_NAME.match(name[:-5] + "_fifo"):
            raise invalid_parameter(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
                "underscores, must end with .fifo suffix and be 1 to 80 in length.")
    elif not _QUEUE_NAME.match(name):
        raise invalid_parameter(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")


def check_range(parameter: str, value: int | None, low: int, high: int, reason: str) -> None:
    if value is not None and not low <= value <= high:
        raise invalid_value(parameter, value, reason)


def check_visibility_timeout(value: int | None) -> None:
    check_range("VisibilityTimeout", value, 0, MAX_VISIBILITY_TIMEOUT,
                f"Must be between 0 and {MAX_VISIBILITY_TIMEOUT}, if provided.")


# -- messages -------------------------------------------------------------------------------


def check_body(body: str | None) -> None:
    if not body:
        raise missing_parameter("MessageBody")
    if _INVALID_CHARACTER.search(body):
        raise ServiceError(
            "InvalidMessageContents",
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to "
            "#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")


def check_fifo_id(parameter: str, value: str | None) -> None:
    if value is not None and not _FIFO_ID.match(value):
        raise invalid_value(parameter, value, f"{parameter} can only include alphanumeric and "
                                              "punctuation characters. 1 to 128 in length.")


def check_message_attributes(attributes: dict[str, dict] | None) -> None:
    if not attributes:
        return
    if len(attributes) > MAX_MESSAGE_ATTRIBUTES:
        raise invalid_parameter(f"Number of message attributes [{len(attributes)}] exceeds the "
                                f"allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].")
    for name, value in attributes.items():
        _check_attribute_name(name)
        _check_attribute_value(name, value)


def _check_attribute_name(name: str) -> None:
    if not _ATTRIBUTE_NAME.match(name):
        raise invalid_parameter(
            "Message (user) attribute names can only contain upper and lower score characters, "
            "digits, periods, hyphens and underscores, and be at most 256 characters long.")
    lowered = name.lower()
    if lowered.startswith(("aws.", "amazon.")) or name.startswith(".") or name.endswith(".") \
            or ".." in name:
        raise invalid_parameter(
            f"Message (user) attribute name {name} is invalid. You can't use message attribute "
            "names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use. "
            "Additionally, they cannot start or end with '.' or contain '..'.")


def _check_attribute_value(name: str, value: dict) -> None:
    data_type = value.get("DataType")
    if not data_type:
        raise invalid_parameter(f"The message attribute '{name}' must contain a non-empty message "
                                "attribute type.")
    match = _DATA_TYPE.match(data_type)
    if match is None or len(data_type) > 256:
        raise invalid_parameter(f"The type of message (user) attribute '{name}' is invalid. You "
                                "must use only the following supported type prefixes: Binary, "
                                "Number, String.")
    if value.get("StringListValues") or value.get("BinaryListValues"):
        raise invalid_parameter(f"Message attribute list values in '{name}' are not supported.")
    kind = match.group(1)
    if kind == "Binary":
        if not value.get("BinaryValue"):
            raise invalid_parameter(f"The message attribute '{name}' with type 'Binary' must use "
                                    "field 'Binary'.")
        return
    text = value.get("StringValue")
    if not text:
        raise invalid_parameter(f"The message attribute '{name}' must contain non-empty message "
                                f"attribute value for message attribute type '{kind}'.")
    if kind == "Number" and not _is_number(text):
        raise invalid_parameter(f"Can't cast the value of message (user) attribute '{name}' to a "
                                "number.")
    if _INVALID_CHARACTER.search(text):
        raise invalid_parameter(f"Message (user) attribute '{name}' value contains invalid "
                                "characters.")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return len(text.replace("-", "").replace(".", "").lstrip("0")) <= 38


def check_system_attributes(attributes: dict[str, dict] | None) -> None:
    for name, value in (attributes or {}).items():
        if name != "AWSTraceHeader":
            raise invalid_parameter(f"Message system attribute name '{name}' is invalid.")
        if value.get("DataType") != "String" or not value.get("StringValue"):
            raise invalid_parameter("Message system attribute 'AWSTraceHeader' must be of type "
                                    "'String' with a non-empty value.")


def message_size(body: str | None, attributes: dict[str, dict] | None) -> int:
    """Body plus every attribute's name, type and value count toward the message size."""
    size = len((body or "").encode())
    for name, value in (attributes or {}).items():
        size += len(name.encode()) + len((value.get("DataType") or "").encode())
        size += len(value["BinaryValue"]) if value.get("BinaryValue") is not None else \
            len((value.get("StringValue") or "").encode())
    return size


def check_batch_size(entries: list[dict]) -> None:
    total = sum(message_size(e.get("MessageBody"), e.get("MessageAttributes")) for e in entries)
    if total > MAX_MESSAGE_SIZE:
        raise ServiceError("BatchRequestTooLong", f"Batch requests cannot be longer than "
                                                  f"{MAX_MESSAGE_SIZE} bytes. You have sent "
                                                  f"{total} bytes.")


def check_batch_entry_ids(entries: list[dict], operation: str) -> None:
    if not entries:
        raise ServiceError("EmptyBatchRequest",
                           f"There should be at least one {operation}RequestEntry in the request.")
    if len(entries) > MAX_BATCH_ENTRIES:
        raise ServiceError("TooManyEntriesInBatchRequest",
                           f"Maximum number of entries per request are {MAX_BATCH_ENTRIES}. "
                           f"You have sent {len(entries)}.")
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id") or ""
        if not _BATCH_ENTRY_ID.match(entry_id):
            raise ServiceError("InvalidBatchEntryId",
                               "A batch entry id can only contain alphanumeric characters, "
                               "hyphens and underscores. It can be at most 80 letters long.")
        if entry_id in seen:
            raise ServiceError("BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")
        seen.add(entry_id)


# -- checksums ------------------------------------------------------------------------------


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode()).hexdigest()


def md5_of_attributes(attributes: dict[str, dict] | None) -> str | None:
    """The documented digest: for each attribute by name, length-prefixed (4-byte big endian)
    UTF-8 name and data type, a transport byte (1 string/number, 2 binary), then the
    length-prefixed value."""
    if not attributes:
        return None
    digest = hashlib.md5()
    for name in sorted(attributes):
        value = attributes[name]
        _update_prefixed(digest, name.encode())
        _update_prefixed(digest, value["DataType"].encode())
        if value.get("BinaryValue") is not None:
            digest.update(b"\x02")
            _update_prefixed(digest, value["BinaryValue"])
        else:
            digest.update(b"\x01")
            _update_prefixed(digest, value["StringValue"].encode())
    return digest.hexdigest()


def _update_prefixed(digest: Any, data: bytes) -> None:
    digest.update(struct.pack(">I", len(data)))
    digest.update(data)


def content_deduplication_id(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()
