"""SQS's request rules for the in-memory SQS: validation, error codes and checksums."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqs_contracts.sessions.base import BATCH_ENTRY_IDS, MAX_BATCH_ENTRIES
from sqs_contracts.sessions.errors import SQSServiceError, service_error

NONEXISTENT_QUEUE = "AWS.SimpleQueueService.NonExistentQueue"
"""The error code of an unknown queue, as botocore reports it under the JSON protocol."""
INVALID_PARAMETER = "InvalidParameterValue"
"""The error code of a parameter value SQS refuses."""
MISSING_PARAMETER = "MissingParameter"
"""The error code of a required parameter left out."""
RECEIPT_HANDLE_INVALID = "ReceiptHandleIsInvalid"
"""The error code of a receipt handle SQS never issued for the queue."""
INVALID_CONTENTS = "InvalidMessageContents"
"""The error code of a body with characters outside SQS's set."""
BATCH_TOO_LONG = "AWS.SimpleQueueService.BatchRequestTooLong"
"""The error code of a batch request over 1 MiB in total."""

# Under the JSON protocol botocore reports the legacy query code as Error.Code and the
# modelled exception name as QueryErrorCode; keep both as SQS (and moto) send them.
_QUERY_CODES = {
    NONEXISTENT_QUEUE: "QueueDoesNotExist",
    "QueueAlreadyExists": "QueueNameExists",
    MISSING_PARAMETER: "MissingRequiredParameterException",
    "AWS.SimpleQueueService.EmptyBatchRequest": "EmptyBatchRequest",
    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest": "TooManyEntriesInBatchRequest",
    "AWS.SimpleQueueService.BatchEntryIdsNotDistinct": "BatchEntryIdsNotDistinct",
    "AWS.SimpleQueueService.InvalidBatchEntryId": "InvalidBatchEntryId",
    BATCH_TOO_LONG: "BatchRequestTooLong",
}


