"""Coalescing: concurrent .delay()/.adelay() calls share SendMessageBatch requests."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from backends import Backend
from wrapped_session import WrappedSession, bodies_by_id, job_name_of

from sqs_contracts import SendBatchError, SQSEnv, Task, create_fifo_queue, create_standard_queue
from sqs_contracts.errors import MessageTooLarge, QueueConfigError

GUARD = 10.0
"""Seconds a call may take before the test fails it as held back."""

LONG_LINGER_MS = 60_000
"""A linger no test waits for: a request goes out full, or at once on a quiet queue."""


class Note(Task, queue="notes", name="note"):
    text: str


class Bad(Task, queue="notes", name="bad_note"):
    text: str


class Step(Task, queue="steps.fifo", name="step"):
    n: int


def make_env(backend: Backend, session: Any = None, **options: Any) -> SQSEnv:
    env = SQSEnv(session or backend.session, queue_prefix=backend.unique("c") + "-", **options)
    backend.created.append(create_standard_queue(env, "notes"))
    env.queue("notes").settings  # noqa: B018 - read now, so that only sends are counted
    return env


def in_threads(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call on its own thread, all released at once; return results or exceptions."""
    results: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD)
    assert not any(t.is_alive() for t in threads), "a call was still waiting"
    return results


def text_of(body: str) -> str:
    return str(json.loads(body)["text"])


def test_threads_share_requests_and_each_gets_its_message_id(backend: Backend) -> None:
    wrapped = WrappedSession(backend.session)
    env = make_env(backend, wrapped, coalesce=LONG_LINGER_MS)
    # The first call finds the queue quiet and goes alone; the 30 after it fill 3 requests.
    ids = in_threads([lambda i=i: Note(text=f"n{i}").delay(env=env) for i in range(31)])
    assert wrapped.batch_sizes == [1, 10, 10, 10]
    assert wrapped.calls["send_message"] == 0
    found = bodies_by_id(env, "notes")
    assert {message_id: text_of(found[message_id]) for message_id in ids} == {
        ids[i]: f"n{i}" for i in range(31)
    }


def test_tasks_share_requests_and_each_gets_its_message_id(backend: Backend) -> None:
    wrapped = WrappedSession(backend.session)
    env = make_env(backend, wrapped, coalesce=LONG_LINGER_MS)

    async def main() -> list[str | None]:
        return await asyncio.gather(*(Note(text=f"n{i}").adelay(env=env) for i in range(31)))

    ids = asyncio.run(main())
    assert wrapped.batch_sizes == [1, 10, 10, 10]
    found = bodies_by_id(env, "notes")
    assert [text_of(found[str(message_id)]) for message_id in ids] == [f"n{i}" for i in range(31)]


def test_a_lone_call_on_a_quiet_queue_is_not_held(backend: Backend) -> None:
    env = make_env(backend, coalesce=LONG_LINGER_MS)
    (message_id,) = in_threads([lambda: Note(text="alone").delay(env=env)])
    assert bodies_by_id(env, "notes") == {message_id: '{"text": "alone"}'}


def test_a_lone_call_waits_no_longer_than_the_linger(backend: Backend) -> None:
    wrapped = WrappedSession(backend.session)
    env = make_env(backend, wrapped, coalesce=20)
    first = Note(text="first").delay(env=env)
    # Right after a request the queue is not quiet: the call lingers 20 ms, then goes alone.
    (second,) = in_threads([lambda: Note(text="second").delay(env=env)])
    assert wrapped.batch_sizes == [1, 1]
    assert set(bodies_by_id(env, "notes")) == {first, second}


def test_partly_filled_requests_wait_while_two_are_in_flight(backend: Backend) -> None:
    cond = threading.Condition()
    held = [0]
    release = threading.Event()

    def hold(operation: str) -> None:
        if operation != "send_message_batch":
            return
        with cond:
            held[0] += 1
            mine = held[0]
            cond.notify_all()
        if mine <= 2:  # the first two requests stay in flight until released
            release.wait(GUARD)

    wrapped = WrappedSession(backend.session, hold=hold)
    env = make_env(backend, wrapped, coalesce=1)
    first = threading.Thread(target=lambda: Note(text="first").delay(env=env))
    first.start()
    with cond:
        assert cond.wait_for(lambda: held[0] == 1, GUARD)
    second = threading.Thread(target=lambda: Note(text="second").delay(env=env))
    second.start()
    with cond:
        assert cond.wait_for(lambda: held[0] == 2, GUARD)
    # Two requests in flight: the next ten linger past 1 ms, yet leave only as a full request.
    ids = in_threads([lambda i=i: Note(text=f"n{i}").delay(env=env) for i in range(10)])
    release.set()
    first.join(GUARD)
    second.join(GUARD)
    assert wrapped.batch_sizes == [1, 1, 10]
    assert len(bodies_by_id(env, "notes")) == 12
    assert all(isinstance(i, str) for i in ids)


