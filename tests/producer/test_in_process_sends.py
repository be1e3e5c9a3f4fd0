"""Batch blocks on a session that answers at once send on the caller's thread; others use
the send threads."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from wrapped_session import WrappedSession

from sqs_contracts import MemorySession, Middleware, SQSEnv, Task, create_standard_queue
from sqs_contracts.sessions.base import answers_at_once
from sqs_contracts.wire.envelope import OutgoingMessage


class Ping(Task, queue="in-process"):
    n: int


class Audit(Task, queue="in-process-audit"):
    count: int


class _ThreadOfEachBatch(Middleware):
    """Records the thread each ``SendMessageBatch`` request is made on."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def before_send_batch(self, queue: str, messages: Sequence[OutgoingMessage]) -> None:
        self.threads.append(threading.current_thread().name)


def _env(session: object, *middleware: object) -> SQSEnv:
    env = SQSEnv(session, middleware=middleware)  # type: ignore[arg-type]
    create_standard_queue(env, "in-process")
    create_standard_queue(env, "in-process-audit")
    return env


def _received(env: SQSEnv, queue: str) -> int:
    return sum(len(env.queue(queue).get_raw_messages(max_messages=10)) for _ in range(5))


def test_memory_session_batches_are_sent_on_the_calling_thread() -> None:
    seen = _ThreadOfEachBatch()
    env = _env(MemorySession(), seen)
    with env.activate(), env.batch():
        for n in range(25):
            Ping(n=n).delay()
        # The two full chunks went out before the block ended, on this thread.
        assert seen.threads == [threading.current_thread().name] * 2
    assert seen.threads == [threading.current_thread().name] * 3
    assert _received(env, "in-process") == 25


def test_a_session_that_may_block_is_sent_on_the_send_threads() -> None:
    seen = _ThreadOfEachBatch()
    wrapped = WrappedSession(MemorySession())
    assert not answers_at_once(wrapped)  # its attributes are forwarded, its class says no
    env = _env(wrapped, seen)
    with env.activate(), env.batch():
        for n in range(25):
            Ping(n=n).delay()
    assert len(seen.threads) == 3
    assert all(name.startswith("sqs-contracts-send") for name in seen.threads)
    assert _received(env, "in-process") == 25


def test_middleware_may_enqueue_from_a_batch_request_made_on_the_calling_thread() -> None:
    class AuditEachBatch(Middleware):
        def before_send_batch(self, queue: str, messages: Sequence[OutgoingMessage]) -> None:
            if queue == "in-process":
                Audit(count=len(messages)).delay()

    env = _env(MemorySession(), AuditEachBatch())
    with env.activate(), env.batch():
        for n in range(20):
            Ping(n=n).delay()
    assert _received(env, "in-process") == 20
    assert _received(env, "in-process-audit") == 2
