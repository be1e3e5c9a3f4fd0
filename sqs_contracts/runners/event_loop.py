"""The worker's event loop thread: async handlers run here, up to ``limit`` coroutines at once.

The worker's handler threads hand over the units whose handler is ``async def``; each runs as
a task on this one loop, so a worker with ``concurrency=500`` async handlers costs no thread
per handler. Acknowledgements, the shutdown policy's accounting and FIFO group order go
through the same worker calls as for a handler thread. On shutdown, what still runs when the
grace period ends is cancelled and its messages are left to their visibility timeout.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from sqs_contracts.dispatch.async_dispatch import AsyncRoute, adispatch
from sqs_contracts.dispatch.awaitables import call_in_thread
from sqs_contracts.dispatch.dispatcher import outcome_of
from sqs_contracts.dispatch.results import Outcome, ProcessingResult
from sqs_contracts.queues.acknowledge import AckTarget

logger = logging.getLogger(__name__)

Message = Mapping[str, Any]


class LoopQueue(AsyncRoute, AckTarget, Protocol):
    """A queue as the loop sees it: it dispatches its messages and acknowledges them."""

    def has_async_handlers(self) -> bool:
        """True when some message of the queue is handled by an ``async def`` handler."""
        ...

    def has_sync_handlers(self) -> bool:
        """True when some message of the queue is handled synchronously."""
        ...


class LoopUnit(Protocol):
    """Messages handled together (one, or a ``BatchMessages`` list) and their queue."""

    started: bool
    """Set when the unit starts; the worker releases units that never started."""

    @property
    def queue(self) -> LoopQueue:
        """The queue the messages came from."""
        ...

    @property
    def messages(self) -> Sequence[Message]:
        """The messages."""
        ...


_U = TypeVar("_U", bound=LoopUnit)


def handler_threads(queues: Iterable[LoopQueue], concurrency: int) -> int:
    """How many handler threads a worker needs: ``concurrency`` when some handler is sync,
    one (to hand units to the loop, and to run messages no handler takes) otherwise."""
    return concurrency if any(q.has_sync_handlers() for q in queues) else 1


class EventLoopThread(Generic[_U]):
    """One thread with an event loop, running units of async handlers, ``limit`` at once.

    A unit starts only while the worker holds it and is not stopping (under the worker's
    ``lock``); else the worker releases it. ``complete(unit, outcomes)`` acknowledges and
    lets go of a unit once dispatched, as for a handler thread.
    """

    def __init__(
        self,
        limit: int,
        lock: threading.Lock,
        stop: threading.Event,
        held: Collection[_U],
        complete: Callable[[_U, Sequence[Outcome]], None],
    ) -> None:
        self.limit = limit
        self._lock = lock
        self._stop = stop
        self._held = held
        self._complete = complete
        self._loop = asyncio.new_event_loop()
        self._waiting: deque[_U] = deque()  # handed over, not started: no slot free yet
        # Units handed over since the loop last looked: one wake-up (a syscall, then a wait
        # for the GIL) serves many of them instead of one each.
        self._inbox: deque[_U] = deque()
        self._wake_pending = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self._thread = threading.Thread(
            target=self._main, name="sqs-contracts-event-loop", daemon=True
        )

    @classmethod
    def for_queues(
        cls,
        queues: Iterable[LoopQueue],
        limit: int,
        lock: threading.Lock,
        stop: threading.Event,
        held: Collection[_U],
        complete: Callable[[_U, Sequence[Outcome]], None],
    ) -> EventLoopThread[_U] | None:
        """A started loop thread when one of the queues has an async handler, else None."""
        if not any(q.has_async_handlers() for q in queues):
            return None
        loop_thread = cls(limit, lock, stop, held, complete)
        loop_thread._thread.start()
        return loop_thread

    @staticmethod
    def takes(unit: LoopUnit) -> bool:
        """True when the unit's handler is async, so it runs on the loop."""
        return unit.queue.is_async(unit.messages)

    def submit(self, unit: _U) -> None:
        """Hand a unit over (thread-safe); it starts as soon as fewer than ``limit`` run."""
        self._inbox.append(unit)
        if self._wake_pending:
            return
        self._wake_pending = True
        try:
            self._loop.call_soon_threadsafe(self._take_inbox)
        except RuntimeError:  # the loop is closed: the worker has released the unit
            logger.debug("event loop closed: unit left to the worker's release")

    def close(self, timeout: float = 1.0) -> None:
        """Cancel what still runs (the grace period is over), then stop the loop thread."""
        if not self._thread.is_alive():
            return
        try:
            self._loop.call_soon_threadsafe(self._cancel_all)
        except RuntimeError:
            return
        self._thread.join(timeout)

    # -- on the loop thread ------------------------------------------------------------------

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)  # handlers that ask for "the" loop get this one
        try:
            self._loop.run_forever()
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()

    def _take_inbox(self) -> None:
        self._wake_pending = False  # before draining: a unit added meanwhile wakes us again
        inbox = self._inbox
        while inbox:
            self._waiting.append(inbox.popleft())
        self._start_waiting()

    def _begin(self, unit: _U) -> bool:
        with self._lock:
            if self._stop.is_set() or unit not in self._held:
                return False
            unit.started = True
            return True

    def _start_waiting(self) -> None:
        while self._waiting and len(self._tasks) < self.limit and not self._closing:
            unit = self._waiting.popleft()
            if not self._begin(unit):
                continue
            task = self._loop.create_task(self._run(unit))
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("a job on the event loop raised", exc_info=task.exception())
        if self._closing:
            if not self._tasks:
                self._loop.stop()
        else:
            self._start_waiting()

    def _cancel_all(self) -> None:
        self._closing = True
        self._waiting.clear()
        for task in self._tasks:
            task.cancel()
        if not self._tasks:
            self._loop.stop()

    async def _run(self, unit: _U) -> None:
        queue = unit.queue
        try:
            outcomes = await adispatch(queue, unit.messages)
        except asyncio.CancelledError as exc:
            if self._closing:
                # Past the grace period: not acknowledged, the messages come back when their
                # visibility timeout ends.
                logger.warning(
                    "cancelled a job of queue %s still running after the grace period; its "
                    "messages return to the queue when their visibility timeout ends",
                    queue.name,
                    extra={"queue": queue.name},
                )
                return
            # Raised by the handler itself (the worker cancelled nothing): a failure.
            logger.exception("a job of queue %s was cancelled", queue.name)
            failed = ProcessingResult(False, error=exc)
            outcomes = [outcome_of(queue, m, failed) for m in unit.messages]
        except BaseException as exc:
            failed = ProcessingResult(False, error=exc)
            self._complete(unit, [outcome_of(queue, m, failed) for m in unit.messages])
            raise
        if any(o.action in ("dead_letter", "defer") for o in outcomes):
            # Dead-lettering and deferring send at once: a round trip off the loop.
            await call_in_thread(self._complete, unit, outcomes)
        else:
            self._complete(unit, outcomes)
