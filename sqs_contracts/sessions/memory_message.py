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


class Renderer:
    """How one receive shows its messages: with the system and message attributes it asked
    for, resolved once per call rather than once per message."""

    __slots__ = (
        "_all_attributes",
        "_attribute_names",
        "_count",
        "_dedup",
        "_dlq",
        "_first",
        "_group",
        "_sender",
        "_sent",
        "_sequence",
        "_system",
    )

    def __init__(
        self, system: Sequence[str], attribute_names: Sequence[str] | None, sender_id: str
    ) -> None:
        wanted = SYSTEM_ATTRIBUTES if "All" in system else SYSTEM_ATTRIBUTES.intersection(system)
        self._system = bool(wanted)
        self._sender = sender_id if "SenderId" in wanted else None
        self._sent = "SentTimestamp" in wanted
        self._count = "ApproximateReceiveCount" in wanted
        self._first = "ApproximateFirstReceiveTimestamp" in wanted
        self._dedup = "MessageDeduplicationId" in wanted
        self._group = "MessageGroupId" in wanted
        self._sequence = "SequenceNumber" in wanted
        self._dlq = "DeadLetterQueueSourceArn" in wanted
        names = attribute_names or None
        self._attribute_names = names
        self._all_attributes = names is not None and ("All" in names or ".*" in names)

    def render(self, msg: Message) -> dict[str, Any]:
        """Return a received message as ReceiveMessage does."""
        out: dict[str, Any] = {
            "MessageId": msg.id,
            "ReceiptHandle": msg.handle,
            "MD5OfBody": msg.md5_body,
            "Body": msg.body,
        }
        if self._system:
            found = self._system_attributes(msg)
            if found:
                out["Attributes"] = found
        stored = msg.attrs
        if stored and self._attribute_names is not None:
            if self._all_attributes:
                # Copies: what a caller changes in its answer must not change the queue.
                out["MD5OfMessageAttributes"] = msg.md5_attrs
                out["MessageAttributes"] = {k: v.copy() for k, v in stored.items()}
            else:
                attrs = copy_attributes(stored, self._attribute_names)
                if attrs:
                    whole = len(attrs) == len(stored)
                    out["MD5OfMessageAttributes"] = (
                        msg.md5_attrs if whole else md5_of_attributes(attrs)
                    )
                    out["MessageAttributes"] = attrs
        return out

    def _system_attributes(self, msg: Message) -> dict[str, str]:
        found: dict[str, str] = {}
        if self._sender is not None:
            found["SenderId"] = self._sender
        if self._sent:
            found["SentTimestamp"] = str(msg.sent_ms)
        if self._count:
            found["ApproximateReceiveCount"] = str(msg.receive_count)
        if self._first and msg.first_receive_ms is not None:
            found["ApproximateFirstReceiveTimestamp"] = str(msg.first_receive_ms)
        if self._dedup and msg.dedup_id is not None:
            found["MessageDeduplicationId"] = msg.dedup_id
        if self._group and msg.group is not None:
            found["MessageGroupId"] = msg.group
        if self._sequence and msg.sequence_number is not None:
            found["SequenceNumber"] = msg.sequence_number
        if self._dlq and msg.dlq_source is not None:
            found["DeadLetterQueueSourceArn"] = msg.dlq_source
        return found
