"""The send path's middleware calls: ``before_send`` and the checks it calls for, then
``after_send`` or ``on_send_error`` for every message, and the hooks around batch requests.

Only queues whose env has middleware come here, so sends without any pay nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from sqs_contracts.dispatch.middleware import MiddlewareChain
from sqs_contracts.queues.acknowledge import MAX_MESSAGE_ATTRIBUTES
from sqs_contracts.sessions.base import SQSSession
from sqs_contracts.wire.envelope import OutgoingMessage, message_size
from sqs_contracts.wire.errors import MessageTooLarge, TooManyAttributes


class Batching(Protocol):
    """The send buffer, as far as telling a batched send from a single one."""

    def is_batching(self, queue_name: str) -> bool:
        """Whether sends to the queue are buffered in this thread."""
        ...


class BatchTarget(Protocol):
    """The queue a batch or a message is sent to: its name, URL, session and middleware."""

    @property
    def name(self) -> str:
        """The queue's name."""
        ...

    @property
    def url(self) -> str:
        """The queue URL."""
        ...

    @property
    def session(self) -> SQSSession:
        """The SQS session."""
        ...

    @property
    def middleware(self) -> MiddlewareChain:
        """The env's middleware, told of each request and each message's id."""
        ...

    def discard_payload(self, message: OutgoingMessage) -> None:
        """Delete the stored payload of a message that was not sent (none is left behind)."""
        ...


class SendingQueue(BatchTarget, Protocol):
    """The queue a single message is sent to, which may be batching it instead."""

    @property
    def send_buffer(self) -> Batching:
        """The buffer behind batch blocks."""
        ...


def announce(queue: SendingQueue, message: OutgoingMessage, max_size: int) -> None:
    """Call ``before_send`` on a prepared message, then check what it added: SQS refuses more
    than 10 attributes or a message over the queue's size, so the send is refused now."""
    chain = queue.middleware
    message.queue = queue.name
    message.batched = queue.send_buffer.is_batching(queue.name)
    before = set(message.attributes)
    chain.before_send(message)
    message.size = message_size(message.body, message.attributes)
    error: Exception | None = None
    if len(message.attributes) > MAX_MESSAGE_ATTRIBUTES:
        added = [name for name in message.attributes if name not in before]
        error = TooManyAttributes(message.job_name, queue.name, list(message.attributes), added)
    elif message.size > max_size:
        error = MessageTooLarge(message.job_name, queue.name, message.size, max_size)
    if error is not None:
        chain.on_send_error(message, error)
        raise error


def send_one(queue: SendingQueue, message: OutgoingMessage) -> str:
    """Send one announced message with ``SendMessage``; tell the middleware how it went."""
    chain = queue.middleware
    try:
        response = queue.session.send_message(QueueUrl=queue.url, **message.send_kwargs())
    except BaseException as exc:
        chain.on_send_error(message, exc)
        raise
    message_id = str(response["MessageId"])
    chain.after_send(message, message_id)
    return message_id


def report_batch(
    chain: MiddlewareChain,
    queue_name: str,
    messages: Sequence[OutgoingMessage],
    ids: Mapping[str, str],
    error: BaseException | None,
) -> None:
    """After a batch request: ``after_send`` for each message SQS accepted (``ids`` by entry
    index), ``on_send_error`` for the others, then ``after_send_batch``."""
    for i, message in enumerate(messages):
        message_id = ids.get(str(i))
        if message_id is not None:
            chain.after_send(message, message_id)
        elif error is not None:
            chain.on_send_error(message, error)
    chain.after_send_batch(queue_name, messages, error)
