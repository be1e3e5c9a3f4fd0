"""OpenTelemetry traces: a job continues the trace of the code that sent it, on both backends."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from backends import Backend
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, StatusCode
from worker.helpers import after, attribute, make_env, make_queue, receive_all, run_worker

from sqs_contracts import SQSEnv
from sqs_contracts.batching import BatchMessages

from .conftest import Otel
from .contracts import Traced, TracedBatch


def _traced_env(backend: Backend, otel: Otel, **options: object) -> SQSEnv:
    env = make_env(backend, middleware=[otel.middleware], **options)
    make_queue(backend, env, "traced")
    return env


def _parent(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def _span_id(traceparent: str | None) -> int:
    assert traceparent is not None
    return int(traceparent.split("-")[2], 16)


@pytest.mark.parametrize("runner", ["worker", "process_batch"])
def test_a_job_sent_in_a_span_is_processed_in_a_span_of_the_same_trace(
    backend: Backend, otel: Otel, runner: str
) -> None:
    env = _traced_env(backend, otel)
    current: list[SpanContext] = []

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        current.append(trace.get_current_span().get_span_context())

    tracer = otel.tracer_provider.get_tracer("tests")
    with tracer.start_as_current_span("request") as request:
        message_id = Traced(n=1).delay(env=env)
    if runner == "worker":
        run_worker(env, "traced", policy=after(1))
    else:
        assert env.queue("traced").process_batch().succeeded_count() == 1

    [send] = otel.spans("send traced")
    [process] = otel.spans("process traced")
    trace_id = request.get_span_context().trace_id
    assert send.kind is SpanKind.PRODUCER
    assert _parent(send) == request.get_span_context().span_id
    assert send.context.trace_id == trace_id
    assert dict(send.attributes or {}) == {
        "messaging.system": "aws_sqs",
        "messaging.destination.name": "traced",
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "messaging.message.id": message_id,
        "sqs_contracts.job": "Traced",
    }
    assert process.kind is SpanKind.CONSUMER
    assert _parent(process) == send.context.span_id
    assert process.context.trace_id == trace_id
    assert process.status.status_code is StatusCode.UNSET
    assert not process.links
    assert dict(process.attributes or {}) == {
        "messaging.system": "aws_sqs",
        "messaging.destination.name": "traced",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.message.id": message_id,
        "sqs_contracts.job": "Traced",
        "sqs_contracts.attempt": 1,
    }
    # The handler ran inside the process span, so its own spans and logs join the trace.
    assert current == [process.context]
    assert trace.get_current_span().get_span_context().is_valid is False


def test_a_batch_handler_gets_a_span_per_message_child_of_and_linked_to_its_producer(
    backend: Backend, otel: Otel
) -> None:
    env = make_env(backend, middleware=[otel.middleware])
    make_queue(backend, env, "traced_batch")
    env.queue("traced_batch", batching_policy=BatchMessages(3))
    handled: list[int] = []
    current: list[SpanContext] = []

    @env.handler(TracedBatch)  # type: ignore[arg-type]
    def handle(tasks: list[TracedBatch]) -> None:
        handled.extend(task.n for task in tasks)
        current.append(trace.get_current_span().get_span_context())

    tracer = otel.tracer_provider.get_tracer("tests")
    for n in range(3):
        with tracer.start_as_current_span(f"request {n}"):
            TracedBatch(n=n).delay(env=env)
    queue = env.queue("traced_batch")
    while len(handled) < 3:
        assert queue.process_batch().failed_count() == 0

    sends = {s.attributes["messaging.message.id"]: s for s in otel.spans("send traced_batch")}
    processes = otel.spans("process traced_batch")
    assert len(sends) == len(processes) == 3
    for process in processes:
        send = sends[process.attributes["messaging.message.id"]]
        assert _parent(process) == send.context.span_id
        assert process.context.trace_id == send.context.trace_id
        assert [(link.context.trace_id, link.context.span_id) for link in process.links] == [
            (send.context.trace_id, send.context.span_id)
        ]
    assert len({p.context.trace_id for p in processes}) == 3
    # One call serves three jobs: none of their spans is the handler's.
    assert all(not context.is_valid for context in current)


def test_a_batch_send_makes_one_span_per_request_and_gives_each_message_its_own_context(
    backend: Backend, otel: Otel
) -> None:
    env = _traced_env(backend, otel)
    handled: list[int] = []

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        handled.append(task.n)

    tracer = otel.tracer_provider.get_tracer("tests")
    with tracer.start_as_current_span("request") as request, env.batch():
        for n in range(12):
            Traced(n=n).delay(env=env)

    requests = otel.spans("send traced")
    creates = otel.spans("create traced")
    # Requests go out in parallel: the spans end in either order.
    assert sorted(r.attributes["messaging.batch.message_count"] for r in requests) == [2, 10]
    assert {r.kind for r in requests} == {SpanKind.CLIENT}
    assert len(creates) == 12
    assert {c.kind for c in creates} == {SpanKind.PRODUCER}
    assert len({c.context.span_id for c in creates}) == 12
    trace_id = request.get_span_context().trace_id
    for span in [*requests, *creates]:
        assert span.context.trace_id == trace_id
        assert _parent(span) == request.get_span_context().span_id
    linked = [link.context.span_id for r in requests for link in r.links]
    assert sorted(linked) == sorted(c.context.span_id for c in creates)

    # Each message carries the context of its own create span.
    by_id = {c.attributes["messaging.message.id"]: c.context.span_id for c in creates}
    messages = receive_all(env, "traced")
    assert len(messages) == 12
    assert {m["MessageId"]: _span_id(attribute(m, "traceparent")) for m in messages} == by_id

    _make_visible(backend, env, messages)
    queue = env.queue("traced")
    while len(handled) < 12:
        assert queue.process_batch().failed_count() == 0
    for process in otel.spans("process traced"):
        assert _parent(process) == by_id[process.attributes["messaging.message.id"]]


def test_a_failed_job_span_has_status_error_and_the_exception(backend: Backend, otel: Otel) -> None:
    env = _traced_env(backend, otel)

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        raise ValueError(f"no such user {task.n}")

    Traced(n=7).delay(env=env)
    assert env.queue("traced").process_batch().failed_count() == 1

    [process] = otel.spans("process traced")
    assert process.status.status_code is StatusCode.ERROR
    assert process.status.description == "no such user 7"
    assert process.attributes is not None
    assert process.attributes["error.type"] == "ValueError"
    [event] = process.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "ValueError"
    assert event.attributes["exception.message"] == "no such user 7"
    assert "no such user" in str(event.attributes["exception.stacktrace"])


def test_a_message_without_trace_context_starts_a_new_trace(backend: Backend, otel: Otel) -> None:
    env = _traced_env(backend, otel)
    # Another producer: this library without the middleware (as sqs-workers or another language).
    producer = SQSEnv(backend.session, queue_prefix=env.queue_prefix)
    handled: list[int] = []

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        handled.append(task.n)

    tracer = otel.tracer_provider.get_tracer("tests")
    with tracer.start_as_current_span("unrelated"):
        Traced(n=1).delay(env=producer)
    [message] = receive_all(env, "traced")
    assert "traceparent" not in message["MessageAttributes"]
    _make_visible(backend, env, [message])

    with tracer.start_as_current_span("around process_batch") as around:
        assert env.queue("traced").process_batch().succeeded_count() == 1
    [process] = otel.spans("process traced")
    assert process.parent is None
    assert process.context.trace_id != around.get_span_context().trace_id
    assert handled == [1]


def _make_visible(backend: Backend, env: SQSEnv, messages: list[dict[str, Any]]) -> None:
    """Undo a receive: at once in memory, by a zero visibility timeout on moto."""
    if backend.clock is not None:
        backend.advance(31)
    else:
        for message in messages:
            env.session.change_message_visibility(
                QueueUrl=env.queue("traced").url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=0,
            )


def _send_with_traceparent(env: SQSEnv, traceparent: str) -> None:
    def string(value: str) -> dict[str, str]:
        return {"DataType": "String", "StringValue": value}

    env.session.send_message(
        QueueUrl=env.queue("traced").url,
        MessageBody='{"n": 3}',
        MessageAttributes={
            "JobName": string("Traced"),
            "ContentType": string("json"),
            "JobContext": string("{}"),
            "traceparent": string(traceparent),
        },
    )


def test_an_invalid_traceparent_is_ignored_with_a_debug_log(
    backend: Backend, otel: Otel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sqs_contracts.otel")
    env = _traced_env(backend, otel)
    handled: list[int] = []

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        handled.append(task.n)

    _send_with_traceparent(env, "00-not-a-trace-context")
    assert env.queue("traced").process_batch().succeeded_count() == 1

    assert handled == [3]
    [process] = otel.spans("process traced")
    assert process.parent is None
    assert process.status.status_code is StatusCode.UNSET
    [record] = [r for r in caplog.records if "invalid traceparent" in r.getMessage()]
    assert record.levelno == logging.DEBUG
    assert "00-not-a-trace-context" in record.getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_traceparent_written_by_another_producer_is_continued(
    backend: Backend, otel: Otel
) -> None:
    env = _traced_env(backend, otel)

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        pass

    _send_with_traceparent(env, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    assert env.queue("traced").process_batch().succeeded_count() == 1
    [process] = otel.spans("process traced")
    assert process.context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert _parent(process) == 0xB7AD6B7169203331
