"""``python -m benchmarks [--quick] [--out benchmarks/results/] [--latency-ms 0,20]``."""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import sys
import time
from pathlib import Path

from benchmarks.harness import REGISTRY, WorkloadSpec
from benchmarks.report import format_summaries, format_table, now, write_json
from benchmarks.runner import Settings, WorkloadReport, needs_server, order_specs, run_all
from benchmarks.server import SQSServer, set_fake_credentials
from benchmarks.workloads import load_all

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def _latencies(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {text!r}"
        ) from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError("latencies must be >= 0")
    return values


def _prefetch(value: str) -> int:
    """A prefetch count; 'match' is -1, resolved per workload to 9 x concurrency (at least
    10)."""
    return -1 if value == "match" else int(value)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Throughput, client CPU and SQS requests per job of sqs_contracts, "
        "bare boto3 and sqs-workers against a local SQS server behind a latency proxy.",
    )
    p.add_argument("--quick", action="store_true", help="N=200, latency 0 only, one repeat")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for the JSON results")
    p.add_argument(
        "--latency-ms", type=_latencies, default=None, help="comma-separated (default 0,20)"
    )
    p.add_argument("--repeat", type=int, default=None, help="runs per workload (default 3)")
    p.add_argument("-n", "--jobs", type=int, default=None, help="jobs per throughput run (2000)")
    p.add_argument("--io-jobs", type=int, default=None, help="jobs per I/O-bound run (400)")
    p.add_argument(
        "--mem-jobs", type=int, default=None, help="jobs per in-memory run (20000; quick 2000)"
    )
    p.add_argument(
        "--rss-jobs",
        type=int,
        default=None,
        help="jobs of the memory.rss run (100000; quick 10000)",
    )
    p.add_argument("--server", choices=("ministack", "moto"), default="ministack")
    p.add_argument(
        "--proxy-mode",
        choices=("process", "thread"),
        default="process",
        help="run the latency proxy in a child process (default) or a thread of this one",
    )
    p.add_argument(
        "--proxy-at-zero",
        action="store_true",
        help="go through the proxy at latency 0 too (default: straight to the server)",
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help="run only workloads whose group/name matches, e.g. 'boto3/*' or '*/process.*'",
    )
    p.add_argument(
        "--prefetch",
        type=_prefetch,
        default=None,
        help="the sqs_contracts worker's prefetch in process.* and io.*: a number, or 'match' "
        "to hold as many messages as the bare loop (10 per thread); default: its own, 10",
    )
    p.add_argument(
        "--receivers",
        type=int,
        default=None,
        help="the sqs_contracts worker's receive loops in process.* and io.*; default: its own, "
        "one per handler thread, at most 16",
    )
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    return p.parse_args(argv)


def select(specs: list[WorkloadSpec], globs: list[str]) -> list[WorkloadSpec]:
    if not globs:
        return specs
    return [s for s in specs if any(fnmatch.fnmatchcase(s.key, g) for g in globs)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    set_fake_credentials()
    import_errors = load_all()
    for module, error in import_errors.items():
        print(f"warning: could not import {module}: {error}", file=sys.stderr)
    specs = select(order_specs(list(REGISTRY.values())), args.only)

    if args.list:
        for s in specs:
            print(f"{s.key:36} {s.sizing:10} {s.description}")
        return 0

    settings = Settings(
        latencies_ms=args.latency_ms or ([0.0] if args.quick else [0.0, 20.0]),
        repeat=args.repeat or (1 if args.quick else 3),
        n=args.jobs or (200 if args.quick else 2000),
        io_n=args.io_jobs or (100 if args.quick else 400),
        mem_n=args.mem_jobs or (2_000 if args.quick else 20_000),
        rss_n=args.rss_jobs or (10_000 if args.quick else 100_000),
        quick=args.quick,
        proxy_mode=args.proxy_mode,
        proxy_at_zero=args.proxy_at_zero,
        prefetch=args.prefetch,
        receivers=args.receivers,
    )
    started, t0 = now(), time.perf_counter()
    # In-memory workloads need no server: start one only if a selected workload needs it.
    server_cm = SQSServer(args.server) if needs_server(specs) else contextlib.nullcontext(None)
    with server_cm as server:
        where = (
            f"{server.kind} {server.version} at {server.endpoint_url}; "
            f"proxy: {settings.proxy_mode}; latencies {settings.latencies_ms} ms; "
            if server is not None
            else "no SQS server (in-memory workloads only); "
        )
        print(
            f"{where}N={settings.n}, I/O N={settings.io_n}, in-memory N={settings.mem_n}, "
            f"RSS N={settings.rss_n}, repeat {settings.repeat}; {len(specs)} workloads",
            flush=True,
        )
        if server is not None and server.note:
            print(f"note: {server.note}", flush=True)

        def progress(r: WorkloadReport) -> None:
            if r.status == "ok":
                s = r.summary()
                detail = (
                    f"{s['jobs_per_s']['median']:9,.0f} jobs/s  "
                    f"{s['cpu_us_per_job']['median']:7,.1f} us CPU/job  "
                    + (f"{s['requests_per_job']:.3f} req/job" if r.spec.needs_server else "")
                )
            else:
                detail = f"{r.status}: {r.reason}"
            lat = "    mem" if r.latency_ms is None else f"{r.latency_ms:>4.0f} ms"
            print(f"  [{lat}] {r.spec.key:34} {detail}".rstrip(), flush=True)

        reports = run_all(specs, server, settings, progress)
        elapsed = time.perf_counter() - t0
        path = write_json(args.out, reports, server, settings, started, elapsed, import_errors)

    print()
    print(format_table(reports))
    print()
    print(
        "jobs/s: median over runs (min-max); CPU us/job: this process only (not server, not "
        "proxy); req/job: SQS API calls per job; vs X thr/cpu: sqs_contracts / X for "
        "jobs/s and CPU per job (bare: the bare boto3 loop, or the bare MemorySession loop "
        "for the 'mem' rows, which run in memory with no server)."
    )
    extra = format_summaries(reports)
    if extra:
        print()
        print(extra)
    if server is not None and server.note:
        print(f"note: {server.note}")
    print(f"results: {path} (and latest.json); {elapsed:.0f} s in all")
    return 1 if any(r.status == "error" for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
