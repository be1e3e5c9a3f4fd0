"""What a test run of the worker did: each handler run, and the jobs it dead-lettered."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqs_contracts.wire.message import Message


@dataclass(frozen=True)
class JobRun:
    """One handler run of one message: its job, attempt, outcome and exception."""

    queue: str
    """The queue's name in the env (without prefix)."""
    job_name: str | None
    message_id: str
    attempt: int
    """SQS's ``ApproximateReceiveCount``: 1 on the first run, 2 on the first retry..."""
    action: str
    """What became of the message: ``delete``, ``retry`` or ``dead_letter``."""
    error: BaseException | None
    """The exception the handler (or decoding) raised; None when it succeeded."""
    task: Any
    """The job decoded into its contract (a ``Task``), or None when it could not be."""
    message: Message = field(repr=False)

    @property
    def succeeded(self) -> bool:
        """True when the handler completed and the message was deleted."""
        return self.action == "delete"


@dataclass
class RunResult:
    """The handler runs of ``run_until_idle``, in the order they finished."""

    ran: list[JobRun] = field(default_factory=list)
    """Every handler run, retries included."""
    dead_lettered: list[JobRun] = field(default_factory=list)
    """The last run of each message that left its queue without succeeding: moved to the
    dead-letter queue by SQS's redrive policy (or by the worker, for invalid messages)."""

    @property
    def succeeded(self) -> list[JobRun]:
        """The runs that completed (their messages were deleted)."""
        return [run for run in self.ran if run.succeeded]

    @property
    def failed(self) -> list[JobRun]:
        """The runs that raised (or could not be decoded), each with its ``error``."""
        return [run for run in self.ran if not run.succeeded]

    @property
    def errors(self) -> list[BaseException]:
        """The exceptions of the failed runs, in order."""
        return [run.error for run in self.failed if run.error is not None]

    def tasks(self) -> list[Any]:
        """The decoded tasks of the runs that succeeded, in order."""
        return [run.task for run in self.succeeded]

    def busiest(self) -> str:
        """The job that ran most often, as ``'job' on queue 'name' (n runs)``."""
        if not self.ran:
            return "no job"
        (key, count), *_ = Counter((r.job_name, r.queue) for r in self.ran).most_common(1)
        return f"job {key[0]!r} on queue {key[1]!r} ({count} runs)"

    def __repr__(self) -> str:
        return (
            f"<RunResult ran={len(self.ran)} succeeded={len(self.succeeded)} "
            f"failed={len(self.failed)} dead_lettered={len(self.dead_lettered)}>"
        )
