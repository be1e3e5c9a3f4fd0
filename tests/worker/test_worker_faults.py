"""The worker under faults: failing calls, raising handlers, restarts, FIFO retries, bounds.

These run on MemorySession with a ManualClock, through a session that fails chosen calls:
time moves only when a test moves it, so nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from typing import Any

import pytest

from sqs_contracts import (
    IMMEDIATE_RETURN,
    ConstantBackoff,
    ManualClock,
    MemorySession,
    RawQueue,
    SQSEnv,
    create_fifo_queue,
    create_standard_queue,
)
from sqs_contracts.batching import BatchMessages
from sqs_contracts.runners.retry import retry_delay
from sqs_contracts.shutdown_policies import IdleShutdown, MaxTasksShutdown

from .contracts import BatchJob, Job, OrderJob
from .faults import FaultySession, transient
from .helpers import after, counts, receive_all, run_worker, wait_for


def _env(**options: Any) -> tuple[SQSEnv, FaultySession, ManualClock]:
    clock = ManualClock()
    session = FaultySession(MemorySession(clock=clock))
    return SQSEnv(session, **options), session, clock


def _in_thread(
    env: SQSEnv, *queues: str, **options: Any
) -> tuple[threading.Thread, list[Any], Any]:
    options.setdefault("wait_seconds", 1)
    options.setdefault("handle_signals", False)
    policy = options.pop("policy", None)
    worker = env.worker(**options)
    results: list[Any] = []

    def target() -> None:
        try:
            results.append(worker.run(*queues, shutdown_policy=policy))
        except BaseException as exc:
            results.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, results, worker


# -- defect 1: SystemExit / KeyboardInterrupt inside a handler ------------------------------


def test_handler_calling_sys_exit_stops_the_worker_and_keeps_the_message() -> None:
    env, _, _ = _env(backoff_policy=IMMEDIATE_RETURN)
    create_standard_queue(env, "jobs")

    @env.handler(Job)
    def handle(task: Job) -> None:
        sys.exit(3)

    Job(n=1).delay(env=env)
    Job(n=2).delay(env=env)
    with pytest.raises(SystemExit) as raised:
        run_worker(env, "jobs", policy=IdleShutdown(30), timeout=20)
    assert raised.value.code == 3
    # Nothing held: both messages are visible again (the failed one by its backoff).
    assert counts(env, "jobs") == (2, 0)


def test_raw_processor_raising_keyboard_interrupt_stops_the_worker() -> None:
    env, _, _ = _env(backoff_policy=IMMEDIATE_RETURN)
    create_standard_queue(env, "events")
    raw = env.queue("events", RawQueue)

    @raw.raw_processor()
    def handle(message: Any) -> None:
        raise KeyboardInterrupt

    env.session.send_message(QueueUrl=raw.url, MessageBody="{}")
    with pytest.raises(KeyboardInterrupt):
        run_worker(env, "events", policy=IdleShutdown(30), timeout=20)
    assert counts(env, "events") == (1, 0)


# -- defect 4: the receive backoff after very many failures ---------------------------------


def test_receive_backoff_stays_bounded_after_thousands_of_failures() -> None:
    assert retry_delay(1) == 0.25
    assert retry_delay(10_000) == 10.0
    assert retry_delay(10**6, base=0.1, cap=1.0) == 1.0


def test_a_crashing_receive_loop_stops_the_worker_instead_of_dying_silently(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env, session, _ = _env()
    create_standard_queue(env, "jobs")
    env.handler(Job)(lambda task: None)
    session.fail("receive_message", 1)

    def overflowing(failures: int, base: float = 0.25, cap: float = 10.0) -> float:
        raise OverflowError("int too large to convert to float")

    # What 0.25 * 2**failures did after about a thousand failures.
    monkeypatch.setattr("sqs_contracts.runners.receiver.retry_delay", overflowing)
    with pytest.raises(OverflowError):
        run_worker(env, "jobs", policy=IdleShutdown(30), timeout=20)


# -- defect 12: run() twice -----------------------------------------------------------------


def test_a_worker_runs_again_after_it_stopped() -> None:
    env, _, _ = _env()
    create_standard_queue(env, "jobs")
    handled: list[int] = []
    env.handler(Job)(lambda task: handled.append(task.n))
    worker = env.worker(wait_seconds=1, handle_signals=False)
    Job(n=1).delay(env=env)
    assert worker.run("jobs", shutdown_policy=MaxTasksShutdown(1)).succeeded == 1
    Job(n=2).delay(env=env)
    assert worker.run("jobs", shutdown_policy=MaxTasksShutdown(1)).succeeded == 1
    assert handled == [1, 2]


# -- defect 14: --wait 0 on an empty queue --------------------------------------------------


def test_receives_without_waiting_pause_when_the_queue_is_empty() -> None:
    env, session, _ = _env()
    create_standard_queue(env, "jobs")
    env.handler(Job)(lambda task: None)
    started = time.monotonic()
    run_worker(env, "jobs", policy=IdleShutdown(1.5), wait_seconds=0, timeout=20)
    elapsed = time.monotonic() - started
    # One receive per second at most, plus the first: never back to back.
    assert session.calls["receive_message"] <= elapsed + 2, session.calls


# -- defect 15: settings unreadable at start-up -----------------------------------------------


def test_the_worker_waits_for_queue_settings_and_never_runs_on_guessed_ones(
    caplog: pytest.LogCaptureFixture,
) -> None:
    env, session, _ = _env()
    create_standard_queue(env, "bad_dead")
    create_standard_queue(env, "bad", redrive_policy=env.redrive_policy("bad_dead", 3))
    queue = env.queue("bad", dead_letter_invalid=True)
    env.session.send_message(QueueUrl=queue.url, MessageBody="not json")
    session.fail("get_queue_attributes", 2)

    stats = run_worker(env, "bad", policy=after(1), timeout=20)

    assert stats.failed == 1
    assert len(receive_all(env, "bad_dead")) == 1
    assert counts(env, "bad") == (0, 0)
    assert "no RedrivePolicy" not in caplog.text
    assert "cannot read the settings of queue bad" in caplog.text


# -- defect 18: acknowledgements during an outage ---------------------------------------------


def test_deletes_are_retried_until_they_go_through() -> None:
    env, session, _ = _env()
    create_standard_queue(env, "jobs")
    handled: list[int] = []
    env.handler(Job)(lambda task: handled.append(task.n))
    Job(n=1).delay(env=env)
    # More failures than the four tries the worker used to give a delete.
    session.fail("delete_message_batch", 6)
    run_worker(env, "jobs", policy=after(1), timeout=30)
    assert handled == [1]
    assert counts(env, "jobs") == (0, 0)


def test_failed_entries_of_a_delete_batch_are_retried() -> None:
    env, session, _ = _env()
    create_standard_queue(env, "jobs")
    env.handler(Job)(lambda task: None)
    Job(n=1).delay(env=env)
    left = [2]

    def internal_error(kwargs: dict[str, Any]) -> dict[str, Any] | None:
        if left[0] <= 0:
            return None
        left[0] -= 1
        failed = [
            {"Id": e["Id"], "Code": "InternalError", "SenderFault": False, "Message": "retry"}
            for e in kwargs["Entries"]
        ]
        return {"Successful": [], "Failed": failed}

    session.faults["delete_message_batch"] = internal_error
    run_worker(env, "jobs", policy=after(1), timeout=20)
    assert left == [0]
    assert counts(env, "jobs") == (0, 0)


def test_receiving_pauses_while_deletes_fail() -> None:
    env, session, _ = _env()
    create_standard_queue(env, "jobs")
    env.handler(Job)(lambda task: None)
    Job(n=1).delay(env=env)
    down = threading.Event()
    down.set()

    def outage(kwargs: dict[str, Any]) -> None:
        if down.is_set():
            from .faults import transient

            raise transient("DeleteMessageBatch")

    session.faults["delete_message_batch"] = outage
    thread, results, worker = _in_thread(env, "jobs", policy=after(1, idle=30))
    try:
        assert wait_for(lambda: session.calls["delete_message_batch"] >= 2, 10)
        receives = session.calls["receive_message"]
        assert wait_for(lambda: session.calls["delete_message_batch"] >= 4, 10)
        # At most the receive already on its way when the delete first failed.
        assert session.calls["receive_message"] <= receives + 1
        down.clear()
        thread.join(20)
    finally:
        worker.stop()
        thread.join(20)
    assert results
    assert results[0].succeeded == 1
    assert counts(env, "jobs") == (0, 0)


def test_a_delete_is_given_up_once_the_visibility_timeout_ended(
    caplog: pytest.LogCaptureFixture,
) -> None:
    env, session, clock = _env()
    create_standard_queue(env, "jobs", visibility_timeout=30)
    handled: list[int] = []
    env.handler(Job)(lambda task: handled.append(task.n))
    Job(n=1).delay(env=env)
    session.fail("delete_message_batch", 10**6)
    thread, _results, worker = _in_thread(env, "jobs", policy=after(2, idle=30))
    try:
        assert wait_for(lambda: session.calls["delete_message_batch"] >= 2, 10)
        clock.advance(31)
        # Given up: the message comes back, runs again, and its second delete fails too.
        assert wait_for(lambda: len(handled) == 2, 15), handled
    finally:
        worker.stop()
        thread.join(20)
    assert "gave up on 1 message(s) whose visibility timeout ended" in caplog.text


def test_dead_letter_move_whose_delete_failed_is_not_also_backed_off() -> None:
    env, session, _ = _env()
    create_standard_queue(env, "bad_dead")
    create_standard_queue(env, "bad", redrive_policy=env.redrive_policy("bad_dead", 5))
    queue = env.queue("bad", dead_letter_invalid=True, backoff_policy=ConstantBackoff(600))
    env.session.send_message(QueueUrl=queue.url, MessageBody="not json")
    session.fail("delete_message_batch", 2)
    run_worker(env, "bad", policy=after(1), timeout=20)
    assert session.calls["change_message_visibility_batch"] == 0
    assert session.calls["change_message_visibility"] == 0
    assert len(receive_all(env, "bad_dead")) == 1
    assert counts(env, "bad") == (0, 0)


# -- defect 9: the heartbeat during the grace period ------------------------------------------


def test_heartbeat_keeps_extending_during_the_grace_period() -> None:
    env, session, clock = _env()
    create_standard_queue(env, "jobs", visibility_timeout=30)
    started = threading.Event()
    stopping = threading.Event()
    missed: list[int] = []

    @env.handler(Job)
    def handle(task: Job) -> None:
        started.set()
        stopping.wait(10)
        # Three times the visibility timeout, after the stop: each step waits for the
        # heartbeat's extension before moving on.
        for step in range(4):
            extensions = session.calls["change_message_visibility_batch"]
            clock.advance(20)
            if not wait_for(
                lambda n=extensions: session.calls["change_message_visibility_batch"] > n, 10
            ):
                missed.append(step)

    Job(n=1).delay(env=env)
    thread, results, worker = _in_thread(env, "jobs")
    assert started.wait(10)
    worker.stop()
    stopping.set()
    thread.join(30)
    assert not thread.is_alive()
    assert missed == []
    assert results[0].succeeded == 1
    assert counts(env, "jobs") == (0, 0)


# -- defect 10: FIFO followers of a failing head ----------------------------------------------


def test_fifo_followers_are_not_dead_lettered_because_their_head_failed() -> None:
    env, _, _ = _env(backoff_policy=IMMEDIATE_RETURN)
    create_fifo_queue(env, "orders_dead.fifo")
    create_fifo_queue(
        env,
        "orders.fifo",
        content_based_deduplication=True,
        redrive_policy=env.redrive_policy("orders_dead.fifo", 2),
    )
    ran: list[int] = []

    @env.handler(OrderJob)
    def handle(task: OrderJob) -> None:
        ran.append(task.seq)
        if task.seq == 0:
            raise ValueError("poison")

    with env.batch():
        for seq in range(5):
            OrderJob(group="g", seq=seq).delay(env=env, group_id="g")
    stats = run_worker(env, "orders.fifo", policy=after(6), concurrency=2, prefetch=4)

    assert (stats.succeeded, stats.failed) == (4, 2)
    assert ran == [0, 0, 1, 2, 3, 4]
    dead = receive_all(env, "orders_dead.fifo")
    assert [json.loads(m["Body"]) for m in dead] == [{"group": "g", "seq": 0}]
    assert counts(env, "orders.fifo") == (0, 0)


# -- defect 11: how much the worker holds -----------------------------------------------------


# Each case fills its bound while every handler thread is blocked: a receive asks for a share
# of the room (prefetch here) and waits until that much is free, so prefetch 2 at concurrency
# 1 would hold 2 (one running, one waiting) and wait for a second free place that never comes.
@pytest.mark.parametrize(
    ("concurrency", "prefetch", "batch", "bound"),
    [(1, 1, 1, 2), (1, 0, 10, 10), (2, 1, 1, 3)],
)
def test_the_worker_holds_at_most_concurrency_plus_prefetch(
    concurrency: int, prefetch: int, batch: int, bound: int
) -> None:
    env, _, _ = _env()
    create_standard_queue(env, "batched")
    gate = threading.Event()
    if batch > 1:
        env.queue("batched", batching_policy=BatchMessages(batch))

        @env.handler(BatchJob)
        def handle_batch(tasks: list[BatchJob]) -> None:
            gate.wait(10)

    else:

        @env.handler(BatchJob)
        def handle(task: BatchJob) -> None:
            gate.wait(10)

    with env.batch():
        for n in range(40):
            BatchJob(n=n).delay(env=env)
    thread, _, worker = _in_thread(
        env, "batched", concurrency=concurrency, prefetch=prefetch, receivers=4
    )
    try:
        assert wait_for(lambda: counts(env, "batched")[1] >= bound, 10)
        time.sleep(0.3)  # more receives would show here; the bound holds whatever the wait
        assert counts(env, "batched")[1] == bound
    finally:
        gate.set()
        worker.stop()
        thread.join(20)


def test_restarts_do_not_dead_letter_jobs_that_never_failed() -> None:
    env, _, _ = _env()
    create_standard_queue(env, "jobs_dead")
    create_standard_queue(env, "jobs", redrive_policy=env.redrive_policy("jobs_dead", 3))
    handled: list[int] = []
    env.handler(Job)(lambda task: handled.append(task.n))
    with env.batch():
        for n in range(30):
            Job(n=n).delay(env=env)
    # Three restarts mid-work of a worker with one thread, as in the issue.
    for _ in range(3):
        run_worker(env, "jobs", policy=MaxTasksShutdown(2), prefetch=1)
    run_worker(env, "jobs", policy=after(30 - 6), prefetch=1)
    assert sorted(handled) == list(range(30))
    assert receive_all(env, "jobs_dead") == []


def test_a_receive_asks_for_no_more_than_the_room_left(caplog: pytest.LogCaptureFixture) -> None:
    env, session, _ = _env()
    create_standard_queue(env, "jobs")
    env.handler(Job)(lambda task: None)
    asked: list[int] = []

    def record(kwargs: dict[str, Any]) -> None:
        asked.append(kwargs["MaxNumberOfMessages"])

    session.faults["receive_message"] = record
    with env.batch():
        for n in range(10):
            Job(n=n).delay(env=env)
    caplog.set_level(logging.WARNING)
    run_worker(env, "jobs", policy=after(10), prefetch=2, concurrency=1)
    assert asked
    assert max(asked) <= 3


def test_a_poll_failing_after_the_worker_stopped_ends_its_loop_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    env, session, _ = _env()
    create_standard_queue(env, "jobs")
    env.handler(Job)(lambda task: None)
    polling, gone = threading.Event(), threading.Event()

    def poll_until_the_endpoint_is_gone(kwargs: dict[str, Any]) -> None:
        polling.set()
        gone.wait(20)
        raise transient("receive_message")

    session.faults["receive_message"] = poll_until_the_endpoint_is_gone
    thread, results, worker = _in_thread(env, "jobs", grace_period=0.1)
    assert polling.wait(10)
    worker.stop()
    thread.join(10)
    assert results, results
    assert not isinstance(results[0], BaseException), results
    loops = [t for t in threading.enumerate() if t.name == "sqs-receive-jobs"]
    with caplog.at_level(logging.WARNING):
        gone.set()  # the poll still open at exit fails, as when the endpoint went away
        for loop in loops:
            loop.join(10)
    assert not any(loop.is_alive() for loop in loops)
    assert not [r for r in caplog.records if "receive from queue" in r.getMessage()]


def test_no_job_starts_while_deletes_fail_and_jobs_held_past_their_visibility_never_run_twice() -> (
    None
):
    env, session, clock = _env()
    create_standard_queue(env, "jobs", visibility_timeout=30)
    started: list[int] = []
    permits = threading.Semaphore(0)
    blocking = threading.Event()
    blocking.set()

    def handler(task: Job) -> None:
        started.append(task.n)
        if blocking.is_set():
            permits.acquire(timeout=20)

    env.handler(Job)(handler)
    with env.batch():
        for n in range(5):
            Job(n=n).delay(env=env)
    thread, results, worker = _in_thread(env, "jobs", concurrency=1, heartbeat=False)
    try:
        assert wait_for(lambda: len(started) == 1, timeout=10)
        session.fail("delete_message_batch", 10**6)
        permits.release()  # the first job ends; the handler thread starts the second
        assert wait_for(lambda: len(started) == 2, timeout=10)
        # The first delete failed and was retried: acknowledgements are known to fail.
        assert wait_for(lambda: session.calls["delete_message_batch"] >= 2, timeout=10)
        permits.release()  # the second job ends while deletes fail
        time.sleep(0.5)
        assert len(started) == 2, started  # nothing started: it could not be deleted
        # Past the visibility timeout the three held jobs are back in the queue: once the
        # endpoint answers again they are let go unrun, received again and run once each.
        clock.advance(31)
        blocking.clear()
        session.faults.pop("delete_message_batch")
        assert wait_for(lambda: len(started) == 7, timeout=20), started
    finally:
        blocking.clear()
        permits.release(10)
        worker.stop()
        thread.join(10)
    assert results, results
    assert not isinstance(results[0], BaseException), results
    first, second = started[:2]
    # The two that ran when their deletes failed run again (their deletes came too late);
    # the three held through the outage run once.
    assert sorted(started) == sorted([*range(5), first, second])
    assert worker.stats.released >= 3


@pytest.mark.parametrize(
    ("concurrency", "prefetch", "loops"),
    [(1, 10, 1), (2, 20, 2), (8, 80, 8), (32, 160, 16), (64, 160, 16)],
)
def test_the_default_prefetch_is_a_full_receive_per_receive_loop(
    concurrency: int, prefetch: int, loops: int
) -> None:
    env = SQSEnv(MemorySession(clock=ManualClock()))
    create_standard_queue(env, "jobs")
    env.handler(Job)(lambda task: None)
    with env.batch():
        for n in range(5):
            Job(n=n).delay(env=env)
    stats = run_worker(env, "jobs", policy=after(5), concurrency=concurrency)
    assert (stats.receive_loops, stats.hold_limit) == (loops, concurrency + prefetch)
    assert stats.ack_senders == max(4, loops)  # a delete of ten for each receive of ten


@pytest.mark.parametrize(
    ("concurrency", "prefetch", "queues", "senders"),
    [(32, 0, 1, 4), (8, 80, 2, 8), (32, None, 2, 16)],
)
def test_acknowledgements_go_out_on_a_sender_per_receive_loop(
    concurrency: int, prefetch: int | None, queues: int, senders: int
) -> None:
    env = SQSEnv(MemorySession(clock=ManualClock()))
    names = [f"jobs{i}" for i in range(queues)]
    for name in names:
        create_standard_queue(env, name)
        env.processor(name, "job")(lambda: None).delay()
    stats = run_worker(
        env, *names, policy=after(queues), concurrency=concurrency, prefetch=prefetch
    )
    assert stats.ack_senders == senders
    assert stats.ack_senders == max(4, min(16, stats.receive_loops))
