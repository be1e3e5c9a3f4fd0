"""Task: the contract base model. A pydantic model bound to a queue and a job name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel

from sqs_contracts.contracts.binding import Producer, current_producer
from sqs_contracts.sessions.errors import QueueConfigError
from sqs_contracts.wire.errors import InvalidMessage

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns the payload dict of one contract version into that of the next version."""

_T = TypeVar("_T", bound="Task")
_U = TypeVar("_U", bound=Upcaster)

_REGISTRY: dict[tuple[str, str], type[Task]] = {}


class Task(BaseModel):
    """Base class of task contracts: ``class SendEmail(Task, queue="emails"): to: str``.

    Class keywords: ``queue`` (required to send), ``name`` (the job name, default the class
    name) and ``version`` (default 1). Instances are validated at construction.
    """

    __task_queue__: ClassVar[str | None] = None
    __task_name__: ClassVar[str] = ""
    __task_version__: ClassVar[int] = 1
    __task_upcasters__: ClassVar[dict[int, Upcaster]] = {}

    def __init_subclass__(
        cls,
        *,
        queue: str | None = None,
        name: str | None = None,
        version: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if queue is not None:
            if not queue or not isinstance(queue, str):
                raise QueueConfigError(f"{cls.__name__}: queue= must be a non-empty string")
            cls.__task_queue__ = queue
        cls.__task_name__ = name or cls.__name__
        if version is not None:
            if version < 1:
                raise QueueConfigError(f"{cls.__name__}: version= must be >= 1, got {version}")
            cls.__task_version__ = version
        # Upcasters belong to one contract; a subclass starts with its own (empty) table.
        cls.__task_upcasters__ = {}
        if cls.__task_queue__ is not None:
            _REGISTRY[(cls.__task_queue__, cls.__task_name__)] = cls

    # -- producing ---------------------------------------------------------------------------

    def delay(
        self,
        *,
        env: Producer | None = None,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        content_type: str | None = None,
        eta: datetime | None = None,
    ) -> str | None:
        """Enqueue this job; returns the SQS MessageId (``None`` inside a batch block).

        ``delay_seconds`` or ``eta`` (a naive one is UTC) may pass SQS's 15 minutes on
        standard queues."""
        return current_producer(env, self).send_task(
            self,
            delay_seconds=delay_seconds,
            group_id=group_id,
            deduplication_id=deduplication_id,
            content_type=content_type,
            eta=eta,
        )

    async def adelay(
        self,
        *,
        env: Producer | None = None,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        content_type: str | None = None,
        eta: datetime | None = None,
    ) -> str | None:
        """:meth:`delay` for coroutines: the request is made off the event loop."""
        return await current_producer(env, self).asend_task(
            self,
            delay_seconds=delay_seconds,
            group_id=group_id,
            deduplication_id=deduplication_id,
            content_type=content_type,
            eta=eta,
        )

    def run(self, *, env: Producer | None = None) -> Any:
        """Run the registered handler now, in this process, and return its result."""
        return current_producer(env, self).run_task(self)

    async def arun(self, *, env: Producer | None = None) -> Any:
        """Run the registered handler now and return its result, without blocking the loop:
        an async handler is awaited, a sync one runs in a thread."""
        return await current_producer(env, self).arun_task(self)

    @classmethod
    def batch(cls, *, env: Producer | None = None) -> AbstractContextManager[None]:
        """Buffer every send inside the block into ``SendMessageBatch`` calls."""
        return current_producer(env, cls).batch()

    # -- contract metadata -------------------------------------------------------------------

    @classmethod
    def queue_name(cls) -> str:
        """The queue this contract is sent to; raises if the class declares none."""
        if cls.__task_queue__ is None:
            raise QueueConfigError(
                f"{cls.__name__} has no queue: declare it as "
                f"class {cls.__name__}(Task, queue='...')"
            )
        return cls.__task_queue__

    @classmethod
    def job_name(cls) -> str:
        """The ``JobName`` attribute of this contract's messages."""
        return cls.__task_name__ or cls.__name__

    @classmethod
    def upcaster(cls, from_version: int) -> Callable[[_U], _U]:
        """Register a function turning a ``from_version`` payload into ``from_version + 1``."""
        if not 1 <= from_version < cls.__task_version__:
            raise QueueConfigError(
                f"{cls.__name__} is version {cls.__task_version__}: an upcaster must start "
                f"from a version in 1..{cls.__task_version__ - 1}, got {from_version}"
            )

        def register(fn: _U) -> _U:
            cls.__task_upcasters__[from_version] = fn
            return fn

        return register

    @classmethod
    def upcast(cls, payload: dict[str, Any], version: int) -> dict[str, Any]:
        """Bring a payload written by contract ``version`` up to the current version."""
        if version > cls.__task_version__:
            raise InvalidMessage(
                f"message is version {version} of {cls.job_name()!r} but this consumer knows "
                f"versions up to {cls.__task_version__}: deploy the newer consumer first",
                job_name=cls.job_name(),
            )
        for step in range(version, cls.__task_version__):
            upcaster = cls.__task_upcasters__.get(step)
            if upcaster is not None:
                payload = upcaster(dict(payload))
        return payload


def registered_tasks() -> Iterator[type[Task]]:
    """Every contract class with a queue defined so far, in definition order."""
    return iter(list(_REGISTRY.values()))
