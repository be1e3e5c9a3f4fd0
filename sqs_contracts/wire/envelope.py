"""The wire format: a job becomes one SQS message, byte-compatible with sqs-workers 0.7.

Body: the job's keyword arguments, encoded by the codec. String message attributes:
``JobName``, ``ContentType`` and ``JobContext`` (the context, encoded with the same codec).
Optional attributes of our own (``ContractVersion``) are ignored by consumers that lack them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from sqs_contracts.wire.codecs import (
    CONTENT_TYPES_CODECS,
    Codec,
    JSONCodec,
    OrjsonCodec,
    is_json_mode,
)
from sqs_contracts.wire.context import JobContext, received_context
from sqs_contracts.wire.errors import ContentTypeNotAllowed, InvalidMessage, UnsendableValue
from sqs_contracts.wire.json_safety import check_sendable, escape_noncharacters
from sqs_contracts.wire.message import fields_of
from sqs_contracts.wire.payload_pointer import PayloadPointer

JOB_NAME = "JobName"
CONTENT_TYPE = "ContentType"
JOB_CONTEXT = "JobContext"
CONTRACT_VERSION = "ContractVersion"
NOT_BEFORE = "NotBefore"
"""Number attribute: the epoch second before which a long-delayed job must not run."""
INVALID_REASON = "InvalidReason"
"""Set on a message moved to a dead-letter queue because it could not be decoded."""

RECEIVE_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "MessageGroupId",
    "MessageDeduplicationId",
)
"""The system attributes a job needs (backoff, job context, FIFO); fewer means less to parse."""


_SEND_ATTRIBUTE_KEYS = ("DataType", "StringValue", "BinaryValue")

# Most jobs carry no context: the built-in JSON codecs write it as "{}" and read "{}" back
# as an empty dict, so a constant both ways spares two codec calls per job.
_EMPTY_CONTEXT = "{}"
_CONSTANT_EMPTY_CODECS = (JSONCodec, OrjsonCodec)


def sendable_attributes(message: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A received message's attributes in the shape ``SendMessage`` accepts."""
    return {
        name: {k: v for k, v in attr.items() if k in _SEND_ATTRIBUTE_KEYS}
        for name, attr in (message.get("MessageAttributes") or {}).items()
    }


# The names and types of a job's attributes, counted once (see message_size).
_JOB_ATTRIBUTES_SIZE = sum(
    len(name) + len("String") for name in (JOB_NAME, CONTENT_TYPE, JOB_CONTEXT)
)
_VERSION_ATTRIBUTE_SIZE = len(CONTRACT_VERSION) + len("Number")


@dataclass(slots=True)
class OutgoingMessage:
    """One encoded job, ready for ``SendMessage`` or a ``SendMessageBatch`` entry."""

    job_name: str
    body: str
    attributes: dict[str, dict[str, Any]]
    size: int
    delay_seconds: int | None = None
    group_id: str | None = None
    deduplication_id: str | None = None
    queue: str | None = None
    """The queue it is sent to, set for middleware when the queue prepares it."""
    batched: bool = False
    """True when it goes out in a ``SendMessageBatch`` request rather than on its own."""
    state: dict[str, Any] = field(default_factory=dict, compare=False)
    """Scratch space for middleware, from ``before_send`` to ``after_send``."""
    offloaded: PayloadPointer | None = None
    """Where the body was stored when it was too large for SQS (the body is the pointer)."""

    def send_kwargs(self) -> dict[str, Any]:
        """The ``SendMessage`` parameters (without ``QueueUrl``)."""
        return self._with_options({"MessageBody": self.body, "MessageAttributes": self.attributes})

    def batch_entry(self, entry_id: str) -> dict[str, Any]:
        """Its ``SendMessageBatch`` entry, with the request-unique ``entry_id``."""
        return self._with_options(
            {"Id": entry_id, "MessageBody": self.body, "MessageAttributes": self.attributes}
        )

    def _with_options(self, kw: dict[str, Any]) -> dict[str, Any]:
        if self.delay_seconds is not None:
            kw["DelaySeconds"] = self.delay_seconds
        if self.group_id is not None:
            kw["MessageGroupId"] = self.group_id
        if self.deduplication_id is not None:
            kw["MessageDeduplicationId"] = self.deduplication_id
        return kw


def _utf8_size(text: str) -> int:
    # ASCII text has one byte a character: its length, without encoding a copy.
    return len(text) if text.isascii() else len(text.encode())


