"""Handler annotations checked at registration, batch handlers taking a list included."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Any

import pytest
from backends import Backend

from sqs_contracts import MemorySession, SQSEnv, Task
from sqs_contracts.batching import BatchMessages
from sqs_contracts.errors import HandlerError

from .contracts import BatchJob, Job
from .helpers import make_env, make_queue


class Other(Task, queue="other"):
    n: int


def _batch_env() -> SQSEnv:
    env = SQSEnv(MemorySession())
    env.queue("batched", batching_policy=BatchMessages(3))
    return env


def handle_list(tasks: list) -> None:  # type: ignore[type-arg]
    """A batch handler annotated with the bare ``list``."""


def handle_list_of(tasks: list[BatchJob]) -> None:
    """A batch handler annotated ``list[BatchJob]``."""


def handle_sequence_of(tasks: Sequence[BatchJob]) -> None:
    """A batch handler annotated ``Sequence[BatchJob]``."""


def handle_typing_list(tasks: typing.List[BatchJob]) -> None:  # noqa: UP006
    """A batch handler annotated ``typing.List[BatchJob]``."""


@pytest.mark.parametrize(
    "handler", [handle_list, handle_list_of, handle_sequence_of, handle_typing_list]
)
def test_batch_queues_accept_list_annotations(handler: Any) -> None:
    env = _batch_env()
    assert env.handler(BatchJob)(handler) is handler
    assert env.queue("batched").processors["BatchJob"].fn is handler


def test_batch_queues_refuse_a_list_of_another_contract() -> None:
    env = _batch_env()

    def handle(tasks: list[Other]) -> None: ...

    with pytest.raises(HandlerError) as excinfo:
        env.handler(BatchJob)(handle)  # type: ignore[arg-type]
    message = str(excinfo.value)
    assert "takes a list of Other but is registered for BatchJob on queue 'batched'" in message
    assert "annotate it list[BatchJob]" in message


def test_single_queues_refuse_a_list_and_say_how_to_batch() -> None:
    env = SQSEnv(MemorySession())

    def handle(tasks: list[Job]) -> None: ...

    with pytest.raises(HandlerError, match=r"takes a list .*BatchMessages\(n\)"):
        env.handler(Job)(handle)  # type: ignore[arg-type]


class _AliasLike(type):
    """What ``list[X]`` looks like on Python 3.10: a "type" that ``issubclass`` refuses."""

    def __subclasscheck__(cls, subclass: type) -> bool:
        raise TypeError("issubclass() argument 2 cannot be a parameterized generic")


class _Alias(metaclass=_AliasLike):
    pass


@pytest.mark.parametrize("batching", [False, True])
def test_an_annotation_issubclass_refuses_never_crashes_registration(batching: bool) -> None:
    env = _batch_env() if batching else SQSEnv(MemorySession())
    model: type[Task] = BatchJob if batching else Job

    def handle(task: _Alias) -> None: ...

    assert env.handler(model)(handle) is handle  # type: ignore[arg-type]


def test_a_bare_list_batch_handler_runs(backend: Backend) -> None:
    env = make_env(backend)
    make_queue(backend, env, "batched")
    env.queue("batched", batching_policy=BatchMessages(3))
    seen: list[int] = []

    @env.handler(BatchJob)  # type: ignore[arg-type]
    def handle(tasks: list) -> None:  # type: ignore[type-arg]
        seen.extend(task.n for task in tasks)

    with env.batch():
        for n in range(3):
            BatchJob(n=n).delay(env=env)
    for _ in range(10):
        env.queue("batched").process_batch(wait_seconds=0)
        if len(seen) == 3:
            break
    assert sorted(seen) == [0, 1, 2]
