"""Batch handlers (BatchMessages) give each message its own outcome."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from backends import Backend

from sqs_contracts import ConstantBackoff, SQSEnv, Task
from sqs_contracts.batching import BatchMessages

from .contracts import BatchJob
from .helpers import after, attribute, counts, make_env, make_queue, receive_all, run_worker

BACKOFF = 30


class BatchNote(Task, queue="batched"):
    text: str


class FifoA(Task, queue="ordered.fifo"):
    seq: int


class FifoB(Task, queue="ordered.fifo"):
    seq: int


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _send_raw(env: SQSEnv, job_name: str, body: str) -> None:
    attributes = {
        "JobName": _string(job_name),
        "ContentType": _string("json"),
        "JobContext": _string("{}"),
    }
    env.session.send_message(
        QueueUrl=env.queue("batched").url, MessageBody=body, MessageAttributes=attributes
    )


def _batch_env(
    backend: Backend, dead_letter_invalid: bool, backoff: int = BACKOFF
) -> tuple[SQSEnv, list[int]]:
    env = make_env(backend)
    make_queue(backend, env, "batched_dead")
    make_queue(backend, env, "batched", redrive_policy=env.redrive_policy("batched_dead", 5))
    env.queue(
        "batched",
        batching_policy=BatchMessages(5),
        backoff_policy=ConstantBackoff(backoff),
        dead_letter_invalid=dead_letter_invalid,
    )
    ran: list[int] = []
    lock = threading.Lock()

    @env.handler(BatchJob)  # type: ignore[arg-type]
    def handle(tasks: list[BatchJob]) -> None:
        with lock:
            ran.extend(task.n for task in tasks)

    return env, ran


def _process(env: SQSEnv, runner: str, messages: int) -> None:
    if runner == "worker":
        run_worker(env, "batched", policy=after(messages))
    else:
        handled = 0
        for _ in range(10):
            handled += env.queue("batched").process_batch(wait_seconds=1).total_count()
            if handled >= messages:
                break


@pytest.mark.parametrize("runner", ["worker", "process_batch"])
@pytest.mark.parametrize(
    ("bad_name", "bad_body"), [("BatchJob", '{"n": "x"}'), ("NoSuchJob", "{}")]
)
def test_an_invalid_message_dead_letters_alone(
    backend: Backend, runner: str, bad_name: str, bad_body: str
) -> None:
    env, ran = _batch_env(backend, dead_letter_invalid=True)
    with env.batch():
        for n in range(4):
            BatchJob(n=n).delay(env=env)
    _send_raw(env, bad_name, bad_body)
    _process(env, runner, 5)

    assert sorted(ran) == [0, 1, 2, 3]  # the valid jobs ran once...
    assert counts(env, "batched") == (0, 0)  # ...and were deleted
    dead = receive_all(env, "batched_dead")
    assert [(m["Body"], attribute(m, "JobName")) for m in dead] == [(bad_body, bad_name)]
    assert attribute(dead[0], "InvalidReason")


@pytest.mark.parametrize("runner", ["worker", "process_batch"])
def test_an_invalid_message_is_kept_alone_without_dead_lettering(
    backend: Backend, runner: str
) -> None:
    env, ran = _batch_env(backend, dead_letter_invalid=False)
    with env.batch():
        for n in range(4):
            BatchJob(n=n).delay(env=env)
    _send_raw(env, "BatchJob", '{"n": "x"}')
    _process(env, runner, 5)

    assert sorted(ran) == [0, 1, 2, 3]
    assert sum(counts(env, "batched")) == 1  # only the invalid one is left
    assert receive_all(env, "batched_dead") == []


def test_one_job_names_failure_does_not_retry_another_names_successes(backend: Backend) -> None:
    backoff = BACKOFF if backend.is_memory else 2
    env, ran = _batch_env(backend, dead_letter_invalid=False, backoff=backoff)
    notes: list[str] = []

    @env.handler(BatchNote)  # type: ignore[arg-type]
    def handle_notes(tasks: list[BatchNote]) -> None:
        notes.extend(task.text for task in tasks)
        raise ValueError("notes fail")

    with env.batch():
        for n in range(3):
            BatchJob(n=n).delay(env=env)
            BatchNote(text=f"t{n}").delay(env=env)
    for _ in range(10):
        env.queue("batched").process_batch(wait_seconds=1)
        if len(ran) + len(notes) >= 6:
            break

    assert sorted(ran) == [0, 1, 2]
    assert set(notes) == {"t0", "t1", "t2"}
    # The BatchJob messages were deleted; only the three failed notes are left.
    assert sum(counts(env, "batched")) == 3
    backend.advance(backoff + 1)
    left = receive_all(env, "batched")
    assert sorted(json.loads(m["Body"])["text"] for m in left) == ["t0", "t1", "t2"]


def test_fifo_batches_run_each_group_in_send_order_across_job_names(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "ordered.fifo", content_based_deduplication=True)
    env.queue("ordered.fifo", batching_policy=BatchMessages(10))
    calls: list[tuple[str, list[int]]] = []

    @env.handler(FifoA)  # type: ignore[arg-type]
    def handle_a(tasks: list[FifoA]) -> None:
        calls.append(("A", [t.seq for t in tasks]))

    @env.handler(FifoB)  # type: ignore[arg-type]
    def handle_b(tasks: list[FifoB]) -> None:
        calls.append(("B", [t.seq for t in tasks]))

    kinds: list[Any] = [FifoA, FifoA, FifoB, FifoA, FifoB, FifoB]
    with env.batch():
        for seq, kind in enumerate(kinds):
            kind(seq=seq).delay(env=env, group_id="g")
    for _ in range(10):
        env.queue("ordered.fifo").process_batch(wait_seconds=1)
        if sum(len(seqs) for _, seqs in calls) >= len(kinds):
            break

    assert [seq for _, seqs in calls for seq in seqs] == list(range(len(kinds)))
    names = {FifoA: "A", FifoB: "B"}
    assert all(names[kinds[seq]] == name for name, seqs in calls for seq in seqs)
    assert counts(env, "ordered.fifo") == (0, 0)
