"""Fixtures of the observability tests: OpenTelemetry's SDK with in-memory readers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from sqs_contracts.otel import OpenTelemetryMiddleware


@dataclass
class Otel:
    """An SDK tracer and meter provider, their in-memory readers, and the middleware."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    spans_exporter: InMemorySpanExporter
    metrics_reader: InMemoryMetricReader
    middleware: OpenTelemetryMiddleware

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        """The finished spans, in the order they ended (only those named ``name``)."""
        return [
            s for s in self.spans_exporter.get_finished_spans() if name is None or s.name == name
        ]

    def metrics(self) -> dict[str, list[Any]]:
        """Each instrument's data points, by instrument name."""
        data = self.metrics_reader.get_metrics_data()
        found: dict[str, list[Any]] = {}
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found[metric.name] = list(metric.data.data_points)
        return found

    def total(self, name: str, attributes: Mapping[str, Any] | None = None) -> float:
        """The sum of a counter's points (of a histogram's counts) whose attributes match."""
        wanted = dict(attributes or {})
        return sum(
            p.value if hasattr(p, "value") else p.count
            for p in self.metrics().get(name, [])
            if all(p.attributes.get(k) == v for k, v in wanted.items())
        )


@pytest.fixture
def otel() -> Iterator[Otel]:
    """An OpenTelemetryMiddleware on its own SDK providers (the global ones stay untouched)."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    middleware = OpenTelemetryMiddleware(tracer_provider, meter_provider)
    try:
        yield Otel(tracer_provider, meter_provider, exporter, reader, middleware)
    finally:
        tracer_provider.shutdown()
        meter_provider.shutdown()