def message_size(body: str, attributes: Mapping[str, Mapping[str, Any]]) -> int:
    """Count a message's bytes as SQS does: the body plus each attribute's name, type and value."""
    size = _utf8_size(body)
    for name, attr in attributes.items():
        value = attr.get("StringValue")
        raw = _utf8_size(value) if value is not None else len(attr.get("BinaryValue", b""))
        size += _utf8_size(name) + _utf8_size(str(attr.get("DataType", ""))) + raw
    return size


def encode_payload(payload: BaseModel | Mapping[str, Any], codec: type[Codec]) -> str:
    """Encode a model (every field written, by alias) or a dict of kwargs into a body.

    Raises :class:`UnsendableValue` naming the field a JSON consumer could not read back.
    """
    if not isinstance(payload, BaseModel):
        return codec.serialize(dict(payload))
    json_mode = is_json_mode(codec)
    try:
        if codec is CONTENT_TYPES_CODECS.get("json") or not json_mode:
            mode = "json" if json_mode else "python"
            # What model_dump() returns, without its wrapper: the serializer is asked directly,
            # as on the compact path below.
            values = payload.__pydantic_serializer__.to_python(payload, mode=mode, by_alias=True)
            body = codec.serialize(values)
        else:
            # A compact JSON codec: pydantic-core writes the same JSON straight from the model.
            body = payload.__pydantic_serializer__.to_json(payload, by_alias=True).decode()
            body = escape_noncharacters(body)
    except (PydanticSerializationError, UnicodeError):
        check_sendable(payload)  # names the field of a lone surrogate
        raise
    if json_mode and "null" in body:
        # Dumping in JSON mode writes NaN and Infinity of untyped fields as null: look for them.
        check_sendable(payload)
    return body


def encode_job(
    job_name: str,
    payload: BaseModel | Mapping[str, Any],
    context: Mapping[str, Any],
    content_type: str,
    codec: type[Codec],
    *,
    version: int | None = None,
    queue_name: str | None = None,
) -> OutgoingMessage:
    """Encode a job into body and attributes, exactly as sqs-workers 0.7 does.

    Raises :class:`UnsendableValue` naming the job, the queue and the field (``JobContext.x``
    for a context value) when a JSON consumer could not read a value back.
    """
    try:
        body = encode_payload(payload, codec)
    except UnsendableValue as exc:
        raise exc.located(job_name, queue_name) from None
    try:
        if not context and codec in _CONSTANT_EMPTY_CODECS:
            job_context = _EMPTY_CONTEXT
        else:
            job_context = codec.serialize(context if type(context) is dict else dict(context))
    except UnsendableValue as exc:
        raise exc.under(JOB_CONTEXT).located(job_name, queue_name) from None
    return job_message(job_name, body, job_context, content_type, version=version)


def job_message(
    job_name: str,
    body: str,
    job_context: str,
    content_type: str,
    *,
    version: int | None = None,
) -> OutgoingMessage:
    """A job message from an already encoded body and context."""
    attributes = {
        JOB_NAME: {"DataType": "String", "StringValue": job_name},
        CONTENT_TYPE: {"DataType": "String", "StringValue": content_type},
        JOB_CONTEXT: {"DataType": "String", "StringValue": job_context},
    }
    size = (
        _JOB_ATTRIBUTES_SIZE
        + _utf8_size(body)
        + _utf8_size(job_name)
        + _utf8_size(content_type)
        + _utf8_size(job_context)
    )
    if version is not None and version != 1:
        value = str(version)
        attributes[CONTRACT_VERSION] = {"DataType": "Number", "StringValue": value}
        size += _VERSION_ATTRIBUTE_SIZE + len(value)
    return OutgoingMessage(job_name, body, attributes, size)


def _string_value(attributes: Mapping[str, Any], name: str) -> str | None:
    attr = attributes.get(name)
    if attr is None:
        return None
    value = attr.get("StringValue")
    return value if isinstance(value, str) else None


def _required(attributes: Mapping[str, Any], name: str, job_name: str | None) -> str:
    """The string value of a job's attribute ``name``; raise :class:`InvalidMessage` without."""
    value = _string_value(attributes, name)
    if value is not None:
        return value
    if job_name is None:
        raise InvalidMessage(f"message has no {name} attribute: not a job of this library")
    raise InvalidMessage(f"message has no {name} attribute", job_name=job_name)


