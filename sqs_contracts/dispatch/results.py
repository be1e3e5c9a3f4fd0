"""Processing results: a handler's result, the outcome of one message, and batch counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from sqs_contracts.dispatch.backoff import BackoffPolicy


@dataclass(frozen=True)
class ProcessingResult:
    """The outcome of one message: success, or a failure with an optional backoff override.

    ``invalid_reason`` is set when the message could not become a job at all.
    """

    success: bool
    backoff_policy: BackoffPolicy | None = None
    invalid_reason: str | None = None
    error: BaseException | None = field(default=None, compare=False)

    def __bool__(self) -> bool:
        # sqs-workers' result was always truthy, which deleted messages a batch handler retried.
        return self.success


SUCCESS = ProcessingResult(True)
FAILURE = ProcessingResult(False)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What becomes of one message: delete it, retry it after ``visibility_timeout`` seconds,
    move it to the dead-letter queue (falling back to the retry if that fails), or, for a
    long delay received early, ``defer`` it: send it again for the ``visibility_timeout``
    seconds left, and delete it, running nothing."""

    action: Literal["delete", "retry", "dead_letter", "defer"]
    visibility_timeout: int = 0
    reason: str | None = None
    error: BaseException | None = None

    @property
    def success(self) -> bool:
        """True when the handler completed and the message is to be deleted."""
        return self.action == "delete"


DELETE = Outcome("delete")


@dataclass
class BatchProcessingResult:
    """The messages of one received batch, split into succeeded and failed."""

    queue_name: str
    succeeded: list[Mapping[str, Any]] = field(default_factory=list)
    failed: list[Mapping[str, Any]] = field(default_factory=list)

    def update_with_message(self, message: Mapping[str, Any], success: bool) -> None:
        """Record one message's outcome."""
        (self.succeeded if success else self.failed).append(message)

    def succeeded_count(self) -> int:
        """How many messages succeeded."""
        return len(self.succeeded)

    def failed_count(self) -> int:
        """How many messages failed."""
        return len(self.failed)

    def total_count(self) -> int:
        """How many messages were processed."""
        return len(self.succeeded) + len(self.failed)

    def __repr__(self) -> str:
        ok, failed = self.succeeded_count(), self.failed_count()
        return f"<BatchProcessingResult/{self.queue_name}/{ok}/{failed}>"
