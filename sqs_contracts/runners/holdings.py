"""What a worker holds: received messages waiting, running or due for a retry, and room.

The worker holds at most ``limit`` messages, receives in flight counted at the number they
asked for, since every message received and then released has spent one of its
``maxReceiveCount`` receives. Messages of one FIFO group run one unit at a time, in order.
Only the worker's threads take this lock; a signal handler never does.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqs_contracts.queues.base import GenericQueue

Message = Mapping[str, Any]

WAKE_AFTER = 0.002
"""Seconds of ready work per running handler past which an idle handler is woken: less, and
the running ones clear it sooner than a wake-up would (a thread switch costs tens of
microseconds, more than a fast job)."""

RUN_HERE_UNDER = 0.002
"""Seconds per job under which a receive loop runs ready jobs itself while another loop
receives (or when it is :attr:`Holdings.solo`), as a bare receive-process-delete loop does:
handing each to a handler thread would cost more than the job."""

STALLED_AFTER = 0.05
"""Seconds with units ready and none taken after which an idle handler is woken anyway: a
running job turned out slower than the jobs before it."""


@dataclass(slots=True)
class _Turn:
    """A receiver waiting for room: its own wake-up and the room it waits for."""

    wake: threading.Condition
    want: int


@dataclass(eq=False)
class Unit:
    """Messages handled together: one message, or a list for ``BatchMessages`` queues."""

    queue: GenericQueue
    messages: Sequence[Message]
    group: str | None
    received_at: float
    """When the receive that got it started, in the worker's clock."""
    visible_at: float
    """When its visibility ends: receive + visibility timeout, or the last extension."""
    started: bool = False
    retries: int = 0
    """Runs in place after a failure (FIFO), counted against ``maxReceiveCount``."""
    due: float | None = None
    """When a unit waiting for an in-place retry may run again."""
    taken_at: float = 0.0
    """When a handler thread took it (``time.monotonic``), to learn how long jobs take."""


