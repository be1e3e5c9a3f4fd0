"""Lambda's SQS event records <-> the library's ``Message`` record, converted once at the edge.

An SQS event source mapping hands a function ``{"Records": [...]}`` whose records use
lower-case keys (``messageId``, ``receiptHandle``, ``body``, ``attributes``,
``messageAttributes`` with ``stringValue``/``binaryValue``/``dataType``, ``md5OfBody``,
``eventSourceARN``). Past this module every record is a ``Message`` with ReceiveMessage's keys,
so the dispatch path is the worker's.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqs_contracts.sessions.errors import SQSError
from sqs_contracts.wire.message import Message

EVENT_SOURCE = "aws:sqs"
"""The ``eventSource`` of every record an SQS event source mapping delivers."""

_URL = re.compile(r"^https?://(?P<host>[^/]+)/(?P<account>[^/]+)/(?P<name>[^/?#]+)/?$")
_REGION_HOST = re.compile(r"^sqs\.(?P<region>[a-z0-9-]+)\.amazonaws\.com")
_DEFAULT_REGION = "us-east-1"

# Lambda's record key -> ReceiveMessage's key, for the plain string fields.
_FIELDS = (
    ("messageId", "MessageId"),
    ("receiptHandle", "ReceiptHandle"),
    ("body", "Body"),
    ("md5OfBody", "MD5OfBody"),
    ("md5OfMessageAttributes", "MD5OfMessageAttributes"),
)


class NotAnSQSEvent(SQSError, ValueError):
    """A Lambda event that was not delivered by an SQS event source mapping."""


class InvalidRecord(SQSError, ValueError):
    """One record of an SQS event that cannot become a ``Message`` (a malformed field)."""


@dataclass(frozen=True, slots=True)
class QueueArn:
    """An SQS queue ARN, ``arn:<partition>:sqs:<region>:<account>:<name>``, split in parts."""

    partition: str
    region: str
    account: str
    name: str

    @classmethod
    def parse(cls, arn: object) -> QueueArn:
        """Split an ARN; raise :class:`InvalidRecord` naming it when it is not an SQS ARN."""
        parts = arn.split(":") if isinstance(arn, str) else []
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not parts[5]:
            raise InvalidRecord(
                f"eventSourceARN {arn!r} is not an SQS queue ARN "
                f"(expected arn:aws:sqs:<region>:<account>:<queue name>)"
            )
        return cls(parts[1], parts[3], parts[4], parts[5])

    @classmethod
    def from_url(cls, url: str) -> QueueArn:
        """The ARN of the queue at ``url`` (region from an AWS host name, else us-east-1)."""
        match = _URL.match(url)
        if match is None:
            raise ValueError(
                f"cannot tell the queue ARN from the URL {url!r}; pass queue_arn= "
                f"(GetQueueAttributes with AttributeNames=['QueueArn'] returns it)"
            )
        region = _REGION_HOST.match(match["host"])
        region_name = region["region"] if region else _DEFAULT_REGION
        return cls("aws", region_name, match["account"], match["name"])

    @property
    def fifo(self) -> bool:
        """Whether the queue is FIFO (its name ends in ``.fifo``)."""
        return self.name.endswith(".fifo")

    def __str__(self) -> str:
        return f"arn:{self.partition}:sqs:{self.region}:{self.account}:{self.name}"


def _describe(event: object) -> str:
    """What a received event looks like, for the error of a non-SQS event."""
    if not isinstance(event, Mapping):
        return f"a {type(event).__name__}, not a dict"
    keys = sorted(str(k) for k in event)
    shown = ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "")
    hint = ""
    if "httpMethod" in event or "requestContext" in event or "routeKey" in event:
        hint = " (an API Gateway or function URL request)"
    elif "detail-type" in event:
        hint = " (an EventBridge event)"
    return f"a dict with keys [{shown}]{hint}"


def _is_mapping(value: object) -> bool:
    # Events are JSON-decoded dicts: the exact type check spares the ABC check per record.
    return type(value) is dict or isinstance(value, Mapping)


def _source_of(record: Mapping[str, Any]) -> object:
    return record.get("eventSource", record.get("EventSource"))


def records_of(event: object) -> list[Mapping[str, Any]]:
    """The records of an SQS event; raise :class:`NotAnSQSEvent` naming what was received.

    Every record must come from ``aws:sqs`` and carry a ``messageId``: a record that cannot
    be reported by its id would be deleted by Lambda as a success, so such an event is refused
    whole (all of it comes back) rather than risk losing that record.
    """
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, Sequence) or isinstance(records, (str, bytes)):
        raise NotAnSQSEvent(
            f"the Lambda handler takes the events of an SQS event source mapping "
            f'({{"Records": [...]}} with eventSource "aws:sqs"), got {_describe(event)}; '
            f"route other triggers to another function"
        )
    for index, record in enumerate(records):
        if not _is_mapping(record):
            raise NotAnSQSEvent(
                f"record {index} of the event is a {type(record).__name__}, not an SQS record"
            )
        source = _source_of(record)
        if source != EVENT_SOURCE:
            raise NotAnSQSEvent(
                f"record {index} of the event comes from {source!r}, not {EVENT_SOURCE!r}: "
                f"this handler takes SQS events only; route other triggers to another function"
            )
        message_id = record.get("messageId")
        if not isinstance(message_id, str) or not message_id:
            raise NotAnSQSEvent(
                f"record {index} of the SQS event has no messageId (got {message_id!r}): "
                f"it could not be reported as failed, so the whole event is refused"
            )
    return list(records)


def _base64(name: object, text: object) -> bytes:
    # Lambda carries binary attributes as base64 text; boto3's receive returns the bytes.
    try:
        return base64.b64decode(text, validate=True)  # type: ignore[arg-type]
    except (binascii.Error, TypeError, ValueError) as exc:
        raise InvalidRecord(
            f"message attribute {name!r}: binary value is not base64 ({exc})"
        ) from exc


def _message_attributes(raw: object) -> dict[str, dict[str, Any]]:
    if raw is None:
        return {}
    if not _is_mapping(raw):
        raise InvalidRecord(f"messageAttributes is a {type(raw).__name__}, not a dict")
    converted: dict[str, dict[str, Any]] = {}
    for name, attr in raw.items():  # type: ignore[attr-defined]
        if not _is_mapping(attr) or type(attr.get("dataType")) is not str:
            raise InvalidRecord(f"message attribute {name!r} has no dataType: {attr!r:.120}")
        value: dict[str, Any] = {"DataType": attr["dataType"]}
        string = attr.get("stringValue")
        if string is not None:
            value["StringValue"] = string if type(string) is str else str(string)
        binary = attr.get("binaryValue")
        if binary is not None:
            value["BinaryValue"] = _base64(name, binary)
        if attr.get("stringListValues"):
            value["StringListValues"] = [str(v) for v in attr["stringListValues"]]
        if attr.get("binaryListValues"):
            value["BinaryListValues"] = [_base64(name, v) for v in attr["binaryListValues"]]
        converted[str(name)] = value
    return converted


def message_from_record(record: Mapping[str, Any], queue_url: str | None = None) -> Message:
    """One Lambda SQS record as the ``Message`` ReceiveMessage would have returned.

    Raises :class:`InvalidRecord` naming the field when the record is malformed.
    """
    get = record.get
    data: dict[str, Any] = {"Body": ""}
    for key, target in _FIELDS:
        value = get(key)
        if value is not None:
            if type(value) is not str:
                raise InvalidRecord(
                    f"record field {key!r} is a {type(value).__name__}, not a string"
                )
            data[target] = value
    attributes = get("attributes") or {}
    if not _is_mapping(attributes):
        raise InvalidRecord(f"record field 'attributes' is a {type(attributes).__name__}")
    data["Attributes"] = dict(attributes)
    data["MessageAttributes"] = _message_attributes(get("messageAttributes"))
    return Message(data, queue_url)


def _record_attribute(attr: Mapping[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = {"stringListValues": [], "binaryListValues": []}
    if "StringValue" in attr:
        value["stringValue"] = attr["StringValue"]
    if "BinaryValue" in attr:
        raw = attr["BinaryValue"]
        raw = raw.encode() if isinstance(raw, str) else bytes(raw)
        value["binaryValue"] = base64.b64encode(raw).decode("ascii")
    value["dataType"] = attr["DataType"]
    return value


def record_from_message(message: Mapping[str, Any], queue_arn: QueueArn | str) -> dict[str, Any]:
    """The record Lambda would deliver for a message received from the queue ``queue_arn``."""
    arn = queue_arn if isinstance(queue_arn, QueueArn) else QueueArn.parse(queue_arn)
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message.get("ReceiptHandle", ""),
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {
            name: _record_attribute(attr)
            for name, attr in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": EVENT_SOURCE,
        "eventSourceARN": str(arn),
        "awsRegion": arn.region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record
