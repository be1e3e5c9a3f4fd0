"""The workload registry, the context a workload runs in, and the measurement of one run.

A workload is a function decorated with :func:`workload` in a module of
``benchmarks/workloads/``. It receives a :class:`Context`, sets up what it needs (a fresh
queue, pre-filled messages, clients), and wraps the part to measure in ``ctx.measure(jobs)``::

    @workload("enqueue.batch", "boto3", description="SendMessageBatch of 10")
    def enqueue_batch(ctx: Context) -> None:
        client = ctx.client()
        _, url = ctx.new_queue()
        with ctx.measure(ctx.n):
            ...

Workloads with the same name in different groups are compared with each other (the
``sqs_contracts`` group against ``boto3`` and ``sqs-workers``). A workload that cannot run
here raises :class:`WorkloadUnavailable`; the table shows it as "not available".

Workloads registered with ``needs_server=False`` (the in-memory ones) run once, not once per
latency, and the harness starts no SQS server when only such workloads are selected.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import boto3
from botocore.config import Config

from benchmarks.counting import RequestCounter
from benchmarks.server import REGION

Sizing = Literal["throughput", "sequential", "single-loop", "io", "memory", "memory-rss"]

# Above zero latency, workloads bound by one request after another use fewer jobs, so that a
# run takes seconds, not minutes; jobs/s does not depend on the count (each run has a fresh
# queue).
LATENCY_CAPS: dict[str, int] = {"sequential": 200, "single-loop": 600}

GROUP_BOTO3 = "boto3"
# The floor of the in-memory workloads: a loop on MemorySession's client methods, no framework.
GROUP_BARE = "bare"
# The same loop doing what any typed task queue must: validate a model, encode it, validate back.
GROUP_TYPED = "bare-typed"
GROUP_SQS_WORKERS = "sqs-workers"
GROUP_OURS = "sqs_contracts"
GROUP_ORDER = (GROUP_BOTO3, GROUP_BARE, GROUP_TYPED, GROUP_SQS_WORKERS, GROUP_OURS)

# The job every workload sends and handles: three short string fields, the sqs-workers wire
# format (a JSON object body and the JobName / ContentType / JobContext string attributes).
JOB_NAME = "small"


HANG_GUARD_S = 60.0
"""Idle seconds after which a worker run stops: a guard against a hang (a job gone missing),
never what ends a healthy run, so generous enough for a loaded machine's first receive."""


def job_kwargs(i: int) -> dict[str, str]:
    return {"to": f"user{i}@example.com", "subject": "Hello", "body": f"message number {i}"}


def job_attributes(job_name: str = JOB_NAME) -> dict[str, dict[str, str]]:
    return {
        "JobName": {"DataType": "String", "StringValue": job_name},
        "ContentType": {"DataType": "String", "StringValue": "json"},
        "JobContext": {"DataType": "String", "StringValue": "{}"},
    }


class WorkloadUnavailable(Exception):
    """Raised by a workload that cannot run here (for example, a missing library API)."""


class WorkloadCheckFailed(AssertionError):
    """Raised by a workload whose outcome is wrong (jobs lost, handled twice, ...)."""


@dataclass(frozen=True)
class WorkloadSpec:
    name: str
    group: str
    func: Callable[[Context], Any]
    sizing: Sizing
    description: str
    needs_server: bool = True

    @property
    def key(self) -> str:
        return f"{self.group}/{self.name}"


REGISTRY: dict[str, WorkloadSpec] = {}
WorkloadFn = Callable[["Context"], Any]


def workload(
    name: str,
    group: str,
    *,
    sizing: Sizing = "throughput",
    description: str = "",
    needs_server: bool = True,
) -> Callable[[WorkloadFn], WorkloadFn]:
    """Register a workload.

    ``sizing`` picks the number of jobs (see :attr:`Context.jobs`): ``throughput`` uses N;
    ``sequential`` (one request per job) and ``single-loop`` (one receive/delete loop, two
    requests per 10 jobs) use at most 200 and 600 jobs when the latency is above zero;
    ``io`` uses the I/O-bound job count; ``memory`` and ``memory-rss`` use the in-memory job
    counts. ``needs_server=False``: the workload talks to no SQS server (it runs once, and
    gets no endpoint).
    """

    def register(func: WorkloadFn) -> WorkloadFn:
        spec = WorkloadSpec(
            name,
            group,
            func,
            sizing,
            description or (func.__doc__ or "").strip(),
            needs_server,
        )
        if spec.key in REGISTRY:
            raise ValueError(f"workload {spec.key} is registered twice")
        REGISTRY[spec.key] = spec
        return func

    return register


