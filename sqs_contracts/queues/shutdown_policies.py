"""Shutdown policies: when a worker stops on its own, checked between batches."""

from __future__ import annotations

import time
from typing import Protocol

from sqs_contracts.dispatch.results import BatchProcessingResult


class ShutdownPolicy(Protocol):
    """Watches processing results and says when to stop."""

    def update_state(self, batch_processing_result: BatchProcessingResult) -> None:
        """Record the outcome of one batch."""
        ...

    def need_shutdown(self) -> bool:
        """Tell whether the worker should stop now."""
        ...


class _Combinable:
    def __or__(self, other: ShutdownPolicy) -> OrShutdown:
        return OrShutdown(self, other)  # type: ignore[arg-type]

    def __and__(self, other: ShutdownPolicy) -> AndShutdown:
        return AndShutdown(self, other)  # type: ignore[arg-type]


class NeverShutdown(_Combinable):
    """Run until a signal stops the worker."""

    def update_state(self, batch_processing_result: BatchProcessingResult) -> None:
        """Ignore results."""

    def need_shutdown(self) -> bool:
        """Never."""
        return False

    def __repr__(self) -> str:
        return "NeverShutdown()"


class IdleShutdown(_Combinable):
    """Stop after ``idle_seconds`` without any message (counted from the first check)."""

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._last_seen: float | None = None
        self._idle = False

    def update_state(self, batch_processing_result: BatchProcessingResult) -> None:
        """Reset the idle timer when a batch had messages; an empty batch means idle."""
        self._idle = not batch_processing_result.total_count()
        if not self._idle or self._last_seen is None:
            self._last_seen = time.monotonic()

    def need_shutdown(self) -> bool:
        """Tell whether the last batch was empty and the idle time has passed."""
        if self._last_seen is None:
            return False
        return self._idle and time.monotonic() - self._last_seen >= self.idle_seconds

    def __repr__(self) -> str:
        return f"IdleShutdown({self.idle_seconds})"


class MaxTasksShutdown(_Combinable):
    """Stop after ``max_tasks`` messages were processed, succeeded or failed."""

    def __init__(self, max_tasks: int) -> None:
        self.max_tasks = max_tasks
        self._tasks = 0

    def update_state(self, batch_processing_result: BatchProcessingResult) -> None:
        """Count processed messages."""
        self._tasks += batch_processing_result.total_count()

    def need_shutdown(self) -> bool:
        """Tell whether the count was reached."""
        return self._tasks >= self.max_tasks

    def __repr__(self) -> str:
        return f"MaxTasksShutdown({self.max_tasks})"


class _Combined(_Combinable):
    def __init__(self, *policies: ShutdownPolicy) -> None:
        self.policies = policies

    def update_state(self, batch_processing_result: BatchProcessingResult) -> None:
        """Forward the result to every policy."""
        for policy in self.policies:
            policy.update_state(batch_processing_result)

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self.policies!r}"


class OrShutdown(_Combined):
    """Stop when any of the policies says so."""

    def need_shutdown(self) -> bool:
        """Any policy wants to stop."""
        return any(policy.need_shutdown() for policy in self.policies)


class AndShutdown(_Combined):
    """Stop when all the policies say so."""

    def need_shutdown(self) -> bool:
        """Every policy wants to stop."""
        return all(policy.need_shutdown() for policy in self.policies)


NEVER_SHUTDOWN = NeverShutdown()
"""A shared :class:`NeverShutdown`; it holds no state."""


def asap_shutdown() -> IdleShutdown:
    """A fresh policy that stops at the first empty batch (sqs-workers' ``ASAP_SHUTDOWN``)."""
    return IdleShutdown(0)
