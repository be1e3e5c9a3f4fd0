"""What the Lambda handler does with each record on both backends: messages sent by the library
and by sqs-workers 0.7.3, received through the session and delivered as a Lambda event."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqs_workers
from backends import Backend

from sqs_contracts import (
    IMMEDIATE_RETURN,
    ConstantBackoff,
    JobContext,
    Message,
    RawQueue,
    RetryJob,
    SQSEnv,
)
from sqs_contracts.batching import BatchMessages
from sqs_contracts.testing.lambda_events import lambda_event

from .contracts import Note
from .helpers import (
    Recording,
    attribute,
    aws_record,
    event_of,
    invoke,
    job_attributes,
    make_env,
    make_queue,
    queue_arn,
    receive,
    settle,
)


def _notes_env(
    backend: Backend, seen: list[int], backoff: Any = IMMEDIATE_RETURN, **queue_options: Any
) -> SQSEnv:
    """An env whose ``notes`` queue exists, with a handler that fails or retries on request."""
    env = make_env(backend)
    make_queue(backend, env, "notes")
    env.queue("notes", backoff_policy=backoff, **queue_options)

    @env.handler(Note)
    def handle(task: Note) -> None:
        seen.append(task.n)
        if task.text == "fail":
            raise RuntimeError(f"note {task.n} failed on purpose")
        if task.text == "retry":
            raise RetryJob(IMMEDIATE_RETURN)

    return env


def test_all_records_succeed_and_none_is_reported(backend: Backend) -> None:
    seen: list[int] = []
    env = _notes_env(backend, seen)
    for n in range(5):
        Note(n=n).delay(env=env)
    event = event_of(env, "notes")

    failed = invoke(env.lambda_handler(), event)

    assert failed == []
    assert sorted(seen) == list(range(5))
    assert len(event["Records"]) == 5
    settle(env, event, failed)
    assert receive(env, "notes") == []


def test_a_failed_record_is_reported_and_gets_its_backoff(backend: Backend) -> None:
    seen: list[int] = []
    # IMMEDIATE_RETURN: the record is visible again at once, which it would not be for the
    # queue's 30 s visibility timeout without the change.
    env = _notes_env(backend, seen)
    ids = {n: Note(n=n, text="fail" if n == 2 else "").delay(env=env) for n in range(4)}
    event = event_of(env, "notes")

    failed = invoke(env.lambda_handler(), event)

    assert failed == [ids[2]]
    assert sorted(seen) == [0, 1, 2, 3]
    settle(env, event, failed)
    back = receive(env, "notes")
    assert [m["MessageId"] for m in back] == [ids[2]]
    assert back[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_retry_job_is_honoured_with_its_own_backoff(backend: Backend) -> None:
    seen: list[int] = []
    # The queue's backoff would hide the record for ten minutes; RetryJob's returns it at once.
    env = _notes_env(backend, seen, backoff=ConstantBackoff(600))
    retried = Note(n=1, text="retry").delay(env=env)
    failing = Note(n=2, text="fail").delay(env=env)
    event = event_of(env, "notes")

    failed = invoke(env.lambda_handler(), event)

    assert sorted(failed) == sorted([retried, failing])
    settle(env, event, failed)
    assert [m["MessageId"] for m in receive(env, "notes")] == [retried]


def _send_invalid(env: SQSEnv) -> dict[str, str]:
    """Three messages that cannot become jobs; MessageId -> the reason's telling part."""
    url = env.queue("notes").url
    sent = {}
    for body, job_name, reason in [
        ("{not json", "Note", "cannot be decoded as json"),
        ('{"n": 1}', "NoSuchJob", "no handler for job 'NoSuchJob'"),
        ('{"n": "three"}', "Note", "does not validate against Note"),
    ]:
        attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in [
                ("JobName", job_name),
                ("ContentType", "json"),
                ("JobContext", "{}"),
            ]
        }
        response = env.session.send_message(
            QueueUrl=url, MessageBody=body, MessageAttributes=attributes
        )
        sent[response["MessageId"]] = reason
    return sent


def test_invalid_messages_are_reported(backend: Backend) -> None:
    seen: list[int] = []
    env = _notes_env(backend, seen)
    sent = _send_invalid(env)
    Note(n=9).delay(env=env)
    event = event_of(env, "notes")

    failed = invoke(env.lambda_handler(), event)

    assert sorted(failed) == sorted(sent)
    assert seen == [9]


def test_invalid_messages_go_to_the_dead_letter_queue_when_asked(backend: Backend) -> None:
    seen: list[int] = []
    env = make_env(backend)
    make_queue(backend, env, "notes-dead")
    make_queue(backend, env, "notes", redrive_policy=env.redrive_policy("notes-dead", 5))
    env.queue("notes", backoff_policy=IMMEDIATE_RETURN, dead_letter_invalid=True)

    @env.handler(Note)
    def handle(task: Note) -> None:
        seen.append(task.n)

    sent = _send_invalid(env)
    Note(n=9).delay(env=env)
    event = event_of(env, "notes")

    failed = invoke(env.lambda_handler(), event)

    assert failed == []
    assert seen == [9]
    dead = receive(env, "notes-dead")
    assert len(dead) == len(sent)
    bodies = {r["messageId"]: r["body"] for r in event["Records"]}
    for message in dead:
        reason = attribute(message, "InvalidReason") or ""
        matching = [i for i, part in sent.items() if part in reason]
        assert len(matching) == 1, reason
        assert message["Body"] == bodies[matching[0]]
        assert attribute(message, "JobName") is not None
    settle(env, event, failed)
    assert receive(env, "notes") == []


