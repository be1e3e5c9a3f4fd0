"""Raw queues, dead-letter queues pushing back, and the sqs-workers processing API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from backends import Backend

from sqs_contracts import JobContext, RawQueue
from sqs_contracts.deadletter_queue import DeadLetterQueue
from sqs_contracts.runners.worker import Worker
from sqs_contracts.shutdown_policies import IdleShutdown

from .contracts import BatchJob, Job
from .helpers import Guard, after, attribute, counts, make_env, make_queue, receive_all, run_worker

SOURCE = {"Source": {"DataType": "String", "StringValue": "s3"}}


def test_raw_queue_processed_by_the_worker(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "raw")
    raw = env.queue("raw", RawQueue)
    received: list[Mapping[str, Any]] = []

    def handle(message: Mapping[str, Any]) -> None:
        received.append(message)

    assert raw.raw_processor()(handle) is handle
    raw.add_raw_job("hello")
    raw.add_raw_job('{"not": "a job"}', message_attributes=SOURCE)
    stats = run_worker(env, "raw", policy=after(2))

    assert stats.succeeded == 2
    assert sorted(m["Body"] for m in received) == ["hello", '{"not": "a job"}']
    [with_source] = [m for m in received if m["Body"] != "hello"]
    assert attribute(with_source, "Source") == "s3"
    assert counts(env, "raw") == (0, 0)


def test_dead_letter_queue_pushes_back_to_a_standard_queue(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "raw")
    make_queue(backend, env, "raw_dead")
    upstream = env.queue("raw", RawQueue)
    dead = env.queue("raw_dead", DeadLetterQueue.maker(upstream))
    assert isinstance(dead, DeadLetterQueue)
    for n in range(3):
        dead.add_raw_job(f"body-{n}", message_attributes=SOURCE)

    stats = run_worker(env, "raw_dead", policy=after(3))

    assert stats.succeeded == 3
    assert counts(env, "raw_dead") == (0, 0)
    if backend.is_memory:
        # Pushed back with a 1 s delay (on moto that second has passed by now).
        assert receive_all(env, "raw") == []
        attrs = env.session.get_queue_attributes(
            QueueUrl=upstream.url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
        )["Attributes"]
        assert attrs["ApproximateNumberOfMessagesDelayed"] == "3"
    backend.advance(1.1)
    back = receive_all(env, "raw")
    assert sorted(m["Body"] for m in back) == ["body-0", "body-1", "body-2"]
    assert all(attribute(m, "Source") == "s3" for m in back)


def test_dead_letter_queue_pushes_back_to_a_fifo_queue(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "raw.fifo")
    make_queue(backend, env, "raw_dead.fifo")
    upstream = env.queue("raw.fifo", RawQueue)
    dead = env.queue("raw_dead.fifo", DeadLetterQueue.maker(upstream))
    dead_ids = {}
    for group, n in [("g1", 0), ("g2", 1), ("g1", 2)]:
        dead_ids[f"body-{n}"] = dead.add_raw_job(
            f"body-{n}", group_id=group, deduplication_id=f"dedup-{n}", message_attributes=SOURCE
        )

    stats = run_worker(env, "raw_dead.fifo", policy=after(3))

    assert stats.succeeded == 3
    assert counts(env, "raw_dead.fifo") == (0, 0)
    back = receive_all(env, "raw.fifo")
    seen = {
        m["Body"]: (m["Attributes"]["MessageGroupId"], m["Attributes"]["MessageDeduplicationId"])
        for m in back
    }
    # Same group; deduplicated on the dead-letter message's id (see the next test).
    assert seen == {
        "body-0": ("g1", dead_ids["body-0"]),
        "body-1": ("g2", dead_ids["body-1"]),
        "body-2": ("g1", dead_ids["body-2"]),
    }
    assert all(attribute(m, "Source") == "s3" for m in back)
    g1 = [m["Body"] for m in back if m["Attributes"]["MessageGroupId"] == "g1"]
    assert g1 == ["body-0", "body-2"]


def test_fifo_message_pushed_back_soon_after_its_redrive_is_not_lost(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "raw_dead.fifo")
    make_queue(backend, env, "raw.fifo", redrive_policy=env.redrive_policy("raw_dead.fifo", 1))
    upstream = env.queue("raw.fifo", RawQueue)
    upstream.add_raw_job("again", group_id="g", deduplication_id="once")
    # Its one delivery fails; the next receive moves it to the dead-letter queue.
    [first] = upstream.get_raw_messages(0)
    env.session.change_message_visibility(
        QueueUrl=upstream.url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
    )
    assert upstream.get_raw_messages(0) == []
    env.queue("raw_dead.fifo", DeadLetterQueue.maker(upstream))

    # Well within SQS's five-minute deduplication window of the original send.
    stats = run_worker(env, "raw_dead.fifo", policy=after(1))

    assert stats.succeeded == 1
    assert counts(env, "raw_dead.fifo") == (0, 0)
    [back] = receive_all(env, "raw.fifo")
    assert back["Body"] == "again"
    assert back["Attributes"]["MessageGroupId"] == "g"


def test_copy_processors_runs_a_dead_letter_queue_in_place(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "jobs")
    make_queue(backend, env, "jobs_dead")
    handled: list[tuple[int, str]] = []

    @env.handler(Job, pass_context=True)
    def handle(task: Job, context: JobContext) -> None:
        handled.append((task.n, context.queue_name))

    dead = env.queue("jobs_dead")
    env.queue("jobs").copy_processors(dead)
    dead.add_job("Job", n=1)
    dead.add_job("Job", n=2, label="x")
    stats = run_worker(env, "jobs_dead", policy=after(2))

    assert stats.succeeded == 2
    assert sorted(handled) == [(1, "jobs_dead"), (2, "jobs_dead")]
    assert env.queue("jobs").processors["Job"].queue is env.queue("jobs")
    assert counts(env, "jobs_dead") == (0, 0)


def test_process_batch_counts_and_drain_queue(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "raw")
    raw = env.queue("raw", RawQueue)

    @raw.raw_processor()
    def handle(message: Mapping[str, Any]) -> None:
        if message["Body"] == "fail":
            raise ValueError("cannot handle this one")

    for body in ["ok-1", "ok-2", "fail", "ok-3"]:
        raw.add_raw_job(body)
    succeeded = failed = 0
    for _ in range(10):
        result = raw.process_batch(wait_seconds=0)
        succeeded += result.succeeded_count()
        failed += result.failed_count()
        if succeeded + failed == 4:
            break
    assert (succeeded, failed) == (3, 1)
    # The failed one waits for its backoff; the others are deleted.
    assert sum(counts(env, "raw")) == 1

    for n in range(12):
        raw.add_raw_job(f"drain-{n}")
    assert raw.drain_queue() == 12
    assert counts(env, "raw")[0] == 0


def test_env_process_queues_runs_several_queues(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = make_env(backend)
    make_queue(backend, env, "jobs")
    make_queue(backend, env, "batched")
    handled: list[str] = []

    @env.handler(Job)
    def handle_job(task: Job) -> None:
        handled.append(f"job-{task.n}")

    @env.handler(BatchJob)
    def handle_batch_job(task: BatchJob) -> None:
        handled.append(f"batch-{task.n}")

    workers: list[Worker] = []
    guards: list[Guard] = []
    make_worker = env.worker

    def guarded_worker(concurrency: int = 1, **options: Any) -> Worker:
        worker = make_worker(concurrency, wait_seconds=1, **options)
        workers.append(worker)
        guards.append(Guard(worker, 30))
        return worker

    monkeypatch.setattr(env, "worker", guarded_worker)
    Job(n=1).delay(env=env)
    BatchJob(n=2).delay(env=env)
    try:
        env.process_queues(["jobs", "batched"], shutdown_policy_maker=lambda: IdleShutdown(1))
    finally:
        for guard in guards:
            guard.cancel()
    assert not any(guard.fired for guard in guards)
    assert sorted(handled) == ["batch-2", "job-1"]
    [worker] = workers
    assert worker.concurrency == 2
    assert worker.stats.queues == ["jobs", "batched"]
    assert counts(env, "jobs") == counts(env, "batched") == (0, 0)
