"""In-memory workloads: no SQS server, no network, only the client-side cost of each library.

``memory.cycle`` enqueues N jobs in a batch block, then processes them with single-threaded
``process_batch`` calls (receive 10, decode, validate, dispatch to a no-op handler, ack).
``memory.worker.c1`` does the same with the library's worker loop. Both record the CPU of the
two phases apart in ``extra`` (``enqueue_cpu_us_per_job``, ``process_cpu_us_per_job``).
``memory.rss`` runs 100,000 jobs in a fresh child process and reports its RSS growth.

The floor (group ``bare``) is a loop on ``sqs_contracts.MemorySession``'s client methods:
``send_message_batch`` of 10 orjson bodies, ``receive_message(10)``, ``orjson.loads`` of each
body, ``delete_message_batch``. ``bare-typed`` is that loop with a pydantic model built,
dumped to the body and validated back from it: the least any typed task queue does per job.
sqs-workers runs on its own ``sqs_workers.MemorySession``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    GROUP_BARE,
    GROUP_OURS,
    GROUP_SQS_WORKERS,
    GROUP_TYPED,
    HANG_GUARD_S,
    JOB_NAME,
    Context,
    WorkloadFn,
    WorkloadUnavailable,
    check,
    job_attributes,
    job_kwargs,
)
from benchmarks.harness import workload as _workload

QUEUE = "bench-memory"
WARM_UP = 20  # jobs through the whole cycle before measuring (lazy imports, first calls)


def workload(name: str, group: str, **kw: Any) -> Callable[[WorkloadFn], WorkloadFn]:
    return _workload(name, group, sizing="memory", needs_server=False, **kw)


class _Phases:
    """Process CPU (``time.process_time``, all threads) of the enqueue and process phases."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.cpu: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        c0 = time.process_time()
        yield
        self.cpu[name] = time.process_time() - c0

    def extra(self) -> dict[str, float]:
        return {f"{k}_cpu_us_per_job": v / self.jobs * 1e6 for k, v in self.cpu.items()}


# ---- the floor: MemorySession's client methods, no framework ---------------------------------


def _session_loop(
    ctx: Context, encode: Callable[[dict[str, str]], str], decode: Callable[[str], object]
) -> None:
    """Time a loop on MemorySession's client methods: ``send_message_batch`` of 10 bodies
    written by ``encode``, then ``receive_message(10)``, ``decode`` of each body and
    ``delete_message_batch`` until the queue is empty."""
    from sqs_contracts import MemorySession

    session = MemorySession()
    url = session.create_queue(QueueName=QUEUE)["QueueUrl"]
    attrs = job_attributes()

    def enqueue(first: int, count: int) -> None:
        for start in range(first, first + count, 10):
            entries = [
                {
                    "Id": str(i - start),
                    "MessageBody": encode(job_kwargs(i)),
                    "MessageAttributes": attrs,
                }
                for i in range(start, min(start + 10, first + count))
            ]
            resp = session.send_message_batch(QueueUrl=url, Entries=entries)
            check(not resp.get("Failed"), f"batch entries failed: {resp.get('Failed')}")

    def process() -> int:
        processed = 0
        while True:
            msgs = session.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not msgs:
                return processed
            for m in msgs:
                decode(m["Body"])
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)
            ]
            resp = session.delete_message_batch(QueueUrl=url, Entries=entries)
            check(not resp.get("Failed"), f"delete failed: {resp.get('Failed')}")
            processed += len(msgs)

    enqueue(0, WARM_UP)
    process()
    n = ctx.jobs
    phases = _Phases(n)
    with ctx.measure(n) as m:
        with phases.phase("enqueue"):
            enqueue(WARM_UP, n)
        with phases.phase("process"):
            processed = process()
    m.extra.update(phases.extra())
    check(processed == n, f"processed {processed} jobs, expected {n}")


@workload(
    "memory.cycle",
    GROUP_BARE,
    description="MemorySession: send_message_batch(10) / receive_message(10) / orjson.loads "
    "/ delete_message_batch",
)
def bare_cycle(ctx: Context) -> None:
    import orjson

    _session_loop(ctx, lambda kwargs: orjson.dumps(kwargs).decode(), orjson.loads)


@workload(
    "memory.cycle",
    GROUP_TYPED,
    description="the bare loop with a pydantic model: Small(**kw) validated, json.dumps of "
    "model_dump(mode='json') (sqs-workers' body format), Small.model_validate_json of each body",
)
def typed_cycle(ctx: Context) -> None:
    """The floor of a typed task queue: the bare loop plus construction, dump and validation."""
    import json

    from pydantic import BaseModel

    class Small(BaseModel):
        to: str
        subject: str
        body: str

    _session_loop(
        ctx,
        lambda kwargs: json.dumps(Small(**kwargs).model_dump(mode="json")),
        Small.model_validate_json,
    )


# ---- sqs_contracts ---------------------------------------------------------------------------


