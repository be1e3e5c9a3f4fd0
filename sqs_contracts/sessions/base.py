"""The narrow SQS interface: the only way the library reaches SQS.

Method names, parameter names and response dictionaries follow boto3's SQS client, so a boto3
client wrapper and :class:`~sqs_contracts.sessions.memory.MemorySession` are interchangeable.
Errors are raised as the library's :mod:`~sqs_contracts.sessions.errors`, which also subclass
botocore's ``ClientError`` and carry SQS's ``Error.Code``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

Response = dict[str, Any]
"""A boto3-shaped response dictionary."""

MAX_MESSAGE_BYTES = 1_048_576
"""The SQS limit for one message (body + attributes) and for one batch request: 1 MiB."""

MAX_BATCH_ENTRIES = 10
"""The SQS limit on entries in one batch request and messages in one receive."""

BATCH_ENTRY_IDS = tuple(str(i) for i in range(MAX_BATCH_ENTRIES))
"""A batch request's entry ids by position, ``"0"`` to ``"9"``: written once, shared."""


def answers_at_once(session: object) -> bool:
    """Tell whether a session's calls return without a round trip (``MemorySession``), so a
    request is made on the caller's thread rather than handed to a send thread."""
    # Looked up on the class: a wrapper forwarding attributes may well block.
    return getattr(type(session), "answers_at_once", False) is True


@runtime_checkable
class SQSSession(Protocol):
    """The SQS operations the library uses, with boto3's request and response shapes."""

    def create_queue(
        self, *, QueueName: str, Attributes: Mapping[str, str] = ..., tags: Mapping[str, str] = ...
    ) -> Response:
        """Create a queue (idempotent for identical attributes); returns ``QueueUrl``."""
        ...

    def delete_queue(self, *, QueueUrl: str) -> Response:
        """Delete a queue and its messages."""
        ...

    def list_queues(
        self, *, QueueNamePrefix: str = ..., NextToken: str = ..., MaxResults: int = ...
    ) -> Response:
        """List queue URLs, optionally by name prefix; returns ``QueueUrls``."""
        ...

    def get_queue_url(self, *, QueueName: str) -> Response:
        """Resolve a queue name to its URL; returns ``QueueUrl``."""
        ...

    def get_queue_attributes(
        self, *, QueueUrl: str, AttributeNames: Sequence[str] = ...
    ) -> Response:
        """Read queue attributes; returns ``Attributes``."""
        ...

    def set_queue_attributes(self, *, QueueUrl: str, Attributes: Mapping[str, str]) -> Response:
        """Change queue attributes."""
        ...

    def send_message(
        self,
        *,
        QueueUrl: str,
        MessageBody: str,
        DelaySeconds: int = ...,
        MessageAttributes: Mapping[str, Mapping[str, Any]] = ...,
        MessageDeduplicationId: str = ...,
        MessageGroupId: str = ...,
    ) -> Response:
        """Send one message; returns ``MessageId`` and ``MD5OfMessageBody``."""
        ...

    def send_message_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Send up to 10 messages; returns ``Successful`` and ``Failed`` entry lists."""
        ...

    def receive_message(
        self,
        *,
        QueueUrl: str,
        AttributeNames: Sequence[str] = ...,
        MessageSystemAttributeNames: Sequence[str] = ...,
        MessageAttributeNames: Sequence[str] = ...,
        MaxNumberOfMessages: int = ...,
        VisibilityTimeout: int = ...,
        WaitTimeSeconds: int = ...,
        ReceiveRequestAttemptId: str = ...,
    ) -> Response:
        """Receive up to 10 messages, long polling up to 20 s; returns ``Messages``."""
        ...

    def delete_message(self, *, QueueUrl: str, ReceiptHandle: str) -> Response:
        """Delete one received message by its receipt handle."""
        ...

    def delete_message_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Delete up to 10 received messages; returns ``Successful`` and ``Failed``."""
        ...

    def change_message_visibility(
        self, *, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int
    ) -> Response:
        """Change the visibility timeout of one received message."""
        ...

    def change_message_visibility_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Change the visibility of up to 10 received messages; returns ``Failed`` entries."""
        ...

    def purge_queue(self, *, QueueUrl: str) -> Response:
        """Delete every message in a queue."""
        ...
