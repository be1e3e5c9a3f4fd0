"""run_until_idle: the production worker on a test's queues, until nothing is left to do.

The worker is the one ``env.worker()`` builds, with its dispatch, acknowledgements and
retries; the env is pointed at a :class:`~sqs_contracts.testing.tracking.TrackingSession`
for the run, so the run knows exactly when every received message has been acknowledged.
When nothing is visible but messages are delayed or backing off, a ``ManualClock`` is moved
to the moment the next one becomes visible instead of sleeping.
"""

from __future__ import annotations

import threading
from typing import Any

from sqs_contracts.contracts.task import Task
from sqs_contracts.dispatch.results import BatchProcessingResult, Outcome
from sqs_contracts.env import SQSEnv
from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.runners.worker import Worker
from sqs_contracts.sessions.clock import ManualClock
from sqs_contracts.sessions.memory import MemorySession
from sqs_contracts.testing.errors import MaxJobsExceeded, RealSessionError
from sqs_contracts.testing.inspect import decode_task
from sqs_contracts.testing.results import JobRun, RunResult
from sqs_contracts.testing.tracking import TrackingSession
from sqs_contracts.wire.envelope import job_name_of
from sqs_contracts.wire.message import Message

QueueRef = str | type[Task] | GenericQueue
"""A queue given to ``run_until_idle``: its name, a contract sent to it, or the queue object."""


def _queue_names(env: SQSEnv, queues: tuple[QueueRef, ...]) -> list[str]:
    names = []
    for ref in queues:
        if isinstance(ref, str):
            names.append(ref)
        elif isinstance(ref, GenericQueue):
            names.append(ref.name)
        elif isinstance(ref, type) and issubclass(ref, Task):
            names.append(ref.queue_name())
        else:
            raise TypeError(
                f"run_until_idle() takes queue names, Task subclasses or queues, got {ref!r}"
            )
    if not queues:
        names = [
            name
            for name, queue in env.queues.items()
            if getattr(queue, "processors", None) or getattr(queue, "processor", None)
        ]
        if not names:
            raise ValueError(
                f"run_until_idle(): {env!r} has no handler: register one (@env.handler(...)) "
                f"or name the queues to run"
            )
    return list(dict.fromkeys(names))


class _UntilIdle:
    """The run's shutdown policy: stop when every queue is empty and nothing is in flight
    (moving a manual clock on while nothing is visible), or after ``max_jobs`` jobs."""

    def __init__(
        self, tracker: TrackingSession, queues: list[GenericQueue], max_jobs: int | None
    ) -> None:
        self.tracker = tracker
        self.queues = queues
        self.max_jobs = max_jobs
        self.jobs = 0

    def update_state(self, batch_processing_result: BatchProcessingResult) -> None:
        """Count the jobs that ran."""
        self.jobs += batch_processing_result.total_count()

    def need_shutdown(self) -> bool:
        """Stop at ``max_jobs``, or when idle; when only waiting, move the clock on."""
        tracker = self.tracker
        if self.max_jobs is not None and self.jobs >= self.max_jobs:
            tracker.close()  # the receive loops return at once, so the worker stops now
            return True
        # Held while deciding: no receive can start between the look at the queues and the
        # move of the clock, so no message in a handler's hands ever becomes visible again.
        with tracker.lock:
            if not tracker.quiet():
                return False
            due = self.next_due()
            if due is None:
                tracker.close()
                return True
            clock = tracker.clock
            if isinstance(clock, ManualClock) and due > clock.time():
                clock.set(due)
            if clock is None or due <= clock.time():
                tracker.wake()
        return False

    def wait_until(self, due: float, held: list[Any]) -> None:
        """The worker holds only FIFO heads waiting to be retried in place (their visibility
        extended past ``due``): move a manual clock to the first one's time instead of
        waiting. The extension settled nothing: the held messages are still unacknowledged."""
        clock = self.tracker.clock
        self.tracker.hold(str(m["ReceiptHandle"]) for m in held)
        with self.tracker.lock:
            if isinstance(clock, ManualClock) and due > clock.time():
                clock.set(due)

    def next_due(self) -> float | None:
        """When the next message of the queues can be received (0.0 for now on a session
        without a clock); None when they are all empty."""
        session = self.tracker.inner
        times: list[float] = []
        for queue in self.queues:
            if isinstance(session, MemorySession):
                due = session.next_receive_time(QueueUrl=queue.url)
                if due is not None:
                    times.append(due)
                continue
            attrs = session.get_queue_attributes(QueueUrl=queue.url)["Attributes"]
            if int(attrs.get("ApproximateNumberOfMessages", 0)):
                times.append(0.0)
            elif int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)) or int(
                attrs.get("ApproximateNumberOfMessagesDelayed", 0)
            ):
                times.append(float("inf"))
        return min(times, default=None)


