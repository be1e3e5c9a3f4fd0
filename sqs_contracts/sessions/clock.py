"""Clocks for :class:`~sqs_contracts.sessions.memory.MemorySession`: real time or manual time."""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """The time source of an in-memory SQS: what "now" is and how to wait for a change."""

    def time(self) -> float:
        """Return the current time in epoch seconds."""
        ...

    def wait(self, cond: threading.Condition, timeout: float) -> None:
        """Block on ``cond`` (held by the caller) for at most ``timeout`` real seconds."""
        ...


class SystemClock:
    """The wall clock: SQS times pass in real time."""

    def time(self) -> float:
        """Return ``time.time()``."""
        return time.time()

    def wait(self, cond: threading.Condition, timeout: float) -> None:
        """Wait on ``cond`` for at most ``timeout`` seconds."""
        cond.wait(timeout)

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that only moves when told to, so tests skip visibility timeouts and delays.

    Long polls still wait in real time (at most their ``WaitTimeSeconds``), and wake up as
    soon as :meth:`advance` or :meth:`set` may have made a message visible.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        # The last time each thread read, so a wait can tell that time moved after its check.
        self._seen = threading.local()
        # Conditions with a long poll blocked on them right now, with how many pollers each.
        self._waiting: dict[threading.Condition, int] = {}

    def time(self) -> float:
        """Return the manual time in epoch seconds."""
        now = self._now
        self._seen.now = now
        return now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake every waiting long poll."""
        if seconds < 0:
            raise ValueError(f"ManualClock.advance() needs seconds >= 0, got {seconds}")
        with self._lock:
            self._now += seconds
        self._wake()

    def set(self, t: float) -> None:
        """Jump to epoch time ``t`` and wake every waiting long poll."""
        with self._lock:
            self._now = float(t)
        self._wake()

    def wait(self, cond: threading.Condition, timeout: float) -> None:
        """Wait on ``cond`` in real time; :meth:`advance` interrupts the wait."""
        with self._lock:
            # Time moved between the caller's check and now: its wake-up call has gone out
            # already, so return and let the caller look again.
            if getattr(self._seen, "now", self._now) != self._now:
                return
            self._waiting[cond] = self._waiting.get(cond, 0) + 1
        try:
            cond.wait(timeout)
        finally:
            with self._lock:
                left = self._waiting[cond] - 1
                if left:
                    self._waiting[cond] = left
                else:
                    del self._waiting[cond]

    def _wake(self) -> None:
        # Copy first: notifying needs each condition's lock, which a waiter may hold while it
        # registers, so never hold our own lock at the same time.
        with self._lock:
            conds = list(self._waiting)
        for cond in conds:
            with cond:
                cond.notify_all()

    def __repr__(self) -> str:
        return f"ManualClock({self._now!r})"
