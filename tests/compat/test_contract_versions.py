"""Contract versions on the consumer: older payloads are upcast step by step before
validation, the current one is validated as it is, a newer one is refused."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
import pytest
from backends import Backend

from sqs_contracts import MemorySession, SQSEnv, Task, create_standard_queue
from sqs_contracts.dispatch.processor import Processor
from sqs_contracts.wire.errors import InvalidMessage


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


class Rename(Task, queue="versions", name="rename", version=2):
    new: str

    upcast_calls: ClassVar[list[int]] = []

    @classmethod
    def upcast(cls, payload: dict[str, Any], version: int) -> dict[str, Any]:
        cls.upcast_calls.append(version)
        return super().upcast(payload, version)


@Rename.upcaster(from_version=1)
def _old_became_new(payload: dict[str, Any]) -> dict[str, Any]:
    payload["new"] = payload.pop("old")
    return payload


def test_only_a_payload_of_another_version_is_upcast() -> None:
    queue = SQSEnv(MemorySession()).queue("versions")
    processor = Processor(queue, print, "rename", model=Rename, style="model")
    Rename.upcast_calls.clear()

    assert processor.validate({"new": "a"}, 2) == Rename(new="a")
    assert Rename.upcast_calls == []  # the contract's own version is validated as it is
    assert processor.validate({"old": "b"}, 1) == Rename(new="b")
    with pytest.raises(InvalidMessage, match="deploy the newer consumer first"):
        processor.validate({"new": "c"}, 3)
    assert Rename.upcast_calls == [1, 3]
