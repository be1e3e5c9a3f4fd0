"""Run the registered workloads at each latency, several times each, and summarise.

Workloads that need no server (the in-memory ones) run once, before the others, and are
reported with no latency (``latency_ms`` None, "mem" in the table).
"""

from __future__ import annotations

import gc
import math
import statistics
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.harness import (
    GROUP_ORDER,
    Context,
    RunResult,
    WorkloadSpec,
    WorkloadUnavailable,
)
from benchmarks.proxy import make_proxy
from benchmarks.server import SQSServer


@dataclass
class Settings:
    latencies_ms: Sequence[float] = (0.0, 20.0)
    repeat: int = 3
    n: int = 2000
    io_n: int = 400
    io_sleep: float = 0.020
    mem_n: int = 20_000
    rss_n: int = 100_000
    quick: bool = False
    proxy_mode: str = "process"
    proxy_at_zero: bool = False
    prefetch: int | None = None  # -1: as many held as the bare loop
    receivers: int | None = None  # the worker's receive loops, None: its default


def _stats(values: list[float]) -> dict[str, float]:
    vals = [v for v in values if not math.isnan(v)]
    if not vals:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals)}


@dataclass
class WorkloadReport:
    """All runs of one workload at one latency."""

    spec: WorkloadSpec
    latency_ms: float | None  # None: an in-memory workload, no server, no latency
    status: str = "ok"  # ok | unavailable | error
    reason: str = ""
    runs: list[RunResult] = field(default_factory=list)

    @property
    def jobs(self) -> int:
        return self.runs[0].jobs if self.runs else 0

    def summary(self) -> dict[str, Any]:
        if not self.runs:
            return {}
        jobs = sum(r.jobs for r in self.runs)
        ops: dict[str, int] = {}
        for r in self.runs:
            for op, count in r.requests.items():
                ops[op] = ops.get(op, 0) + count
        return {
            "jobs_per_s": _stats([r.jobs_per_s for r in self.runs]),
            "wall_s": _stats([r.wall for r in self.runs]),
            "cpu_s": _stats([r.cpu for r in self.runs]),
            "cpu_us_per_job": _stats([r.cpu_us_per_job for r in self.runs]),
            "proxy_cpu_us_per_job": _stats([r.proxy_cpu / r.jobs * 1e6 for r in self.runs]),
            "server_cpu_us_per_job": _stats([r.server_cpu / r.jobs * 1e6 for r in self.runs]),
            "requests_per_job": sum(ops.values()) / jobs,
            "requests_per_job_by_op": {op: c / jobs for op, c in sorted(ops.items())},
            "stop_s": _stats([r.extra.get("stop_s", float("nan")) for r in self.runs]),
            "retries": sum(r.http_requests - sum(r.requests.values()) for r in self.runs),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "workload": self.spec.name,
            "group": self.spec.group,
            "description": self.spec.description,
            "needs_server": self.spec.needs_server,
            "latency_ms": self.latency_ms,
            "status": self.status,
            "reason": self.reason,
            "jobs": self.jobs,
            "summary": self.summary(),
            "runs": [
                {
                    "jobs": r.jobs,
                    "wall_s": r.wall,
                    "cpu_s": r.cpu,
                    "jobs_per_s": r.jobs_per_s,
                    "requests": r.requests,
                    "http_requests": r.http_requests,
                    "proxy_cpu_s": r.proxy_cpu,
                    "server_cpu_s": r.server_cpu,
                    **({"extra": r.extra} if r.extra else {}),
                }
                for r in self.runs
            ],
        }


def order_specs(specs: Sequence[WorkloadSpec]) -> list[WorkloadSpec]:
    def key(s: WorkloadSpec) -> tuple[str, int, str]:
        rank = GROUP_ORDER.index(s.group) if s.group in GROUP_ORDER else len(GROUP_ORDER)
        return (s.name, rank, s.group)

    return sorted(specs, key=key)


