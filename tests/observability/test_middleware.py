"""Middleware hooks: what they see, their order, and that a raising one changes nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from backends import Backend
from worker.helpers import after, attribute, make_env, make_queue, receive_all, run_worker

from sqs_contracts import (
    IMMEDIATE_RETURN,
    JobInfo,
    MemorySession,
    Message,
    MessageTooLarge,
    Middleware,
    RawQueue,
    SQSEnv,
)
from sqs_contracts.dispatch.middleware import MiddlewareChain
from sqs_contracts.dispatch.results import Outcome
from sqs_contracts.errors import QueueNotFound
from sqs_contracts.wire.envelope import OutgoingMessage
from sqs_contracts.wire.errors import TooManyAttributes

from .contracts import Traced


class Recorder(Middleware):
    """Records each hook call as ``(name, hook, details)`` in a shared list."""

    def __init__(self, name: str, events: list[tuple[str, str, Any]]) -> None:
        self.name = name
        self.events = events

    def before_send(self, message: OutgoingMessage) -> None:
        self.events.append((self.name, "before_send", message.batched))

    def after_send(self, message: OutgoingMessage, message_id: str) -> None:
        self.events.append((self.name, "after_send", message_id))

    def on_send_error(self, message: OutgoingMessage, error: BaseException) -> None:
        self.events.append((self.name, "on_send_error", type(error).__name__))

    def before_send_batch(self, queue: str, messages: Any) -> None:
        self.events.append((self.name, "before_send_batch", len(messages)))

    def after_send_batch(self, queue: str, messages: Any, error: BaseException | None) -> None:
        self.events.append((self.name, "after_send_batch", error))

    def before_process(self, job: JobInfo) -> None:
        self.events.append((self.name, "before_process", job.message_id))

    def after_process(self, job: JobInfo, outcome: Outcome, duration_s: float) -> None:
        self.events.append((self.name, "after_process", outcome.action))

    def on_dead_letter(self, job: JobInfo, reason: str) -> None:
        self.events.append((self.name, "on_dead_letter", reason))

    def on_worker_start(self, worker: object) -> None:
        self.events.append((self.name, "on_worker_start", None))

    def on_worker_stop(self, worker: object) -> None:
        self.events.append((self.name, "on_worker_stop", None))


class Raising(Middleware):
    """Raises from every hook."""

    def _boom(self, *args: Any) -> None:
        raise RuntimeError("middleware bug")

    before_send = after_send = on_send_error = before_send_batch = after_send_batch = _boom
    before_process = after_process = on_dead_letter = on_worker_start = on_worker_stop = _boom


def _hooks(events: list[tuple[str, str, Any]], *hooks: str) -> list[tuple[str, str]]:
    return [(who, hook) for who, hook, _ in events if hook in hooks]


def test_hooks_run_in_order_and_after_hooks_in_reverse(backend: Backend) -> None:
    events: list[tuple[str, str, Any]] = []
    env = make_env(backend, middleware=[Recorder("a", events)])
    env.add_middleware(Recorder("b", events))
    make_queue(backend, env, "traced")

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        events.append(("handler", "call", task.n))

    message_id = Traced(n=1).delay(env=env)
    assert events == [
        ("a", "before_send", False),
        ("b", "before_send", False),
        ("b", "after_send", message_id),
        ("a", "after_send", message_id),
    ]
    events.clear()
    with env.batch():
        Traced(n=2).delay(env=env)
        Traced(n=3).delay(env=env)
    assert [(who, hook) for who, hook, _ in events] == [
        ("a", "before_send"),
        ("b", "before_send"),
        ("a", "before_send"),
        ("b", "before_send"),
        ("a", "before_send_batch"),
        ("b", "before_send_batch"),
        ("b", "after_send"),
        ("a", "after_send"),
        ("b", "after_send"),
        ("a", "after_send"),
        ("b", "after_send_batch"),
        ("a", "after_send_batch"),
    ]
    assert {details for _, hook, details in events if hook == "before_send"} == {True}
    assert {details for _, hook, details in events if hook == "before_send_batch"} == {2}
    events.clear()

    run_worker(env, "traced", policy=after(3))
    assert events[:2] == [("a", "on_worker_start", None), ("b", "on_worker_start", None)]
    assert events[-2:] == [("b", "on_worker_stop", None), ("a", "on_worker_stop", None)]
    jobs = events[2:-2]
    assert len(jobs) == 3 * 5
    for i in range(0, len(jobs), 5):
        run = jobs[i : i + 5]
        assert [(who, hook) for who, hook, _ in run] == [
            ("a", "before_process"),
            ("b", "before_process"),
            ("handler", "call"),
            ("b", "after_process"),
            ("a", "after_process"),
        ]
        assert run[0][2] == run[1][2]
        assert run[3][2] == run[4][2] == "delete"


def test_a_raising_middleware_is_logged_and_fails_neither_the_send_nor_the_job(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="sqs_contracts")
    events: list[tuple[str, str, Any]] = []
    env = make_env(backend, middleware=[Raising(), Recorder("after", events)])
    make_queue(backend, env, "traced")
    handled: list[int] = []

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        handled.append(task.n)

    assert Traced(n=1).delay(env=env) is not None
    with env.batch():
        Traced(n=2).delay(env=env)
    stats = run_worker(env, "traced", policy=after(2))

    assert sorted(handled) == [1, 2]
    assert stats.succeeded == 2
    assert receive_all(env, "traced") == []
    # The middleware after the raising one still saw everything.
    assert len(_hooks(events, "after_process")) == 2
    assert len(_hooks(events, "after_send")) == 2
    logged = {getattr(r, "hook", None) for r in caplog.records if "middleware" in r.getMessage()}
    assert logged == {
        "before_send",
        "after_send",
        "before_send_batch",
        "after_send_batch",
        "before_process",
        "after_process",
        "on_worker_start",
        "on_worker_stop",
    }
    assert all("RuntimeError: middleware bug" in (r.exc_text or "") for r in caplog.records)


def test_a_hook_sees_the_job_queue_name_id_attempt_contract_and_message(
    backend: Backend,
) -> None:
    jobs: list[tuple[JobInfo, str]] = []

    class Seen(Middleware):
        def after_process(self, job: JobInfo, outcome: Outcome, duration_s: float) -> None:
            jobs.append((job, outcome.action))

    env = make_env(backend, middleware=[Seen()], backoff_policy=IMMEDIATE_RETURN)
    make_queue(backend, env, "traced_dead")
    make_queue(backend, env, "traced", redrive_policy=env.redrive_policy("traced_dead", 5))
    queue = env.queue("traced")
    queue.settings  # noqa: B018 - maxReceiveCount is known once the settings were read

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        if len(jobs) == 0:
            raise ValueError("first attempt fails")

    message_id = Traced(n=4).delay(env=env)
    while len(jobs) < 2:
        queue.process_batch()

    [(first, failed), (second, succeeded)] = jobs
    assert (failed, succeeded) == ("retry", "delete")
    for job in (first, second):
        assert job.queue == "traced"
        assert job.job_name == "Traced"
        assert job.message_id == message_id
        assert job.contract is Traced
        assert job.max_receive_count == 5
        assert not job.last_attempt
        assert isinstance(job.message, Message)
        assert job.message.body == '{"n": 4}'
        assert job.sent_timestamp is not None
    assert (first.attempt, second.attempt) == (1, 2)


def test_attributes_added_by_before_send_are_sent_and_counted(backend: Backend) -> None:
    class Stamp(Middleware):
        def __init__(self, value: str) -> None:
            self.value = value

        def before_send(self, message: OutgoingMessage) -> None:
            message.attributes["Tenant"] = {"DataType": "String", "StringValue": self.value}

    env = make_env(backend, middleware=[Stamp("acme")])
    make_queue(backend, env, "traced", maximum_message_size=1024)
    Traced(n=1).delay(env=env)
    [message] = receive_all(env, "traced")
    assert attribute(message, "Tenant") == "acme"

    big = make_env(backend, middleware=[Stamp("x" * 1000)])
    make_queue(backend, big, "traced", maximum_message_size=1024)
    with pytest.raises(MessageTooLarge, match=r"over the queue's limit of 1,024 bytes"):
        Traced(n=1).delay(env=big)
    assert receive_all(big, "traced") == []


def test_more_than_ten_attributes_after_before_send_are_refused_naming_them(
    backend: Backend,
) -> None:
    errors: list[BaseException] = []

    class Crowd(Middleware):
        def before_send(self, message: OutgoingMessage) -> None:
            message.attributes["Extra"] = {"DataType": "String", "StringValue": "1"}

        def on_send_error(self, message: OutgoingMessage, error: BaseException) -> None:
            errors.append(error)

    env = make_env(backend, middleware=[Crowd()])
    make_queue(backend, env, "raw")
    queue = env.queue("raw", RawQueue)
    mine = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}

    with pytest.raises(TooManyAttributes) as raised:
        queue.add_raw_job("event", message_attributes=mine)
    text = str(raised.value)
    assert "queue 'raw'" in text
    assert "11 message attributes" in text
    assert "middleware added ['Extra']" in text
    assert errors == [raised.value]
    assert receive_all(env, "raw") == []
    assert queue.add_raw_job("event", message_attributes=dict(list(mine.items())[:9]))


def test_a_failed_send_is_told_to_the_middleware(backend: Backend) -> None:
    events: list[tuple[str, str, Any]] = []
    env = make_env(backend, middleware=[Recorder("a", events)])
    url = make_queue(backend, env, "traced")
    env.queue("traced").settings  # noqa: B018 - read while the queue exists
    env.session.delete_queue(QueueUrl=url)

    with pytest.raises(QueueNotFound):
        Traced(n=1).delay(env=env)
    assert events == [("a", "before_send", False), ("a", "on_send_error", "QueueNotFound")]


def test_on_dead_letter_on_the_last_attempt_and_on_a_dead_lettered_invalid_message(
    backend: Backend,
) -> None:
    events: list[tuple[str, str, Any]] = []
    env = make_env(backend, middleware=[Recorder("a", events)], backoff_policy=IMMEDIATE_RETURN)
    make_queue(backend, env, "traced_dead")
    make_queue(backend, env, "traced", redrive_policy=env.redrive_policy("traced_dead", 2))
    queue = env.queue("traced", dead_letter_invalid=True)
    queue.settings  # noqa: B018 - maxReceiveCount is known once the settings were read

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        raise ValueError("always")

    Traced(n=1).delay(env=env)
    assert queue.process_batch().failed_count() == 1
    assert _hooks(events, "on_dead_letter") == []
    assert queue.process_batch().failed_count() == 1
    [(_, _, reason)] = [e for e in events if e[1] == "on_dead_letter"]
    assert "last attempt (2 of maxReceiveCount 2)" in reason

    events.clear()
    env.session.send_message(QueueUrl=queue.url, MessageBody="{}", MessageAttributes={})
    assert queue.process_batch().failed_count() == 1
    [(_, _, reason)] = [e for e in events if e[1] == "on_dead_letter"]
    assert "no JobName attribute" in reason
    dead = receive_all(env, "traced_dead")
    assert [m["Body"] for m in dead if attribute(m, "JobName") is None] == ["{}"]


def test_an_object_with_some_hooks_is_a_middleware_and_one_with_none_is_refused() -> None:
    calls: list[str] = []

    class OnlyStart:
        def on_worker_start(self, worker: object) -> None:
            calls.append("start")

    chain = MiddlewareChain([OnlyStart()])
    chain.on_worker_start(object())
    chain.on_worker_stop(object())
    assert calls == ["start"]
    with pytest.raises(TypeError, match=r"has none of the middleware hooks .*subclass"):
        SQSEnv(MemorySession(), middleware=[object()])
