"""Shutdown policies and graceful exits: nothing received is kept when the worker stops."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable

import pytest
from backends import Backend

from sqs_contracts import SQSEnv
from sqs_contracts.shutdown_policies import IdleShutdown, MaxTasksShutdown, ShutdownPolicy

from .contracts import Job
from .helpers import counts, make_env, make_queue, receive_all, run_worker, wait_for

WORKER_THREADS = ("sqs-receive-", "sqs-contracts-acker", "sqs-contracts-handler", "_heartbeat_loop")


def _worker_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if any(p in t.name for p in WORKER_THREADS)]


def _env_with_jobs(backend: Backend, jobs: int) -> tuple[SQSEnv, list[int]]:
    env = make_env(backend)
    make_queue(backend, env, "jobs")
    handled: list[int] = []
    lock = threading.Lock()

    @env.handler(Job)
    def handle(task: Job) -> None:
        time.sleep(0.01)
        with lock:
            handled.append(task.n)

    with env.batch():
        for n in range(jobs):
            Job(n=n).delay(env=env)
    return env, handled


@pytest.mark.parametrize("concurrency", [1, 4])
def test_max_tasks_stops_and_releases_what_was_not_started(
    backend: Backend, concurrency: int
) -> None:
    env, handled = _env_with_jobs(backend, 20)
    stats = run_worker(env, "jobs", policy=MaxTasksShutdown(5), concurrency=concurrency)

    if concurrency == 1:
        assert stats.succeeded == 5
    else:
        # Jobs already running when the fifth finished complete too.
        assert 5 <= stats.succeeded < 5 + concurrency
    assert len(handled) == stats.succeeded
    assert stats.released > 0
    # Received but unstarted messages are visible again at once: no clock moved.
    assert counts(env, "jobs") == (20 - stats.succeeded, 0)
    assert len(receive_all(env, "jobs")) == 20 - stats.succeeded
    assert wait_for(lambda: not _worker_threads(), 5), _worker_threads()


def test_idle_shutdown_stops_an_idle_worker(backend: Backend) -> None:
    env, _ = _env_with_jobs(backend, 0)
    started = time.monotonic()
    stats = run_worker(env, "jobs", policy=IdleShutdown(0.5), timeout=10)
    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 5
    assert (stats.succeeded, stats.failed, stats.released) == (0, 0, 0)
    assert wait_for(lambda: not _worker_threads(), 5), _worker_threads()


@pytest.mark.parametrize(
    ("make_policy", "expected"),
    [
        (lambda: MaxTasksShutdown(3) | IdleShutdown(30), 3),
        (lambda: MaxTasksShutdown(3) & IdleShutdown(0.5), 10),
    ],
    ids=["or", "and"],
)
def test_composed_policies(
    backend: Backend, make_policy: Callable[[], ShutdownPolicy], expected: int
) -> None:
    # Policies keep state: each run gets a fresh one.
    env, handled = _env_with_jobs(backend, 10)
    stats = run_worker(env, "jobs", policy=make_policy())
    assert stats.succeeded == expected
    assert sorted(handled) == sorted(set(handled))
    assert counts(env, "jobs") == (10 - expected, 0)


def test_run_restores_signal_handlers(backend: Backend) -> None:
    env, _ = _env_with_jobs(backend, 2)
    before = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
    stats = run_worker(env, "jobs", policy=MaxTasksShutdown(2), handle_signals=True)
    assert stats.succeeded == 2
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
