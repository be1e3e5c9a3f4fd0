"""Batch handlers (BatchMessages) and custom processors."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest
from backends import Backend

from sqs_contracts import ConstantBackoff, JobContext, RetryJob
from sqs_contracts.batching import BatchMessages
from sqs_contracts.processors import Processor

from .contracts import BatchJob, Job, OrderJob
from .helpers import after, counts, make_env, make_queue, receive_all, run_worker


@pytest.mark.parametrize(("batch_size", "jobs"), [(3, 20), (15, 40)])
def test_batch_handlers_never_get_more_than_the_batch_size(
    backend: Backend, batch_size: int, jobs: int
) -> None:
    env = make_env(backend)
    make_queue(backend, env, "batched")
    env.queue("batched", batching_policy=BatchMessages(batch_size))
    sizes: list[int] = []
    seen: list[int] = []
    lock = threading.Lock()

    @env.handler(BatchJob)  # type: ignore[arg-type]
    def handle(tasks: list[BatchJob]) -> None:
        assert all(isinstance(task, BatchJob) for task in tasks)
        with lock:
            sizes.append(len(tasks))
            seen.extend(task.n for task in tasks)

    with env.batch():
        for n in range(jobs):
            BatchJob(n=n).delay(env=env)
    stats = run_worker(env, "batched", policy=after(jobs), concurrency=4)

    assert stats.succeeded == jobs
    assert sorted(seen) == list(range(jobs))
    # Never more than the batch size; for 15, receives of ten are topped up to fill a batch.
    assert max(sizes) == batch_size, sizes
    assert counts(env, "batched") == (0, 0)


def _retrying_batch_env(backend: Backend, backoff: int) -> Any:
    env = make_env(backend)
    make_queue(backend, env, "batched")
    env.queue("batched", batching_policy=BatchMessages(3))
    calls: list[list[int]] = []

    @env.handler(BatchJob)  # type: ignore[arg-type]
    def handle(tasks: list[BatchJob]) -> None:
        calls.append([task.n for task in tasks])
        raise RetryJob(ConstantBackoff(backoff))

    with env.batch():
        for n in range(3):
            BatchJob(n=n).delay(env=env)
    return env, calls


@pytest.mark.parametrize("runner", ["worker", "process_batch"])
def test_retry_job_in_batch_mode_keeps_the_messages(backend: Backend, runner: str) -> None:
    backoff = 30 if backend.is_memory else 1
    env, calls = _retrying_batch_env(backend, backoff)

    if runner == "worker":
        stats = run_worker(env, "batched", policy=after(3))
        assert stats.failed == 3
    else:
        failed = 0
        for _ in range(10):
            failed += env.queue("batched").process_batch(wait_seconds=0).failed_count()
            if failed == 3:
                break
        assert failed == 3

    assert sorted(n for call in calls for n in call) == [0, 1, 2]
    assert sum(counts(env, "batched")) == 3
    assert receive_all(env, "batched") == []
    backend.advance(backoff + 0.5)
    assert len(receive_all(env, "batched")) == 3


class RecordingProcessor(Processor):
    """Wraps every handler call: records what it was called with and what happened."""

    calls: list[tuple[str, dict[str, Any], str]] = []  # noqa: RUF012

    def process(self, job_kwargs: Mapping[str, Any], job_context: JobContext) -> Any:
        RecordingProcessor.calls.append(("before", dict(job_kwargs), job_context.job_name))
        try:
            return super().process(job_kwargs, job_context)
        finally:
            RecordingProcessor.calls.append(("after", dict(job_kwargs), job_context.job_name))


def test_custom_processor_wraps_every_handler_call(backend: Backend) -> None:
    RecordingProcessor.calls = []
    env = make_env(backend, processor_maker=RecordingProcessor)
    make_queue(backend, env, "jobs")
    handled: list[tuple[str, int]] = []

    @env.handler(Job)
    def handle(task: Job) -> None:
        handled.append(("handled", task.n))
        if task.n == 2:
            raise ValueError("the wrapper sees failures too")

    with env.batch():
        for n in range(3):
            Job(n=n, label=f"l{n}").delay(env=env)
    stats = run_worker(env, "jobs", policy=after(3))

    assert (stats.succeeded, stats.failed) == (2, 1)
    assert sorted(handled) == [("handled", 0), ("handled", 1), ("handled", 2)]
    assert len(RecordingProcessor.calls) == 6
    for n in range(3):
        kwargs = {"n": n, "label": f"l{n}"}
        steps = [step for step, seen, _ in RecordingProcessor.calls if seen == kwargs]
        assert steps == ["before", "after"]
    assert {name for _, _, name in RecordingProcessor.calls} == {"Job"}
    assert isinstance(env.queue("jobs").processors["Job"], RecordingProcessor)


class ContextReadingProcessor(Processor):
    """Overrides ``call`` only: it reads each job's context around the handler call."""

    seen: list[tuple[str, str, int]] = []  # noqa: RUF012

    def call(self, validated: Any, job_context: JobContext) -> Any:
        ContextReadingProcessor.seen.append(
            (job_context.job_name, job_context.queue_name, job_context.receive_count)
        )
        return super().call(validated, job_context)


def test_custom_call_gets_each_jobs_context(backend: Backend) -> None:
    # The handler takes no context, yet the overridden call reads it: it must be the job's.
    ContextReadingProcessor.seen = []
    env = make_env(backend, processor_maker=ContextReadingProcessor)
    make_queue(backend, env, "jobs")
    handled: list[int] = []

    @env.handler(Job)
    def handle(task: Job) -> None:
        handled.append(task.n)

    with env.batch():
        for n in range(2):
            Job(n=n, label=f"l{n}").delay(env=env)
    stats = run_worker(env, "jobs", policy=after(2))

    assert stats.succeeded == 2
    assert sorted(handled) == [0, 1]
    assert ContextReadingProcessor.seen == [("Job", "jobs", 1), ("Job", "jobs", 1)]


def test_fifo_batches_keep_each_group_in_order(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "orders.fifo", content_based_deduplication=True)
    env.queue("orders.fifo", batching_policy=BatchMessages(3))
    seen: dict[str, list[int]] = {}
    sizes: list[int] = []
    lock = threading.Lock()

    @env.handler(OrderJob)  # type: ignore[arg-type]
    def handle(tasks: list[OrderJob]) -> None:
        time.sleep(random.uniform(0, 0.02))
        with lock:
            sizes.append(len(tasks))
            for task in tasks:
                seen.setdefault(task.group, []).append(task.seq)

    per_group = 15
    with env.batch():
        for seq in range(per_group):
            for group in ("a", "b"):
                OrderJob(group=group, seq=seq).delay(env=env, group_id=group)
    stats = run_worker(env, "orders.fifo", policy=after(2 * per_group), concurrency=4)

    assert stats.succeeded == 2 * per_group
    assert max(sizes) <= 3
    assert seen == {"a": list(range(per_group)), "b": list(range(per_group))}
