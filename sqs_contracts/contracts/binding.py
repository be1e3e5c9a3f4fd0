"""Which producer a contract's ``.delay()`` goes through, without importing the env.

``SQSEnv`` implements :class:`Producer` and registers itself here when it is created; a
contract asks :func:`current_producer` for the one to use. This keeps ``contracts`` below
``env`` in the layers.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from pydantic import BaseModel

from sqs_contracts.contracts.errors import NoCurrentEnv


class Producer(Protocol):
    """What a contract needs of an env to send and run itself."""

    def send_task(
        self,
        task: BaseModel,
        *,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """Encode and send a contract instance; returns the MessageId (None when batching)."""
        ...

    async def asend_task(
        self,
        task: BaseModel,
        *,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """``send_task`` for coroutines: checked at the call, sent off the event loop."""
        ...

    def run_task(self, task: BaseModel) -> Any:
        """Call the contract's handler in-process."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """Buffer the sends of the block into ``SendMessageBatch`` calls."""
        ...


_active: contextvars.ContextVar[Producer | None] = contextvars.ContextVar(
    "sqs_contracts_env", default=None
)
_last_created: Producer | None = None


def register(producer: Producer) -> None:
    """Record a newly created producer (the last created is the default)."""
    global _last_created
    _last_created = producer


@contextmanager
def activate(producer: Producer) -> Iterator[Producer]:
    """Make ``producer`` the one ``.delay()`` uses inside the block (per thread and task)."""
    token = _active.set(producer)
    try:
        yield producer
    finally:
        _active.reset(token)


def current_producer(producer: Producer | None = None, subject: object = None) -> Producer:
    """The producer to use: ``producer`` if given, else the active one, else the last created."""
    found = producer or _active.get() or _last_created
    if found is None:
        what = getattr(subject, "__name__", type(subject).__name__) if subject else "this job"
        raise NoCurrentEnv(
            f"no SQSEnv to send {what} through: create one (env = SQSEnv(...)), pass env=, "
            f"or wrap the call in `with env.activate():`"
        )
    return found
