"""Which producer a contract's ``.delay()`` goes through, without importing the env.

``SQSEnv`` implements :class:`Producer` and registers itself here when it is created; a
contract asks :func:`current_producer` for the one to use. This keeps ``contracts`` below
``env`` in the layers.

The rule: ``env=`` if given, else the innermost ``with env.activate():``, else the one env
on which the contract's queue is registered, else the only env of the process. It never
silently picks one of several: with none or several candidates it raises ``NoCurrentEnv``.
"""

from __future__ import annotations

import contextvars
import gc
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
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
        eta: datetime | None = None,
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
        eta: datetime | None = None,
    ) -> str | None:
        """``send_task`` for coroutines: checked at the call, sent off the event loop."""
        ...

    def run_task(self, task: BaseModel) -> Any:
        """Call the contract's handler in-process."""
        ...

    async def arun_task(self, task: BaseModel) -> Any:
        """Run the contract's handler in-process without blocking the running loop."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """Buffer the sends of the block into ``SendMessageBatch`` calls."""
        ...

    def serves(self, queue_name: str) -> bool:
        """Whether the queue is registered on this producer (a handler or ``env.queue(...)``)."""
        ...


_active: contextvars.ContextVar[Producer | None] = contextvars.ContextVar(
    "sqs_contracts_env", default=None
)
# Weak references: an env the application dropped must not stay a candidate for ever.
_created: weakref.WeakSet[Any] = weakref.WeakSet()
_lock = threading.Lock()


def register(producer: Producer) -> None:
    """Record a newly created producer as a candidate for ``.delay()`` without ``env=``."""
    with _lock:
        _created.add(producer)


@contextmanager
def activate(producer: Producer) -> Iterator[Producer]:
    """Make ``producer`` the one ``.delay()`` uses inside the block (per thread and task)."""
    token = _active.set(producer)
    try:
        yield producer
    finally:
        _active.reset(token)


def _live() -> list[Producer]:
    with _lock:
        return list(_created)


def _queue_of(subject: object) -> str | None:
    cls = subject if isinstance(subject, type) else type(subject)
    queue_name = getattr(cls, "__task_queue__", None)
    return queue_name if isinstance(queue_name, str) else None


def _candidates(choose: Callable[[list[Producer]], list[Producer]]) -> list[Producer]:
    found = choose(_live())
    if len(found) > 1:
        # Envs of finished tests or dropped objects may be garbage that reference cycles keep
        # alive until the next collection: collect, so the count does not depend on timing.
        del found
        gc.collect()
        found = choose(_live())
    return found


def current_producer(producer: Producer | None = None, subject: object = None) -> Producer:
    """The producer to use: ``producer`` if given, else the active one, else the one serving
    the subject's queue, else the only one; raises :class:`NoCurrentEnv` otherwise."""
    if producer is not None:
        return producer
    active = _active.get()
    if active is not None:
        return active
    queue_name = _queue_of(subject)
    if queue_name is not None:
        serving = _candidates(lambda envs: [e for e in envs if e.serves(queue_name)])
        if len(serving) == 1:
            return serving[0]
        if serving:
            raise _ambiguous(subject, serving, f"the queue {queue_name!r} is registered on")
    every = _candidates(lambda envs: envs)
    if len(every) == 1:
        return every[0]
    raise _ambiguous(subject, every, "there are")


def _ambiguous(subject: object, candidates: list[Producer], where: str) -> NoCurrentEnv:
    named = subject is not None
    what = getattr(subject, "__name__", type(subject).__name__) if named else "this job"
    example = what if named else "Task"
    fix = f"pass env= ({example}(...).delay(env=env)), or wrap the call in `with env.activate():`"
    if not candidates:
        return NoCurrentEnv(
            f"no SQSEnv to send {what} through: create one (env = SQSEnv(...)), {fix}"
        )
    listed = ", ".join(sorted(repr(c) for c in candidates))
    return NoCurrentEnv(
        f"cannot tell which SQSEnv sends {what}: {where} {len(candidates)} envs ({listed}); "
        f"{fix}, or register the queue on one env only (a handler or env.queue(...))"
    )
