"""Errors of the testing helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqs_contracts.sessions.errors import SQSError

if TYPE_CHECKING:
    from sqs_contracts.testing.results import RunResult


class RealSessionError(SQSError, RuntimeError):
    """A testing helper was pointed at a real SQS session, which it would consume or change."""


class MaxJobsExceeded(SQSError, RuntimeError):
    """``run_until_idle`` ran ``max_jobs`` jobs and the queues were still not empty."""

    def __init__(self, message: str, result: RunResult) -> None:
        super().__init__(message)
        self.result = result
        """What ran before the run was stopped."""
