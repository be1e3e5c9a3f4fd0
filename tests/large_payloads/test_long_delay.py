"""Delays beyond 15 minutes: hops of 900 s with a not-before time, re-sent until it is due."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from backends import Backend

from sqs_contracts import SQSEnv, create_fifo_queue, create_standard_queue
from sqs_contracts.dispatch.async_dispatch import adispatch
from sqs_contracts.dispatch.dispatcher import dispatch
from sqs_contracts.errors import QueueConfigError
from sqs_contracts.queues import long_delay
from sqs_contracts.sessions import ManualClock, MemorySession
from sqs_contracts.sessions.s3_memory import MemoryS3Session
from sqs_contracts.testing import run_until_idle
from sqs_contracts.wire.envelope import NOT_BEFORE
from sqs_contracts.wire.payload_pointer import SIZE_ATTRIBUTE, parse_pointer

from .conftest import Recorder, Stack
from .contracts import Report, Small

TWO_HOURS = 7200


def _memory_env(clock: ManualClock) -> tuple[SQSEnv, Recorder]:
    recorder = Recorder(MemorySession(clock=clock))
    env = SQSEnv(recorder, queue_prefix="delays-")
    create_standard_queue(env, "reports")
    return env, recorder


def test_a_job_delayed_two_hours_runs_after_two_hours_and_not_before() -> None:
    clock = ManualClock()
    env, recorder = _memory_env(clock)
    start = clock.time()
    ran_at: list[float] = []
    env.handler(Small)(lambda task: ran_at.append(clock.time()))
    env.context.set(tenant="acme")

    Small(n=1).delay(env=env, delay_seconds=TWO_HOURS)
    (first,) = recorder.made("send_message")
    assert first["DelaySeconds"] == 900
    assert float(first["MessageAttributes"][NOT_BEFORE]["StringValue"]) == start + TWO_HOURS

    queue = env.queue("reports")
    while clock.time() < start + TWO_HOURS + 120:
        queue.process_batch()
        if clock.time() < start + TWO_HOURS:
            assert ran_at == []
        clock.advance(30)
    assert len(ran_at) == 1
    assert start + TWO_HOURS <= ran_at[0] < start + TWO_HOURS + 30

    sends = recorder.made("send_message")
    # 7200 s take eight hops of 900 s: the first send and seven re-sends, one per hop.
    assert len(sends) == 8
    resends = sends[1:]
    assert len(resends) == 7
    assert [s["DelaySeconds"] for s in resends] == [900] * 7
    for resend in resends:
        assert resend["MessageBody"] == first["MessageBody"]
        assert resend["MessageAttributes"] == first["MessageAttributes"]
    assert queue.process_batch().total_count() == 0


def _early_and_due(clock: ManualClock) -> tuple[SQSEnv, list[int]]:
    """A queue holding a long delay seen before its end and a job due now, in send order."""
    env = SQSEnv(MemorySession(clock=clock), queue_prefix="delays-")
    create_standard_queue(env, "reports")
    ran: list[int] = []
    env.handler(Small)(lambda task: ran.append(task.n))
    Small(n=1).delay(env=env, delay_seconds=TWO_HOURS)
    clock.advance(900)  # the first hop ends: visible, its not-before time still ahead
    Small(n=2).delay(env=env)
    return env, ran


@pytest.mark.parametrize("runner", ["sync", "async"])
def test_a_receive_with_an_early_long_delay_runs_only_the_job_due(runner: str) -> None:
    clock = ManualClock()
    env, ran = _early_and_due(clock)
    queue = env.queue("reports")
    messages = queue.get_raw_messages()
    assert len(messages) == 2
    if runner == "sync":
        outcomes = dispatch(queue, messages)
    else:
        outcomes = asyncio.run(adispatch(queue, messages))
    assert ran == [2]
    assert [o.action for o in outcomes] == ["defer", "delete"]
    assert outcomes[0].visibility_timeout == TWO_HOURS - 900


def test_run_until_idle_moves_the_clock_through_a_long_delay() -> None:
    clock = ManualClock()
    env = SQSEnv(MemorySession(clock=clock), queue_prefix="delays-")
    create_standard_queue(env, "reports")
    start = clock.time()
    ran_at: list[float] = []
    env.handler(Small)(lambda task: ran_at.append(clock.time()))
    Small(n=2).delay(env=env, delay_seconds=TWO_HOURS)

    result = run_until_idle(env, "reports")
    assert ran_at == [start + TWO_HOURS]
    assert [run.action for run in result.ran] == ["delete"]
    assert result.dead_lettered == []


def test_a_delay_within_15_minutes_has_no_not_before_time() -> None:
    clock = ManualClock()
    env, recorder = _memory_env(clock)
    Small(n=4).delay(env=env, delay_seconds=900)
    (sent,) = recorder.made("send_message")
    assert sent["DelaySeconds"] == 900
    assert NOT_BEFORE not in sent["MessageAttributes"]


def test_fifo_queues_still_refuse_per_message_delays() -> None:
    env = SQSEnv(MemorySession(clock=ManualClock()), queue_prefix="delays-")
    create_fifo_queue(env, "orders.fifo")
    queue = env.queue("orders.fifo")
    with pytest.raises(QueueConfigError, match="FIFO"):
        queue.add_job("Order", _delay_seconds=3600, n=1)


def test_a_long_delay_with_a_payload_in_s3_keeps_one_object() -> None:
    # On the manual clock; the server's run is the shortened-hop test below.
    clock = ManualClock()
    s3 = MemoryS3Session()
    s3.create_bucket(Bucket="payloads")
    stack = Stack(Backend("memory", MemorySession(clock=clock), clock=clock), s3, "payloads")
    recorder = Recorder(stack.backend.session)
    env = stack.env(session=recorder)
    stack.queue(env, "reports")
    blobs: list[int] = []
    env.handler(Report)(lambda task: blobs.append(len(task.blob)))
    Report(name="r", blob="p" * 400_000).delay(env=env, delay_seconds=3600)
    (key,) = stack.keys()

    queue = env.queue("reports")
    start = clock.time()
    while clock.time() < start + 3600:
        queue.process_batch()
        assert stack.keys() == [key]  # one object, kept across the hops
        clock.advance(30)
    assert queue.process_batch().succeeded_count() == 1
    assert queue.process_batch().total_count() == 0
    assert blobs == [400_000]
    assert stack.keys() == []
    sends = recorder.made("send_message")
    assert len(sends) == 4
    assert {parse_pointer(s["MessageBody"]).key for s in sends} == {key}
    assert all(SIZE_ATTRIBUTE in s["MessageAttributes"] for s in sends)


def test_a_20_minute_delay_on_a_server_with_a_shortened_hop(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real path on the server's SQS and S3: hops shortened to 1 s, the queue's clock
    moved by hand, so that 20 minutes pass in a few seconds."""
    monkeypatch.setattr(long_delay, "MAX_HOP_SECONDS", 1)
    recorder = Recorder(stack.backend.session)
    env = stack.env(session=recorder)
    stack.queue(env, "reports")
    queue = env.queue("reports")
    now = [1_800_000_000.0]
    due = now[0] + 1200
    monkeypatch.setattr(queue, "now", lambda: now[0])
    ran_at: list[float] = []
    env.handler(Report)(lambda task: ran_at.append(now[0]))

    Report(name="r", blob="q" * 300_000).delay(env=env, delay_seconds=1200)
    (first,) = recorder.made("send_message")
    assert first["DelaySeconds"] == 1
    (key,) = stack.keys()

    for _ in range(60):
        if ran_at:
            break
        queue.process_batch(wait_seconds=1)
        if now[0] < due and len(recorder.made("send_message")) >= 3:
            now[0] = due  # two hops re-sent early: let the 20 minutes pass
        if isinstance(stack.backend.session, MemorySession):
            assert stack.backend.clock is not None
            stack.backend.clock.advance(1)
    assert ran_at == [due]
    sends = recorder.made("send_message")
    assert len(sends) >= 3
    for resend in sends[1:]:
        assert resend["DelaySeconds"] == 1
        assert resend["MessageBody"] == first["MessageBody"]
        assert resend["MessageAttributes"] == first["MessageAttributes"]
    assert parse_pointer(first["MessageBody"]).key == key
    assert stack.keys() == []


def test_eta_is_a_delay_until_that_time_on_the_queue_clock() -> None:
    clock = ManualClock()
    env, recorder = _memory_env(clock)
    ran_at: list[float] = []
    env.handler(Small)(lambda task: ran_at.append(clock.time()))
    eta = datetime.fromtimestamp(clock.time() + 3000, tz=timezone.utc)

    Small(n=2).delay(env=env, eta=eta)
    (first,) = recorder.made("send_message")
    assert first["DelaySeconds"] == 900
    assert float(first["MessageAttributes"][NOT_BEFORE]["StringValue"]) == eta.timestamp()

    queue = env.queue("reports")
    while clock.time() <= eta.timestamp():
        queue.process_batch()
        clock.advance(30)
    queue.process_batch()
    assert len(ran_at) == 1
    assert eta.timestamp() <= ran_at[0] < eta.timestamp() + 30
    with pytest.raises(QueueConfigError, match="delay_seconds or eta, not both"):
        Small(n=3).delay(env=env, eta=eta, delay_seconds=5)