@dataclass
class RunResult:
    """One measured run of a workload."""

    jobs: int
    wall: float
    cpu: float
    requests: dict[str, int]
    http_requests: int
    proxy_cpu: float = float("nan")
    server_cpu: float = float("nan")
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def jobs_per_s(self) -> float:
        return self.jobs / self.wall if self.wall > 0 else float("nan")

    @property
    def cpu_us_per_job(self) -> float:
        return self.cpu / self.jobs * 1e6 if self.jobs else float("nan")

    @property
    def requests_per_job(self) -> float:
        return sum(self.requests.values()) / self.jobs if self.jobs else float("nan")


class _Measurement:
    def __init__(self, ctx: Context, jobs: int) -> None:
        self.ctx = ctx
        self.jobs = jobs
        self.extra: dict[str, Any] = {}


def _cpu_times() -> float:
    return time.process_time()


@dataclass
class Context:
    """What a workload gets: endpoints, sizes, client factories and the measurement."""

    endpoint_url: str  # through the latency proxy
    server_url: str  # the server itself, for set-up outside the measurement
    latency_ms: float
    n: int
    io_n: int
    io_sleep: float
    quick: bool
    spec: WorkloadSpec
    mem_n: int = 20_000
    rss_n: int = 100_000
    prefetch: int | None = None  # the sqs_contracts worker's, None: its default
    receivers: int | None = None  # the sqs_contracts worker's receive loops, None: its default
    counter: RequestCounter = field(default_factory=RequestCounter)
    proxy_cpu: Callable[[], float] = lambda: float("nan")
    server_cpu: Callable[[], float] = lambda: float("nan")
    region: str = REGION
    result: RunResult | None = None
    _queues: list[str] = field(default_factory=list)
    _setup_client: Any = None

    # ---- sizes ------------------------------------------------------------------------
    @property
    def jobs(self) -> int:
        """The number of jobs for this workload's sizing at this latency."""
        if self.spec.sizing == "io":
            return self.io_n
        if self.spec.sizing == "memory":
            return self.mem_n
        if self.spec.sizing == "memory-rss":
            return self.rss_n
        cap = LATENCY_CAPS.get(self.spec.sizing)
        if cap is not None and self.latency_ms > 0:
            return min(self.n, cap)
        return self.n

    # ---- clients ------------------------------------------------------------------------
    def boto_config(self, max_pool_connections: int = 64) -> Config:
        return Config(
            max_pool_connections=max_pool_connections,
            retries={"max_attempts": 3, "mode": "standard"},
        )

    def client(self, max_pool_connections: int = 64) -> Any:
        """A new boto3 SQS client through the proxy, its requests counted."""
        client = boto3.session.Session().client(
            "sqs",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            config=self.boto_config(max_pool_connections),
        )
        return self.counter.attach(client)

    def resource(self, max_pool_connections: int = 64) -> Any:
        """A new boto3 SQS resource through the proxy, its requests counted."""
        resource = boto3.session.Session().resource(
            "sqs",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            config=self.boto_config(max_pool_connections),
        )
        self.counter.attach(resource.meta.client)
        return resource

    def attach(self, client: Any) -> Any:
        """Count the requests of a client made elsewhere (e.g. a library's own client)."""
        return self.counter.attach(client)

    def warm_up(self, client: Any, queue_url: str) -> None:
        """One uncounted call, so that botocore's lazy first-call set-up is not measured."""
        client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])

    def setup_client(self) -> Any:
        """A client straight to the server (no latency, not counted), for set-up only."""
        if self._setup_client is None:
            self._setup_client = boto3.session.Session().client(
                "sqs",
                endpoint_url=self.server_url,
                region_name=self.region,
                config=self.boto_config(),
            )
        return self._setup_client

    # ---- queues -----------------------------------------------------------------------
    def new_queue(self, attributes: Mapping[str, str] | None = None) -> tuple[str, str]:
        """Create a fresh, empty standard queue; returns ``(name, url)``. Deleted after the run."""
        slug = re.sub(r"[^A-Za-z0-9_-]", "-", f"{self.spec.group}-{self.spec.name}")
        name = f"bench-{slug}-{uuid.uuid4().hex[:8]}"[:80]
        url = self.setup_client().create_queue(
            QueueName=name, Attributes=dict(attributes or {"VisibilityTimeout": "60"})
        )["QueueUrl"]
        self._queues.append(url)
        return name, url

    def prefill(
        self,
        queue_url: str,
        count: int,
        job_name: str = JOB_NAME,
        body: Callable[[int], str] | None = None,
    ) -> None:
        """Put ``count`` jobs in the sqs-workers wire format into the queue (not measured)."""
        make_body = body or (lambda i: json.dumps(job_kwargs(i)))
        attrs = job_attributes(job_name)
        client = self.setup_client()

        def send(start: int) -> None:
            entries = [
                {"Id": str(i), "MessageBody": make_body(i), "MessageAttributes": attrs}
                for i in range(start, min(start + 10, count))
            ]
            resp = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
            if resp.get("Failed"):
                raise RuntimeError(f"prefill failed: {resp['Failed'][:3]}")

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(send, range(0, count, 10)))

    def visible_messages(self, queue_url: str) -> int:
        """The messages in a queue, visible and in flight."""
        return sum(self.queue_counts(queue_url))

    def queue_counts(self, queue_url: str) -> tuple[int, int]:
        """The messages in a queue: (visible, in flight)."""
        attrs = self.setup_client().get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]), int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )

    def cleanup(self) -> None:
        if not self._queues:
            return
        client = self.setup_client()
        for url in self._queues:
            try:
                client.delete_queue(QueueUrl=url)
            except Exception as exc:
                print(f"  (could not delete {url}: {exc})")
        self._queues.clear()

    # ---- measurement --------------------------------------------------------------------
    @contextmanager
    def measure(self, jobs: int, until_acked: bool = False) -> Iterator[_Measurement]:
        """Measure the block: wall time, this process's CPU, requests counted, proxy/server CPU.

        Requests made by clients from :meth:`client`, :meth:`resource` or :meth:`attach` are
        counted only inside the block. ``m.extra`` collects any workload-specific numbers.

        With ``until_acked`` (processing workloads), the wall time ends when the delete of the
        ``jobs``-th job was answered; the rest of the block (a worker shutting down) is
        recorded as ``extra["stop_s"]``. CPU and requests cover the whole block.
        """
        m = _Measurement(self, jobs)
        self.counter.reset()
        if until_acked:
            self.counter.expect_acks(jobs)
        proxy0, server0 = self.proxy_cpu(), self.server_cpu()
        cpu0 = _cpu_times()
        t0 = time.perf_counter()
        yield m
        t1 = time.perf_counter()
        cpu = _cpu_times() - cpu0
        wall = t1 - t0
        acked_at = self.counter.acked_at
        if until_acked:
            m.extra["acked"] = self.counter.acked
            if acked_at is not None:
                wall = acked_at - t0
                m.extra["stop_s"] = t1 - acked_at
        self.result = RunResult(
            jobs=m.jobs,
            wall=wall,
            cpu=cpu,
            requests=self.counter.snapshot(),
            http_requests=self.counter.http_requests,
            proxy_cpu=self.proxy_cpu() - proxy0,
            server_cpu=self.server_cpu() - server0,
            extra=m.extra,
        )

    def record(
        self, jobs: int, wall: float, cpu: float, extra: Mapping[str, Any] | None = None
    ) -> None:
        """Record a run measured elsewhere (e.g. in a child process) instead of :meth:`measure`."""
        self.result = RunResult(
            jobs=jobs, wall=wall, cpu=cpu, requests={}, http_requests=0, extra=dict(extra or {})
        )


def check(condition: bool, message: str) -> None:
    """Fail the run (not the harness) when a workload's outcome is wrong."""
    if not condition:
        raise WorkloadCheckFailed(message)
