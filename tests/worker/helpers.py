"""Helpers for the worker tests: envs and queues on a backend, bounded worker runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from backends import Backend

from sqs_contracts import MemorySession, SQSEnv, create_fifo_queue, create_standard_queue
from sqs_contracts.runners.worker import Worker
from sqs_contracts.runners.worker_stats import WorkerStats
from sqs_contracts.shutdown_policies import IdleShutdown, MaxTasksShutdown, ShutdownPolicy

from .contracts import Job
from .faults import FaultySession

RUN_TIMEOUT = 30.0
"""The longest a worker run may take: past it the worker is stopped and the test fails."""


def make_env(backend: Backend, **options: Any) -> SQSEnv:
    """An env on the backend's session with a queue prefix no other test uses."""
    return SQSEnv(backend.session, queue_prefix=backend.unique("w") + "-", **options)


def make_queue(backend: Backend, env: SQSEnv, name: str, **options: Any) -> str:
    """Create one of the env's queues (FIFO when the name ends in .fifo); deleted after the test."""
    if name.endswith(".fifo"):
        url = create_fifo_queue(env, name, **options)
    else:
        url = create_standard_queue(env, name, **options)
    backend.created.append(url)
    return url


def after(tasks: int, idle: float = 5.0) -> ShutdownPolicy:
    """Stop after ``tasks`` processed messages, or after ``idle`` seconds without any.

    moto's long polls do not return messages made visible again while they wait, so tests
    stop on a task count rather than on a short idle time.
    """
    return MaxTasksShutdown(tasks) | IdleShutdown(idle)


def run_worker(
    env: SQSEnv,
    *queue_names: str,
    policy: ShutdownPolicy,
    concurrency: int = 1,
    timeout: float = RUN_TIMEOUT,
    **options: Any,
) -> WorkerStats:
    """Run a worker until its policy stops it; fail the test if it runs past ``timeout``."""
    options.setdefault("wait_seconds", 1)
    options.setdefault("handle_signals", False)
    if not isinstance(env.session, MemorySession):
        # moto picks messages without a lock: two receives in flight on one queue can get the
        # same message, which would look like a duplicate delivery of ours.
        options.setdefault("receivers", 1)
    worker = env.worker(concurrency=concurrency, **options)
    guard = Guard(worker, timeout)
    try:
        stats = worker.run(*queue_names, shutdown_policy=policy)
    finally:
        guard.cancel()
    assert not guard.fired, f"the worker was still running after {timeout} s"
    return stats


class Guard:
    """Stops a worker that runs longer than ``timeout`` seconds."""

    def __init__(self, worker: Worker, timeout: float) -> None:
        self.fired = False
        self._worker = worker
        self._timer = threading.Timer(timeout, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        self._worker.stop()

    def cancel(self) -> None:
        """Disarm the guard."""
        self._timer.cancel()


def counts(env: SQSEnv, queue_name: str) -> tuple[int, int]:
    """The (visible, in flight) message counts of one of the env's queues."""
    attrs = env.session.get_queue_attributes(
        QueueUrl=env.queue(queue_name).url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]),
        int(attrs["ApproximateNumberOfMessagesNotVisible"]),
    )


def receive_all(env: SQSEnv, queue_name: str, rounds: int = 20) -> list[dict[str, Any]]:
    """Receive every visible message of a queue (without deleting them)."""
    messages: list[dict[str, Any]] = []
    queue = env.queue(queue_name)
    for _ in range(rounds):
        batch = queue.get_raw_messages(0)
        if not batch:
            break
        messages.extend(batch)
    return messages


def received_jobs(count: int) -> tuple[FaultySession, Any, list[dict[str, Any]]]:
    """A queue's ``count`` jobs, received: the session, the queue and the messages."""
    session = FaultySession(MemorySession())
    env = SQSEnv(session)
    create_standard_queue(env, "jobs")
    for n in range(count):
        Job(n=n).delay(env=env)
    messages = receive_all(env, "jobs")
    assert len(messages) == count
    return session, env.queue("jobs"), messages


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def attribute(message: dict[str, Any], name: str) -> str | None:
    """A string message attribute of a received message."""
    attr = message.get("MessageAttributes", {}).get(name)
    return None if attr is None else attr.get("StringValue")
