"""OpenTelemetry traces and metrics for sends and jobs: ``OpenTelemetryMiddleware``.

Needs the extra ``sqs-contracts[otel]`` (``opentelemetry-api``; the SDK and exporters are the
application's choice)::

    from sqs_contracts.otel import OpenTelemetryMiddleware
    env.add_middleware(OpenTelemetryMiddleware())

Traces follow the messaging semantic conventions: a ``send <queue>`` span (PRODUCER) per
message sent on its own; in a batch block a ``create <queue>`` span (PRODUCER) per message
and one ``send <queue>`` span (CLIENT, ``messaging.batch.message_count``, linked to them) per
``SendMessageBatch`` request. Each message carries its own context in the W3C ``traceparent``
(and ``tracestate``) message attributes; the ``process <queue>`` span (CONSUMER) of the job
is its child (and links to it for batch handlers). A message without trace context starts a
new trace; an invalid ``traceparent`` is ignored with a debug log.

Metrics (the names are the module's constants): ``messaging.process.duration`` (s),
``messaging.client.sent.messages``, ``sqs_contracts.jobs.processed`` / ``.failed`` /
``.dead_lettered``, ``sqs_contracts.jobs.in_flight`` and ``sqs_contracts.queue.lag`` (s, from
``SentTimestamp`` to the start of processing), by ``messaging.destination.name`` and
``sqs_contracts.job``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter, TextMapPropagator
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from sqs_contracts.dispatch.middleware import JobInfo, Middleware
from sqs_contracts.dispatch.results import Outcome
from sqs_contracts.wire.envelope import OutgoingMessage

__all__ = [
    "JOBS_DEAD_LETTERED",
    "JOBS_FAILED",
    "JOBS_IN_FLIGHT",
    "JOBS_PROCESSED",
    "PROCESS_DURATION",
    "QUEUE_LAG",
    "SENT_MESSAGES",
    "OpenTelemetryMiddleware",
]

logger = logging.getLogger(__name__)

MESSAGING_SYSTEM = "messaging.system"
DESTINATION = "messaging.destination.name"
MESSAGE_ID = "messaging.message.id"
OPERATION_TYPE = "messaging.operation.type"
OPERATION_NAME = "messaging.operation.name"
BATCH_COUNT = "messaging.batch.message_count"
ERROR_TYPE = "error.type"
JOB = "sqs_contracts.job"
ATTEMPT = "sqs_contracts.attempt"
SYSTEM = "aws_sqs"

PROCESS_DURATION = "messaging.process.duration"
"""Histogram, seconds: how long each job took to decode and handle."""
SENT_MESSAGES = "messaging.client.sent.messages"
"""Counter: messages sent (with ``error.type`` when SQS did not take them)."""
JOBS_PROCESSED = "sqs_contracts.jobs.processed"
"""Counter: jobs processed, whatever their outcome."""
JOBS_FAILED = "sqs_contracts.jobs.failed"
"""Counter: jobs that did not succeed (retried or dead-lettered), with ``error.type``."""
JOBS_DEAD_LETTERED = "sqs_contracts.jobs.dead_lettered"
"""Counter: jobs moved to the dead-letter queue, or failed on their last attempt."""
JOBS_IN_FLIGHT = "sqs_contracts.jobs.in_flight"
"""Up-down counter: jobs being processed now."""
QUEUE_LAG = "sqs_contracts.queue.lag"
"""Histogram, seconds: from ``SentTimestamp`` to the start of processing."""

_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
_LAG_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400)
_MAX_ATTRIBUTES = 10
_SPAN = "otel.span"
_PARENT = "otel.parent"


class _AttributeGetter(Getter[Mapping[str, Mapping[str, Any]]]):
    """Reads the W3C headers from received SQS message attributes."""

    def get(self, carrier: Mapping[str, Mapping[str, Any]], key: str) -> list[str] | None:
        value = (carrier.get(key) or {}).get("StringValue")
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, Mapping[str, Any]]) -> list[str]:
        return list(carrier)


_GETTER = _AttributeGetter()


class OpenTelemetryMiddleware(Middleware):
    """Traces and metrics of every send and job, through the OpenTelemetry API.

    ``tracer_provider`` and ``meter_provider`` default to the global ones; ``propagator``
    to W3C trace context; ``clock`` (epoch seconds) measures the queue lag.
    """

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        *,
        propagator: TextMapPropagator | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tracer = trace.get_tracer("sqs_contracts", None, tracer_provider)
        meter = metrics.get_meter("sqs_contracts", "", meter_provider)
        self.propagator = propagator or TraceContextTextMapPropagator()
        self.clock = clock
        self.process_duration = _histogram(
            meter, PROCESS_DURATION, "Duration of processing a job", _DURATION_BUCKETS
        )
        self.queue_lag = _histogram(
            meter, QUEUE_LAG, "Time from SentTimestamp to the start of processing", _LAG_BUCKETS
        )
        self.sent = meter.create_counter(SENT_MESSAGES, "{message}", "Messages sent")
        self.processed = meter.create_counter(JOBS_PROCESSED, "{job}", "Jobs processed")
        self.failed = meter.create_counter(JOBS_FAILED, "{job}", "Jobs that failed")
        self.dead_lettered = meter.create_counter(
            JOBS_DEAD_LETTERED, "{job}", "Jobs sent to the dead-letter queue"
        )
        self.in_flight = meter.create_up_down_counter(
            JOBS_IN_FLIGHT, "{job}", "Jobs being processed"
        )
        self._lock = threading.Lock()
        self._requests: dict[int, trace.Span] = {}
        self._warned: set[str] = set()
        self._attributes: dict[tuple[str, str | None], dict[str, AttributeValue]] = {}

    def __repr__(self) -> str:
        return "OpenTelemetryMiddleware()"

    # -- producer -----------------------------------------------------------------------------

    def before_send(self, message: OutgoingMessage) -> None:
        """Start the message's span (``create`` in a batch, else ``send``); inject its context."""
        queue = message.queue or ""
        operation = "create" if message.batched else "send"
        attributes: dict[str, AttributeValue] = {
            MESSAGING_SYSTEM: SYSTEM,
            DESTINATION: queue,
            OPERATION_TYPE: operation,
            OPERATION_NAME: operation,
        }
        if not message.job_name.startswith("<"):
            attributes[JOB] = message.job_name
        span = self.tracer.start_span(
            f"{operation} {queue}", kind=SpanKind.PRODUCER, attributes=attributes
        )
        message.state[_SPAN] = span
        # A batch request may go out on a send thread: its span takes the context the
        # messages were enqueued in, not that thread's.
        message.state[_PARENT] = otel_context.get_current()
        carrier: dict[str, str] = {}
        self.propagator.inject(carrier, context=trace.set_span_in_context(span))
        new = [key for key in carrier if key not in message.attributes]
        if len(message.attributes) + len(new) > _MAX_ATTRIBUTES:
            self._warn_full(queue, message)
            return
        for key, value in carrier.items():
            message.attributes[key] = {"DataType": "String", "StringValue": value}

    def _warn_full(self, queue: str, message: OutgoingMessage) -> None:
        with self._lock:
            first = queue not in self._warned
            self._warned.add(queue)
        if first:
            logger.warning(
                "messages of job %s to queue %s have %d message attributes, no room for the "
                "trace context (SQS allows 10): their consumers start new traces",
                message.job_name,
                queue,
                len(message.attributes),
                extra={"queue": queue, "job": message.job_name},
            )

    def after_send(self, message: OutgoingMessage, message_id: str) -> None:
        """End the message's span with its id; count it."""
        span = message.state.pop(_SPAN, None)
        if span is not None:
            span.set_attribute(MESSAGE_ID, message_id)
            span.end()
        self.sent.add(1, self._send_attributes(message))

    def on_send_error(self, message: OutgoingMessage, error: BaseException) -> None:
        """End the message's span with the error; count it with ``error.type``."""
        error_type = type(error).__qualname__
        span = message.state.pop(_SPAN, None)
        if span is not None:
            _fail(span, error_type, error, str(error))
            span.end()
        self.sent.add(1, {**self._send_attributes(message), ERROR_TYPE: error_type})

    def _send_attributes(self, message: OutgoingMessage) -> dict[str, AttributeValue]:
        return {
            MESSAGING_SYSTEM: SYSTEM,
            DESTINATION: message.queue or "",
            OPERATION_NAME: "send",
        }

    def before_send_batch(self, queue: str, messages: Sequence[OutgoingMessage]) -> None:
        """Start the request's ``send`` span, linked to each message's own span."""
        links = [
            Link(span.get_span_context())
            for m in messages
            if (span := m.state.get(_SPAN)) is not None
        ]
        parent = next((m.state[_PARENT] for m in messages if _PARENT in m.state), None)
        span = self.tracer.start_span(
            f"send {queue}",
            context=parent,
            kind=SpanKind.CLIENT,
            attributes={
                MESSAGING_SYSTEM: SYSTEM,
                DESTINATION: queue,
                OPERATION_TYPE: "send",
                OPERATION_NAME: "send",
                BATCH_COUNT: len(messages),
            },
            links=links,
        )
        with self._lock:
            self._requests[id(messages)] = span

    def after_send_batch(
        self, queue: str, messages: Sequence[OutgoingMessage], error: BaseException | None
    ) -> None:
        """End the request's span (with the error, when it failed)."""
        with self._lock:
            span = self._requests.pop(id(messages), None)
        if span is None:
            return
        if error is not None:
            _fail(span, type(error).__qualname__, error, str(error))
        span.end()

    # -- consumer -----------------------------------------------------------------------------

    def before_process(self, job: JobInfo) -> None:
        """Start the job's ``process`` span as a child of the producer's and make it current
        (not for batch handlers: one call serves several jobs, none of their spans is its)."""
        parent = self._extract(job)
        producer = trace.get_current_span(parent).get_span_context()
        links = [Link(producer)] if job.batched and producer.is_valid else None
        attributes = self._job_attributes(job)
        span = self.tracer.start_span(
            f"process {job.queue}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={
                **attributes,
                OPERATION_TYPE: "process",
                OPERATION_NAME: "process",
                MESSAGE_ID: job.message_id,
                ATTEMPT: job.attempt,
            },
            links=links,
        )
        token = None if job.batched else otel_context.attach(trace.set_span_in_context(span))
        job.state[_SPAN] = (span, token)
        span_context = span.get_span_context()
        if span_context.is_valid:
            job.log_fields["trace_id"] = trace.format_trace_id(span_context.trace_id)
        self.in_flight.add(1, attributes)
        sent = job.sent_timestamp
        if sent is not None:
            self.queue_lag.record(max(0.0, self.clock() - sent), attributes)

    def _extract(self, job: JobInfo) -> Context:
        carrier = job.message.message_attributes
        parent = self.propagator.extract(carrier, context=Context(), getter=_GETTER)
        if (
            "traceparent" in carrier
            and not trace.get_current_span(parent).get_span_context().is_valid
        ):
            logger.debug(
                "ignoring the invalid traceparent %r of message %s on queue %s: a new trace starts",
                _GETTER.get(carrier, "traceparent"),
                job.message_id,
                job.queue,
                extra={"queue": job.queue, "message_id": job.message_id},
            )
        return parent

    def after_process(self, job: JobInfo, outcome: Outcome, duration_s: float) -> None:
        """End the job's span (status ERROR with the exception on failure); record metrics."""
        attributes = self._job_attributes(job)
        measured = dict(attributes)
        if not outcome.success:
            measured[ERROR_TYPE] = _error_type(outcome)
        entry = job.state.pop(_SPAN, None)
        if entry is not None:
            span, token = entry
            if not outcome.success:
                description = outcome.reason or (str(outcome.error) if outcome.error else "")
                _fail(span, _error_type(outcome), outcome.error, description)
            if token is not None:
                otel_context.detach(token)
            span.end()
        self.process_duration.record(duration_s, {**measured, OPERATION_NAME: "process"})
        self.processed.add(1, measured)
        if not outcome.success:
            self.failed.add(1, measured)
        self.in_flight.add(-1, attributes)

    def on_dead_letter(self, job: JobInfo, reason: str) -> None:
        """Count the dead letter."""
        self.dead_lettered.add(1, self._job_attributes(job))

    def _job_attributes(self, job: JobInfo) -> Mapping[str, AttributeValue]:
        # One dict per queue and job name, built once: metrics take it as it is, never changed.
        key = (job.queue, job.job_name)
        attributes = self._attributes.get(key)
        if attributes is None:
            attributes = {MESSAGING_SYSTEM: SYSTEM, DESTINATION: job.queue}
            if job.job_name is not None:
                attributes[JOB] = job.job_name
            self._attributes[key] = attributes
        return attributes


def _histogram(
    meter: metrics.Meter, name: str, description: str, buckets: Sequence[float]
) -> metrics.Histogram:
    try:
        return meter.create_histogram(
            name, "s", description, explicit_bucket_boundaries_advisory=buckets
        )
    except TypeError:  # opentelemetry-api before 1.23 takes no bucket advice
        return meter.create_histogram(name, "s", description)


def _error_type(outcome: Outcome) -> str:
    if outcome.error is not None:
        return type(outcome.error).__qualname__
    return "InvalidMessage" if outcome.reason is not None else "_OTHER"


def _fail(span: trace.Span, error_type: str, error: BaseException | None, description: str) -> None:
    span.set_attribute(ERROR_TYPE, error_type)
    if error is not None:
        span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, description[:1000]))
