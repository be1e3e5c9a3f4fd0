"""A message as the in-memory SQS stores it, and its ReceiveMessage shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqs_contracts.sessions.memory_attributes import Attributes, copy_attributes, md5_of_attributes

DELAYED, VISIBLE, IN_FLIGHT, GONE = range(4)
"""The states of a stored message."""


class Message:
    """A message as SQS stores it, with its delivery state."""

    __slots__ = (
        "attrs",
        "body",
        "dedup_id",
        "dlq_source",
        "first_receive_ms",
        "group",
        "handle",
        "id",
        "md5_attrs",
        "md5_body",
        "receive_count",
        "received_at",
        "sent_at",
        "sent_ms",
        "seq",
        "sequence_number",
        "state",
        "vis_token",
    )

    def __init__(
        self, msg_id: str, body: str, md5_body: str, attrs: Attributes, md5_attrs: str | None
    ) -> None:
        self.id = msg_id
        self.body = body
        self.md5_body = md5_body
        self.attrs = attrs
        self.md5_attrs = md5_attrs
        self.group: str | None = None
        self.dedup_id: str | None = None
        self.sequence_number: str | None = None
        self.dlq_source: str | None = None
        self.sent_at = 0.0
        self.sent_ms = 0
        self.seq = 0
        self.state = VISIBLE
        self.receive_count = 0
        self.first_receive_ms: int | None = None
        self.received_at = 0.0
        self.handle: str | None = None
        self.vis_token = 0

    def moved_copy(self, source_arn: str) -> Message:
        """Return the copy a dead-letter queue gets: same id, body, attributes and counts.

        SQS's ApproximateReceiveCount counts receives "across all queues", so it carries over.
        """
        copy = Message(self.id, self.body, self.md5_body, self.attrs, self.md5_attrs)
        copy.group, copy.dedup_id = self.group, self.dedup_id
        copy.sent_at, copy.sent_ms = self.sent_at, self.sent_ms
        copy.receive_count, copy.first_receive_ms = self.receive_count, self.first_receive_ms
        copy.dlq_source = source_arn
        return copy


SYSTEM_ATTRIBUTES = frozenset(
    {
        "SenderId",
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
        "MessageDeduplicationId",
        "MessageGroupId",
        "SequenceNumber",
        "DeadLetterQueueSourceArn",
    }
)
"""The system attributes a receive can ask for by name."""


def system_names(names: Sequence[str]) -> frozenset[str]:
    """The system attributes a receive asked for (``All`` or names): resolved once per call."""
    return SYSTEM_ATTRIBUTES if "All" in names else SYSTEM_ATTRIBUTES.intersection(names)


def render(
    msg: Message,
    system: frozenset[str],
    attribute_names: Sequence[str] | None,
    sender_id: str,
) -> dict[str, Any]:
    """Return a received message as ReceiveMessage does, with the attributes asked for
    (``system`` from :func:`system_names`)."""
    out: dict[str, Any] = {
        "MessageId": msg.id,
        "ReceiptHandle": msg.handle,
        "MD5OfBody": msg.md5_body,
        "Body": msg.body,
    }
    if system:
        # Each receive renders every message it returns: only the names asked for are built.
        found: dict[str, str] = {}
        if "SenderId" in system:
            found["SenderId"] = sender_id
        if "SentTimestamp" in system:
            found["SentTimestamp"] = str(msg.sent_ms)
        if "ApproximateReceiveCount" in system:
            found["ApproximateReceiveCount"] = str(msg.receive_count)
        if msg.first_receive_ms is not None and "ApproximateFirstReceiveTimestamp" in system:
            found["ApproximateFirstReceiveTimestamp"] = str(msg.first_receive_ms)
        if msg.dedup_id is not None and "MessageDeduplicationId" in system:
            found["MessageDeduplicationId"] = msg.dedup_id
        if msg.group is not None and "MessageGroupId" in system:
            found["MessageGroupId"] = msg.group
        if msg.sequence_number is not None and "SequenceNumber" in system:
            found["SequenceNumber"] = msg.sequence_number
        if msg.dlq_source is not None and "DeadLetterQueueSourceArn" in system:
            found["DeadLetterQueueSourceArn"] = msg.dlq_source
        if found:
            out["Attributes"] = found
    if attribute_names and msg.attrs:
        attrs = copy_attributes(msg.attrs, attribute_names)
        if attrs:
            whole = len(attrs) == len(msg.attrs)
            out["MD5OfMessageAttributes"] = msg.md5_attrs if whole else md5_of_attributes(attrs)
            out["MessageAttributes"] = attrs
    return out