def test_without_a_dead_letter_queue_invalid_messages_are_reported(backend: Backend) -> None:
    seen: list[int] = []
    env = _notes_env(backend, seen, dead_letter_invalid=True)
    sent = _send_invalid(env)
    event = event_of(env, "notes")

    failed = invoke(env.lambda_handler(), event)

    assert sorted(failed) == sorted(sent)
    settle(env, event, failed)
    assert sorted(m["MessageId"] for m in receive(env, "notes")) == sorted(sent)


def test_a_failed_visibility_change_is_logged_and_the_record_still_reported(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[int] = []
    env = _notes_env(backend, seen)
    arn = queue_arn(env, "notes")
    # A receipt handle SQS never issued: changing its visibility fails.
    record = aws_record(
        "id-1",
        body='{"n": 1, "text": "fail"}',
        arn=arn,
        message_attributes=job_attributes("Note"),
    )

    assert invoke(env.lambda_handler(), {"Records": [record]}) == ["id-1"]
    assert seen == [1]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(
        "ChangeMessageVisibility" in r.getMessage() or "could not change" in r.getMessage()
        for r in warnings
        if "notes" in r.getMessage()
    ), caplog.text


def test_messages_sent_by_sqs_workers_run_on_the_same_handlers(backend: Backend) -> None:
    env = make_env(backend, allowed_content_types=["json", "pickle_compat"])
    url = make_queue(backend, env, "notes")
    seen: list[tuple[Note, str]] = []

    @env.handler(Note, pass_context=True)
    def handle(task: Note, context: JobContext) -> None:
        seen.append((task, context["request_id"]))

    producer = sqs_workers.SQSEnv(sqs_client=object(), sqs_resource=object())
    queue = producer.queue("notes")
    queue._queue = _SessionQueue(env, url)  # sqs-workers sends through this backend's session
    with producer.context(request_id="r-7"):
        queue.add_job("Note", _content_type="json", n=1, text="json")
        queue.add_job("Note", _content_type="pickle_compat", n=2, text="pickle")
    event = event_of(env, "notes")

    failed = invoke(env.lambda_handler(), event)

    assert failed == []
    assert sorted(seen, key=lambda s: s[0].n) == [
        (Note(n=1, text="json"), "r-7"),
        (Note(n=2, text="pickle"), "r-7"),
    ]


class _SessionQueue:
    """Stands in for the boto3 Queue resource sqs-workers sends through."""

    def __init__(self, env: SQSEnv, url: str) -> None:
        self.env, self.url = env, url

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        return dict(self.env.session.send_message(QueueUrl=self.url, **kwargs))


def test_raw_and_batch_queues_run_as_in_the_worker(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "raw")
    make_queue(backend, env, "batched")
    raw_seen: list[str] = []
    batches: list[list[int]] = []

    @env.raw_processor("raw")
    def on_raw(message: Message) -> None:
        raw_seen.append(message.body)  # sqs-workers' raw processors read boto3's names

    env.queue("batched", batching_policy=BatchMessages(3), backoff_policy=IMMEDIATE_RETURN)

    @env.processor("batched", "sum")
    def on_batch(messages: list[dict[str, Any]]) -> None:
        batches.append([m["n"] for m in messages])
        if any(m["n"] == 4 for m in messages):
            raise RuntimeError("this batch fails")

    env.queue("raw", RawQueue).add_raw_job("plain text")
    batched = env.queue("batched")
    ids = [batched.add_job("sum", n=n) for n in range(5)]
    event = {"Records": event_of(env, "raw")["Records"] + event_of(env, "batched")["Records"]}

    failed = invoke(env.lambda_handler(), event)

    assert raw_seen == ["plain text"]
    assert sorted(n for batch in batches for n in batch) == list(range(5))
    assert [len(b) for b in batches] == [3, 2]
    failing = next(b for b in batches if 4 in b)
    assert sorted(failed) == sorted(ids[n] for n in failing)


def test_building_the_handler_and_running_successes_make_no_sqs_call(backend: Backend) -> None:
    producer = make_env(backend)
    make_queue(backend, producer, "notes")
    for n in range(3):
        Note(n=n, text="fail" if n == 2 else "").delay(env=producer)
    messages = receive(producer, "notes")
    arn = queue_arn(producer, "notes")

    recording = Recording(backend.session)
    env = SQSEnv(recording, queue_prefix=producer.queue_prefix)
    seen: list[int] = []

    @env.handler(Note)
    def handle(task: Note) -> None:
        seen.append(task.n)
        if task.text == "fail":
            raise RuntimeError("fails on purpose")

    handler = env.lambda_handler()
    assert recording.calls == []

    ok = [m for m in messages if attribute(m, "JobName") and '"fail"' not in m["Body"]]
    assert invoke(handler, lambda_event(ok, queue_arn=arn)) == []
    assert recording.calls == []

    bad = [m for m in messages if '"fail"' in m["Body"]]
    assert invoke(handler, lambda_event(bad, queue_arn=arn)) == [bad[0]["MessageId"]]
    assert recording.calls == ["get_queue_url", "change_message_visibility_batch"]
    assert sorted(seen) == [0, 1, 2]