@dataclass(slots=True)
class ReceivedJob:
    """A received message decoded into its job name, payload dict and context."""

    message: Mapping[str, Any]
    job_name: str
    content_type: str
    payload: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)
    version: int = 1

    def job_context(self, queue_name: str) -> JobContext:
        """The context a handler receives: producer values plus SQS metadata."""
        fields = fields_of(self.message)
        attrs = fields.get("Attributes") or {}
        sent = attrs.get("SentTimestamp")
        return received_context(
            self.context,
            queue_name,
            self.job_name,
            fields.get("MessageId", ""),
            int(attrs.get("ApproximateReceiveCount", 1)),
            int(sent) / 1000 if sent else None,
            attrs.get("MessageGroupId"),
            self.version,
        )


def string_attribute(message: Mapping[str, Any], name: str) -> str | None:
    """The string value of a received message's attribute ``name``, if it has one."""
    attributes = fields_of(message).get("MessageAttributes")
    return _string_value(attributes, name) if attributes else None


def job_name_of(message: Mapping[str, Any]) -> str | None:
    """Return the ``JobName`` attribute of a received message, if any."""
    attributes = fields_of(message).get("MessageAttributes")  # read on every job: no call
    return _string_value(attributes, JOB_NAME) if attributes else None


def not_before_of(message: Mapping[str, Any]) -> float | None:
    """The ``NotBefore`` epoch time of a long-delayed message, if it has a valid one."""
    attributes = fields_of(message).get("MessageAttributes")
    if not attributes or NOT_BEFORE not in attributes:  # every message but long delays
        return None
    value = _string_value(attributes, NOT_BEFORE)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def decode_message(
    message: Mapping[str, Any], allowed_content_types: Collection[str]
) -> ReceivedJob:
    """Decode a received message; raise :class:`InvalidMessage` saying why it cannot be."""
    payload_error = getattr(message, "payload_error", None)
    if payload_error is not None:
        # A pointer whose payload could not be read: invalid, or a transient S3 failure.
        raise payload_error
    fields = fields_of(message)
    attributes = fields.get("MessageAttributes") or {}
    # _string_value of each, inline where the attribute is a string, as on every job.
    attr = attributes.get(JOB_NAME)
    job_name = attr.get("StringValue") if attr is not None else None
    if type(job_name) is not str:
        job_name = _required(attributes, JOB_NAME, None)
    attr = attributes.get(CONTENT_TYPE)
    content_type = attr.get("StringValue") if attr is not None else None
    if type(content_type) is not str:
        content_type = _required(attributes, CONTENT_TYPE, job_name)
    codec = CONTENT_TYPES_CODECS.get(content_type)
    if codec is None:
        raise InvalidMessage(
            f"unknown content type {content_type!r} (known: {sorted(CONTENT_TYPES_CODECS)})",
            job_name=job_name,
        )
    if content_type not in allowed_content_types:
        raise ContentTypeNotAllowed(
            f"content type {content_type!r} is not allowed by this consumer (allowed: "
            f"{sorted(allowed_content_types)}); pickle runs code when decoded, so allow it "
            f"only for trusted producers: SQSEnv(allowed_content_types=[..., {content_type!r}])",
            job_name=job_name,
        )
    try:
        payload = codec.deserialize(fields["Body"])
        attr = attributes.get(JOB_CONTEXT)
        raw_context = attr.get("StringValue") if attr is not None else None
        if type(raw_context) is not str:
            raw_context = _string_value(attributes, JOB_CONTEXT)
        if not raw_context or (raw_context == _EMPTY_CONTEXT and codec is JSONCodec):
            context = {}
        else:
            context = codec.deserialize(raw_context)
    except Exception as exc:
        raise InvalidMessage(
            f"body or JobContext cannot be decoded as {content_type}: {exc}", job_name=job_name
        ) from exc
    if not isinstance(payload, dict):
        raise InvalidMessage(
            f"body decodes to {type(payload).__name__}, expected an object of keyword arguments",
            job_name=job_name,
        )
    version_attr = (
        _string_value(attributes, CONTRACT_VERSION) if CONTRACT_VERSION in attributes else None
    )
    try:
        version = int(version_attr) if version_attr else 1
    except ValueError:
        raise InvalidMessage(
            f"ContractVersion {version_attr!r} is not an integer", job_name=job_name
        ) from None
    return ReceivedJob(
        message,
        job_name,
        content_type,
        payload,
        context if isinstance(context, dict) else {},
        version,
    )
