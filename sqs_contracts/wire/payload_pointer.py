"""AWS's Extended Client pointer: the body of an SQS message whose payload is stored in S3.

The body is ``["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": ...,
"s3Key": ...}]`` and the Number attribute ``ExtendedPayloadSize`` holds the payload's size in
bytes. Older Java clients write ``com.amazon.sqs.javamessaging.MessageS3Pointer`` and
``SQSLargePayloadSize``; both are read. Pure functions, no I/O.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

POINTER_CLASS = "software.amazon.payloadoffloading.PayloadS3Pointer"
"""The pointer class AWS's current Extended Clients write first in the body."""

LEGACY_POINTER_CLASS = "com.amazon.sqs.javamessaging.MessageS3Pointer"
"""The pointer class of the Java Extended Client before version 2."""

SIZE_ATTRIBUTE = "ExtendedPayloadSize"
"""The Number message attribute holding the offloaded payload's size in bytes."""

LEGACY_SIZE_ATTRIBUTE = "SQSLargePayloadSize"
"""The older name of :data:`SIZE_ATTRIBUTE`, still read by every client."""

MAX_KEY_PREFIX_BYTES = 1024 - 36
"""The longest key prefix :func:`new_key` takes: S3's 1024-byte keys minus a 36-character uuid."""

_POINTER_CLASSES = (POINTER_CLASS, LEGACY_POINTER_CLASS)
_SIZE_ATTRIBUTES = (SIZE_ATTRIBUTE, LEGACY_SIZE_ATTRIBUTE)
# Java writes compact JSON and Python writes json.dumps' default spacing: allow any.
_POINTER_PREFIX = re.compile(
    r'\s*\[\s*"(?:' + "|".join(re.escape(c) for c in _POINTER_CLASSES) + ')"'
)
_SHOWN_BODY_CHARS = 80


class MalformedPointer(ValueError):
    """A message claims to be an Extended Client pointer but is not a valid one.

    ``reason`` says what is wrong, for logs and for the dead-letter queue.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"malformed S3 payload pointer: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class PayloadPointer:
    """Where an offloaded payload is stored, and how its message said so.

    ``size`` is the payload's size in bytes from the size attribute (``None`` without one);
    ``pointer_class`` and ``size_attribute`` are the names the message used (or will use).
    """

    bucket: str
    key: str
    size: int | None = None
    pointer_class: str = POINTER_CLASS
    size_attribute: str = SIZE_ATTRIBUTE

    @property
    def legacy(self) -> bool:
        """True when the body uses the Java client's pre-2.0 pointer class."""
        return self.pointer_class == LEGACY_POINTER_CLASS

    def body(self) -> str:
        """The message body, byte for byte as AWS's Python Extended Client writes it."""
        # json.dumps with its defaults, exactly as sqs_extended_client does: ", " and ": "
        # separators, non-ASCII escaped.
        return json.dumps([self.pointer_class, {"s3BucketName": self.bucket, "s3Key": self.key}])

    def attributes(self) -> dict[str, dict[str, str]]:
        """The size message attribute, as the Extended Client writes it (empty without a size)."""
        if self.size is None:
            return {}
        return {self.size_attribute: {"DataType": "Number", "StringValue": str(self.size)}}


def encode_pointer(
    bucket: str, key: str, size: int, *, legacy: bool = False
) -> tuple[str, dict[str, dict[str, str]]]:
    """Return the pointer body and size attribute for a payload of ``size`` bytes in S3.

    ``legacy=True`` writes the pre-2.0 Java names, as the Python client's ``use_legacy_attribute``.
    """
    if not bucket or not key:
        raise ValueError(f"a payload pointer needs a bucket and a key, got {bucket!r}, {key!r}")
    if size < 0:
        raise ValueError(f"a payload size is a number of bytes >= 0, got {size}")
    pointer = PayloadPointer(
        bucket,
        key,
        size,
        LEGACY_POINTER_CLASS if legacy else POINTER_CLASS,
        LEGACY_SIZE_ATTRIBUTE if legacy else SIZE_ATTRIBUTE,
    )
    return pointer.body(), pointer.attributes()


def is_pointer(body: str, attributes: Mapping[str, Any] | None = None) -> bool:
    """Tell cheaply whether a message claims to be a pointer (it may still be malformed).

    A size attribute is what AWS's clients look for; a body starting with a pointer class also
    counts, for pointers whose attributes were not received.
    """
    if attributes and any(name in attributes for name in _SIZE_ATTRIBUTES):
        return True
    return _POINTER_PREFIX.match(body) is not None


def parse_pointer(body: str, attributes: Mapping[str, Any] | None = None) -> PayloadPointer:
    """Read a pointer body and its size attribute; raise :class:`MalformedPointer` if invalid.

    ``attributes`` are the message attributes in boto3's shape (``{"Name": {"StringValue"...}}``).
    """
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise MalformedPointer(f"the body is not JSON ({exc}): {_shown(body)}") from exc
    if not isinstance(data, list) or len(data) != 2:
        raise MalformedPointer(
            "the body is not a JSON array of two elements, "
            f'[pointer class, {{"s3BucketName": ..., "s3Key": ...}}]: {_shown(body)}'
        )
    pointer_class, location = data
    if pointer_class not in _POINTER_CLASSES:
        raise MalformedPointer(
            f"unknown pointer class {pointer_class!r}; expected {POINTER_CLASS!r} "
            f"or {LEGACY_POINTER_CLASS!r}"
        )
    if not isinstance(location, dict):
        raise MalformedPointer(
            f"the second element is not a JSON object with s3BucketName and s3Key: {_shown(body)}"
        )
    bucket = _location_field(location, "s3BucketName")
    key = _location_field(location, "s3Key")
    size_attribute, size = _size(attributes or {})
    return PayloadPointer(bucket, key, size, pointer_class, size_attribute)


def new_key(prefix: str = "") -> str:
    """Return a new object key: ``prefix`` and a random uuid4, as the Extended Clients make them."""
    if len(prefix.encode("utf-8")) > MAX_KEY_PREFIX_BYTES:
        raise ValueError(
            f"an S3 key prefix is at most {MAX_KEY_PREFIX_BYTES} bytes, so that prefix and uuid "
            f"fit S3's 1024-byte keys; got {len(prefix.encode('utf-8'))} bytes"
        )
    return f"{prefix}{uuid.uuid4()}"


def _location_field(location: dict[str, Any], name: str) -> str:
    value = location.get(name)
    if value is None:
        raise MalformedPointer(f"{name} is missing (the object has {sorted(location)})")
    if not isinstance(value, str) or not value:
        raise MalformedPointer(f"{name} is {value!r}, not a non-empty string")
    return value


def _size(attributes: Mapping[str, Any]) -> tuple[str, int | None]:
    for name in _SIZE_ATTRIBUTES:
        attribute = attributes.get(name)
        if attribute is None:
            continue
        value = attribute.get("StringValue") if isinstance(attribute, Mapping) else None
        try:
            size = int(value) if isinstance(value, str) else -1
        except ValueError:
            size = -1
        if size < 0:
            raise MalformedPointer(f"the {name} attribute is {value!r}, not a size in bytes")
        return name, size
    return SIZE_ATTRIBUTE, None


def _shown(body: str) -> str:
    return repr(body if len(body) <= _SHOWN_BODY_CHARS else body[:_SHOWN_BODY_CHARS] + "...")
