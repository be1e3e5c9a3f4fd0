"""Large payloads in S3: a body too big for SQS is stored in S3 and sent as a pointer.

The pointer is AWS's Extended Client pointer (wire/payload_pointer), so messages are read and
written interchangeably with the Java and Python extended clients. A received pointer is
resolved before decoding; its object is deleted only after its message was deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from sqs_contracts.sessions.s3 import S3Error, S3Session, s3_location
from sqs_contracts.sessions.s3_boto import BotoS3Session
from sqs_contracts.wire.envelope import OutgoingMessage, message_size
from sqs_contracts.wire.errors import InvalidMessage
from sqs_contracts.wire.message import Message
from sqs_contracts.wire.payload_pointer import (
    LEGACY_SIZE_ATTRIBUTE,
    SIZE_ATTRIBUTE,
    MalformedPointer,
    PayloadPointer,
    encode_pointer,
    is_pointer,
    new_key,
    parse_pointer,
)

logger = logging.getLogger(__name__)

MAX_THRESHOLD = 1_048_576
"""SQS's largest message, 1 MiB: a threshold above it would let SQS refuse the message."""

DEFAULT_THRESHOLD = 262_144
"""The Extended Clients' default threshold, 256 KiB."""


class S3Offload:
    """Store bodies larger than ``threshold`` bytes (or than the queue's MaximumMessageSize)
    in ``bucket`` under ``key_prefix``; delete each object once its message is deleted,
    unless ``keep_objects``. ``s3`` is an S3 session (default: boto3, built on first use)."""

    def __init__(
        self,
        bucket: str,
        threshold: int = DEFAULT_THRESHOLD,
        key_prefix: str = "",
        keep_objects: bool = False,
        s3: S3Session | None = None,
        *,
        s3_endpoint_url: str | None = None,
    ) -> None:
        if not bucket or not isinstance(bucket, str):
            raise ValueError(f"S3Offload needs the name of an S3 bucket, got {bucket!r}")
        if not 0 <= threshold <= MAX_THRESHOLD:
            raise ValueError(
                f"S3Offload(bucket={bucket!r}): threshold {threshold} bytes is outside "
                f"0..{MAX_THRESHOLD}; SQS refuses messages over 1 MiB, so bodies above that "
                f"must go to S3: use a threshold of at most {MAX_THRESHOLD}"
            )
        new_key(key_prefix)  # raises now for a prefix too long for S3's keys
        self.bucket = bucket
        self.threshold = threshold
        self.key_prefix = key_prefix
        self.keep_objects = keep_objects
        self.s3: S3Session = s3 if s3 is not None else BotoS3Session(endpoint_url=s3_endpoint_url)

    def __repr__(self) -> str:
        return f"S3Offload(bucket={self.bucket!r}, threshold={self.threshold})"

    # -- sending -------------------------------------------------------------------------------

    def offload(self, message: OutgoingMessage, queue_name: str, max_message_size: int) -> None:
        """Store the body in S3 and make the message its pointer when it is too large.

        Raises the S3 error (naming job, queue, size and bucket) before anything is sent.
        """
        limit = min(self.threshold, max_message_size)
        if message.size <= limit or message.offloaded is not None:
            return
        data = message.body.encode()
        key = new_key(self.key_prefix)
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        except S3Error as exc:
            raise type(exc)(
                f"job {message.job_name!r} on queue {queue_name!r}: its message of "
                f"{message.size} bytes passes the {limit}-byte limit, and storing it in S3 "
                f"bucket {self.bucket!r} failed, so nothing was sent: {exc}",
                operation=exc.operation,
                bucket=exc.bucket,
                key=exc.key,
                code=exc.code,
                retryable=exc.retryable,
            ) from exc
        body, size_attribute = encode_pointer(self.bucket, key, len(data))
        message.body = body
        message.attributes = {**message.attributes, **size_attribute}
        message.size = message_size(body, message.attributes)
        message.offloaded = PayloadPointer(self.bucket, key, len(data))

    def discard(self, message: OutgoingMessage) -> None:
        """Delete the object of a message whose send failed, so that none is left behind."""
        pointer = message.offloaded
        if pointer is not None:
            message.offloaded = None  # deleted once, whichever layer learns of the failure
            self._delete(pointer, "its send failed")

    # -- receiving -----------------------------------------------------------------------------

    def resolve(self, message: Message) -> Message:
        """The message with its payload in place of a pointer (see :func:`resolve_payload`)."""
        return resolve_payload(self.s3, message)

    def after_delete(self, messages: Iterable[Mapping[str, Any]]) -> None:
        """Delete the objects of resolved messages that were deleted from their queue."""
        if self.keep_objects:
            return
        for message in messages:
            pointer = getattr(message, "pointer", None)
            if pointer is not None:
                self._delete(pointer, "its message was deleted")

    def _delete(self, pointer: PayloadPointer, why: str) -> None:
        try:
            self.s3.delete_object(Bucket=pointer.bucket, Key=pointer.key)
        except S3Error as exc:  # the message is gone already: an orphan object is the cost
            logger.warning(
                "could not delete payload %s after %s: %s",
                s3_location(pointer.bucket, pointer.key),
                why,
                exc,
            )


def resolve_payload(s3: S3Session, message: Mapping[str, Any]) -> Message:
    """Replace a pointer body by its payload read from S3; other messages are returned as is.

    The result remembers the pointer (``message.pointer``). A malformed pointer, or an object
    that is missing or denied, gives a message whose ``payload_error`` is an
    :class:`InvalidMessage` naming bucket and key; a transient S3 failure keeps the S3 error,
    so that the message is retried rather than treated as invalid.
    """
    received = Message.of(message)
    body, attributes = received.body, received.message_attributes
    if not is_pointer(body, attributes):
        return received
    try:
        pointer = parse_pointer(body, attributes)
    except MalformedPointer as exc:
        return _unreadable(received, InvalidMessage(str(exc)))
    try:
        payload = s3.get_object(Bucket=pointer.bucket, Key=pointer.key).decode()
    except S3Error as exc:
        if exc.retryable:
            return _unreadable(received, exc)
        where = s3_location(pointer.bucket, pointer.key)
        return _unreadable(received, InvalidMessage(f"payload {where} cannot be read: {exc}"))
    except UnicodeDecodeError as exc:
        where = s3_location(pointer.bucket, pointer.key)
        return _unreadable(received, InvalidMessage(f"payload {where} is not UTF-8 text: {exc}"))
    data = dict(received.to_dict())
    data["Body"] = payload
    # As the Extended Clients do, the size attribute goes: the message is the payload now.
    data["MessageAttributes"] = {
        name: value
        for name, value in attributes.items()
        if name not in (SIZE_ATTRIBUTE, LEGACY_SIZE_ATTRIBUTE)
    }
    return Message(data, received.queue_url, pointer=pointer)


def _unreadable(message: Message, error: Exception) -> Message:
    return Message(message.to_dict(), message.queue_url, payload_error=error)