class Holdings:
    """The held units, the ready queue, FIFO groups and the room left to receive."""

    def __init__(
        self, limit: int, now: Callable[[], float] = time.monotonic, *, slots: int | None = None
    ) -> None:
        self.limit = limit
        self.slots = slots or limit
        """Units that may run at once (the worker's handler threads)."""
        # One lock; handlers wait for work, receivers each for their turn at the room, and
        # the shutdown for running jobs. A wake-up costs a thread switch per job at high
        # rates, so each wakes only a thread that can act: the receiver at the head of the
        # line when its room is there, and one handler at a time (which wakes the next), only
        # while the running handlers would not soon clear the ready units themselves. Fast
        # units a receive loop runs itself wake nobody at all.
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._quiet = threading.Condition(self._lock)
        self.held: set[Unit] = set()
        self._count = 0
        self._reserved = 0
        self._ready: deque[Unit] = deque()
        self._groups: dict[tuple[str, str], deque[Unit]] = {}
        self._busy_groups: set[tuple[str, str]] = set()
        self._retrying: list[Unit] = []
        self._idle_handlers = 0
        self._running = 0
        self._job_time: float | None = None  # seconds per unit; until known, as if slow
        self._last_take = 0.0
        self.clock = now
        """The clock jobs are timed on (``time.monotonic`` but in tests)."""
        self._turns: deque[_Turn] = deque()
        self.closed = False
        self.solo = False
        """One receive loop and one slot, with no room for a second receive while the jobs
        of one are held: the loop waits for those jobs anyway, so it runs fast ones itself."""

    @property
    def lock(self) -> threading.Lock:
        """The lock guarding every field (to run a short check under it)."""
        return self._lock

    def close(self) -> list[Unit]:
        """Stop handing out work; take out and return every unit not started."""
        with self._lock:
            self.closed = True
            waiting = [u for u in self.held if not u.started]
            for unit in waiting:
                self._drop(unit)
            self._ready.clear()
            self._groups.clear()
            self._retrying.clear()
            self._wake_all()
        return waiting

    def _wake_all(self) -> None:
        self._work.notify_all()
        for turn in self._turns:
            turn.wake.notify()
        self._quiet.notify_all()

    def _offer_room(self) -> None:
        """Wake the receiver at the head of the line if it can reserve now (under the lock)."""
        if self._turns:
            head = self._turns[0]
            room = self.limit - self._count - self._reserved
            if room >= head.want or (room > 0 and self._idle_handlers and not self._ready):
                head.wake.notify()

    def wake(self) -> None:
        """Wake every waiting thread so it looks at the stop flag."""
        with self._lock:
            self._wake_all()

    # -- room ----------------------------------------------------------------------------------

    def reserve(self, want: int, stop: threading.Event) -> int:
        """Wait until there is room, then reserve up to ``want`` messages; 0 when stopping.

        A receive waits for room for ``want`` messages (fewer, larger receives), unless a
        handler thread has nothing to do: then any room will do.
        """
        turn = _Turn(threading.Condition(self._lock), want)
        with self._lock:
            # First come, first served: a loop whose poll came back empty must not take the
            # room again ahead of a queue that has messages.
            self._turns.append(turn)
            try:
                while not (stop.is_set() or self.closed):
                    room = self.limit - self._count - self._reserved
                    starving = self._idle_handlers > 0 and not self._ready
                    mine = self._turns[0] is turn
                    if mine and (room >= want or (room > 0 and starving)):
                        taken = min(want, room)
                        self._reserved += taken
                        return taken
                    # The timeout only bounds how late a stop set without wake() is seen.
                    turn.wake.wait(0.5)
            finally:
                self._turns.remove(turn)
                self._offer_room()
        return 0

    def unreserve(self, count: int) -> None:
        """Give back a reservation whose receive failed."""
        with self._lock:
            self._reserved -= count
            self._offer_room()

    def add(self, units: Sequence[Unit], reserved: int, *, here: bool = False) -> bool:
        """Hold received units in place of a reservation; False (nothing held) when closed.

        ``here``: the caller runs what it can of them itself (:meth:`take_run`), so no
        handler is woken for them when it may.
        """
        with self._lock:
            self._reserved -= reserved
            if self.closed:
                self._offer_room()
                return False
            for unit in units:
                self.held.add(unit)
                self._count += len(unit.messages)
                if unit.group is None:
                    self._ready.append(unit)
                    continue
                key = (unit.queue.name, unit.group)
                self._groups.setdefault(key, deque()).append(unit)
                if key not in self._busy_groups:
                    self._busy_groups.add(key)
                    self._ready.append(self._groups[key].popleft())
            if not (here and self._may_run_here()):
                self._wake_handler()
            self._offer_room()  # a receive that got fewer than it reserved leaves room
            return True

    # -- work ----------------------------------------------------------------------------------

    def _wake_handler(self) -> None:
        """Wake one idle handler if the ready units need another thread (under the lock)."""
        if self._ready and self._idle_handlers:
            job_time = self._job_time
            backlog = WAKE_AFTER if job_time is None else len(self._ready) * job_time
            if not self._running or backlog >= WAKE_AFTER * self._running:
                self._work.notify()

    def take(self, stop: threading.Event, done: Unit | None = None) -> Unit | None:
        """Wait for a unit to run and mark it started; None when the worker stops.

        ``done`` is the unit this thread took last, run or handed on since.
        """
        with self._lock:
            now = self.clock()
            if done is not None:
                self._done(done, now)
            self._idle_handlers += 1
            if not self._ready or self._running >= self.slots:
                # An idle handler lets a receive go out for whatever room there is.
                self._offer_room()
                while not (self._ready and self._running < self.slots) and not (
                    stop.is_set() or self.closed
                ):
                    self._work.wait()
                now = self.clock()
            self._idle_handlers -= 1
            if stop.is_set() or self.closed:
                return None
            return self._start(now)

    def take_run(self, stop: threading.Event, most: int, go: bool = True) -> list[Unit]:
        """For a receive loop: up to ``most`` ready units to run itself, one after another in
        one slot; [] unless jobs are known to take under ``RUN_HERE_UNDER``, a slot is free and
        another loop is receiving or waiting for room, or this loop is :attr:`solo` (or ``go``
        is false, or the worker stops). Each unit is started by :meth:`begin` (until then a
        close releases it), and :meth:`finish_run` ends the run."""
        with self._lock:
            if not (go and self._ready and self._may_run_here() and not stop.is_set()):
                self._wake_handler()  # what is left is the handler threads' again
                return []
            self._last_take = self.clock()
            ready = self._ready
            self._running += 1
            return [ready.popleft() for _ in range(min(most, len(ready)))]

    def begin(self, unit: Unit) -> bool:
        """Start the next unit of a run; False once closed (:meth:`close` released it)."""
        with self._lock:
            if self.closed:
                return False
            unit.started = True
            return True

    def finish_run(
        self, done: Sequence[Unit], rest: Sequence[Unit], times: Sequence[float]
    ) -> None:
        """End a run of :meth:`take_run`: let go of the ``done`` units (recorded already),
        learn from the ``times`` its jobs took, and make the ``rest``, never begun, ready
        again (once closed, :meth:`close` released them)."""
        with self._lock:
            self._running -= 1
            for unit in done:
                self._drop(unit)
            for took in times:
                self._learn(took)
            if not self.closed:
                for unit in reversed(rest):
                    self._ready.appendleft(unit)
                self._wake_handler()  # the slot is free again
            self._offer_room()
            if not self.held:
                self._quiet.notify_all()

    def _may_run_here(self) -> bool:
        """Whether a receive loop may run a ready unit itself now (under the lock)."""
        job_time = self._job_time
        return (
            job_time is not None
            and job_time < RUN_HERE_UNDER
            and self._running < self.slots
            and (self.solo or bool(self._reserved or self._turns))
            and not self.closed
        )

    def _start(self, now: float) -> Unit:
        unit = self._ready.popleft()
        unit.started = True
        self._running += 1
        unit.taken_at = self._last_take = now
        self._wake_handler()
        return unit

    def _done(self, unit: Unit, now: float) -> None:
        self._running -= 1
        self._learn(now - unit.taken_at)

    def _learn(self, took: float) -> None:
        # A slow job counts at once, fast ones wear it down: better a wake-up too many.
        known = took if self._job_time is None else self._job_time
        self._job_time = max(took, known * 0.9 + took * 0.1)

    def nudge(self) -> None:
        """Wake an idle handler when ready units have waited ``STALLED_AFTER`` seconds with
        none taken (called periodically)."""
        with self._lock:
            stalled = self.clock() - self._last_take >= STALLED_AFTER
            if self._ready and self._idle_handlers and stalled:
                self._work.notify()

    def followers(self, unit: Unit) -> int:
        """How many units of the same FIFO group wait behind this one."""
        if unit.group is None:
            return 0
        with self._lock:
            return len(self._groups.get((unit.queue.name, unit.group), ()))

    def retry_in_place(self, unit: Unit, due: float) -> bool:
        """Keep a failed FIFO unit and its group held, to run again at ``due``; False when
        the worker is stopping (the caller then settles it as usual)."""
        with self._lock:
            if self.closed:
                return False
            unit.started = False
            unit.retries += 1
            unit.due = due
            self._retrying.append(unit)
            return True

    def promote_due(self, now: float) -> None:
        """Make units whose in-place retry is due ready to run again."""
        with self._lock:
            due = [u for u in self._retrying if u.due is not None and u.due <= now]
            for unit in due:
                self._retrying.remove(unit)
                unit.due = None
                self._ready.appendleft(unit)
            self._wake_handler()

    def waiting_until(self) -> float | None:
        """When the only units held wait for an in-place retry (nothing running or ready):
        the time the first is due; else None."""
        with self._lock:
            running = self._running or any(u.started for u in self.held)
            if self._ready or running or not self._retrying:
                return None
            return min(u.due for u in self._retrying if u.due is not None)

    def finish(self, unit: Unit, success: bool, after: Callable[[], None]) -> list[Unit]:
        """Let go of a finished unit; return the units of its FIFO group to release (when it
        failed, they must not run before its retry). ``after`` runs under the lock."""
        released: list[Unit] = []
        with self._lock:
            self._drop(unit)
            after()
            if unit.group is not None:
                key = (unit.queue.name, unit.group)
                waiting = self._groups.get(key)
                if waiting and not success:
                    released = list(waiting)
                    for later in released:
                        self._drop(later)
                    waiting.clear()
                if waiting:
                    self._ready.append(waiting.popleft())
                    self._wake_handler()
                else:
                    self._busy_groups.discard(key)
                    self._groups.pop(key, None)
            self._offer_room()
            if not self.held:
                self._quiet.notify_all()
        return released

    def _drop(self, unit: Unit) -> None:
        if unit in self.held:
            self.held.discard(unit)
            self._count -= len(unit.messages)

    # -- views ---------------------------------------------------------------------------------

    def snapshot(self) -> list[Unit]:
        """The units held now."""
        with self._lock:
            return list(self.held)

    def idle(self) -> bool:
        """True when nothing is held and no receive is about to add anything."""
        with self._lock:
            return not self.held

    def receiving(self) -> bool:
        """True while a receive is in flight (its room reserved)."""
        with self._lock:
            return self._reserved > 0

    def count(self) -> int:
        """Messages held now, receives in flight counted at what they asked for."""
        with self._lock:
            return self._count + self._reserved

    def wait_quiet(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for nothing to be held; True when nothing is."""
        with self._lock:
            if self.held:
                self._quiet.wait(timeout)
            return not self.held