def test_each_caller_gets_its_own_error(backend: Backend) -> None:
    wrapped = WrappedSession(
        backend.session, fail=lambda e: "Refused" if job_name_of(e) == "bad_note" else None
    )
    env = make_env(backend, wrapped, coalesce=LONG_LINGER_MS)
    kinds = [Bad if i % 5 == 1 else Note for i in range(21)]
    results = in_threads([lambda i=i: kinds[i](text=f"n{i}").delay(env=env) for i in range(21)])
    for kind, result in zip(kinds, results, strict=True):
        if kind is Bad:
            assert isinstance(result, SendBatchError)
            assert [e["JobName"] for e in result.errors] == ["bad_note"]
            assert "bad_note" in str(result)
            assert "Refused" in str(result)
        else:
            assert isinstance(result, str)
    found = bodies_by_id(env, "notes")
    assert {text_of(found[r]) for r in results if isinstance(r, str)} == {
        f"n{i}" for i in range(21) if kinds[i] is Note
    }
    assert len(found) == 17


def test_entries_that_failed_on_the_server_are_retried_and_sent_once(backend: Backend) -> None:
    failures = {"left": 3}
    lock = threading.Lock()

    def fail_three_times(entry: dict[str, Any]) -> str | None:
        with lock:
            if failures["left"] and text_of(entry["MessageBody"]) == "n4":
                failures["left"] -= 1
                return "InternalError"
        return None

    wrapped = WrappedSession(backend.session, fail=fail_three_times, sender_fault=False)
    env = make_env(backend, wrapped, coalesce=LONG_LINGER_MS)
    ids = in_threads([lambda i=i: Note(text=f"n{i}").delay(env=env) for i in range(11)])
    assert all(isinstance(i, str) for i in ids)
    found = bodies_by_id(env, "notes")
    assert sorted(text_of(found[i]) for i in ids) == sorted(f"n{i}" for i in range(11))


def test_a_request_that_raises_reaches_every_caller(backend: Backend) -> None:
    from sqs_contracts.sessions.errors import TransientError

    error = TransientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "Send")
    wrapped = WrappedSession(backend.session, raise_on_batch=error)
    env = make_env(backend, wrapped, coalesce=LONG_LINGER_MS)
    results = in_threads([lambda i=i: Note(text=f"n{i}").delay(env=env) for i in range(11)])
    assert all(isinstance(r, SendBatchError) for r in results)
    assert all([e["Code"] for e in r.errors] == ["ServiceUnavailable"] for r in results)
    assert bodies_by_id(env, "notes") == {}


def test_checks_still_raise_at_the_call_before_anything_is_queued(backend: Backend) -> None:
    wrapped = WrappedSession(backend.session)
    env = make_env(backend, wrapped, coalesce=LONG_LINGER_MS)
    backend.created.append(create_fifo_queue(env, "steps.fifo"))
    env.queue("steps.fifo").settings  # noqa: B018
    with pytest.raises(MessageTooLarge, match="note"):
        Note(text="x" * 1_048_577).delay(env=env)
    with pytest.raises(QueueConfigError, match="FIFO"):
        Step(n=1).delay(env=env, delay_seconds=5)

    async def main() -> None:
        with pytest.raises(MessageTooLarge, match="note"):
            await Note(text="x" * 1_048_577).adelay(env=env)

    asyncio.run(main())
    assert wrapped.calls["send_message_batch"] == wrapped.calls["send_message"] == 0


def test_batch_blocks_take_precedence_over_coalescing(backend: Backend) -> None:
    wrapped = WrappedSession(backend.session)
    env = make_env(backend, wrapped, coalesce=LONG_LINGER_MS)
    with env.batch():
        assert [Note(text=f"n{i}").delay(env=env) for i in range(12)] == [None] * 12
    assert wrapped.batch_sizes == [2, 10]
    assert len(bodies_by_id(env, "notes")) == 12


@pytest.mark.parametrize("value", [-1, "yes", 1j])
def test_coalesce_option_is_checked(value: Any) -> None:
    with pytest.raises(QueueConfigError, match="coalesce"):
        SQSEnv(coalesce=value)


def test_threads_still_sending_at_interpreter_exit_are_not_left_waiting() -> None:
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    script = textwrap.dedent(
        """
        import concurrent.futures.thread as executors
        import threading
        import time

        from sqs_contracts import MemorySession, SQSEnv, Task, create_standard_queue

        class Note(Task, queue="notes"):
            text: str

        env = SQSEnv(MemorySession(), coalesce=50)
        create_standard_queue(env, "notes")
        Note(text="before").delay(env=env)

        def late() -> None:
            while not executors._shutdown:  # the main thread has returned: executors refuse
                time.sleep(0.01)
            for i in range(3):
                print("sent", Note(text=f"late{i}").delay(env=env), flush=True)
            with env.batch():
                Note(text="batched").delay(env=env)
            print("batch sent", flush=True)

        threading.Thread(target=late).start()
        """
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": ""},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("sent ") == 3, result.stdout + result.stderr
    assert "batch sent" in result.stdout