def run_until_idle(
    env: SQSEnv,
    *queues: QueueRef,
    max_jobs: int | None = None,
    concurrency: int = 1,
    allow_real_session: bool = False,
) -> RunResult:
    """Run the env's worker on the queues (default: every queue with a handler) until they
    are empty and nothing is in flight; return what ran, succeeded, failed and was
    dead-lettered.

    A ``MemorySession`` on a ``ManualClock`` skips delays and backoffs: the clock moves to the
    next message's visibility instead of the test sleeping. ``max_jobs`` stops a handler that
    keeps enqueueing work, with :class:`MaxJobsExceeded`. A real session is refused unless
    ``allow_real_session=True``: the run would consume its queues.
    """
    session = env.session
    if not isinstance(session, MemorySession) and not allow_real_session:
        raise RealSessionError(
            f"run_until_idle() would consume the queues of {env!r}, which talks to a real SQS "
            f"endpoint: in tests point the env at a MemorySession (with env.override("
            f"sqs_memory):), or pass allow_real_session=True if consuming them is intended"
        )
    if max_jobs is not None and max_jobs < 1:
        raise ValueError(f"run_until_idle(): max_jobs must be >= 1 or None, got {max_jobs}")
    names = _queue_names(env, queues)
    result = RunResult()
    lock = threading.Lock()

    def record(queue: GenericQueue, message: Any, outcome: Outcome) -> None:
        if outcome.action == "defer":  # a long delay re-sent for later: nothing ran
            return
        received = Message.of(message)
        try:
            task = decode_task(queue, received)
        except Exception:  # a message that is not a job of a known contract
            task = None
        run = JobRun(
            queue=queue.name,
            job_name=job_name_of(received),
            message_id=str(received.get("MessageId")),
            attempt=int(received.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
            action=outcome.action,
            error=None if outcome.success else outcome.error,
            task=task,
            message=received,
        )
        with lock:
            result.ran.append(run)

    tracker = TrackingSession(session)
    with env.override(tracker):
        policy = _UntilIdle(tracker, [env.queue(name) for name in names], max_jobs)
        worker = Worker(
            env,
            concurrency=concurrency,
            wait_seconds=1,
            receivers=1,
            # The manual clock only moves while nothing is held, so no extension is ever due.
            heartbeat=not isinstance(tracker.clock, ManualClock),
            handle_signals=False,
            on_outcome=record,
            on_waiting=policy.wait_until,
        )
        try:
            worker.run(*names, shutdown_policy=policy)
        finally:
            tracker.close()
        left = policy.next_due()
    if left is not None:
        raise MaxJobsExceeded(
            f"run_until_idle() stopped after max_jobs={max_jobs} jobs and the queues "
            f"{names} still hold work; the busiest was {result.busiest()}: a handler that "
            f"enqueues a job again each time never lets the queue drain; fix it or raise max_jobs",
            result,
        )
    last: dict[tuple[str, str], JobRun] = {}
    for run in result.ran:
        last[(run.queue, run.message_id)] = run
    result.dead_lettered = [run for run in last.values() if not run.succeeded]
    return result