class _Ours:
    """A MemorySession env, the ``Small`` contract on a fresh queue and a counting no-op handler."""

    def __init__(self) -> None:
        try:
            from sqs_contracts import MemorySession, SQSEnv, Task, create_standard_queue
            from sqs_contracts.shutdown_policies import IdleShutdown, MaxTasksShutdown
        except ImportError as exc:
            raise WorkloadUnavailable(f"sqs_contracts lacks the API: {exc}") from None
        self.IdleShutdown = IdleShutdown
        self.MaxTasksShutdown = MaxTasksShutdown
        self.env = SQSEnv(MemorySession())
        create_standard_queue(self.env, QUEUE)

        def body(ns: dict[str, Any]) -> None:
            ns["__annotations__"] = {"to": str, "subject": str, "body": str}
            ns["__module__"] = __name__

        self.small: Any = types.new_class(
            "Small", (Task,), {"queue": QUEUE, "name": JOB_NAME}, body
        )
        self.handled = 0

        def handler(task: Any) -> None:
            self.handled += 1

        handler.__annotations__ = {"task": self.small, "return": None}
        self.env.handler(self.small)(handler)

    def enqueue(self, first: int, count: int) -> None:
        small = self.small
        with self.env.activate(), self.env.batch():
            for i in range(first, first + count):
                small(**job_kwargs(i)).delay()

    def process_batches(self) -> None:
        queue = self.env.queue(QUEUE)
        while queue.process_batch(wait_seconds=0).total_count():
            pass

    def run_worker(self, n: int) -> None:
        # IdleShutdown only guards against a hang if a job went missing.
        policy = self.MaxTasksShutdown(n) | self.IdleShutdown(HANG_GUARD_S)
        self.env.worker(concurrency=1).run(QUEUE, shutdown_policy=policy)

    def left_in_queue(self) -> int:
        attrs = self.env.session.get_queue_attributes(
            QueueUrl=self.env.queue(QUEUE).url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )


@workload(
    "memory.cycle",
    GROUP_OURS,
    description="Small(...).delay() in env.batch(), then queue.process_batch() until empty",
)
def ours_cycle(ctx: Context) -> None:
    _cycle(ctx, _Ours(), worker=False)


@workload(
    "memory.worker.c1",
    GROUP_OURS,
    description="Small(...).delay() in env.batch(), then env.worker(concurrency=1).run()",
)
def ours_worker_c1(ctx: Context) -> None:
    _cycle(ctx, _Ours(), worker=True)


# ---- sqs-workers 0.7.3 on its own MemorySession ----------------------------------------------


class _SQSWorkers:
    def __init__(self) -> None:
        try:
            import sqs_workers
            from sqs_workers.shutdown_policies import IdleShutdown, MaxTasksShutdown, OrShutdown
        except ImportError as exc:
            raise WorkloadUnavailable(f"sqs-workers is not installed: {exc}") from None
        self.OrShutdown, self.MaxTasksShutdown = OrShutdown, MaxTasksShutdown
        self.IdleShutdown = IdleShutdown
        env = sqs_workers.SQSEnv(session=sqs_workers.MemorySession(), codec="json")
        sqs_workers.create_standard_queue(env, QUEUE)
        self.queue = env.queue(QUEUE)
        self.handled = 0

        def handler(to: str, subject: str, body: str) -> None:
            self.handled += 1

        self.task = self.queue.processor(JOB_NAME)(handler)

    def enqueue(self, first: int, count: int) -> None:
        task = self.task
        with task.batch():
            for i in range(first, first + count):
                task.delay(**job_kwargs(i))

    def process_batches(self) -> None:
        while self.queue.process_batch(wait_seconds=0).total_count():
            pass

    def run_worker(self, n: int) -> None:
        # IdleShutdown only guards against a hang if a job went missing.
        policy = self.OrShutdown(self.MaxTasksShutdown(n), self.IdleShutdown(HANG_GUARD_S))
        self.queue.process_queue(shutdown_policy=policy, wait_second=0)

    def left_in_queue(self) -> int:
        q = self.queue.get_queue()
        return len(q.messages) + len(q.in_flight)


def _cycle(ctx: Context, impl: _Ours | _SQSWorkers, worker: bool) -> None:
    """Warm up, then time enqueueing N jobs and processing them, phase by phase."""
    impl.enqueue(0, WARM_UP)
    impl.process_batches()
    n = ctx.jobs
    impl.handled = 0
    phases = _Phases(n)
    with ctx.measure(n) as m:
        with phases.phase("enqueue"):
            impl.enqueue(WARM_UP, n)
        with phases.phase("process"):
            if worker:
                impl.run_worker(n)
            else:
                impl.process_batches()
    m.extra.update(phases.extra())
    check(impl.handled == n, f"handled {impl.handled} jobs, expected {n}")
    check(impl.left_in_queue() == 0, "messages left in the queue")


@workload(
    "memory.cycle",
    GROUP_SQS_WORKERS,
    description="task.delay() in task.batch(), then queue.process_batch() until empty",
)
def sqs_workers_cycle(ctx: Context) -> None:
    _cycle(ctx, _SQSWorkers(), worker=False)


@workload(
    "memory.worker.c1",
    GROUP_SQS_WORKERS,
    description="task.delay() in task.batch(), then queue.process_queue() (its worker loop)",
)
def sqs_workers_worker_c1(ctx: Context) -> None:
    _cycle(ctx, _SQSWorkers(), worker=True)


# ---- memory: RSS growth in a fresh process ---------------------------------------------------


@_workload(
    "memory.rss",
    GROUP_OURS,
    sizing="memory-rss",
    needs_server=False,
    description="RSS growth of a fresh process over N jobs: enqueue in env.batch() blocks of "
    "1,000, then env.worker(concurrency=4).run()",
)
def ours_rss(ctx: Context) -> None:
    n = ctx.jobs
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory_rss", str(n)],
        cwd=root,
        check=False,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    check(out["handled"] == n, f"handled {out['handled']} jobs, expected {n}")
    check(out["left_in_queue"] == 0, "messages left in the queue")
    ctx.record(n, out["wall_s"], out["cpu_s"], out)
