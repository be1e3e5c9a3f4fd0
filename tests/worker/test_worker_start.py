"""A worker's start: loops poll while the queue's settings are read, never run on guessed ones.

Through a session whose calls a test can hold at a gate. The tests with several receive
loops polling at once run on MemorySession only: moto can hand one message to two concurrent
receives (see ``helpers.run_worker``).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from backends import Backend

from sqs_contracts import ManualClock, MemorySession, SQSEnv, create_standard_queue
from sqs_contracts.shutdown_policies import MaxTasksShutdown

from .contracts import Job
from .faults import FaultySession
from .helpers import after, counts, make_queue, receive_all, run_worker, wait_for

GATE_TIMEOUT = 10.0
"""The longest a gated call waits: past it the test failed, and the call goes on."""


def _gate(session: FaultySession, name: str) -> tuple[threading.Event, threading.Event]:
    """Hold every call of ``name`` until the returned ``open`` event is set; ``entered`` is
    set once a call waits there."""
    entered, opened = threading.Event(), threading.Event()

    def fault(kwargs: dict[str, Any]) -> None:
        entered.set()
        opened.wait(GATE_TIMEOUT)

    session.faults[name] = fault
    return entered, opened


def _envs() -> tuple[SQSEnv, SQSEnv, FaultySession]:
    """A producer env, and a worker env on the same queues that has read nothing yet."""
    session = FaultySession(MemorySession(clock=ManualClock()))
    producer = SQSEnv(session)
    create_standard_queue(producer, "jobs")
    return producer, SQSEnv(session), session


def _envs_on(backend: Backend) -> tuple[SQSEnv, SQSEnv, FaultySession]:
    """:func:`_envs` on the backend's session, with a queue prefix no other test uses."""
    session = FaultySession(backend.session)
    prefix = backend.unique("w") + "-"
    producer = SQSEnv(session, queue_prefix=prefix)
    make_queue(backend, producer, "jobs")
    return producer, SQSEnv(session, queue_prefix=prefix), session


def test_receive_loops_poll_while_the_first_reads_the_settings() -> None:
    producer, env, session = _envs()
    for n in range(5):
        Job(n=n).delay(env=producer)
    handled: list[int] = []
    env.handler(Job)(lambda task: handled.append(task.n))
    reading, read = _gate(session, "get_queue_attributes")
    session.calls.clear()
    result: list[Any] = []
    worker = env.worker(concurrency=8, wait_seconds=1, handle_signals=False)
    thread = threading.Thread(
        target=lambda: result.append(worker.run("jobs", shutdown_policy=MaxTasksShutdown(5))),
        daemon=True,
    )
    thread.start()
    try:
        assert reading.wait(GATE_TIMEOUT)
        # Another loop polled while the settings were being read, and ran nothing yet.
        assert wait_for(lambda: session.calls["receive_message"] > 0, GATE_TIMEOUT)
        assert handled == []
    finally:
        read.set()
    thread.join(30)
    assert not thread.is_alive()
    assert result[0].receive_loops > 1
    assert sorted(handled) == [0, 1, 2, 3, 4]
    assert counts(producer, "jobs") == (0, 0)


def test_a_thread_that_needs_only_the_url_does_not_wait_for_the_settings(
    backend: Backend,
) -> None:
    _, env, session = _envs_on(backend)
    queue = env.queue("jobs")
    resolving, resolved = _gate(session, "get_queue_url")
    reading, read = _gate(session, "get_queue_attributes")
    try:
        reader = threading.Thread(target=lambda: queue.settings, daemon=True)
        reader.start()
        assert resolving.wait(GATE_TIMEOUT)
        urls: list[str] = []
        waiter = threading.Thread(target=lambda: urls.append(queue.url), daemon=True)
        waiter.start()
        resolved.set()
        assert reading.wait(GATE_TIMEOUT)
        # The settings are still being read: the URL is known all the same.
        waiter.join(GATE_TIMEOUT)
        assert len(urls) == 1
        assert urls[0].endswith(f"/{queue.sqs_name}")
        assert not read.is_set()
    finally:
        resolved.set()
        read.set()
    reader.join(GATE_TIMEOUT)
    assert queue.settings.visibility_timeout == 30


@pytest.mark.parametrize("concurrency", [1, 8])
def test_messages_polled_before_unreadable_settings_go_back_and_run_once_they_are_read(
    concurrency: int, caplog: pytest.LogCaptureFixture
) -> None:
    producer, env, session = _envs()
    create_standard_queue(producer, "jobs_dead")
    create_standard_queue(producer, "bad", redrive_policy=producer.redrive_policy("jobs_dead", 3))
    bad = env.queue("bad", dead_letter_invalid=True)
    producer.session.send_message(QueueUrl=producer.queue("bad").url, MessageBody="not json")
    session.fail("get_queue_attributes", 3)

    stats = run_worker(env, "bad", policy=after(1), concurrency=concurrency, timeout=20)

    # Run on guessed settings, the invalid message would have been retried, not moved.
    assert stats.failed == 1
    assert len(receive_all(producer, "jobs_dead")) == 1
    assert counts(producer, "bad") == (0, 0)
    assert bad.settings.dead_letter_arn
    assert "no RedrivePolicy" not in caplog.text
    assert "cannot read the settings of queue bad" in caplog.text


def test_a_queue_given_its_url_starts_without_get_queue_url(backend: Backend) -> None:
    producer, env, session = _envs_on(backend)
    for n in range(3):
        Job(n=n).delay(env=producer)
    env.queue("jobs", queue_url=producer.queue("jobs").url)
    env.handler(Job)(lambda task: None)
    session.calls.clear()

    stats = run_worker(env, "jobs", policy=after(3), concurrency=4)

    assert stats.succeeded == 3
    assert session.calls["get_queue_url"] == 0
    assert session.calls["get_queue_attributes"] == 1
