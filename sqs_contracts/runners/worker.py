"""The worker: receive with long polling, dispatch on threads, acknowledge, shut down cleanly.

Receive loops ask for ten messages whenever the worker holds no more than ``concurrency``
(running or waiting); ``concurrency`` handler threads take them from one ready queue; messages
of one FIFO group run
one at a time, in order; a heartbeat extends the visibility of messages held for long; on
SIGTERM/SIGINT the worker stops receiving, releases what it has not started, lets running
handlers finish (within ``grace_period``) and flushes pending acknowledgements.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Protocol

from sqs_contracts.dispatch.backoff import MAX_VISIBILITY_TIMEOUT
from sqs_contracts.dispatch.dispatcher import dispatch
from sqs_contracts.dispatch.middleware import MiddlewareChain
from sqs_contracts.dispatch.results import BatchProcessingResult, Outcome
from sqs_contracts.queues.acknowledge import acknowledge, change_visibility
from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.queues.shutdown_policies import NEVER_SHUTDOWN, NeverShutdown, ShutdownPolicy
from sqs_contracts.runners.acker import Acker, with_retries
from sqs_contracts.runners.event_loop import EventLoopThread, handler_threads
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES, SQSSession

logger = logging.getLogger(__name__)

Message = Mapping[str, Any]

DEFAULT_CONCURRENCY = 1
"""Handler threads of a worker when none is asked for, from ``env.worker()`` or the CLI."""


class WorkerEnv(Protocol):
    """What a worker needs of its env: the session and the queues by name."""

    @property
    def session(self) -> SQSSession:
        """The SQS session (its clock, when it has one, drives the heartbeat)."""
        ...

    def queue(self, queue_name: str) -> Any:
        """The queue object registered under a name."""
        ...

    @property
    def middleware(self) -> MiddlewareChain:
        """Told when the worker starts and stops."""
        ...


@dataclass(eq=False)
class _Unit:
    """Messages handled together: one message, or a list for ``BatchMessages`` queues."""

    queue: GenericQueue
    messages: Sequence[Message]
    group: str | None
    received_at: float
    extended_to: float = 0.0
    started: bool = False


@dataclass
class WorkerStats:
    """What a worker run did."""

    succeeded: int = 0
    failed: int = 0
    released: int = 0
    queues: list[str] = field(default_factory=list)


class Worker:
    """Runs an env's handlers for one or more queues on ``concurrency`` threads."""

    def __init__(
        self,
        env: WorkerEnv,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        wait_seconds: int = 10,
        prefetch: int = MAX_BATCH_ENTRIES,
        receivers: int | None = None,
        grace_period: float = 30.0,
        heartbeat: bool = True,
        handle_signals: bool = True,
        clock: Callable[[], float] | None = None,
        on_outcome: Callable[[GenericQueue, Message, Outcome], None] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self.env = env
        self.concurrency = concurrency
        self.wait_seconds = max(0, min(20, wait_seconds))
        # A receive starts while at most this many messages are held, so the next ten
        # arrive before the running ones are done; ``prefetch`` bounds how many wait.
        self.room = concurrency + max(0, prefetch)
        # Each receive waits a round trip: one receive in flight per two handler threads (up
        # to 8) keeps fast handlers fed; the room check bounds how many wait unstarted.
        self.receivers = receivers or max(1, min(8, (concurrency + 1) // 2))
        self.grace_period = grace_period
        self.heartbeat = heartbeat
        self.on_outcome = on_outcome
        """Called on a handler thread with each dispatched message's outcome, once it is
        acknowledged (handed to the acker); it must not raise."""
        self.handle_signals = handle_signals
        # MemorySession's clock, so a ManualClock drives the heartbeat as it drives SQS time.
        session_time = getattr(getattr(env.session, "clock", None), "time", None)
        self.clock: Callable[[], float] = clock or (
            session_time if callable(session_time) else time.monotonic
        )
        self._stop = threading.Event()
        # One lock, three conditions: handlers wait for work, receivers for room, and the
        # shutdown for running jobs; each wakes only the threads that can act.
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._room = threading.Condition(self._lock)
        self._quiet = threading.Condition(self._lock)
        self._held: set[_Unit] = set()
        self._ready: deque[_Unit] = deque()
        self._group_queues: dict[tuple[str, str], deque[_Unit]] = {}
        self._busy_groups: set[tuple[str, str]] = set()
        self._policy: ShutdownPolicy = NEVER_SHUTDOWN
        self._acker: Acker | None = None
        self._loop: EventLoopThread[_Unit] | None = None
        self.stats = WorkerStats()

    def stop(self) -> None:
        """Ask the worker to stop gracefully (thread-safe; what SIGTERM does)."""
        self._stop.set()
        with self._lock:
            self._wake_all()

    def _wake_all(self) -> None:
        self._work.notify_all()
        self._room.notify_all()
        self._quiet.notify_all()

    # -- the run ------------------------------------------------------------------------------

    def run(self, *queue_names: str, shutdown_policy: ShutdownPolicy | None = None) -> WorkerStats:
        """Process the named queues until a signal or the shutdown policy stops the worker."""
        if not queue_names:
            raise ValueError("worker.run() needs at least one queue name")
        policy = self._policy = shutdown_policy or NEVER_SHUTDOWN
        queues: list[GenericQueue] = [self.env.queue(name) for name in queue_names]
        for queue in queues:
            queue.settings  # noqa: B018 - resolve URL and attributes before threads start
        self.stats.queues = list(queue_names)
        poll = self.wait_seconds if isinstance(policy, NeverShutdown) else min(1, self.wait_seconds)
        restore = self._install_signals()
        self.env.middleware.on_worker_start(self)
        # One sender thread per four handlers keeps deletes flowing at 20 ms a round trip.
        acker = self._acker = Acker(senders=max(4, min(16, self.concurrency // 4)))
        acker.start()
        # Async handlers run on one event loop thread; sync ones need the handler threads.
        self._loop = EventLoopThread.for_queues(
            queues, self.concurrency, self._lock, self._stop, self._held, self._finish, acker
        )
        handlers = [
            threading.Thread(
                target=self._handler_loop, args=(acker,), name=f"sqs-handler-{i}", daemon=True
            )
            for i in range(handler_threads(queues, self.concurrency))
        ]
        threads = [
            threading.Thread(
                target=self._receive_loop,
                args=(queue, poll),
                name=f"sqs-receive-{queue.name}",
                daemon=True,
            )
            for queue in queues
            for _ in range(self.receivers)
        ]
        if self.heartbeat:
            threads.append(threading.Thread(target=self._heartbeat_loop, daemon=True))
        for thread in [*handlers, *threads]:
            thread.start()
        try:
            self._supervise(policy, acker)
        finally:
            self.stop()
            for thread in threads:
                thread.join(timeout=self.wait_seconds + 5)
            self._release_unstarted(acker)
            self._wait_running()
            if self._loop is not None:
                self._loop.close()
            acker.close()
            restore()
            self.env.middleware.on_worker_stop(self)
        return self.stats

    def _install_signals(self) -> Callable[[], None]:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return lambda: None

        def on_signal(signum: int, frame: FrameType | None) -> None:
            logger.info("received signal %d: finishing running jobs, then exiting", signum)
            self.stop()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore

    # -- receiving ------------------------------------------------------------------------------

    def _receive_loop(self, queue: GenericQueue, poll: int) -> None:
        batch_size = queue.receive_size
        # Past ten, a batch queue receives until it holds a whole number of batches.
        count = MAX_BATCH_ENTRIES if batch_size <= MAX_BATCH_ENTRIES else batch_size
        failures = 0
        while not self._stop.is_set():
            with self._lock:
                while len(self._held) > self.room and not self._stop.is_set():
                    self._room.wait(0.5)
            if self._stop.is_set():
                return
            try:
                messages = queue.receive(count, poll)
                failures = 0
            except Exception as exc:  # the worker outlives endpoint outages
                failures += 1
                delay = min(10.0, 0.25 * 2**failures)
                logger.warning(
                    "receive from queue %s failed (%s); retrying in %.1f s",
                    queue.name,
                    exc,
                    delay,
                    extra={"queue": queue.name},
                )
                self._stop.wait(delay)
                continue
            if messages:
                self._accept(queue, messages, batch_size)

    def _accept(self, queue: GenericQueue, messages: Sequence[Message], batch_size: int) -> None:
        now = self.clock()
        fifo = queue.settings.fifo
        # On FIFO queues a unit holds messages of one group, so its group keeps them in order
        # (batches too: two batches of a group must not run at the same time).
        chunks: dict[str | None, list[Message]] = {}
        for message in messages:
            group = message.get("Attributes", {}).get("MessageGroupId") if fifo else None
            chunks.setdefault(group, []).append(message)
        units = [
            _Unit(queue, group_messages[i : i + batch_size], group, now)
            for group, group_messages in chunks.items()
            for i in range(0, len(group_messages), batch_size)
        ]
        with self._lock:
            for unit in units:
                self._held.add(unit)
                if unit.group is None:
                    self._ready.append(unit)
                else:
                    key = (queue.name, unit.group)
                    self._group_queues.setdefault(key, deque()).append(unit)
                    if key not in self._busy_groups:
                        self._busy_groups.add(key)
                        self._ready.append(self._group_queues[key].popleft())
            self._work.notify(len(units))

    # -- dispatching ------------------------------------------------------------------------------

    def _supervise(self, policy: ShutdownPolicy, acker: Acker) -> None:
        """Until stopped: when the worker is idle, tell the policy and flush acknowledgements."""
        while not self._stop.wait(0.05):
            with self._lock:
                # While jobs run there is nothing to report: an idle timer must not fire
                # under a long job; handlers report what finishes.
                idle = not self._held
                if idle:
                    policy.update_state(BatchProcessingResult("*"))
                    if policy.need_shutdown():
                        self._stop.set()
                        self._wake_all()
            if idle:
                # No batch fills up while nothing runs: acknowledge now, not at the timer.
                acker.flush()

    def _handler_loop(self, acker: Acker) -> None:
        while True:
            with self._lock:
                while not self._ready and not self._stop.is_set():
                    self._work.wait()
                if self._stop.is_set():
                    return
                unit = self._ready.popleft()
                # A unit of async handlers goes to the loop thread, which starts it later.
                loop = self._loop if self._loop is not None and self._loop.takes(unit) else None
                unit.started = loop is None
            if loop is not None:
                loop.submit(unit)
                continue
            self._handle(unit, acker)

    def _handle(self, unit: _Unit, acker: Acker) -> None:
        queue = unit.queue
        outcomes: list[Outcome] = []
        try:
            outcomes = dispatch(queue, unit.messages)
            for message, outcome in zip(unit.messages, outcomes, strict=True):
                acknowledge(queue, message, outcome, acker)
                if self.on_outcome is not None:
                    self.on_outcome(queue, message, outcome)
        finally:
            self._finish(unit, [o.success for o in outcomes] or [False] * len(unit.messages))

    def _finish(self, unit: _Unit, successes: Sequence[bool]) -> None:
        done = BatchProcessingResult(unit.queue.name)
        for message, ok in zip(unit.messages, successes, strict=True):
            done.update_with_message(message, ok)
        success = all(successes)
        with self._lock:
            self._held.discard(unit)
            # The policy sees each job before this thread takes the next one, so
            # MaxTasksShutdown(n) on one thread runs exactly n jobs.
            self._policy.update_state(done)
            if self._policy.need_shutdown():
                self._stop.set()
                self._wake_all()
            self.stats.succeeded += done.succeeded_count()
            self.stats.failed += done.failed_count()
            if unit.group is not None:
                key = (unit.queue.name, unit.group)
                waiting = self._group_queues.get(key)
                if waiting and not success:
                    # A failed FIFO message will come back first: the rest of its group must
                    # not run before it, so it goes back to the queue untouched.
                    for later in waiting:
                        self._held.discard(later)
                        for message in later.messages:
                            self._acker_release(later.queue, message)
                    waiting.clear()
                if waiting:
                    self._ready.append(waiting.popleft())
                    self._work.notify()
                else:
                    self._busy_groups.discard(key)
                    self._group_queues.pop(key, None)
            if len(self._held) <= self.room:
                self._room.notify_all()
            if not self._held:
                self._quiet.notify_all()

    def _acker_release(self, queue: GenericQueue, message: Message) -> None:
        if self._acker is not None:
            self._acker.change(queue, message, 0)
            self.stats.released += 1

    # -- visibility ------------------------------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(0.25):
            now = self.clock()
            with self._lock:
                held = list(self._held)
            extensions: dict[GenericQueue, list[tuple[Message, int]]] = {}
            for unit in held:
                timeout = unit.queue.settings.visibility_timeout
                deadline = max(unit.received_at + timeout, unit.extended_to)
                if now < deadline - timeout / 2 or now - unit.received_at >= MAX_VISIBILITY_TIMEOUT:
                    continue
                extension = int(min(timeout, MAX_VISIBILITY_TIMEOUT - (now - unit.received_at)))
                unit.extended_to = now + extension
                entries = extensions.setdefault(unit.queue, [])
                entries.extend((message, extension) for message in unit.messages)
            for queue, entries in extensions.items():
                with_retries(
                    functools.partial(change_visibility, queue, entries),
                    f"visibility heartbeat on {queue.name}",
                    self._stop,
                )

    # -- shutdown ------------------------------------------------------------------------------

    def _release_unstarted(self, acker: Acker) -> None:
        with self._lock:
            waiting = [u for u in self._held if not u.started]
            for unit in waiting:
                self._held.discard(unit)
            self._ready.clear()
            self._group_queues.clear()
        for unit in waiting:
            for message in unit.messages:
                self._acker_release(unit.queue, message)
        if waiting:
            logger.info("released %d received but unstarted messages", self.stats.released)

    def _wait_running(self) -> None:
        deadline = time.monotonic() + self.grace_period
        with self._lock:
            while self._held and time.monotonic() < deadline:
                self._quiet.wait(min(0.1, max(0.0, deadline - time.monotonic())))
            if self._held:
                logger.warning(
                    "%d jobs still running after the %.0f s grace period; their messages "
                    "return to the queue when their visibility timeout ends",
                    len(self._held),
                    self.grace_period,
                )
