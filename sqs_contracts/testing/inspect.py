"""Reading what waits on a queue, as typed tasks, without consuming it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, overload

from sqs_contracts.contracts.task import Task, registered_tasks
from sqs_contracts.env import SQSEnv
from sqs_contracts.sessions.memory import MemorySession
from sqs_contracts.testing.errors import RealSessionError
from sqs_contracts.testing.tracking import TrackingSession
from sqs_contracts.wire.envelope import decode_message, job_name_of
from sqs_contracts.wire.message import Message

_T = TypeVar("_T", bound=Task)


def _contract(queue_name: str, job_name: str) -> type[Task] | None:
    named = [c for c in registered_tasks() if c.job_name() == job_name]
    on_queue = [c for c in named if c.queue_name() == queue_name]
    # A dead-letter queue holds jobs of other queues: a job name used by one contract is enough.
    found = on_queue or (named if len(named) == 1 else [])
    return found[0] if found else None


def decode_task(queue: Any, message: Mapping[str, Any]) -> Any:
    """A received message as its job: the handler's model when the queue has one, else the
    contract of its queue and job name (or of its job name alone, when only one contract
    has it: dead-letter queues), else the payload dict.

    Raises ``InvalidMessage`` (or pydantic's ``ValidationError``) when it cannot be decoded.
    """
    job = decode_message(message, queue.allowed_content_types)
    processor = getattr(queue, "processors", {}).get(job.job_name)
    if processor is not None and processor.model is not None:
        return processor.validate(job.payload, job.version)
    contract = _contract(queue.name, job.job_name)
    if contract is not None:
        return contract.model_validate(contract.upcast(job.payload, job.version))
    return job.payload


def waiting_messages(env: SQSEnv, queue_name: str) -> list[Message]:
    """Every message of one of the env's queues not deleted yet, in send order, unreceived."""
    session = env.session
    if isinstance(session, TrackingSession):
        session = session.inner
    if not isinstance(session, MemorySession):
        raise RealSessionError(
            f"cannot read queue {queue_name!r} without receiving it: only a MemorySession "
            f"can, and {session!r} is not one (a receive would count towards the messages' "
            f"maxReceiveCount); in tests, point the env at one: with env.override(sqs_memory):"
        )
    url = env.queue(queue_name).url
    return [Message(m, url) for m in session.peek_messages(QueueUrl=url)["Messages"]]


@overload
def sent(env: SQSEnv, contract: type[_T]) -> list[_T]: ...


@overload
def sent(env: SQSEnv, contract: str) -> list[Any]: ...


def sent(env: SQSEnv, contract: type[Task] | str) -> list[Any]:
    """The tasks on a contract's queue (or a named queue) not processed yet, in send order:
    waiting, delayed, or received and not deleted. Nothing is received or changed.

    With a contract, only its jobs, as instances of it; with a queue name, every job, decoded
    by :func:`decode_task`. Needs a ``MemorySession`` (see ``env.override``).
    """
    if isinstance(contract, str):
        queue = env.queue(contract)
        return [decode_task(queue, m) for m in waiting_messages(env, contract)]
    if not (isinstance(contract, type) and issubclass(contract, Task)):
        raise TypeError(f"sent() takes a Task subclass or a queue name, got {contract!r}")
    found: list[Any] = []
    for message in waiting_messages(env, contract.queue_name()):
        if job_name_of(message) != contract.job_name():
            continue
        job = decode_message(message, env.allowed_content_types)
        found.append(contract.model_validate(contract.upcast(job.payload, job.version)))
    return found
