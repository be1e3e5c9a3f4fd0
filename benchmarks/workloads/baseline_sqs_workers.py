"""Doist's sqs-workers 0.7.3, codec json: the library sqs_contracts keeps the API of.

Its worker is single-threaded (one ``process_batch`` after another), so it only has a
concurrency-1 variant. It talks to SQS through a boto3 *resource*, whose client is counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from benchmarks.harness import (
    GROUP_SQS_WORKERS,
    HANG_GUARD_S,
    JOB_NAME,
    Context,
    WorkloadFn,
    WorkloadUnavailable,
    check,
    job_kwargs,
)
from benchmarks.harness import workload as _workload

_IMPORT_ERROR = ""
sqs_workers: Any
try:
    import sqs_workers
    from sqs_workers.shutdown_policies import IdleShutdown, MaxTasksShutdown, OrShutdown
except ImportError as exc:  # pragma: no cover - sqs-workers is a test dependency
    sqs_workers = None
    _IMPORT_ERROR = str(exc)


def _env(ctx: Context) -> Any:
    if sqs_workers is None:
        raise WorkloadUnavailable(f"sqs-workers is not installed: {_IMPORT_ERROR}")
    resource = ctx.resource()
    return sqs_workers.SQSEnv(sqs_client=resource.meta.client, sqs_resource=resource, codec="json")


def workload(name: str, **kw: Any) -> Callable[[WorkloadFn], WorkloadFn]:
    return _workload(name, GROUP_SQS_WORKERS, **kw)


@workload("enqueue.single", sizing="sequential", description="task.delay(**kwargs) per job")
def enqueue_single(ctx: Context) -> None:
    env = _env(ctx)
    name, url = ctx.new_queue()
    task = env.queue(name).processor(JOB_NAME)(_noop)
    env.queue(name).get_queue()  # resolve the queue URL before measuring
    n = ctx.jobs
    with ctx.measure(n):
        for i in range(n):
            task.delay(**job_kwargs(i))
    check(ctx.visible_messages(url) == n, "not every message arrived")


@workload("enqueue.batch", description="task.delay(**kwargs) inside task.batch()")
def enqueue_batch(ctx: Context) -> None:
    env = _env(ctx)
    name, url = ctx.new_queue()
    task = env.queue(name).processor(JOB_NAME)(_noop)
    env.queue(name).get_queue()
    n = ctx.jobs
    with ctx.measure(n), task.batch():
        for i in range(n):
            task.delay(**job_kwargs(i))
    check(ctx.visible_messages(url) == n, "not every message arrived")


def _noop(to: str, subject: str, body: str) -> None:
    return None


def _process(ctx: Context, sleep: float) -> None:
    env = _env(ctx)
    name, url = ctx.new_queue()
    n = ctx.jobs
    ctx.prefill(url, n)
    handled = [0]

    def handler(to: str, subject: str, body: str) -> None:
        handled[0] += 1
        if sleep:
            time.sleep(sleep)

    queue = env.queue(name)
    queue.processor(JOB_NAME)(handler)
    queue.get_queue()
    policy = OrShutdown(MaxTasksShutdown(n), IdleShutdown(HANG_GUARD_S))
    with ctx.measure(n, until_acked=True):
        queue.process_queue(shutdown_policy=policy, wait_second=1)
    check(handled[0] == n, f"handled {handled[0]} jobs, expected {n}")
    check(ctx.visible_messages(url) == 0, "messages left in the queue")


@workload(
    "process.c1",
    sizing="single-loop",
    description="queue.process_queue(), no-op handler (single-threaded)",
)
def process_c1(ctx: Context) -> None:
    _process(ctx, 0.0)


@workload(
    "io.c1",
    sizing="io",
    description="queue.process_queue(), handler sleeps 20 ms (single-threaded)",
)
def io_c1(ctx: Context) -> None:
    _process(ctx, ctx.io_sleep)