class SQSFault(Exception):
    """An SQS error before it is bound to an operation: a code and SQS's message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def client_error(self, operation: str) -> SQSServiceError:
        """Return the error a session raises for this fault (a ``ClientError``, as boto3's)."""
        error = {
            "Code": self.code,
            "Message": self.message,
            "QueryErrorCode": _QUERY_CODES.get(self.code, self.code),
            "Type": "Sender",
        }
        response: Any = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return service_error(response, operation)


def invalid(message: str) -> SQSFault:
    """Build an ``InvalidParameterValue`` fault."""
    return SQSFault(INVALID_PARAMETER, message)


def no_such_queue() -> SQSFault:
    """Build the fault for an unknown queue name or URL."""
    return SQSFault(NONEXISTENT_QUEUE, "The specified queue does not exist.")


def bad_handle(handle: str) -> SQSFault:
    """Build the fault for a receipt handle that SQS never issued for this queue."""
    return SQSFault(
        RECEIPT_HANDLE_INVALID,
        f'The input receipt handle "{handle}" is not a valid receipt handle.',
    )


def check_range(name: str, value: Any, low: int, high: int) -> int:
    """Check an integer request parameter against SQS's inclusive bounds."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(
            f"Value {value} for parameter {name} is invalid. "
            f"Reason: Must be between {low} and {high}, if provided."
        )
    return value


# --- queues -------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo")

_INT_ATTRIBUTES = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 1_048_576),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43_200),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
_CHOICES = {
    "ContentBasedDeduplication": ("true", "false"),
    "SqsManagedSseEnabled": ("true", "false"),
    "DeduplicationScope": ("queue", "messageGroup"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
_FREE_TEXT = frozenset({"Policy", "KmsMasterKeyId", "RedriveAllowPolicy", "RedrivePolicy"})
_FIFO_ONLY = frozenset(
    {"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}
)

STANDARD_DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}
"""The attributes of a new standard queue before CreateQueue's own."""
FIFO_DEFAULTS = {
    **STANDARD_DEFAULTS,
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
"""The attributes of a new FIFO queue before CreateQueue's own."""
COMPUTED_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)
"""Queue attributes SQS computes: readable, never settable."""


def is_fifo_request(attributes: Mapping[str, Any]) -> bool:
    """Tell whether CreateQueue attributes ask for a FIFO queue."""
    return str(attributes.get("FifoQueue", "false")).lower() == "true"


def check_queue_name(name: str, fifo: bool) -> None:
    """Check a queue name: 1-80 of alnum, ``-``, ``_``; ``.fifo`` exactly for FIFO queues."""
    if fifo and not _FIFO_NAME.fullmatch(name):
        raise invalid(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
            "underscores, must end with .fifo suffix and be 1 to 80 in length."
        )
    if not fifo and not _NAME.fullmatch(name):
        raise invalid(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )


def check_queue_attributes(
    attributes: Mapping[str, Any], fifo: bool, *, creating: bool
) -> dict[str, str]:
    """Validate queue attributes for CreateQueue/SetQueueAttributes; return them as strings."""
    result: dict[str, str] = {}
    for name, raw in attributes.items():
        value = str(raw).lower() if isinstance(raw, bool) else str(raw)
        if (name in _FIFO_ONLY and not fifo) or name in COMPUTED_ATTRIBUTES:
            raise SQSFault("InvalidAttributeName", f"Unknown Attribute {name}.")
        if name == "FifoQueue" and (not creating or value.lower() != "true"):
            raise SQSFault(
                "InvalidAttributeValue",
                "Invalid value for the parameter FifoQueue. "
                "Reason: Modifying queue type is not supported.",
            )
        if name in _INT_ATTRIBUTES:
            low, high = _INT_ATTRIBUTES[name]
            if not value.isdigit() or not low <= int(value) <= high:
                raise SQSFault("InvalidAttributeValue", f"Invalid value for the parameter {name}.")
            value = str(int(value))
        elif name in _CHOICES:
            choices = _CHOICES[name]
            value = value.lower() if choices[0] == "true" else value
            if value not in choices:
                raise SQSFault("InvalidAttributeValue", f"Invalid value for the parameter {name}.")
        elif name == "RedrivePolicy":
            value = normalize_redrive_policy(value)
        elif name not in _FREE_TEXT and name != "FifoQueue":
            raise SQSFault("InvalidAttributeName", f"Unknown Attribute {name}.")
        result[name] = value.lower() if name == "FifoQueue" else value
    return result


def normalize_redrive_policy(policy: str) -> str:
    """Validate a RedrivePolicy (``maxReceiveCount`` as int or str); return SQS's JSON form."""
    if policy == "":
        return ""
    prefix = f"Value {policy} for parameter RedrivePolicy is invalid. Reason: "
    try:
        parsed = json.loads(policy)
    except ValueError:
        raise invalid(prefix + "Redrive policy is not a valid JSON map.") from None
    if not isinstance(parsed, dict):
        raise invalid(prefix + "Redrive policy is not a valid JSON map.")
    arn = parsed.get("deadLetterTargetArn")
    count = parsed.get("maxReceiveCount")
    if not isinstance(arn, str) or not arn:
        raise invalid(
            prefix + "Redrive policy does not contain mandatory attribute: deadLetterTargetArn."
        )
    if count is None:
        raise invalid(
            prefix + "Redrive policy does not contain mandatory attribute: maxReceiveCount."
        )
    try:
        number = int(str(count))
    except ValueError:
        number = 0
    if not 1 <= number <= 1000:
        raise invalid(
            prefix
            + "Invalid value for maxReceiveCount: valid values are from 1 to 1000 both inclusive."
        )
    return json.dumps(
        {"deadLetterTargetArn": arn, "maxReceiveCount": number}, separators=(",", ":")
    )


# --- messages -----------------------------------------------------------------------------

BAD_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Matches a character SQS refuses in a body or a String attribute."""
_FIFO_ID = re.compile(r"[\x21-\x7e]{1,128}")
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
# The ids most batches use, their positions: known valid without the expression.
_POSITION_IDS = frozenset(BATCH_ENTRY_IDS)


def check_body(body: Any) -> str:
    """Check a message body: present, non-empty and of characters SQS accepts."""
    if not isinstance(body, str) or not body:
        raise SQSFault(MISSING_PARAMETER, "The request must contain the parameter MessageBody.")
    # Most bodies are printable ASCII: skip the regular expression for them.
    if not (body.isascii() and body.isprintable()) and BAD_CHARS.search(body):
        raise SQSFault(
            INVALID_CONTENTS,
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | "
            "#x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
        )
    return body


def check_fifo_id(value: Any, parameter: str) -> str:
    """Check a MessageGroupId/MessageDeduplicationId: 1-128 printable ASCII characters."""
    if not isinstance(value, str) or not _FIFO_ID.fullmatch(value):
        raise invalid(
            f"Value {value} for parameter {parameter} is invalid. Reason: {parameter} can only "
            "include alphanumeric and punctuation characters. 1 to 128 in length."
        )
    return value


# --- batches ------------------------------------------------------------------------------


def check_batch(entries: Sequence[Mapping[str, Any]], kind: str) -> None:
    """Check the shape rules shared by every batch request: count and entry ids."""
    if not entries:
        raise SQSFault(
            "AWS.SimpleQueueService.EmptyBatchRequest",
            f"There should be at least one {kind}RequestEntry in the request.",
        )
    if len(entries) > MAX_BATCH_ENTRIES:
        raise SQSFault(
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are {MAX_BATCH_ENTRIES}. "
            f"You have sent {len(entries)}.",
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id")
        if not isinstance(entry_id, str) or (
            entry_id not in _POSITION_IDS and not _BATCH_ID.fullmatch(entry_id)
        ):
            raise SQSFault(
                "AWS.SimpleQueueService.InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and "
                "underscores. It can be at most 80 letters long.",
            )
        if entry_id in seen:
            raise SQSFault(
                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", f"Id {entry_id} repeated."
            )
        seen.add(entry_id)


def failed_entry(entry_id: str, fault: SQSFault) -> dict[str, Any]:
    """Return a batch ``Failed`` entry for a fault."""
    return {"Id": entry_id, "SenderFault": True, "Code": fault.code, "Message": fault.message}
