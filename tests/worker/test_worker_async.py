"""Async handlers: on the worker's event loop, through process_batch, .run() and .arun().

An ``async def`` handler is awaited to completion before its message counts as a success;
retries, FIFO order, shutdown and the mix with sync handlers behave as for sync handlers.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any

import pytest
from backends import Backend

from sqs_contracts import (
    IMMEDIATE_RETURN,
    ConstantBackoff,
    JobContext,
    RawQueue,
    RetryJob,
    SQSEnv,
    Task,
    create_standard_queue,
)
from sqs_contracts.batching import BatchMessages
from sqs_contracts.errors import AsyncHandlerInRunningLoop
from sqs_contracts.processors import Processor
from sqs_contracts.shutdown_policies import MaxTasksShutdown

from .contracts import Job, OrderJob
from .helpers import (
    Guard,
    after,
    counts,
    make_env,
    make_queue,
    receive_all,
    run_worker,
    wait_for,
)

LOOP_THREAD = "sqs-contracts-event-loop"


class SyncJob(Task, queue="jobs", name="sync_job"):
    """A second contract on the ``jobs`` queue, for a sync handler beside an async one."""

    n: int


def _handler_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("sqs-handler-")}


def test_async_handlers_run_on_one_loop_thread_without_a_thread_each(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "jobs")
    done: list[int] = []
    threads: set[str] = set()
    handler_threads: set[threading.Thread] = set()
    earlier = _handler_threads()  # left by other tests' workers, if any

    @env.handler(Job)
    async def handle(task: Job) -> None:
        await asyncio.sleep(0.01)
        threads.add(threading.current_thread().name)
        handler_threads.update(_handler_threads() - earlier)
        done.append(task.n)

    with env.batch():
        for n in range(30):
            Job(n=n).delay(env=env)
    stats = run_worker(env, "jobs", policy=after(30), concurrency=50)

    assert sorted(done) == list(range(30))
    assert (stats.succeeded, stats.failed) == (30, 0)
    assert threads == {LOOP_THREAD}
    assert len(handler_threads) == 1  # not 50: the loop thread runs the coroutines
    assert counts(env, "jobs") == (0, 0)
    assert receive_all(env, "jobs") == []


def test_up_to_concurrency_coroutines_run_at_once_never_more(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "jobs")
    concurrency = 5
    running = [0]
    peak = [0]
    all_in = asyncio.Event()

    @env.handler(Job)
    async def handle(task: Job) -> None:
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        if running[0] == concurrency:
            all_in.set()
        try:
            # The first five wait for each other: they can finish only if five run at once.
            if task.n < concurrency:
                await asyncio.wait_for(all_in.wait(), 10)
            await asyncio.sleep(0.005)
        finally:
            running[0] -= 1

    with env.batch():
        for n in range(3 * concurrency):
            Job(n=n).delay(env=env)
    # Jobs 5..14 do not wait: they fill free slots, and the bound must hold meanwhile.
    stats = run_worker(env, "jobs", policy=after(3 * concurrency), concurrency=concurrency)

    assert (stats.succeeded, stats.failed) == (3 * concurrency, 0)
    assert peak[0] == concurrency


def test_async_failures_back_off_and_succeed_later(backend: Backend) -> None:
    env = make_env(backend, backoff_policy=IMMEDIATE_RETURN)
    make_queue(backend, env, "jobs")
    attempts: list[int] = []
    successes: list[int] = []

    @env.handler(Job)
    async def handle(task: Job) -> None:
        await asyncio.sleep(0)
        attempts.append(task.n)
        if len(attempts) <= 2:
            raise ConnectionError("flaky dependency")
        successes.append(task.n)

    Job(n=1).delay(env=env)
    stats = run_worker(env, "jobs", policy=after(3))

    assert attempts == [1, 1, 1]
    assert successes == [1]
    assert (stats.succeeded, stats.failed) == (1, 2)
    assert counts(env, "jobs") == (0, 0)


def test_a_handler_raising_cancelled_error_fails_and_is_retried(backend: Backend) -> None:
    # Regression: a CancelledError of the handler's own was taken for the shutdown's, and
    # the job was neither acknowledged nor finished: the worker held it for ever.
    env = make_env(backend, backoff_policy=IMMEDIATE_RETURN)
    make_queue(backend, env, "jobs")
    attempts: list[int] = []

    @env.handler(Job)
    async def handle(task: Job) -> None:
        attempts.append(task.n)
        if len(attempts) == 1:
            raise asyncio.CancelledError

    Job(n=4).delay(env=env)
    stats = run_worker(env, "jobs", policy=after(2))

    assert attempts == [4, 4]
    assert (stats.succeeded, stats.failed) == (1, 1)
    assert counts(env, "jobs") == (0, 0)


def test_async_retry_job_sets_the_visibility(backend: Backend) -> None:
    # On moto the worker's exit (a long poll of up to 1 s to join) must fit in the backoff.
    backoff = 60 if backend.is_memory else 4
    env = make_env(backend)
    make_queue(backend, env, "jobs")
    calls: list[int] = []

    @env.handler(Job)
    async def handle(task: Job) -> None:
        await asyncio.sleep(0)
        calls.append(task.n)
        raise RetryJob(backoff_policy=ConstantBackoff(backoff))

    message_id = Job(n=3).delay(env=env)
    stats = run_worker(env, "jobs", policy=MaxTasksShutdown(1))

    assert calls == [3]
    assert stats.failed == 1
    assert receive_all(env, "jobs") == []
    if backend.is_memory:
        backend.advance(backoff - 1)
        assert receive_all(env, "jobs") == []
    backend.advance(backoff + 0.5 if not backend.is_memory else 1.5)
    [again] = receive_all(env, "jobs")
    assert again["MessageId"] == message_id


def test_async_fifo_groups_stay_in_order(backend: Backend) -> None:
    env = make_env(backend, backoff_policy=IMMEDIATE_RETURN)
    make_queue(backend, env, "orders.fifo", content_based_deduplication=True)
    groups = [f"g{i}" for i in range(4)]
    per_group = 8
    attempts: dict[str, list[int]] = defaultdict(list)
    running: set[str] = set()
    overlaps: list[str] = []
    failed_once: set[tuple[str, int]] = set()

    @env.handler(OrderJob)
    async def handle(task: OrderJob) -> None:
        if task.group in running:
            overlaps.append(task.group)
        running.add(task.group)
        attempts[task.group].append(task.seq)
        try:
            await asyncio.sleep(0.002 * (task.seq % 3))
            # The fourth message of g0 fails once: it must run again before g0's later ones.
            if (task.group, task.seq) == ("g0", 3) and ("g0", 3) not in failed_once:
                failed_once.add(("g0", 3))
                raise ConnectionError("try again")
        finally:
            running.discard(task.group)

    with env.batch():
        for seq in range(per_group):
            for group in groups:
                OrderJob(group=group, seq=seq).delay(env=env, group_id=group)
    total = len(groups) * per_group + 1
    receivers = None if backend.is_memory else 1
    stats = run_worker(env, "orders.fifo", policy=after(total), concurrency=8, receivers=receivers)

    assert (stats.succeeded, stats.failed) == (total - 1, 1)
    assert not overlaps
    assert attempts["g0"] == [0, 1, 2, 3, 3, *range(4, per_group)]
    for group in groups[1:]:
        assert attempts[group] == list(range(per_group)), group
    assert counts(env, "orders.fifo") == (0, 0)


def test_sync_and_async_handlers_share_one_worker(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "jobs")
    make_queue(backend, env, "bad")
    ran_on: dict[str, set[str]] = defaultdict(set)
    lock = threading.Lock()

    @env.handler(Job)
    async def handle_async(task: Job) -> None:
        await asyncio.sleep(0.001)
        ran_on["async"].add(threading.current_thread().name)

    @env.handler(SyncJob)
    def handle_sync(task: SyncJob) -> None:
        time.sleep(0.001)
        with lock:
            ran_on["sync"].add(threading.current_thread().name)

    raw = env.queue("bad", RawQueue)
    raw_bodies: list[str] = []

    @raw.raw_processor()
    async def on_raw(message: Any) -> None:
        await asyncio.sleep(0)
        raw_bodies.append(message.body)

    with env.batch():
        for n in range(10):
            Job(n=n).delay(env=env)
            SyncJob(n=n).delay(env=env)
    raw.add_raw_job("hello")
    stats = run_worker(env, "jobs", "bad", policy=after(21), concurrency=3)

    assert (stats.succeeded, stats.failed) == (21, 0)
    assert ran_on["async"] == {LOOP_THREAD}
    assert ran_on["sync"]
    # Sync handlers never run on the loop: on handler threads, or (fast jobs) receive loops.
    assert all(name.startswith(("sqs-handler-", "sqs-receive-")) for name in ran_on["sync"])
    assert raw_bodies == ["hello"]
    assert counts(env, "jobs") == (0, 0)
    assert counts(env, "bad") == (0, 0)


def test_batch_queue_awaits_an_async_handler(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "batched")
    env.queue("batched", batching_policy=BatchMessages(5))
    seen: list[int] = []

    @env.processor("batched", "numbers")
    async def numbers(items: list[dict[str, Any]]) -> None:
        await asyncio.sleep(0)
        seen.extend(item["n"] for item in items)

    with env.batch():
        for n in range(10):
            env.queue("batched").add_job("numbers", n=n)
    stats = run_worker(env, "batched", policy=after(10))

    assert stats.succeeded == 10
    assert sorted(seen) == list(range(10))
    assert counts(env, "batched") == (0, 0)


def test_shutdown_awaits_running_coroutines_within_the_grace_period(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "jobs")
    started = threading.Event()
    finished: list[int] = []

    @env.handler(Job)
    async def handle(task: Job) -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append(task.n)

    Job(n=1).delay(env=env)
    worker = env.worker(concurrency=4, wait_seconds=1, handle_signals=False, receivers=1)
    threading.Thread(target=lambda: started.wait(10) and worker.stop(), daemon=True).start()
    guard = Guard(worker, 30)
    stats = worker.run("jobs", shutdown_policy=MaxTasksShutdown(5))
    guard.cancel()

    assert finished == [1]
    assert stats.succeeded == 1
    assert counts(env, "jobs") == (0, 0)


def test_coroutines_past_the_grace_period_are_cancelled_and_not_deleted(
    backend: Backend,
) -> None:
    env = make_env(backend)
    visibility = 30
    url = create_standard_queue(env, "jobs", visibility_timeout=visibility)
    backend.created.append(url)
    started = threading.Event()
    outcome: list[str] = []

    @env.handler(Job)
    async def handle(task: Job) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        outcome.append("finished")

    message_id = Job(n=1).delay(env=env)
    worker = env.worker(
        concurrency=2, wait_seconds=1, handle_signals=False, receivers=1, grace_period=0.2
    )
    threading.Thread(target=lambda: started.wait(10) and worker.stop(), daemon=True).start()
    guard = Guard(worker, 30)
    stats = worker.run("jobs", shutdown_policy=MaxTasksShutdown(5))
    guard.cancel()

    assert not guard.fired
    assert wait_for(lambda: outcome == ["cancelled"], 5), outcome
    assert (stats.succeeded, stats.failed) == (0, 0)
    # Not deleted: it comes back when its visibility timeout ends.
    assert counts(env, "jobs") == (0, 1)
    if backend.is_memory:
        backend.advance(visibility + 0.5)
        [again] = receive_all(env, "jobs")
        assert again["MessageId"] == message_id


def test_heartbeat_covers_a_long_coroutine(backend: Backend) -> None:
    env = make_env(backend)
    if backend.is_memory:
        visibility, steps, step, pause = 30, 8, 7.5, 0.3
    else:
        visibility, steps, step, pause = 2, 1, 4.0, 0.0
    url = create_standard_queue(env, "jobs", visibility_timeout=visibility)
    backend.created.append(url)
    calls: list[int] = []

    @env.handler(Job)
    async def handle(task: Job) -> None:
        calls.append(task.n)
        for _ in range(steps):  # twice the visibility timeout or more of the queue's time
            if backend.is_memory:
                backend.advance(step)
                await asyncio.sleep(pause)
            else:
                await asyncio.sleep(step)

    Job(n=1).delay(env=env)
    stats = run_worker(env, "jobs", policy=MaxTasksShutdown(1), concurrency=4)

    assert calls == [1]
    assert stats.succeeded == 1
    assert counts(env, "jobs") == (0, 0)


# -- process_batch, .run() and .arun() ---------------------------------------------------------


def test_process_batch_awaits_an_async_handler_before_deleting(backend: Backend) -> None:
    # Regression: the coroutine was dropped and the message deleted as a success.
    env = make_env(backend, backoff_policy=IMMEDIATE_RETURN)
    make_queue(backend, env, "jobs")
    completed: list[int] = []

    @env.handler(Job)
    async def handle(task: Job) -> None:
        await asyncio.sleep(0)
        if task.n == 2:
            raise ValueError("job 2 is broken")
        completed.append(task.n)

    with env.batch():
        for n in range(3):
            Job(n=n).delay(env=env)
    result = env.queue("jobs").process_batch()

    assert sorted(completed) == [0, 1]
    assert (result.succeeded_count(), result.failed_count()) == (2, 1)
    [left] = receive_all(env, "jobs")
    assert Job.model_validate_json(left["Body"]).n == 2


def test_process_batch_inside_a_running_loop_fails_the_job_with_advice(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    env = make_env(backend, backoff_policy=IMMEDIATE_RETURN)
    make_queue(backend, env, "jobs")
    ran: list[int] = []

    @env.handler(Job)
    async def handle(task: Job) -> None:
        ran.append(task.n)

    Job(n=1).delay(env=env)

    async def main() -> Any:
        return env.queue("jobs").process_batch()

    result = asyncio.run(main())
    assert (result.succeeded_count(), result.failed_count()) == (0, 1)
    assert ran == []
    assert "asyncio.to_thread(queue.process_batch)" in caplog.text
    assert counts(env, "jobs") == (1, 0)  # not deleted, back at once (IMMEDIATE_RETURN)

    # The advice works: from a thread, the handler is awaited and the message deleted.
    async def in_thread() -> Any:
        return await asyncio.to_thread(env.queue("jobs").process_batch)

    assert asyncio.run(in_thread()).succeeded_count() == 1
    assert ran == [1]


def test_an_awaitable_from_a_sync_callable_is_awaited_before_success(backend: Backend) -> None:
    """No coroutine counts as a success unawaited: not from a sync-looking handler on a worker
    thread, not through a custom processor, not from a raw processor."""
    env = make_env(backend, backoff_policy=ConstantBackoff(60))  # a failure runs once
    make_queue(backend, env, "jobs")
    make_queue(backend, env, "bad")
    completed: list[str] = []

    async def record(what: str, fail: bool) -> None:
        await asyncio.sleep(0.001)
        if fail:
            raise ValueError(f"{what} failed after its first await")
        completed.append(what)

    # A sync function (a decorator's wrapper, say) returning a coroutine: not detectable as
    # async before the call, so it runs on a handler thread; the coroutine still runs there.
    @env.handler(Job)
    def wrapped(task: Job) -> Coroutine[Any, Any, None]:
        return record(f"job{task.n}", fail=task.n == 1)

    raw = env.queue("bad", RawQueue)

    @raw.raw_processor()
    def on_raw(message: Any) -> Coroutine[Any, Any, None]:
        return record("raw", fail=False)

    with env.batch():
        Job(n=0).delay(env=env)
        Job(n=1).delay(env=env)
    raw.add_raw_job("x")
    stats = run_worker(env, "jobs", "bad", policy=after(3), concurrency=2)

    assert sorted(completed) == ["job0", "raw"]
    assert (stats.succeeded, stats.failed) == (2, 1)
    assert counts(env, "jobs") == (0, 1)  # the failing coroutine's message is kept
    assert counts(env, "bad") == (0, 0)
    if backend.is_memory:
        backend.advance(61)
        [left] = receive_all(env, "jobs")
        assert Job.model_validate_json(left["Body"]).n == 1


def test_a_custom_processor_cannot_drop_the_coroutine(backend: Backend) -> None:
    timings: list[str] = []

    class Timed(Processor):
        def process(self, job_kwargs: Any, job_context: JobContext) -> Any:
            timings.append("process")
            return super().process(job_kwargs, job_context)

    env = make_env(backend, processor_maker=Timed, backoff_policy=IMMEDIATE_RETURN)
    make_queue(backend, env, "jobs")
    completed: list[int] = []

    @env.handler(Job)
    async def handle(task: Job) -> None:
        await asyncio.sleep(0)
        if task.n:
            raise ValueError("broken")
        completed.append(task.n)

    with env.batch():
        Job(n=0).delay(env=env)
        Job(n=1).delay(env=env)
    result = env.queue("jobs").process_batch()
    stats = run_worker(env, "jobs", policy=after(1))

    assert (result.succeeded_count(), result.failed_count()) == (1, 1)
    assert completed == [0]
    assert stats.failed == 1  # on the loop, through Processor.aprocess, not counted a success
    assert timings == ["process"] * 3
    assert len(receive_all(env, "jobs")) == 1


class Greet(Task, queue="greetings"):
    """A contract for the direct runs below (no SQS involved)."""

    name: str


def _greeting_env() -> SQSEnv:
    from sqs_contracts import MemorySession

    return SQSEnv(MemorySession())


def test_task_run_and_arun_with_an_async_handler() -> None:
    env = _greeting_env()

    @env.handler(Greet, pass_context=True)
    async def greet(task: Greet, context: JobContext) -> str:
        await asyncio.sleep(0)
        return f"hi {task.name} on {context.queue_name}"

    assert Greet(name="ann").run(env=env) == "hi ann on greetings"
    assert asyncio.run(Greet(name="bob").arun(env=env)) == "hi bob on greetings"

    async def sync_run_in_loop() -> None:
        Greet(name="cy").run(env=env)

    with pytest.raises(AsyncHandlerInRunningLoop, match=r"await Greet\(\.\.\.\)\.arun\(\)"):
        asyncio.run(sync_run_in_loop())


def test_task_arun_runs_a_sync_handler_off_the_loop() -> None:
    env = _greeting_env()

    @env.handler(Greet)
    def greet(task: Greet) -> str:
        return threading.current_thread().name

    async def main() -> tuple[str, str]:
        return await Greet(name="x").arun(env=env), threading.current_thread().name

    handler_thread, loop_thread = asyncio.run(main())
    assert handler_thread != loop_thread
    assert Greet(name="x").run(env=env) == threading.current_thread().name


def test_async_task_run_and_arun() -> None:
    env = _greeting_env()
    queue = env.queue("greetings")

    @queue.processor("add")
    async def add(a: int, b: int = 1) -> int:
        await asyncio.sleep(0)
        return a + b

    @queue.processor("mul")
    def mul(a: int, b: int) -> int:
        return a * b

    assert add.run(1, 2) == 3
    assert add.bake(a=5).run() == 6
    assert mul.run(2, 3) == 6

    async def main() -> list[int]:
        return [await add.arun(a=1), await add.bake(2, 2).arun(), await mul.arun(a=3, b=4)]

    assert asyncio.run(main()) == [2, 4, 12]

    async def sync_run_in_loop() -> None:
        add.run(1)

    with pytest.raises(AsyncHandlerInRunningLoop, match=r"await add\.arun\(\.\.\.\)"):
        asyncio.run(sync_run_in_loop())
    with pytest.raises(TypeError, match="invalid arguments"):
        asyncio.run(add.arun(a="not a number"))
