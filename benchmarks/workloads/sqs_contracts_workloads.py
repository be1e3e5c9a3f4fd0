"""sqs_contracts itself, through its public API (DESIGN.md section 1).

Every run gets a fresh queue, so the contract class is built per run with
``types.new_class`` (the queue name is a class keyword). Until the library has the names
used here, each workload reports "not available" with the missing name.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import types
from collections.abc import Callable
from typing import Any

from benchmarks.harness import (
    GROUP_OURS,
    HANG_GUARD_S,
    JOB_NAME,
    Context,
    WorkloadFn,
    WorkloadUnavailable,
    check,
    job_kwargs,
)
from benchmarks.harness import workload as _workload


def workload(name: str, **kw: Any) -> Callable[[WorkloadFn], WorkloadFn]:
    return _workload(name, GROUP_OURS, **kw)


class _API:
    """The library names the workloads use, imported when a workload runs."""

    def __init__(self) -> None:
        try:
            from sqs_contracts import SQSEnv, Task
            from sqs_contracts.shutdown_policies import IdleShutdown, MaxTasksShutdown
        except ImportError as exc:
            raise WorkloadUnavailable(f"sqs_contracts lacks the API: {exc}") from None
        self.SQSEnv = SQSEnv
        self.Task = Task
        self.IdleShutdown = IdleShutdown
        self.MaxTasksShutdown = MaxTasksShutdown
        self.client: Any = None

    def env(self, ctx: Context, **options: Any) -> Any:
        env = self.SQSEnv(endpoint_url=ctx.endpoint_url, region_name=ctx.region, **options)
        client = _find_client(env)
        if client is None:
            raise WorkloadUnavailable("cannot find the boto3 client of SQSEnv to count requests")
        self.client = ctx.attach(client)
        return env

    def task_class(self, queue: str) -> Any:
        """``class Small(Task, queue=queue, name="small")`` with three string fields."""

        def body(ns: dict[str, Any]) -> None:
            ns["__annotations__"] = {"to": str, "subject": str, "body": str}
            ns["__module__"] = __name__

        return types.new_class("Small", (self.Task,), {"queue": queue, "name": JOB_NAME}, body)

    def shutdown_policy(self, done: Callable[[], bool]) -> Any:
        """Stop once ``done()`` (every distinct job handled); the idle stop guards a hang."""
        all_done, idle = _Done(done), self.IdleShutdown(HANG_GUARD_S)
        try:
            return idle | all_done
        except TypeError:
            from sqs_contracts.shutdown_policies import OrShutdown

            return OrShutdown(idle, all_done)


class _Done:
    """A shutdown policy that stops when a condition holds (every distinct job was handled:
    counting handled messages would stop early on a duplicate and leave a job behind)."""

    def __init__(self, done: Callable[[], bool]) -> None:
        self.done = done

    def update_state(self, batch_processing_result: Any) -> None:
        """Nothing to count: the condition is read when asked."""

    def need_shutdown(self) -> bool:
        """Whether the condition holds."""
        return self.done()


def _find_client(env: Any) -> Any:
    """The boto3 client behind an SQSEnv (``env.session.client`` for a BotoSession)."""
    for path in ("session.client", "sqs_client", "client", "_session.client"):
        obj: Any = env
        for attr in path.split("."):
            obj = getattr(obj, attr, None)
            if obj is None:
                break
        if obj is not None and hasattr(obj, "meta"):
            return obj
    return None


def _activate(env: Any) -> Any:
    activate = getattr(env, "activate", None)
    return activate() if activate is not None else contextlib.nullcontext()


@workload("enqueue.single", sizing="sequential", description="Small(...).delay() per job")
def enqueue_single(ctx: Context) -> None:
    api = _API()
    env = api.env(ctx)
    name, url = ctx.new_queue()
    small = api.task_class(name)
    n = ctx.jobs
    with _activate(env):
        small(**job_kwargs(0)).delay()  # warm up: resolve the queue URL before measuring
        with ctx.measure(n):
            for i in range(1, n + 1):
                small(**job_kwargs(i)).delay()
    check(ctx.visible_messages(url) == n + 1, "not every message arrived")


@workload(
    "enqueue.batch",
    description="Small(...).delay() inside env.batch(), several requests in flight",
)
def enqueue_batch(ctx: Context) -> None:
    api = _API()
    env = api.env(ctx)
    name, url = ctx.new_queue()
    small = api.task_class(name)
    n = ctx.jobs
    with _activate(env):
        small(**job_kwargs(0)).delay()
        with ctx.measure(n), env.batch():
            for i in range(1, n + 1):
                small(**job_kwargs(i)).delay()
    check(ctx.visible_messages(url) == n + 1, "not every message arrived")


COALESCED_THREADS = 32
COALESCED_TASKS = 256


@workload(
    "enqueue.coalesced",
    description=f"SQSEnv(coalesce=True), {COALESCED_THREADS} threads each calling .delay()",
)
def enqueue_coalesced(ctx: Context) -> None:
    api = _API()
    env = api.env(ctx, coalesce=True)
    name, url = ctx.new_queue()
    small = api.task_class(name)
    n = ctx.jobs
    small(**job_kwargs(0)).delay(env=env)
    start = threading.Barrier(COALESCED_THREADS + 1)
    failures: list[BaseException] = []

    def send(first: int) -> None:
        start.wait()
        try:
            for i in range(first, n + 1, COALESCED_THREADS):
                small(**job_kwargs(i)).delay(env=env)
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=send, args=(1 + t,), daemon=True) for t in range(COALESCED_THREADS)
    ]
    for thread in threads:
        thread.start()
    with ctx.measure(n):
        start.wait()
        for thread in threads:
            thread.join()
    check(not failures, f"sends failed: {failures[:3]}")
    check(ctx.visible_messages(url) == n + 1, "not every message arrived")


@workload(
    "enqueue.coalesced.async",
    description=f"SQSEnv(coalesce=True), {COALESCED_TASKS} asyncio tasks each awaiting .adelay()",
)
def enqueue_coalesced_async(ctx: Context) -> None:
    import asyncio

    api = _API()
    env = api.env(ctx, coalesce=True)
    name, url = ctx.new_queue()
    small = api.task_class(name)
    if not hasattr(small, "adelay"):
        raise WorkloadUnavailable("sqs_contracts lacks Task.adelay")
    n = ctx.jobs
    small(**job_kwargs(0)).delay(env=env)

    async def send(first: int) -> None:
        for i in range(first, n + 1, COALESCED_TASKS):
            await small(**job_kwargs(i)).adelay(env=env)

    async def main() -> None:
        await asyncio.gather(*(send(1 + t) for t in range(COALESCED_TASKS)))

    with ctx.measure(n):
        asyncio.run(main())
    check(ctx.visible_messages(url) == n + 1, "not every message arrived")


def _process(ctx: Context, concurrency: int, sleep: float, *, use_async: bool = False) -> None:
    api = _API()
    env = api.env(ctx)
    name, url = ctx.new_queue()
    small = api.task_class(name)
    n = ctx.jobs
    ctx.prefill(url, n)
    ctx.warm_up(api.client, url)
    lock = threading.Lock()
    handled = [0]  # deliveries, duplicates included
    seen: set[str] = set()

    def handler(task: Any) -> None:
        with lock:
            handled[0] += 1
            seen.add(task.body)
        if sleep:
            time.sleep(sleep)

    async def async_handler(task: Any) -> None:
        with lock:  # the loop thread, and handler threads of other workloads' sync handlers
            handled[0] += 1
            seen.add(task.body)
        if sleep:
            await asyncio.sleep(sleep)

    chosen: Any = async_handler if use_async else handler
    chosen.__annotations__ = {"task": small, "return": None}  # the contract it accepts
    env.handler(small)(chosen)
    options: dict[str, int] = {}
    if ctx.prefetch is not None:
        # -1 (--prefetch match): hold what the bare loop's threads hold, ten each (and never
        # less than the default).
        options["prefetch"] = max(10, 9 * concurrency) if ctx.prefetch < 0 else ctx.prefetch
    if ctx.receivers is not None:
        options["receivers"] = ctx.receivers
    worker = env.worker(concurrency=concurrency, **options)
    with _activate(env), ctx.measure(n, until_acked=True) as m:
        stats = worker.run(name, shutdown_policy=api.shutdown_policy(lambda: len(seen) >= n))
    m.extra.update(_setup(stats, api.client))
    # At-least-once: moto can hand one message to two concurrent receives, so a duplicate is
    # allowed there; a missing job or a message left behind is not. One handler thread means
    # one receive loop: exact.
    check(len(seen) == n, f"handled {len(seen)} distinct jobs, expected {n}")
    if concurrency == 1:
        check(handled[0] == n, f"handled {handled[0]} jobs, expected {n}")
    visible, in_flight = ctx.queue_counts(url)
    check(
        visible + in_flight == 0,
        f"messages left in the queue: {visible} visible, {in_flight} in flight "
        f"({handled[0] - n} duplicate deliveries handled; {m.extra.get('acked', '?')} deletes "
        f"answered; worker: {getattr(stats, 'released', '?')} released, "
        f"{getattr(stats, 'abandoned', '?')} abandoned)",
    )


def _setup(stats: Any, client: Any) -> dict[str, Any]:
    """The threads, receive loops, acknowledgement senders, connection pool and held-message
    bound a worker used."""
    return {
        "threads": getattr(stats, "handler_threads", None),
        "receive_loops": getattr(stats, "receive_loops", None),
        "senders": getattr(stats, "ack_senders", None),
        "hold_limit": getattr(stats, "hold_limit", None),
        "pool": client.meta.config.max_pool_connections,
    }


@workload(
    "process.c1", sizing="single-loop", description="env.worker(concurrency=1).run(), no-op handler"
)
def process_c1(ctx: Context) -> None:
    _process(ctx, 1, 0.0)


@workload("process.c8", description="env.worker(concurrency=8).run(), no-op handler")
def process_c8(ctx: Context) -> None:
    _process(ctx, 8, 0.0)


@workload("process.c32", description="env.worker(concurrency=32).run(), no-op handler")
def process_c32(ctx: Context) -> None:
    _process(ctx, 32, 0.0)


@workload("io.c1", sizing="io", description="concurrency 1, handler sleeps 20 ms")
def io_c1(ctx: Context) -> None:
    _process(ctx, 1, ctx.io_sleep)


@workload("io.c4", sizing="io", description="concurrency 4, handler sleeps 20 ms")
def io_c4(ctx: Context) -> None:
    _process(ctx, 4, ctx.io_sleep)


@workload("io.c16", sizing="io", description="concurrency 16, handler sleeps 20 ms")
def io_c16(ctx: Context) -> None:
    _process(ctx, 16, ctx.io_sleep)


@workload("io.c32", sizing="io", description="concurrency 32, handler sleeps 20 ms")
def io_c32(ctx: Context) -> None:
    _process(ctx, 32, ctx.io_sleep)


@workload(
    "io.async.c256", sizing="io", description="async handlers, concurrency 256, await sleep 20 ms"
)
def io_async_c256(ctx: Context) -> None:
    _process(ctx, 256, ctx.io_sleep, use_async=True)
