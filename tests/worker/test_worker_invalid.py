"""Messages that cannot become jobs: logged, never deleted silently, dead-lettered on request."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from backends import Backend

from sqs_contracts import ConstantBackoff, SQSEnv
from sqs_contracts.codecs import CONTENT_TYPES_CODECS

from .contracts import BadJob
from .helpers import after, attribute, counts, make_env, make_queue, receive_all, run_worker

BACKOFF = 1


@dataclass
class Sent:
    body: str | None  # None: the pickled body, checked by decoding it
    job_name: str
    content_type: str
    reason: str


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _send_bad_messages(backend: Backend, env: SQSEnv) -> dict[str, Sent]:
    """Send five broken messages and a good one; map each broken MessageId to what was sent."""
    url = env.queue("bad").url
    sent: dict[str, Sent] = {}
    raw = [
        Sent("{not json", "BadJob", "json", "cannot be decoded as json"),
        Sent('{"n": 1}', "BadJob", "yaml", "unknown content type 'yaml'"),
        Sent('{"n": 2}', "NoSuchJob", "json", "no handler for job 'NoSuchJob'"),
        Sent('{"n": "three"}', "BadJob", "json", "does not validate against BadJob"),
    ]
    for message in raw:
        attributes = {
            "JobName": _string(message.job_name),
            "ContentType": _string(message.content_type),
            "JobContext": _string("{}"),
        }
        response = env.session.send_message(
            QueueUrl=url, MessageBody=message.body or "", MessageAttributes=attributes
        )
        sent[response["MessageId"]] = message
    # A producer allowed to use pickle; the consumer's env refuses it by default.
    producer = SQSEnv(
        backend.session,
        queue_prefix=env.queue_prefix,
        allowed_content_types={"json", "pickle_compat"},
    )
    message_id = BadJob(n=4).delay(env=producer, content_type="pickle_compat")
    assert message_id is not None
    sent[message_id] = Sent(None, "BadJob", "pickle_compat", "'pickle_compat' is not allowed")
    BadJob(n=5).delay(env=env)
    return sent


def _check_logged(caplog: pytest.LogCaptureFixture, sent: dict[str, Sent]) -> None:
    """Each broken message is logged at ERROR with its queue, job name, id and the reason."""
    for message_id, message in sent.items():
        records = [
            r
            for r in caplog.records
            if r.levelno >= logging.ERROR
            and message_id in r.getMessage()
            and getattr(r, "queue", None) == "bad"
            and getattr(r, "job", None) == message.job_name
        ]
        assert any(message.reason in r.getMessage() for r in records), (message, caplog.text)


def _handled_env(
    backend: Backend, handled: list[int], dead_letter_invalid: bool | None = None
) -> SQSEnv:
    env = make_env(backend)
    make_queue(backend, env, "bad_dead")
    make_queue(backend, env, "bad", redrive_policy=env.redrive_policy("bad_dead", 5))
    # Configured before the handler is registered (which would create it with the defaults).
    env.queue(
        "bad", backoff_policy=ConstantBackoff(BACKOFF), dead_letter_invalid=dead_letter_invalid
    )

    @env.handler(BadJob)
    def handle(task: BadJob) -> None:
        handled.append(task.n)

    return env


def test_bad_messages_are_logged_and_left_on_the_queue(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqs_contracts")
    handled: list[int] = []
    env = _handled_env(backend, handled)
    sent = _send_bad_messages(backend, env)

    stats = run_worker(env, "bad", policy=after(len(sent) + 1), concurrency=2)

    assert handled == [5]
    assert (stats.succeeded, stats.failed) == (1, len(sent))
    _check_logged(caplog, sent)
    assert sum(counts(env, "bad")) == len(sent)
    assert receive_all(env, "bad_dead") == []
    # They come back after the queue's backoff, untouched.
    backend.advance(BACKOFF + 0.5)
    back = receive_all(env, "bad")
    assert {m["MessageId"] for m in back} == set(sent)


def test_bad_messages_go_to_the_dead_letter_queue_at_once_when_asked(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqs_contracts")
    handled: list[int] = []
    env = _handled_env(backend, handled, dead_letter_invalid=True)
    sent = _send_bad_messages(backend, env)

    stats = run_worker(env, "bad", policy=after(len(sent) + 1), concurrency=2)

    assert handled == [5]
    assert (stats.succeeded, stats.failed) == (1, len(sent))
    _check_logged(caplog, sent)
    assert counts(env, "bad") == (0, 0)
    dead = receive_all(env, "bad_dead")
    assert len(dead) == len(sent)
    by_content = {(attribute(m, "JobName"), attribute(m, "ContentType"), m["Body"]) for m in dead}
    for message in sent.values():
        reason = [
            attribute(m, "InvalidReason") or ""
            for m in dead
            if attribute(m, "ContentType") == message.content_type
            and attribute(m, "JobName") == message.job_name
            and (message.body is None or m["Body"] == message.body)
        ]
        assert len(reason) == 1, (message, by_content)
        assert message.reason in reason[0]
        if message.body is None:
            [pickled] = [m for m in dead if attribute(m, "ContentType") == "pickle_compat"]
            codec = CONTENT_TYPES_CODECS["pickle_compat"]
            assert codec.deserialize(pickled["Body"]) == {"n": 4}
    moved = [r for r in caplog.records if "to its dead-letter queue" in r.getMessage()]
    assert {mid for mid in sent if any(mid in r.getMessage() for r in moved)} == set(sent)
