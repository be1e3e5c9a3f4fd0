"""A backoff policy that raises never leaves a message held: the default backoff applies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from backends import Backend

from sqs_contracts import ConstantBackoff

from .contracts import Job
from .helpers import after, counts, make_env, make_queue, run_worker

# round(timedelta) raises TypeError: the mistake of passing a timedelta for seconds.
BROKEN = ConstantBackoff(timedelta(seconds=30))  # type: ignore[arg-type]
DEFAULT_FIRST_BACKOFF = 1
"""ExponentialBackoff's first retry: about 1 s (10% jitter), what replaces a broken policy."""


@pytest.mark.parametrize("runner", ["worker", "process_batch"])
def test_a_raising_backoff_policy_falls_back_to_the_default(backend: Backend, runner: str) -> None:
    env = make_env(backend)
    make_queue(backend, env, "jobs")
    env.queue("jobs", backoff_policy=BROKEN)
    runs: list[int] = []

    @env.handler(Job)
    def handle(task: Job) -> None:
        runs.append(task.n)
        if len(runs) == 1:
            raise ValueError("first attempt fails")

    Job(n=7).delay(env=env)
    if runner == "worker":
        stats = run_worker(env, "jobs", policy=after(1))
        assert (stats.succeeded, stats.failed) == (0, 1)
    else:
        assert env.queue("jobs").process_batch(wait_seconds=1).failed_count() == 1
    assert runs == [7]

    # The message comes back after the default backoff (not 12 h of heartbeats), runs, and
    # is deleted.
    backend.advance(DEFAULT_FIRST_BACKOFF + 2)
    if runner == "worker":
        stats = run_worker(env, "jobs", policy=after(1))
        assert stats.succeeded == 1
    else:
        assert env.queue("jobs").process_batch(wait_seconds=1).succeeded_count() == 1
    assert runs == [7, 7]
    assert counts(env, "jobs") == (0, 0)
