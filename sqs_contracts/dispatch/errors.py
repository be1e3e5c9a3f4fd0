"""Errors a handler raises on purpose, and routing errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqs_contracts.sessions.errors import SQSError

if TYPE_CHECKING:
    from sqs_contracts.dispatch.backoff import BackoffPolicy


class RetryJob(SQSError):
    """Raise from a handler to retry the job on purpose (logged at INFO, not ERROR).

    ``backoff_policy`` overrides the queue's backoff for this one retry.
    """

    def __init__(self, backoff_policy: BackoffPolicy | None = None) -> None:
        super().__init__()
        self.backoff_policy = backoff_policy


class UnknownJob(SQSError, LookupError):
    """No handler is registered for a job name on a queue."""


class AsyncHandlerInRunningLoop(SQSError, RuntimeError):
    """An async handler was called through a sync API from inside a running event loop."""
