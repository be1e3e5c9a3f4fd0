"""Dead-letter queues that push their messages back to the queue they came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.queues.raw_queue import RawQueue
from sqs_contracts.wire.envelope import sendable_attributes


class PushBackSender:
    """Re-sends each message's body and attributes to the upstream queue."""

    def __init__(self, upstream_queue: GenericQueue) -> None:
        self.upstream_queue = upstream_queue

    def __call__(self, message: Mapping[str, Any]) -> None:
        """Push one message back: 1 s delay on standard queues, same group on FIFO.

        On FIFO the deduplication id is the dead-letter message's id, not the original one:
        SQS would drop a send repeating the original id within its five-minute window (a
        message that failed fast and is pushed back at once), while the dead-letter id still
        makes a repeated push of the same dead-letter message a no-op.
        """
        upstream = self.upstream_queue
        kwargs: dict[str, Any] = {"QueueUrl": upstream.url, "MessageBody": message["Body"]}
        attributes = sendable_attributes(message)
        if attributes:
            kwargs["MessageAttributes"] = attributes
        if upstream.settings.fifo:
            system = message.get("Attributes", {})
            kwargs["MessageGroupId"] = system.get("MessageGroupId", "default")
            kwargs["MessageDeduplicationId"] = message["MessageId"]
        else:
            kwargs["DelaySeconds"] = 1
        upstream.session.send_message(**kwargs)


class DeadLetterQueue(RawQueue):
    """A raw queue whose processor pushes every message back upstream."""

    def __init__(
        self, env: Any, name: str, *args: Any, upstream_queue: GenericQueue, **kwargs: Any
    ) -> None:
        super().__init__(env, name, *args, **kwargs)
        self.upstream_queue = upstream_queue
        self.processor = PushBackSender(upstream_queue)

    @classmethod
    def maker(cls, upstream_queue: GenericQueue, **kwargs: Any) -> Any:  # type: ignore[override]
        """A queue maker for ``env.queue(dlq_name, DeadLetterQueue.maker(upstream))``."""
        return super().maker(upstream_queue=upstream_queue, **kwargs)
