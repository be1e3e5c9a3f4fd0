"""Order and time in the Lambda handler: FIFO groups stop at their first failure, records not
started when the time runs low come back, and concurrency runs lanes side by side."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from backends import Backend

from sqs_contracts import IMMEDIATE_RETURN, ConstantBackoff, ManualClock, MemorySession, SQSEnv

from .contracts import Note, Step
from .helpers import FakeContext, event_of, invoke, make_env, make_queue, receive, settle


def _steps_env(
    backend: Backend, ran: list[tuple[str, int]], fail: set[tuple[str, int]], **options: Any
) -> SQSEnv:
    env = make_env(backend)
    make_queue(backend, env, "steps.fifo")
    env.queue("steps.fifo", backoff_policy=IMMEDIATE_RETURN)

    @env.handler(Step)
    def handle(task: Step) -> None:
        ran.append((task.group, task.seq))
        if (task.group, task.seq) in fail:
            raise RuntimeError(f"step {task.group}/{task.seq} failed on purpose")

    return env


def _send_steps(env: SQSEnv, plan: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    ids = {}
    for group, seq in plan:
        message_id = Step(group=group, seq=seq).delay(
            env=env, group_id=group, deduplication_id=f"{group}-{seq}"
        )
        assert message_id is not None
        ids[group, seq] = message_id
    return ids


PLAN = [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3), ("c", 1), ("b", 3)]


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_fifo_group_stops_at_its_first_failure(backend: Backend, concurrency: int) -> None:
    ran: list[tuple[str, int]] = []
    env = _steps_env(backend, ran, fail={("a", 2)})
    ids = _send_steps(env, PLAN)
    event = event_of(env, "steps.fifo")
    assert len(event["Records"]) == len(PLAN)
    assert {r["attributes"]["MessageGroupId"] for r in event["Records"]} == {"a", "b", "c"}

    failed = invoke(env.lambda_handler(concurrency=concurrency), event)

    # a/2 failed: it and a/3 (never run) are reported, in the event's order; b and c go on.
    assert failed == [ids["a", 2], ids["a", 3]]
    assert ("a", 3) not in ran
    assert sorted(ran) == sorted(set(PLAN) - {("a", 3)})
    for group in "abc":
        assert [seq for g, seq in ran if g == group] == sorted(seq for g, seq in ran if g == group)
    # After Lambda deletes the rest, the group comes back from its failure, in order.
    settle(env, event, failed)
    back = receive(env, "steps.fifo")
    assert [m["MessageId"] for m in back] == [ids["a", 2], ids["a", 3]]


def test_a_fifo_group_goes_on_after_an_invalid_message_moved_to_the_dead_letter_queue(
    backend: Backend,
) -> None:
    ran: list[tuple[str, int]] = []
    env = make_env(backend)
    make_queue(backend, env, "steps-dead.fifo")
    make_queue(backend, env, "steps.fifo", redrive_policy=env.redrive_policy("steps-dead.fifo", 5))
    env.queue("steps.fifo", dead_letter_invalid=True)

    @env.handler(Step)
    def handle(task: Step) -> None:
        ran.append((task.group, task.seq))

    _send_steps(env, [("a", 1)])
    url = env.queue("steps.fifo").url
    attributes = {
        name: {"DataType": "String", "StringValue": value}
        for name, value in [("JobName", "Step"), ("ContentType", "json"), ("JobContext", "{}")]
    }
    env.session.send_message(
        QueueUrl=url,
        MessageBody='{"group": "a", "seq": "two"}',
        MessageAttributes=attributes,
        MessageGroupId="a",
        MessageDeduplicationId="a-2",
    )
    _send_steps(env, [("a", 3)])
    event = event_of(env, "steps.fifo")

    assert invoke(env.lambda_handler(), event) == []
    assert ran == [("a", 1), ("a", 3)]
    assert len(receive(env, "steps-dead.fifo")) == 1


class ShrinkingContext(FakeContext):
    """A context whose remaining time drops by ``step_ms`` each time a record runs."""

    def __init__(self, remaining_ms: int, step_ms: int) -> None:
        super().__init__(remaining_ms)
        self.step_ms = step_ms

    def spend(self) -> None:
        self.remaining_ms -= self.step_ms


def test_records_not_started_under_the_time_margin_are_reported_and_come_back(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    env = make_env(backend)
    make_queue(backend, env, "notes")
    env.queue("notes", backoff_policy=ConstantBackoff(600))
    context = ShrinkingContext(remaining_ms=10_000, step_ms=2_000)
    seen: list[int] = []

    @env.handler(Note)
    def handle(task: Note) -> None:
        seen.append(task.n)
        context.spend()

    for n in range(6):
        Note(n=n).delay(env=env)
    event = event_of(env, "notes")
    order = [r["messageId"] for r in event["Records"]]

    failed = invoke(env.lambda_handler(time_margin_seconds=5), event, context)

    # 10 s, 8 s and 6 s left: three records start; at 4 s the rest are left for later.
    assert len(seen) == 3
    assert failed == order[3:]
    assert "3 records not started: 4000 ms left, under the margin of 5000 ms" in caplog.text
    # They were never run, so they come back at once (not after the queue's backoff).
    settle(env, event, failed)
    assert sorted(m["MessageId"] for m in receive(env, "notes")) == sorted(order[3:])


def test_a_fifo_group_cut_by_the_time_margin_comes_back_in_order(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "steps.fifo")
    context = ShrinkingContext(remaining_ms=6_000, step_ms=2_000)
    ran: list[int] = []

    @env.handler(Step)
    def handle(task: Step) -> None:
        ran.append(task.seq)
        context.spend()

    ids = _send_steps(env, [("a", 1), ("a", 2), ("a", 3)])
    event = event_of(env, "steps.fifo")

    failed = invoke(env.lambda_handler(time_margin_seconds=5), event, context)

    assert ran == [1]
    assert failed == [ids["a", 2], ids["a", 3]]
    settle(env, event, failed)
    assert [m["MessageId"] for m in receive(env, "steps.fifo")] == [ids["a", 2], ids["a", 3]]


def test_without_a_context_every_record_runs(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "notes")
    seen: list[int] = []

    @env.handler(Note)
    def handle(task: Note) -> None:
        seen.append(task.n)

    for n in range(3):
        Note(n=n).delay(env=env)
    event = event_of(env, "notes")
    assert env.lambda_handler()(event, None) == {"batchItemFailures": []}
    assert sorted(seen) == [0, 1, 2]


def test_concurrency_runs_records_of_a_standard_queue_side_by_side(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "notes")
    # Each handler waits until three run at once: with fewer threads the barrier breaks.
    barrier = threading.Barrier(3, timeout=20)
    threads: set[str] = set()

    @env.handler(Note)
    def handle(task: Note) -> None:
        threads.add(threading.current_thread().name)
        barrier.wait()

    for n in range(6):
        Note(n=n).delay(env=env)
    event = event_of(env, "notes")

    assert invoke(env.lambda_handler(concurrency=3), event) == []
    assert len(threads) == 3


def test_a_failed_record_stays_hidden_for_its_backoff() -> None:
    clock = ManualClock()
    env = SQSEnv(MemorySession(clock=clock), queue_prefix="t-")
    env.session.create_queue(QueueName="t-notes")
    env.queue("notes", backoff_policy=ConstantBackoff(120))

    @env.handler(Note)
    def handle(task: Note) -> None:
        raise RuntimeError("fails on purpose")

    message_id = Note(n=1).delay(env=env)
    event = event_of(env, "notes")

    assert invoke(env.lambda_handler(), event) == [message_id]
    clock.advance(119)
    assert receive(env, "notes") == []
    clock.advance(2)
    assert [m["MessageId"] for m in receive(env, "notes")] == [message_id]
