"""Failures, retries, backoff and redrive through the worker."""

from __future__ import annotations

import json
import logging

import pytest
from backends import Backend

from sqs_contracts import IMMEDIATE_RETURN, ConstantBackoff, RetryJob
from sqs_contracts.shutdown_policies import MaxTasksShutdown

from .contracts import Job
from .helpers import after, attribute, counts, make_env, make_queue, receive_all, run_worker


def test_job_failing_twice_then_succeeding_runs_once_and_is_deleted(backend: Backend) -> None:
    env = make_env(backend, backoff_policy=IMMEDIATE_RETURN)
    make_queue(backend, env, "jobs")
    attempts: list[int] = []
    successes: list[int] = []

    @env.handler(Job)
    def handle(task: Job) -> None:
        attempts.append(task.n)
        if len(attempts) <= 2:
            raise ConnectionError("flaky dependency")
        successes.append(task.n)

    Job(n=1).delay(env=env)
    stats = run_worker(env, "jobs", policy=after(3))

    assert attempts == [1, 1, 1]
    assert successes == [1]
    assert (stats.succeeded, stats.failed) == (1, 2)
    assert counts(env, "jobs") == (0, 0)
    assert receive_all(env, "jobs") == []


def test_always_failing_job_lands_in_the_dead_letter_queue_intact(backend: Backend) -> None:
    env = make_env(backend, backoff_policy=IMMEDIATE_RETURN)
    make_queue(backend, env, "jobs_dead")
    make_queue(backend, env, "jobs", redrive_policy=env.redrive_policy("jobs_dead", 2))
    attempts: list[int] = []

    @env.handler(Job)
    def handle(task: Job) -> None:
        attempts.append(task.n)
        raise ValueError("always broken")

    with env.context(request_id="req-7"):
        message_id = Job(n=7, label="dead").delay(env=env)
    stats = run_worker(env, "jobs", policy=after(2))

    assert attempts == [7, 7]
    assert stats.failed == 2
    # SQS moves a message to the dead-letter queue when a receive finds it over the count.
    assert receive_all(env, "jobs") == []
    assert counts(env, "jobs") == (0, 0)
    [dead] = receive_all(env, "jobs_dead")
    assert dead["MessageId"] == message_id
    assert json.loads(dead["Body"]) == {"n": 7, "label": "dead"}
    assert attribute(dead, "JobName") == "Job"
    assert attribute(dead, "ContentType") == "json"
    assert json.loads(attribute(dead, "JobContext") or "") == {"request_id": "req-7"}


def test_retry_job_sets_the_visibility_and_logs_at_info(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqs_contracts")
    backoff = 60 if backend.is_memory else 1
    env = make_env(backend)
    make_queue(backend, env, "jobs")
    calls: list[int] = []

    @env.handler(Job)
    def handle(task: Job) -> None:
        calls.append(task.n)
        raise RetryJob(backoff_policy=ConstantBackoff(backoff))

    message_id = Job(n=3).delay(env=env)
    stats = run_worker(env, "jobs", policy=MaxTasksShutdown(1))

    assert calls == [3]
    assert stats.failed == 1
    assert receive_all(env, "jobs") == []
    if backend.is_memory:
        backend.advance(backoff - 1)
        assert receive_all(env, "jobs") == []
    backend.advance(backoff + 0.5 if not backend.is_memory else 1.5)
    [again] = receive_all(env, "jobs")
    assert again["MessageId"] == message_id
    retries = [r for r in caplog.records if r.getMessage().startswith("Retrying")]
    assert retries, caplog.text
    assert all(r.levelno == logging.INFO for r in retries)
    assert message_id in retries[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
