"""The async producer and parallel batch flush: adelay, abatch, several requests in flight."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from backends import Backend
from wrapped_session import WrappedSession, bodies_by_id, job_name_of, read_back

from sqs_contracts import SendBatchError, SQSEnv, Task, create_fifo_queue, create_standard_queue
from sqs_contracts.errors import MessageTooLarge, QueueConfigError

GUARD = 10.0
"""Seconds a held request waits for what the test expects before it gives up and fails it."""


class Note(Task, queue="notes", name="note"):
    text: str


class Bad(Task, queue="notes", name="bad_note"):
    text: str


class Step(Task, queue="steps.fifo", name="step"):
    group: str
    n: int


def make_env(backend: Backend, session: Any = None, **options: Any) -> SQSEnv:
    return SQSEnv(session or backend.session, queue_prefix=backend.unique("a") + "-", **options)


def made(backend: Backend, env: SQSEnv, name: str) -> None:
    create = create_fifo_queue if name.endswith(".fifo") else create_standard_queue
    backend.created.append(create(env, name))


def text_of(body: str) -> str:
    return str(json.loads(body)["text"])


class Ticker:
    """A task that counts its turns on the loop; a held request waits for it to tick."""

    def __init__(self, ticks: int = 3) -> None:
        self.needed = ticks
        self.ticks = 0
        self.stopped = False
        self.cond = threading.Condition()
        self.timed_out: list[str] = []

    async def run(self) -> None:
        while not self.stopped:
            await asyncio.sleep(0.001)
            with self.cond:
                self.ticks += 1
                self.cond.notify_all()

    def hold(self, operation: str) -> None:
        """Hold a request until the loop has ticked a few times since it began: the loop
        cannot tick while the request blocks it."""
        with self.cond:
            start = self.ticks
            if not self.cond.wait_for(lambda: self.ticks >= start + self.needed, GUARD):
                self.timed_out.append(operation)


def test_adelay_returns_each_callers_message_id(backend: Backend) -> None:
    env = make_env(backend)
    made(backend, env, "notes")

    async def main() -> list[str | None]:
        return await asyncio.gather(*(Note(text=f"n{i}").adelay(env=env) for i in range(5)))

    ids = asyncio.run(main())
    found = bodies_by_id(env, "notes")
    assert {i: text_of(found[str(i)]) for i in ids} == {ids[i]: f"n{i}" for i in range(5)}


def test_adelay_never_blocks_the_event_loop(backend: Backend) -> None:
    ticker = Ticker()
    wrapped = WrappedSession(backend.session)
    env = make_env(backend, wrapped)
    made(backend, env, "notes")
    env.queue("notes").use_session(wrapped)  # forget the URL: the first send resolves it

    async def main() -> str | None:
        wrapped.hold = ticker.hold
        tick = asyncio.create_task(ticker.run())
        message_id = await Note(text="slow").adelay(env=env)
        ticker.stopped = True
        await tick
        return message_id

    message_id = asyncio.run(main())
    assert ticker.timed_out == []
    assert wrapped.calls["get_queue_url"] == 1  # resolved on a send thread, not on the loop
    wrapped.hold = None
    assert {message_id: '{"text": "slow"}'} == bodies_by_id(env, "notes")


def test_adelay_raises_at_the_call_before_any_request(backend: Backend) -> None:
    wrapped = WrappedSession(backend.session)
    env = make_env(backend, wrapped)
    made(backend, env, "notes")
    made(backend, env, "steps.fifo")
    env.queue("notes").settings  # noqa: B018 - read now, so only sends are counted below
    env.queue("steps.fifo").settings  # noqa: B018

    async def main() -> None:
        with pytest.raises(MessageTooLarge, match="note"):
            await Note(text="x" * 1_048_577).adelay(env=env)
        with pytest.raises(QueueConfigError, match="FIFO"):
            await Step(group="g", n=1).adelay(env=env, delay_seconds=5)

    asyncio.run(main())
    assert wrapped.calls["send_message"] == wrapped.calls["send_message_batch"] == 0


def test_function_api_adelay_and_baked_adelay(backend: Backend) -> None:
    env = make_env(backend)
    made(backend, env, "jobs")

    @env.processor("jobs", "greet")
    def greet(name: str, times: int = 1) -> None: ...

    async def main() -> list[str | None]:
        with pytest.raises(TypeError, match="times"):
            await greet.adelay(name="x", times="many")  # type: ignore[arg-type]
        baked = greet.bake(name="b", times=2)
        return [await greet.adelay(name="a"), await baked.adelay()]

    ids = asyncio.run(main())
    found = bodies_by_id(env, "jobs")
    assert [json.loads(found[str(i)]) for i in ids] == [
        {"name": "a", "times": 1},
        {"name": "b", "times": 2},
    ]


def test_abatch_sends_every_job_once_without_blocking(backend: Backend) -> None:
    ticker = Ticker()
    wrapped = WrappedSession(backend.session)
    env = make_env(backend, wrapped)
    made(backend, env, "notes")
    env.queue("notes").settings  # noqa: B018

    async def main() -> list[str | None]:
        wrapped.hold = ticker.hold
        tick = asyncio.create_task(ticker.run())
        async with env.abatch():
            ids = [await Note(text=f"n{i}").adelay(env=env) for i in range(20)]
            ids += [Note(text=f"n{i}").delay(env=env) for i in range(20, 25)]
        ticker.stopped = True
        await tick
        return ids

    assert asyncio.run(main()) == [None] * 25
    assert ticker.timed_out == []
    assert wrapped.batch_sizes == [5, 10, 10]
    wrapped.hold = None
    assert sorted(text_of(b) for b in bodies_by_id(env, "notes").values()) == sorted(
        f"n{i}" for i in range(25)
    )


def test_abatch_is_per_task(backend: Backend) -> None:
    env = make_env(backend)
    made(backend, env, "notes")
    inside = asyncio.Event()
    done = asyncio.Event()

    async def batching() -> str | None:
        async with env.abatch():
            message_id = await Note(text="batched").adelay(env=env)
            inside.set()
            await done.wait()
        return message_id

    async def other() -> str | None:
        await inside.wait()
        try:
            return await Note(text="alone").adelay(env=env)
        finally:
            done.set()

    async def main() -> list[str | None]:
        return await asyncio.gather(batching(), other())

    batched, alone = asyncio.run(main())
    assert batched is None
    assert alone is not None
    assert bodies_by_id(env, "notes")[alone] == '{"text": "alone"}'


def test_abatch_raises_each_failed_job_and_sends_the_rest(backend: Backend) -> None:
    wrapped = WrappedSession(
        backend.session, fail=lambda e: "Refused" if job_name_of(e) == "bad_note" else None
    )
    env = make_env(backend, wrapped)
    made(backend, env, "notes")

    async def main() -> None:
        async with env.abatch():
            for i in range(30):
                await (Bad if i % 7 == 0 else Note)(text=f"n{i}").adelay(env=env)

    with pytest.raises(SendBatchError) as info:
        asyncio.run(main())
    assert [e["JobName"] for e in info.value.errors] == ["bad_note"] * 5
    assert all(e["Code"] == "Refused" for e in info.value.errors)
    assert "bad_note" in str(info.value)
    sent = sorted(text_of(b) for b in bodies_by_id(env, "notes").values())
    assert sent == sorted(f"n{i}" for i in range(30) if i % 7)


def test_batch_keeps_several_requests_in_flight(backend: Backend) -> None:
    in_flight = [0]
    most = [0]
    cond = threading.Condition()

    def hold(operation: str) -> None:
        if operation != "send_message_batch":
            return
        with cond:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
            cond.notify_all()
            # Sent one after another, the first would wait here for GUARD seconds in vain.
            cond.wait_for(lambda: most[0] >= 3, GUARD)
            in_flight[0] -= 1

    wrapped = WrappedSession(backend.session, hold=hold)
    env = make_env(backend, wrapped)
    made(backend, env, "notes")
    with env.batch():
        for i in range(30):
            Note(text=f"n{i}").delay(env=env)
    assert most[0] == 3
    assert len(bodies_by_id(env, "notes")) == 30


def test_batch_failure_on_one_queue_still_sends_the_others(backend: Backend) -> None:
    class Other(Task, queue="others", name="other"):
        text: str

    wrapped = WrappedSession(
        backend.session, fail=lambda e: "Refused" if job_name_of(e) == "bad_note" else None
    )
    env = make_env(backend, wrapped)
    made(backend, env, "notes")
    made(backend, env, "others")
    with pytest.raises(SendBatchError) as info, env.batch():
        Bad(text="refused").delay(env=env)
        Other(text="kept").delay(env=env)
    assert [e["JobName"] for e in info.value.errors] == ["bad_note"]
    assert info.value.queue_name == "notes"
    assert list(bodies_by_id(env, "others").values()) == ['{"text": "kept"}']


def test_request_that_raises_names_every_job_it_carried(backend: Backend) -> None:
    from sqs_contracts.sessions.errors import TransientError

    error = TransientError(
        {"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessageBatch"
    )
    wrapped = WrappedSession(backend.session, raise_on_batch=error)
    env = make_env(backend, wrapped)
    made(backend, env, "notes")
    with pytest.raises(SendBatchError) as info, env.batch():
        for i in range(12):
            Note(text=f"n{i}").delay(env=env)
    assert len(info.value.errors) == 12
    assert {e["Code"] for e in info.value.errors} == {"ServiceUnavailable"}
    assert read_back(env, "notes") == []


def test_fifo_groups_keep_their_order_with_parallel_flush(backend: Backend) -> None:
    in_flight: list[set[str]] = []
    overlaps: list[set[str]] = []
    arrived = [0]
    cond = threading.Condition()

    def groups(entries: list[dict[str, Any]]) -> set[str]:
        return {str(e["MessageGroupId"]) for e in entries}

    class Hold(WrappedSession):
        def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> Any:
            mine = groups(Entries)
            with cond:
                overlaps.extend(mine & other for other in in_flight if mine & other)
                in_flight.append(mine)
                arrived[0] += 1
                cond.notify_all()
                # Wait a little for others to arrive, so that overlapping requests would meet.
                cond.wait_for(lambda: arrived[0] >= 4, 0.3)
            try:
                return super().send_message_batch(QueueUrl=QueueUrl, Entries=Entries)
            finally:
                with cond:
                    in_flight.remove(mine)

    wrapped = Hold(backend.session)
    env = make_env(backend, wrapped)
    made(backend, env, "steps.fifo")
    plan = [("a", 10), ("b", 10), ("a", 10), ("b", 5), ("c", 3)]
    n = 0
    with env.batch():
        for group, count in plan:
            for _ in range(count):
                n += 1
                Step(group=group, n=n).delay(env=env, group_id=group, deduplication_id=str(n))
    assert overlaps == []
    assert wrapped.batch_sizes == [8, 10, 10, 10]  # b's last 5 and c's 3 share the last one
    received: dict[str, list[int]] = {}
    for message in read_back(env, "steps.fifo"):
        step = json.loads(message["Body"])
        received.setdefault(step["group"], []).append(step["n"])
    assert received == {
        "a": [*range(1, 11), *range(21, 31)],
        "b": [*range(11, 21), *range(31, 36)],
        "c": [36, 37, 38],
    }