def run_round(
    reports: Sequence[WorkloadReport],
    latency_ms: float | None,
    endpoint_url: str,
    server: SQSServer | None,
    proxy_cpu: Callable[[], float],
    settings: Settings,
) -> None:
    """Run each workload of one name ``repeat`` times, in turns: one run of each, then the
    next round. The implementations a row compares then run seconds apart, not minutes, so
    the machine's drift (its speed moves by tens of percent here) falls on each alike, and
    run i of one is paired in time with run i of the others."""
    for _ in range(settings.repeat):
        for report in reports:
            if report.status != "ok":
                continue
            spec = report.spec
            gc.collect()
            ctx = Context(
                endpoint_url=endpoint_url,
                server_url=server.endpoint_url if server is not None else "",
                latency_ms=latency_ms or 0.0,
                n=settings.n,
                io_n=settings.io_n,
                io_sleep=settings.io_sleep,
                quick=settings.quick,
                spec=spec,
                mem_n=settings.mem_n,
                rss_n=settings.rss_n,
                prefetch=settings.prefetch,
                receivers=settings.receivers,
                proxy_cpu=proxy_cpu,
                server_cpu=server.cpu_seconds if server is not None else (lambda: float("nan")),
            )
            try:
                spec.func(ctx)
                if ctx.result is None:
                    raise RuntimeError("the workload never called ctx.measure()")
                report.runs.append(ctx.result)
            except WorkloadUnavailable as exc:
                report.status, report.reason = "unavailable", str(exc)
            except Exception as exc:
                report.status, report.reason = "error", f"{type(exc).__name__}: {exc}"
                traceback.print_exc(file=sys.stderr)
            finally:
                try:
                    ctx.cleanup()
                except Exception as exc:
                    print(f"  (clean-up failed: {exc})", file=sys.stderr)
            if report.status != "ok":
                report.runs.clear()


def by_name(specs: Sequence[WorkloadSpec]) -> list[list[WorkloadSpec]]:
    """The workloads in report order, those of one name together."""
    groups: list[list[WorkloadSpec]] = []
    for spec in order_specs(specs):
        if groups and groups[-1][0].name == spec.name:
            groups[-1].append(spec)
        else:
            groups.append([spec])
    return groups


def needs_server(specs: Sequence[WorkloadSpec]) -> bool:
    return any(s.needs_server for s in specs)


def run_all(
    specs: Sequence[WorkloadSpec],
    server: SQSServer | None,
    settings: Settings,
    progress: Callable[[WorkloadReport], None] | None = None,
) -> list[WorkloadReport]:
    """Run the in-memory workloads once, then the others at each latency.

    The in-memory reports come last in the returned list (they have no latency).
    """
    in_memory: list[WorkloadReport] = []
    for group in by_name([s for s in specs if not s.needs_server]):
        done = [WorkloadReport(spec, None) for spec in group]
        run_round(done, None, "", None, lambda: float("nan"), settings)
        in_memory += done
        if progress is not None:
            for report in done:
                progress(report)
    specs = [s for s in specs if s.needs_server]
    if not specs:
        return in_memory
    if server is None:
        raise ValueError("these workloads need an SQS server")
    reports: list[WorkloadReport] = []
    for latency in settings.latencies_ms:
        use_proxy = latency > 0 or settings.proxy_at_zero
        proxy = make_proxy(settings.proxy_mode, server.endpoint_url, latency) if use_proxy else None
        if proxy is not None:
            proxy.start()
        try:
            endpoint = proxy.endpoint_url if proxy is not None else server.endpoint_url
            proxy_cpu = proxy.cpu_seconds if proxy is not None else (lambda: float("nan"))
            for group in by_name(specs):
                done = [WorkloadReport(spec, latency) for spec in group]
                run_round(done, latency, endpoint, server, proxy_cpu, settings)
                reports += done
                if progress is not None:
                    for report in done:
                        progress(report)
        finally:
            if proxy is not None:
                proxy.stop()
    return reports + in_memory
