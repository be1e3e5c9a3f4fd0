"""Every error the library raises on purpose, each naming what went wrong and how to fix it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqs_contracts.backoff_policies import BackoffPolicy


class SQSError(Exception):
    """Base class of the library's errors."""


class NoCurrentEnv(SQSError, RuntimeError):
    """``.delay()`` or ``.run()`` was called with no ``SQSEnv`` to send through."""


class MessageTooLarge(SQSError, ValueError):
    """A single job encodes to more bytes than its queue accepts."""

    def __init__(self, job_name: str, queue_name: str, size: int, limit: int) -> None:
        self.job_name, self.queue_name, self.size, self.limit = job_name, queue_name, size, limit
        super().__init__(
            f"job {job_name!r} for queue {queue_name!r} encodes to {size:,} bytes (body + "
            f"attributes), over the queue's limit of {limit:,} bytes; send a reference "
            f"(an S3 key, a database id) instead of the data, or raise MaximumMessageSize"
        )


class SQSBatchError(SQSError):
    """Some entries of a batch request failed; ``errors`` holds SQS's ``Failed`` entries."""

    def __init__(self, errors: Sequence[Mapping[str, Any]], message: str | None = None) -> None:
        self.errors = list(errors)
        super().__init__(message or f"{len(self.errors)} batch entries failed: {self.errors}")


class SendBatchError(SQSBatchError):
    """Messages of a ``SendMessageBatch`` still failed after the retries; none were dropped."""

    def __init__(self, queue_name: str, errors: Sequence[Mapping[str, Any]]) -> None:
        names = ", ".join(
            f"{e.get('JobName', '?')} (id {e.get('Id')}: {e.get('Code')} {e.get('Message', '')})"
            for e in errors
        )
        super().__init__(
            errors,
            f"{len(errors)} message(s) could not be sent to queue {queue_name!r} after "
            f"retrying: {names}; they were not sent, re-enqueue them or check the queue",
        )
        self.queue_name = queue_name


class QueueConfigError(SQSError, ValueError):
    """A queue was configured in a way SQS or the library does not accept."""


class HandlerError(SQSError, TypeError):
    """A handler does not fit the contract it was registered for."""


class UnknownJob(SQSError, LookupError):
    """No handler is registered for a job name on a queue."""


class InvalidMessage(SQSError):
    """A received message cannot become a job: bad encoding, unknown type or invalid payload."""

    def __init__(self, reason: str, *, job_name: str | None = None) -> None:
        self.reason, self.job_name = reason, job_name
        super().__init__(reason)


class ContentTypeNotAllowed(InvalidMessage):
    """A message uses a content type (such as pickle) that this consumer does not accept."""


class RetryJob(SQSError):
    """Raise from a handler to retry the job on purpose (logged at INFO, not ERROR).

    ``backoff_policy`` overrides the queue's backoff for this one retry.
    """

    def __init__(self, backoff_policy: BackoffPolicy | None = None) -> None:
        super().__init__()
        self.backoff_policy = backoff_policy


class QueueNotFound(SQSError, LookupError):
    """The queue does not exist on the SQS endpoint the env talks to."""
