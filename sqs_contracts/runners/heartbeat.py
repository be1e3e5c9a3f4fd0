"""The heartbeat: extends the visibility of messages held past half their visibility timeout.

It runs until the last running handler has finished or was abandoned, grace period
included: a job still running when its visibility ended would be delivered to another
worker while it runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sqs_contracts.dispatch.backoff import MAX_VISIBILITY_TIMEOUT
from sqs_contracts.queues.acknowledge import change_visibility
from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.runners.acker import Deadlines
from sqs_contracts.runners.holdings import Holdings, Unit
from sqs_contracts.runners.retry import is_fatal, one_line

logger = logging.getLogger(__name__)

TICK = 0.25
"""Seconds between two looks at the held messages."""


class Heartbeat:
    """Extends held messages' visibility on its own thread until :meth:`stop`."""

    def __init__(
        self,
        holdings: Holdings,
        deadlines: Deadlines,
        clock: Callable[[], float],
        on_fatal: Callable[[BaseException, GenericQueue], None],
    ) -> None:
        self.holdings = holdings
        self.deadlines = deadlines
        self.clock = clock
        self.on_fatal = on_fatal
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sqs-heartbeat", daemon=True)

    def start(self) -> None:
        """Start beating."""
        self._thread.start()

    def stop(self) -> None:
        """Stop beating (after the last running handler is done)."""
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(TICK):
            try:
                self.beat()
            except Exception:  # never let the heartbeat die silently
                logger.exception("visibility heartbeat failed")

    def beat(self) -> None:
        """Extend every held unit whose visibility has less than half its timeout left."""
        now = self.clock()
        due: dict[GenericQueue, list[tuple[Unit, int]]] = {}
        for unit in self.holdings.snapshot():
            timeout = unit.queue.settings.visibility_timeout
            age = now - unit.received_at
            if now < unit.visible_at - timeout / 2 or age >= MAX_VISIBILITY_TIMEOUT:
                continue
            extension = int(min(timeout, MAX_VISIBILITY_TIMEOUT - age))
            due.setdefault(unit.queue, []).append((unit, extension))
        self._extend(due, now)

    def cover(self, until: float) -> None:
        """Extend every held unit whose visibility ends before ``until`` past it by its
        timeout, at once: a clock is about to jump there (a test's ManualClock)."""
        now = self.clock()
        due: dict[GenericQueue, list[tuple[Unit, int]]] = {}
        for unit in self.holdings.snapshot():
            if unit.visible_at > until:
                continue
            timeout = unit.queue.settings.visibility_timeout
            age = now - unit.received_at
            extension = int(min(until - now + timeout, MAX_VISIBILITY_TIMEOUT - age))
            due.setdefault(unit.queue, []).append((unit, extension))
        self._extend(due, now)

    def _extend(self, due: dict[GenericQueue, list[tuple[Unit, int]]], now: float) -> None:
        for queue, units in due.items():
            entries: list[tuple[Mapping[str, Any], int]] = [
                (message, extension) for unit, extension in units for message in unit.messages
            ]
            try:
                failed = change_visibility(queue, entries)
            except Exception as exc:
                if is_fatal(exc):
                    self.on_fatal(exc, queue)
                # Left as it is: the next tick tries again, until the visibility ends.
                logger.warning("visibility heartbeat on %s failed: %s", queue.name, one_line(exc))
                continue
            failed_handles = {m["ReceiptHandle"] for m, _ in failed}
            for unit, extension in units:
                if any(m["ReceiptHandle"] in failed_handles for m in unit.messages):
                    continue
                # Only an extension SQS accepted moves the deadline.
                unit.visible_at = now + extension
                self.deadlines.set(unit.messages, unit.visible_at)
