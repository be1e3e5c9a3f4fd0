"""A receive loop's runs of fast jobs, in a worker: the policy sees each job before the next
starts, a stop releases what a run did not get to, and each message gets its outcome.

Every job counts as fast here, however loaded the machine, so that receive loops run them.
"""

from __future__ import annotations

import threading

import pytest
from backends import Backend

from sqs_contracts import SQSEnv, create_standard_queue
from sqs_contracts.dispatch.results import BatchProcessingResult
from sqs_contracts.runners import holdings, run_here
from sqs_contracts.sessions import ManualClock, MemorySession
from sqs_contracts.shutdown_policies import MaxTasksShutdown

from .contracts import Job
from .helpers import after, counts, make_env, make_queue, receive_all, run_worker


@pytest.fixture(autouse=True)
def _every_job_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(holdings, "RUN_HERE_UNDER", 60.0)
    monkeypatch.setattr(run_here, "RUN_HERE_UNDER", 60.0)


def test_max_tasks_stops_a_run_after_exactly_that_many_jobs(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "jobs")
    ran: list[int] = []
    lock = threading.Lock()

    @env.handler(Job)
    def handle(task: Job) -> None:
        with lock:
            ran.append(task.n)

    with env.batch():
        for n in range(30):
            Job(n=n).delay(env=env)
    stats = run_worker(env, "jobs", policy=MaxTasksShutdown(13), concurrency=1)

    assert stats.succeeded == len(ran) == 13
    # What the run did not get to was released at once, not left invisible: no clock moved.
    assert stats.released > 0
    assert counts(env, "jobs") == (17, 0)
    left = sorted(Job.model_validate_json(m["Body"]).n for m in receive_all(env, "jobs"))
    assert left == sorted(set(range(30)) - set(ran))


def test_failures_in_a_run_get_their_backoff_and_successes_are_deleted(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "jobs")

    @env.handler(Job)
    def handle(task: Job) -> None:
        if task.n % 5 == 0:
            raise RuntimeError(f"job {task.n} fails")

    with env.batch():
        for n in range(20):
            Job(n=n).delay(env=env)
    stats = run_worker(env, "jobs", policy=after(20), concurrency=1)

    assert (stats.succeeded, stats.failed) == (16, 4)
    assert counts(env, "jobs") == (0, 4)  # the failures wait out their backoff


class _StopAfterTwoUnits:
    """Records what the policy is told of each unit; stops after two."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []

    def update_state(self, batch_processing_result: BatchProcessingResult) -> None:
        result = batch_processing_result
        self.seen.append((len(result.succeeded), len(result.failed)))

    def need_shutdown(self) -> bool:
        return len(self.seen) >= 2


def test_a_long_delay_received_early_counts_as_neither_success_nor_failure() -> None:
    clock = ManualClock()
    env = SQSEnv(MemorySession(clock=clock), queue_prefix="runs-")
    create_standard_queue(env, "jobs")
    ran: list[int] = []

    @env.handler(Job)
    def handle(task: Job) -> None:
        ran.append(task.n)

    Job(n=1).delay(env=env, delay_seconds=7200)
    clock.advance(900)  # its first hop is over: received long before it is due, re-sent
    Job(n=2).delay(env=env)
    policy = _StopAfterTwoUnits()
    stats = run_worker(env, "jobs", policy=policy, concurrency=1)

    assert sorted(policy.seen) == [(0, 0), (1, 0)]
    assert (stats.succeeded, stats.failed) == (1, 0)
    assert ran == [2]
