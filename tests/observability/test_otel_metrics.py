"""OpenTelemetry metrics, send failures, and what the middleware costs a process that lacks it."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from backends import Backend
from opentelemetry.trace import StatusCode
from worker.helpers import after, make_env, make_queue, receive_all, run_worker

from sqs_contracts import RawQueue
from sqs_contracts import otel as otel_module
from sqs_contracts.errors import QueueNotFound

from .conftest import Otel
from .contracts import Traced

ROOT = Path(__file__).resolve().parents[2]

DOCUMENTED = {
    "PROCESS_DURATION": "messaging.process.duration",
    "SENT_MESSAGES": "messaging.client.sent.messages",
    "JOBS_PROCESSED": "sqs_contracts.jobs.processed",
    "JOBS_FAILED": "sqs_contracts.jobs.failed",
    "JOBS_DEAD_LETTERED": "sqs_contracts.jobs.dead_lettered",
    "JOBS_IN_FLIGHT": "sqs_contracts.jobs.in_flight",
    "QUEUE_LAG": "sqs_contracts.queue.lag",
}


def test_the_instruments_have_the_documented_names_and_count_the_jobs_run(
    backend: Backend, otel: Otel
) -> None:
    env = make_env(backend, middleware=[otel.middleware])
    make_queue(backend, env, "traced_dead")
    make_queue(backend, env, "traced", redrive_policy=env.redrive_policy("traced_dead", 1))
    if backend.clock is not None:
        otel.middleware.clock = backend.clock.time

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        if task.n < 0:
            raise KeyError(task.n)

    with env.batch():
        for n in (1, 2, 3, -1):
            Traced(n=n).delay(env=env)
    if backend.clock is not None:
        backend.advance(7)
    stats = run_worker(env, "traced", policy=after(4))
    assert (stats.succeeded, stats.failed) == (3, 1)

    assert {name: getattr(otel_module, name) for name in DOCUMENTED} == DOCUMENTED
    found = otel.metrics()
    assert set(DOCUMENTED.values()) <= set(found)
    queue = {"messaging.destination.name": "traced", "sqs_contracts.job": "Traced"}
    assert otel.total(otel_module.SENT_MESSAGES, {"messaging.destination.name": "traced"}) == 4
    assert otel.total(otel_module.JOBS_PROCESSED, queue) == 4
    assert otel.total(otel_module.JOBS_FAILED, queue) == 1
    assert otel.total(otel_module.JOBS_FAILED, {"error.type": "KeyError"}) == 1
    # maxReceiveCount 1: the failure was the job's last attempt before the dead-letter queue.
    assert otel.total(otel_module.JOBS_DEAD_LETTERED, queue) == 1
    assert otel.total(otel_module.JOBS_IN_FLIGHT, queue) == 0
    assert otel.total(otel_module.PROCESS_DURATION, queue) == 4
    assert otel.total(otel_module.PROCESS_DURATION, {"error.type": "KeyError"}) == 1
    [lag] = found[otel_module.QUEUE_LAG]
    assert lag.count == 4
    if backend.clock is not None:
        assert lag.sum == pytest.approx(4 * 7)
    assert {p.attributes["messaging.system"] for ps in found.values() for p in ps} == {"aws_sqs"}


def test_a_failed_send_ends_its_span_with_the_error_and_counts_it(
    backend: Backend, otel: Otel
) -> None:
    env = make_env(backend, middleware=[otel.middleware])
    url = make_queue(backend, env, "traced")
    env.queue("traced").settings  # noqa: B018 - read while the queue exists
    env.session.delete_queue(QueueUrl=url)

    with pytest.raises(QueueNotFound):
        Traced(n=1).delay(env=env)

    [send] = otel.spans("send traced")
    assert send.status.status_code is StatusCode.ERROR
    assert send.attributes is not None
    assert send.attributes["error.type"] == "QueueNotFound"
    assert [e.name for e in send.events] == ["exception"]
    assert otel.total(otel_module.SENT_MESSAGES, {"error.type": "QueueNotFound"}) == 1


def test_no_room_for_the_trace_context_sends_the_message_without_it_and_warns_once(
    backend: Backend, otel: Otel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="sqs_contracts")
    env = make_env(backend, middleware=[otel.middleware])
    make_queue(backend, env, "raw")
    queue = env.queue("raw", RawQueue)
    attributes = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}

    for _ in range(2):
        assert queue.add_raw_job("event", message_attributes=attributes) is not None

    messages = receive_all(env, "raw")
    assert len(messages) == 2
    assert all(set(m["MessageAttributes"]) == set(attributes) for m in messages)
    warnings = [r for r in caplog.records if "no room for the trace context" in r.getMessage()]
    assert len(warnings) == 1
    assert len(otel.spans("send raw")) == 2


def test_importing_the_library_does_not_import_opentelemetry() -> None:
    code = (
        "import sys, sqs_contracts, sqs_contracts.env, sqs_contracts.cli, sqs_contracts.logging\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'opentelemetry')\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
