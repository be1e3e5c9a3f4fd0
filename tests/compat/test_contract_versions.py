"""Contract versions on the consumer: older payloads are upcast step by step before
validation, the current one is validated as it is, a newer one is refused."""

from __future__ import annotations

from typing import Any

import orjson
from backends import Backend

from sqs_contracts import SQSEnv, Task, create_standard_queue


class Resize(Task, queue="versions", name="resize", version=3):
    width: int
    height: int


@Resize.upcaster(from_version=1)
def _size_became_width(payload: dict[str, Any]) -> dict[str, Any]:
    payload["width"] = payload.pop("size")
    return payload


@Resize.upcaster(from_version=2)
def _height_defaults_to_width(payload: dict[str, Any]) -> dict[str, Any]:
    payload.setdefault("height", payload["width"])
    return payload


def _send(env: SQSEnv, payload: dict[str, Any], version: int | None) -> None:
    attributes = {
        "JobName": {"DataType": "String", "StringValue": "resize"},
        "ContentType": {"DataType": "String", "StringValue": "json"},
        "JobContext": {"DataType": "String", "StringValue": "{}"},
    }
    if version is not None:
        attributes["ContractVersion"] = {"DataType": "Number", "StringValue": str(version)}
    env.session.send_message(
        QueueUrl=env.queue("versions").url,
        MessageBody=orjson.dumps(payload).decode(),
        MessageAttributes=attributes,
    )


def test_each_version_arrives_as_the_current_contract(backend: Backend) -> None:
    env = SQSEnv(backend.session, queue_prefix=backend.unique("v") + "-")
    backend.created.append(create_standard_queue(env, "versions"))
    handled: list[Resize] = []
    env.handler(Resize)(handled.append)

    _send(env, {"size": 5}, None)  # no attribute: version 1, as sqs-workers writes
    _send(env, {"width": 4}, 2)
    Resize(width=1, height=2).delay(env=env)
    _send(env, {"width": 9, "height": 9}, 4)

    queue = env.queue("versions")
    succeeded = failed = 0
    for _ in range(20):  # moto may hand out fewer than ten per receive
        result = queue.process_batch()
        succeeded += result.succeeded_count()
        failed += result.failed_count()
        if succeeded + failed == 4:
            break
    assert sorted(handled, key=lambda task: task.width) == [
        Resize(width=1, height=2),
        Resize(width=4, height=4),
        Resize(width=5, height=5),
    ]
    assert succeeded == 3
    assert failed == 1  # version 4 is newer than this consumer knows
