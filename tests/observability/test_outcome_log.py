"""The outcome log: one line per job with the fields an operator filters on, as JSON too."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from backends import Backend
from worker.helpers import make_env, make_queue

from sqs_contracts import IMMEDIATE_RETURN, ConstantBackoff, JobInfo, Middleware, RetryJob
from sqs_contracts.logging import JsonFormatter

from .conftest import Otel
from .contracts import Traced


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the ``sqs_contracts`` loggers write through a ``JsonFormatter``, at DEBUG."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("sqs_contracts")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _lines(stream: io.StringIO, logger: str = "sqs_contracts.jobs") -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in parsed if line["logger"] == logger]


def test_each_outcome_is_one_json_line_with_the_job_fields(
    backend: Backend, json_lines: io.StringIO
) -> None:
    env = make_env(backend, backoff_policy=ConstantBackoff(0))
    make_queue(backend, env, "traced_dead")
    make_queue(backend, env, "traced", redrive_policy=env.redrive_policy("traced_dead", 2))
    queue = env.queue("traced")
    queue.settings  # noqa: B018 - maxReceiveCount is known once the settings were read

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        if task.n < 0:
            raise LookupError(f"no order {task.n}")

    ok_id = Traced(n=1).delay(env=env)
    failing_id = Traced(n=-1).delay(env=env)
    queue.process_batch()
    queue.process_batch()

    lines = _lines(json_lines)
    for line in lines:
        assert set(line) >= {"time", "level", "logger", "message", "queue", "job", "message_id"}
        assert line["queue"] == "traced"
        assert line["job"] == "Traced"
        assert isinstance(line["duration_ms"], float)
        assert line["time"].endswith("+00:00")
    [ok] = [line for line in lines if line["message_id"] == ok_id]
    assert ok["level"] == "DEBUG"
    assert ok["outcome"] == "delete"
    assert ok["attempt"] == 1
    assert "last_attempt" not in ok
    assert "exception" not in ok
    first, last = [line for line in lines if line["message_id"] == failing_id]
    assert (first["attempt"], last["attempt"]) == (1, 2)
    assert first["level"] == "WARNING"
    assert first["outcome"] == "retry"
    assert first["retry_in_s"] == 0
    assert first["last_attempt"] is False
    assert first["error_type"] == "LookupError"
    assert "LookupError: no order -1" in first["message"]
    assert "attempt 1 of 2" in first["message"]
    assert "retrying in 0 s" in first["message"]
    assert "Traceback" in first["exception"]
    assert last["level"] == "ERROR"
    assert last["last_attempt"] is True
    assert "last attempt before the dead-letter queue" in last["message"]


def test_the_log_line_carries_the_trace_id_of_the_job_span(
    backend: Backend, otel: Otel, json_lines: io.StringIO
) -> None:
    env = make_env(backend, middleware=[otel.middleware])
    make_queue(backend, env, "traced")

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        pass

    Traced(n=1).delay(env=env)
    env.queue("traced").process_batch()

    [process] = otel.spans("process traced")
    [line] = _lines(json_lines)
    assert line["trace_id"] == f"{process.context.trace_id:032x}"


def test_successes_log_at_debug_only_and_a_retry_asked_for_at_info(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqs_contracts")
    env = make_env(backend, backoff_policy=IMMEDIATE_RETURN)
    make_queue(backend, env, "traced")

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        if task.n == 2:
            raise RetryJob(backoff_policy=ConstantBackoff(0))

    Traced(n=1).delay(env=env)
    message_id = Traced(n=2).delay(env=env)
    env.queue("traced").process_batch()

    [record] = [r for r in caplog.records if r.name == "sqs_contracts.jobs"]
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("Retrying job Traced of queue traced")
    assert getattr(record, "message_id", None) == message_id
    assert getattr(record, "retry_in_s", None) == 0


def test_log_fields_a_middleware_sets_never_break_the_log_or_the_job(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sqs_contracts")

    class Fields(Middleware):
        def before_process(self, job: JobInfo) -> None:
            job.log_fields.update({"message": "clash", "msg": "clash", "tenant": "acme"})

    env = make_env(backend, middleware=[Fields()])
    make_queue(backend, env, "traced")

    @env.handler(Traced)
    def handle(task: Traced) -> None:
        pass

    Traced(n=1).delay(env=env)
    assert env.queue("traced").process_batch().succeeded_count() == 1
    [record] = [r for r in caplog.records if r.name == "sqs_contracts.jobs"]
    assert getattr(record, "tenant", None) == "acme"
    assert record.getMessage().startswith("Processed job Traced of queue traced")
