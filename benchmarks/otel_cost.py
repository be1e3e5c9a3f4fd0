"""``python -m benchmarks.otel_cost [N]``: CPU per job of the OpenTelemetry middleware.

In memory (``MemorySession``, no network), N jobs (default 20,000) of a one-field contract
are enqueued in ``env.batch()`` blocks of 1,000 and processed by ``process_batch`` calls
with a no-op handler, three ways:

- ``none``: no middleware;
- ``otel-noop``: ``OpenTelemetryMiddleware()`` on the API's no-op providers (the extra
  installed, no SDK configured);
- ``otel-traces``: the SDK's tracer as below, the API's no-op meter;
- ``otel-sdk``: the SDK's ``TracerProvider`` with a ``BatchSpanProcessor`` feeding an
  exporter that drops the spans, and a ``MeterProvider`` with an in-memory reader (collected
  once at the end): every span is recorded, sampled and handed to an exporter.

CPU is ``time.process_time`` (all threads, so the span processor's thread counts), best of
``--repeat`` runs (default 3) after a warm-up. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

VARIANTS = ("none", "otel-noop", "otel-traces", "otel-sdk")
BLOCK = 1_000
WARM_UP = 200


def _providers(variant: str) -> tuple[Any, Any, Callable[[], None]]:
    if variant not in ("otel-traces", "otel-sdk"):
        return None, None, lambda: None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class Drop(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Drop()))
    if variant == "otel-traces":
        return tracer_provider, None, tracer_provider.shutdown
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])

    def finish() -> None:
        tracer_provider.force_flush()
        reader.get_metrics_data()
        tracer_provider.shutdown()
        meter_provider.shutdown()

    return tracer_provider, meter_provider, finish


def run(variant: str, jobs: int) -> dict[str, float]:
    """Enqueue and process ``jobs`` jobs; CPU microseconds per job of each phase."""
    from sqs_contracts import MemorySession, SQSEnv, Task, create_standard_queue

    class Bench(Task, queue="bench-otel"):
        n: int

    tracer_provider, meter_provider, finish = _providers(variant)
    middleware: list[object] = []
    if variant != "none":
        from sqs_contracts.otel import OpenTelemetryMiddleware

        middleware.append(OpenTelemetryMiddleware(tracer_provider, meter_provider))
    env = SQSEnv(MemorySession(), middleware=middleware)
    create_standard_queue(env, "bench-otel")
    env.handler(Bench)(lambda task: None)
    queue = env.queue("bench-otel")

    def cycle(count: int) -> tuple[float, float]:
        c0 = time.process_time()
        for start in range(0, count, BLOCK):
            with env.batch():
                for n in range(start, min(count, start + BLOCK)):
                    Bench(n=n).delay(env=env)
        c1 = time.process_time()
        done = 0
        while done < count:
            result = queue.process_batch()
            assert result.failed_count() == 0
            done += result.succeeded_count()
        return c1 - c0, time.process_time() - c1

    cycle(WARM_UP)
    enqueue, process = cycle(jobs)
    c0 = time.process_time()
    finish()
    flush = time.process_time() - c0
    per_job = 1e6 / jobs
    return {
        "enqueue_us": enqueue * per_job,
        "process_us": process * per_job,
        "flush_us": flush * per_job,
        "total_us": (enqueue + process + flush) * per_job,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Run every variant ``--repeat`` times and print the best of each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs", nargs="?", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for variant in VARIANTS:
            figures = run(variant, args.jobs)
            if variant not in best or figures["total_us"] < best[variant]["total_us"]:
                best[variant] = figures
    base = best["none"]["total_us"]
    print(f"{'variant':<11} {'enqueue':>9} {'process':>9} {'flush':>7} {'total':>9} {'added':>9}")
    for variant, f in best.items():
        print(
            f"{variant:<11} {f['enqueue_us']:>7.1f}us {f['process_us']:>7.1f}us "
            f"{f['flush_us']:>5.1f}us {f['total_us']:>7.1f}us {f['total_us'] - base:>+7.1f}us"
        )
    print(json.dumps({"jobs": args.jobs, "repeat": args.repeat, "cpu_us_per_job": best}))


if __name__ == "__main__":
    main()
