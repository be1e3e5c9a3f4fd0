"""Dead-letter records and redrive on both SQS implementations (in memory and moto)."""

from __future__ import annotations

import json
from typing import Any

from backends import Backend, receive

from sqs_contracts import SQSEnv, Task
from sqs_contracts.queues.dead_letters import (
    move_messages,
    read_dead_letters,
    resolve_target,
    start_native_move,
)


class Ping(Task, queue="dl-pings", name="ping"):
    """A contract for these tests."""

    n: int


def _send(backend: Backend, url: str, job: str, payload: Any) -> None:
    backend.session.send_message(
        QueueUrl=url,
        MessageBody=json.dumps(payload),
        MessageAttributes={
            "JobName": {"DataType": "String", "StringValue": job},
            "ContentType": {"DataType": "String", "StringValue": "json"},
            "JobContext": {"DataType": "String", "StringValue": "{}"},
            "InvalidReason": {"DataType": "String", "StringValue": "handler raised"},
        },
    )


def test_read_dead_letters_types_and_validates(backend: Backend) -> None:
    dead = backend.make_queue("dead")
    _send(backend, dead, "ping", {"n": 1})
    _send(backend, dead, "ping", {"n": "x"})
    _send(backend, dead, "pong", {})
    letters = list(
        read_dead_letters(
            backend.session,
            dead,
            allowed_content_types={"json"},
            contracts={"ping": Ping},
            wait_seconds=0,
        )
    )
    by_payload = {json.dumps(letter.payload): letter for letter in letters}
    good = by_payload['{"n": 1}']
    assert (good.valid, good.contract, good.invalid_reason) == (True, "Ping", "handler raised")
    assert good.receive_count == 1
    assert good.sent_at is not None
    assert by_payload['{"n": "x"}'].errors[0].startswith("n: Input should be a valid integer")
    assert by_payload["{}"].errors == ["no contract for job 'pong' in this app"]
    assert len(receive(backend, dead, MaxNumberOfMessages=10)) == 3  # all visible again


def test_env_dead_letters_uses_the_env_contracts(backend: Backend) -> None:
    env = SQSEnv(backend.session)
    env.handler(Ping)(lambda task: None)
    dead = backend.make_queue("dead")
    _send(backend, dead, "ping", {"n": "2"})  # pydantic coerces "2": valid
    name = dead.rsplit("/", 1)[-1]
    [letter] = list(env.dead_letters(name, limit=5))
    assert letter.valid
    assert letter.contract == "Ping"


def test_redrive_client_side_by_job_and_limit(backend: Backend) -> None:
    dead = backend.make_queue("dead")
    arn = backend.session.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"})
    source = backend.make_queue("source", attributes={"RedrivePolicy": policy})
    for n in range(5):
        _send(backend, dead, "ping", {"n": n})
    _send(backend, dead, "pong", {})
    # The endpoint lacks the native move task here: the client-side move takes over.
    assert start_native_move(backend.session, dead, source) is None
    prefix = source.rsplit("/", 1)[-1]
    assert resolve_target(backend.session, dead, prefix, None) == source
    seen: list[int] = []
    moved = move_messages(
        backend.session,
        dead,
        source,
        job_name="ping",
        limit=3,
        progress=seen.append,
        wait_seconds=0,
    )
    assert moved == 3
    assert seen[-1] == 3
    moved = move_messages(backend.session, dead, source, job_name="ping", wait_seconds=0)
    assert moved == 2
    remaining = receive(backend, dead, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    assert [m["MessageAttributes"]["JobName"]["StringValue"] for m in remaining] == ["pong"]
    back = []
    while batch := receive(backend, source, MaxNumberOfMessages=10, MessageAttributeNames=["All"]):
        back += batch
    assert sorted(json.loads(m["Body"])["n"] for m in back) == [0, 1, 2, 3, 4]
    assert all(m["MessageAttributes"]["InvalidReason"] for m in back)
