"""The worker: receive with long polling, dispatch on threads, acknowledge, shut down cleanly.

Receive loops (``runners/receiver``) fill the holdings (``runners/holdings``) up to
``concurrency`` units plus ``prefetch`` messages; ``concurrency`` handler threads take units
from the ready queue, and a receive loop runs fast jobs itself while another loop receives
(in a handler's slot: no more than ``concurrency`` run at once); messages of one FIFO group
run one at a time, in order; the heartbeat (``runners/heartbeat``) extends the visibility of
messages held for long; the acker (``runners/acker``) batches deletes and visibility
changes. On SIGTERM/SIGINT the worker stops receiving, releases at once what it has not
started, gives running handlers ``grace_period`` seconds from the signal, and returns within
``grace_period`` + 1 s.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqs_contracts.dispatch.dispatcher import dispatch, outcome_of
from sqs_contracts.dispatch.results import BatchProcessingResult, Outcome, ProcessingResult
from sqs_contracts.queues.acknowledge import AckTarget, acknowledge
from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.queues.shutdown_policies import NEVER_SHUTDOWN, ShutdownPolicy
from sqs_contracts.runners.acker import Acker, Deadlines
from sqs_contracts.runners.event_loop import EventLoopThread, handler_threads
from sqs_contracts.runners.expiry import expired, let_go
from sqs_contracts.runners.fifo_retry import retry_in_place
from sqs_contracts.runners.heartbeat import Heartbeat
from sqs_contracts.runners.holdings import Holdings, Unit
from sqs_contracts.runners.ports import WorkerEnv
from sqs_contracts.runners.receiver import Receiver, loop_layout
from sqs_contracts.runners.retry import fatal_reason, is_fatal
from sqs_contracts.runners.run_here import Run, run_ready
from sqs_contracts.runners.signals import SignalFlag
from sqs_contracts.runners.worker_stats import WorkerStats
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES
from sqs_contracts.sessions.errors import SQSServiceError

logger = logging.getLogger(__name__)

Message = Mapping[str, Any]

DEFAULT_CONCURRENCY = 1
"""Handler threads of a worker when none is asked for, from ``env.worker()`` or the CLI."""

EXIT_MARGIN = 1.0
"""Seconds past the grace period within which :meth:`Worker.run` returns, whatever polls
are still open (what they return is left to its visibility timeout)."""


class Worker:
    """Runs an env's handlers for one or more queues on ``concurrency`` threads."""

    def __init__(
        self,
        env: WorkerEnv,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        wait_seconds: int = 10,
        prefetch: int | None = None,
        receivers: int | None = None,
        grace_period: float = 30.0,
        heartbeat: bool = True,
        handle_signals: bool = True,
        clock: Callable[[], float] | None = None,
        on_outcome: Callable[[GenericQueue, Message, Outcome], None] | None = None,
        on_waiting: Callable[[float, list[Message]], None] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        if prefetch is not None and prefetch < 0:
            raise ValueError(f"prefetch must be >= 0, got {prefetch}")
        self.env = env
        self.concurrency = concurrency
        self.wait_seconds = max(0, min(20, wait_seconds))
        # A receive in flight per handler thread (up to 16) keeps fast handlers fed.
        self.receivers = receivers or min(16, concurrency)
        self.prefetch = MAX_BATCH_ENTRIES * self.receivers if prefetch is None else prefetch
        """Messages held beyond the running ones (default: a full receive of 10 per receive
        loop); each is released (one receive spent) when the worker stops before starting it."""
        self.grace_period = grace_period
        self.heartbeat = heartbeat
        self.on_outcome = on_outcome
        """Called with each dispatched message's outcome once it is handed to the acker (or
        kept for a FIFO retry in place); it must not raise."""
        self.on_waiting = on_waiting
        """Called when the worker holds only FIFO heads waiting for their in-place retry (and
        their followers), with the time the first is due on its clock and the held messages,
        whose visibility was extended past it: a test's ManualClock can move there."""
        self.handle_signals = handle_signals
        # MemorySession's clock, so a ManualClock drives the heartbeat as it drives SQS time.
        session_time = getattr(getattr(env.session, "clock", None), "time", None)
        self.clock: Callable[[], float] = clock or (
            session_time if callable(session_time) else time.monotonic
        )
        self._stop = threading.Event()
        self._signals = SignalFlag()
        self._error: BaseException | None = None
        self._error_lock = threading.Lock()
        self._holdings = Holdings(concurrency + self.prefetch)
        self._policy: ShutdownPolicy = NEVER_SHUTDOWN
        self._loop: EventLoopThread[Unit] | None = None
        self.stats = WorkerStats()

    def stop(self) -> None:
        """Ask the worker to stop gracefully (thread-safe; what SIGTERM does)."""
        self._stop.set()
        self._holdings.wake()

    # -- the run ------------------------------------------------------------------------------

    def run(self, *queue_names: str, shutdown_policy: ShutdownPolicy | None = None) -> WorkerStats:
        """Process the named queues until a signal or the shutdown policy stops the worker.

        Raises the reason when the worker had to stop on its own: credentials refused, a
        queue missing, or ``SystemExit``/``KeyboardInterrupt`` raised by a handler.
        """
        if not queue_names:
            raise ValueError("worker.run() needs at least one queue name")
        self._stop.clear()
        self._error = None
        self._policy = shutdown_policy or NEVER_SHUTDOWN
        self.stats = WorkerStats(queues=list(queue_names))
        queues: list[GenericQueue] = [self.env.queue(name) for name in queue_names]
        unit_size = max(queue.receive_size for queue in queues)
        threads = handler_threads(queues, self.concurrency)
        holdings = Holdings(self.concurrency * unit_size + self.prefetch, slots=threads)
        self._holdings = holdings
        deadlines = Deadlines()
        per_queue, share = loop_layout(holdings.limit, len(queues), self.prefetch, self.receivers)
        # A receive of ten is a delete of ten, each a round trip: a sender per receive loop.
        self.stats.ack_senders = max(4, min(16, per_queue * len(queues)))
        acker = Acker(
            senders=self.stats.ack_senders,
            clock=self.clock,
            deadlines=deadlines,
            on_fatal=self._fail,
        )
        heartbeat = Heartbeat(holdings, deadlines, self.clock, self._fail)
        receivers = [
            Receiver(
                queue,
                holdings=holdings,
                acker=acker,
                deadlines=deadlines,
                stop=self._stop,
                clock=self.clock,
                wait_seconds=self.wait_seconds,
                share=share,
                on_fatal=self._fail,
                on_released=self._count_released,
                run_ready=lambda: self._run_ready(acker),
                poll_first=i > 0,  # the first loop reads the settings meanwhile
            )
            for queue in queues
            for i in range(per_queue)
        ]
        self.stats.receive_loops, self.stats.hold_limit = len(receivers), holdings.limit
        holdings.solo = (
            len(receivers) == 1 and threads == 1 and holdings.limit < 2 * receivers[0].want
        )
        restore = self._signals.install() if self.handle_signals else (lambda: None)
        self.env.middleware.on_worker_start(self)
        acker.start()
        if self.heartbeat:
            heartbeat.start()
        # Async handlers run on one event loop thread; sync ones need the handler threads.
        self._loop = EventLoopThread.for_queues(
            queues,
            self.concurrency,
            holdings.lock,
            self._stop,
            holdings.held,
            lambda unit, outcomes: self._complete(unit, list(outcomes), acker),
        )
        handlers = [
            threading.Thread(
                target=self._handler_loop, args=(acker,), name=f"sqs-handler-{i}", daemon=True
            )
            for i in range(threads)
        ]
        self.stats.handler_threads = threads
        loops = [
            threading.Thread(target=r.run, name=f"sqs-receive-{r.queue.name}", daemon=True)
            for r in receivers
        ]
        for thread in [*handlers, *loops]:
            thread.start()
        try:
            self._supervise(acker, heartbeat)
        finally:
            try:
                self._shut_down(acker, heartbeat, loops)
            finally:
                restore()
                self.env.middleware.on_worker_stop(self)
        if self._error is not None:
            raise self._error
        return self.stats

    def _supervise(self, acker: Acker, heartbeat: Heartbeat) -> None:
        """Until stopped: run due retries; when idle, tell the policy and flush acks."""
        holdings = self._holdings
        while not self._stop.wait(0.05):
            if self._signals.count:
                logger.info(
                    "received signal %s: finishing running jobs (up to %.0f s), then exiting",
                    self._signals.last,
                    self.grace_period,
                )
                self.stop()
                return
            if self.on_waiting is not None and (due := holdings.waiting_until()) is not None:
                heartbeat.cover(due)  # what the held heads' visibility must outlast
                held = [m for unit in holdings.snapshot() for m in unit.messages]
                self.on_waiting(due, held)
            holdings.promote_due(self.clock())
            holdings.nudge()
            with holdings.lock:
                # While jobs run there is nothing to report: an idle timer must not fire
                # under a long job; handlers report what finishes.
                idle = not holdings.held
                if idle:
                    self._policy.update_state(BatchProcessingResult("*"))
                    if self._policy.need_shutdown():
                        self._stop.set()
            if idle and (self._stop.is_set() or not holdings.receiving()):
                # No batch fills up while nothing runs or arrives: acknowledge now, not at
                # the timer. A receive in flight may fill it (a flush between two receives
                # would cost a partial DeleteMessageBatch each time).
                acker.flush()

    def _fail(self, exc: BaseException, queue: AckTarget | None = None) -> None:
        """Stop the worker because of ``exc``; :meth:`run` raises it once shut down."""
        if is_fatal(exc) and isinstance(exc, SQSServiceError) and queue is not None:
            describe = getattr(queue, "describe_endpoint", None)
            endpoint = describe() if callable(describe) else "the SQS endpoint"
            reason = fatal_reason(exc, queue.name, endpoint)
            exc = type(exc)(exc.response, exc.operation_name, reason)
        with self._error_lock:
            first = self._error is None
            if first:
                self._error = exc
        if first:
            logger.error("stopping the worker: %s", exc or type(exc).__name__)
        self.stop()

    def _count_released(self, count: int) -> None:
        with self._holdings.lock:
            self.stats.released += count

    # -- handling ------------------------------------------------------------------------------

    def _handler_loop(self, acker: Acker) -> None:
        unit: Unit | None = None
        # Nothing starts while acknowledgements fail: it could not be deleted in time.
        while acker.wait_healthy(self._stop) and (unit := self._holdings.take(self._stop, unit)):
            self._run(unit, acker)

    def _run_ready(self, acker: Acker) -> None:
        """On a receive loop, after a receive: run ready jobs here while they are fast."""
        run_ready(self._holdings, acker, self._stop, lambda unit, run: self._run(unit, acker, run))

    def _run(self, unit: Unit, acker: Acker, run: Run | None = None) -> None:
        if expired(unit, self.clock()):
            self._release(let_go(self._holdings, unit, acker.deadlines), acker)
            self._count_released(len(unit.messages))
            return
        loop = self._loop
        if loop is not None and loop.takes(unit):
            # The loop starts it when a slot is free; until then a stop releases it.
            with self._holdings.lock:
                unit.started = False
            loop.submit(unit)
            return
        self._handle(unit, acker, run if unit.group is None else None)

    def _handle(self, unit: Unit, acker: Acker, run: Run | None = None) -> None:
        queue = unit.queue
        outcomes: list[Outcome] = []
        try:
            outcomes = dispatch(queue, unit.messages)
        except BaseException as exc:  # SystemExit, KeyboardInterrupt: stop, not hang
            failed = ProcessingResult(False, error=exc)
            outcomes = [outcome_of(queue, m, failed) for m in unit.messages]
            logger.error(
                "a handler of queue %s raised %r: stopping the worker; its message(s) "
                "return after the backoff",
                queue.name,
                exc,
                extra={"queue": queue.name},
            )
            self._fail(exc)
        finally:
            self._complete(unit, outcomes, acker, run)

    def _complete(
        self, unit: Unit, outcomes: list[Outcome], acker: Acker, run: Run | None = None
    ) -> None:
        """After dispatch (on a handler thread or the loop): retry a FIFO head in place, or
        acknowledge each message and let the unit go (in a ``run``: record it; the run
        acknowledges and lets go of its units together)."""
        queue = unit.queue
        kept = False
        try:
            # Only a FIFO head may be kept. retry_in_place checks that too, but testing here
            # spares its calls on every job of a standard queue.
            kept = (
                unit.group is not None and bool(outcomes) and self._retry_in_place(unit, outcomes)
            )
            for message, outcome in zip(unit.messages, outcomes, strict=True):
                if not kept:
                    try:
                        acknowledge(queue, message, outcome, run or acker)
                    except Exception:  # the message then returns when its visibility ends
                        logger.exception("acknowledging a message of queue %s failed", queue.name)
                if self.on_outcome is not None:  # an in-place retry is a retry too
                    self.on_outcome(queue, message, outcome)
        finally:
            outcomes = outcomes or [Outcome("retry")] * len(unit.messages)
            if run is not None:
                run.units.append(unit)
                with self._holdings.lock:
                    self._record(unit, outcomes)
            elif not kept:
                self._finish(unit, outcomes, acker)

    def _record(self, unit: Unit, outcomes: Sequence[Outcome]) -> None:
        """Count a unit's jobs and tell the policy (under the holdings lock)."""
        succeeded: list[Message] = []
        failed: list[Message] = []
        messages = unit.messages
        if len(messages) == 1 == len(outcomes):  # a standard queue's unit: nothing to pair
            outcome = outcomes[0]
            if outcome.action != "defer":  # re-sent for later, nothing ran
                (succeeded if outcome.success else failed).append(messages[0])
        else:
            for message, outcome in zip(messages, outcomes, strict=True):
                if outcome.action != "defer":
                    (succeeded if outcome.success else failed).append(message)
        # The policy sees each job before this thread takes the next one, so
        # MaxTasksShutdown(n) on one thread runs exactly n jobs.
        self._policy.update_state(BatchProcessingResult(unit.queue.name, succeeded, failed))
        if self._policy.need_shutdown():
            self._stop.set()
        self.stats.succeeded += len(succeeded)
        self.stats.failed += len(failed)

    def _finish(self, unit: Unit, outcomes: Sequence[Outcome], acker: Acker) -> None:
        # The group waits for a message that returns to the queue, not for one moved away.
        returns = False
        for o in outcomes:
            if o.action == "retry" or (
                o.action == "dead_letter" and not unit.queue.settings.dead_letter_arn
            ):
                returns = True
                break
        released = self._holdings.finish(unit, not returns, lambda: self._record(unit, outcomes))
        self._release(released, acker)

    def _release(self, units: Sequence[Unit], acker: Acker) -> None:
        """Make held units visible again, each at once or when its in-place retry is due."""
        if not units:
            return
        now = self.clock()
        for unit in units:
            wait = 0 if unit.due is None else max(0, int(unit.due - now))
            for message in unit.messages:
                acker.change(unit.queue, message, wait)
        self._count_released(sum(len(u.messages) for u in units))

    def _retry_in_place(self, unit: Unit, outcomes: list[Outcome]) -> bool:
        if self._stop.is_set():
            return False
        return retry_in_place(self._holdings, unit, outcomes, self.clock, self._record)

    # -- shutdown ------------------------------------------------------------------------------

    def _shut_down(
        self, acker: Acker, heartbeat: Heartbeat, receivers: list[threading.Thread]
    ) -> None:
        stopped_at = time.monotonic()
        signals_seen = self._signals.count
        self.stop()
        exit_by = stopped_at + self.grace_period + EXIT_MARGIN
        # Release at once what was received and not started: each waiting minute would
        # delay those jobs for nothing.
        unstarted = self._holdings.close()
        self._release(unstarted, acker)
        if unstarted:
            logger.info("released %d received but unstarted messages", self.stats.released)
        acker.flush()
        grace_end = stopped_at + self.grace_period
        while not self._holdings.wait_quiet(min(0.05, max(0.0, grace_end - time.monotonic()))):
            if self._signals.count > signals_seen:
                logger.warning("second signal: exiting now")
                exit_by = time.monotonic() + 0.5
                break
            if time.monotonic() >= grace_end:
                break
        if self._loop is not None:
            self._loop.close()  # cancels what still runs: those messages are abandoned
        heartbeat.stop()
        running = self._holdings.snapshot()
        if running:
            self.stats.abandoned = sum(len(u.messages) for u in running)
            logger.warning(
                "%d jobs still running after the %.0f s grace period; their messages "
                "return to the queue when their visibility timeout ends",
                self.stats.abandoned,
                self.grace_period,
            )
        # A receive returning now releases what it got; one still in a long poll is left.
        join_by = min(exit_by, time.monotonic() + EXIT_MARGIN / 2)
        for thread in receivers:
            thread.join(timeout=max(0.0, join_by - time.monotonic()))
        acker.close(until=exit_by)
