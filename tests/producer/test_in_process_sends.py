"""Batch blocks on a session that answers at once send on the caller's thread; others use
the send threads."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from backends import Backend
from wrapped_session import WrappedSession

from sqs_contracts import Middleware, SQSEnv, Task, create_standard_queue
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


def _env(backend: Backend, session: object, *middleware: object) -> SQSEnv:
    env = SQSEnv(session, queue_prefix=backend.unique("ip") + "-", middleware=middleware)  # type: ignore[arg-type]
    for name in ("in-process", "in-process-audit"):
        backend.created.append(create_standard_queue(env, name))
    return env


def _received(env: SQSEnv, queue: str, expected: int) -> int:
    ids: set[str] = set()
    for _ in range(20):
        ids |= {m.message_id for m in env.queue(queue).get_raw_messages(max_messages=10)}
        if len(ids) >= expected:
            break
    return len(ids)


def test_batches_are_sent_on_the_calling_thread_only_when_the_session_answers_at_once(
    backend: Backend,
) -> None:
    seen = _ThreadOfEachBatch()
    env = _env(backend, backend.session, seen)
    here = threading.current_thread().name
    with env.activate(), env.batch():
        for n in range(25):
            Ping(n=n).delay()
        if backend.is_memory:
            # The two full chunks went out before the block ended, on this thread.
            assert seen.threads == [here] * 2
    assert len(seen.threads) == 3
    if backend.is_memory:
        assert seen.threads == [here] * 3
    else:
        assert all(name.startswith("sqs-contracts-send") for name in seen.threads)
    assert _received(env, "in-process", 25) == 25


def test_a_session_that_may_block_is_sent_on_the_send_threads(backend: Backend) -> None:
    seen = _ThreadOfEachBatch()
    wrapped = WrappedSession(backend.session)
    assert not answers_at_once(wrapped)  # its attributes are forwarded, its class says no
    env = _env(backend, wrapped, seen)
    with env.activate(), env.batch():
        for n in range(25):
            Ping(n=n).delay()
    assert len(seen.threads) == 3
    assert all(name.startswith("sqs-contracts-send") for name in seen.threads)
    assert _received(env, "in-process", 25) == 25


def test_middleware_may_enqueue_from_a_batch_request(backend: Backend) -> None:
    class AuditEachBatch(Middleware):
        env: SQSEnv

        def before_send_batch(self, queue: str, messages: Sequence[OutgoingMessage]) -> None:
            # On a send thread no env is active: the middleware names its own.
            if queue.endswith("in-process"):
                Audit(count=len(messages)).delay(env=self.env)

    audit = AuditEachBatch()
    env = audit.env = _env(backend, backend.session, audit)
    with env.activate(), env.batch():
        for n in range(20):
            Ping(n=n).delay()
    assert _received(env, "in-process", 20) == 20
    assert _received(env, "in-process-audit", 2) == 2
