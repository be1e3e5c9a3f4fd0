"""Middleware: hooks around sending, processing and dead-lettering jobs, and the worker's run.

A middleware is any object with some of the hooks of :class:`Middleware` (subclass it to
get the signatures and no-op defaults). :class:`MiddlewareChain` calls them in the order
they were added, the ``after_*`` hooks (and ``on_send_error``, ``on_worker_stop``) in
reverse, so the first middleware wraps all the others. A hook that raises is logged and
ignored: observing a job must never fail it, nor a send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from sqs_contracts.dispatch.results import Outcome
from sqs_contracts.wire.envelope import OutgoingMessage, job_name_of
from sqs_contracts.wire.message import Message

__all__ = ["HOOKS", "JobInfo", "JobSource", "Middleware", "MiddlewareChain", "job_info"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class JobInfo:
    """One received job as middleware and the outcome log see it.

    ``state`` is scratch space a middleware fills in ``before_process`` and reads back in
    ``after_process``; ``log_fields`` are added to the job's outcome log line (``trace_id``).
    """

    queue: str
    job_name: str | None
    message_id: str
    attempt: int
    message: Message
    contract: type[BaseModel] | None = None
    max_receive_count: int | None = None
    batched: bool = False
    state: dict[str, Any] = field(default_factory=dict)
    log_fields: dict[str, Any] = field(default_factory=dict)

    @property
    def last_attempt(self) -> bool:
        """True when a failure now sends the message to the dead-letter queue."""
        return self.max_receive_count is not None and self.attempt >= self.max_receive_count

    @property
    def sent_timestamp(self) -> float | None:
        """When SQS accepted the message, in epoch seconds (``SentTimestamp``), if known."""
        sent = self.message.attributes.get("SentTimestamp")
        try:
            return int(sent) / 1000 if sent else None
        except ValueError:
            return None


class JobSource(Protocol):
    """The queue a job was received from, as far as building a :class:`JobInfo` needs."""

    @property
    def name(self) -> str:
        """The queue's name (without the env's prefix)."""
        ...

    @property
    def max_receive_count(self) -> int | None:
        """The redrive policy's ``maxReceiveCount``, once the queue's settings were read."""
        ...

    @property
    def middleware(self) -> MiddlewareChain:
        """The env's middleware."""
        ...

    def contract_of(self, job_name: str | None) -> type[BaseModel] | None:
        """The contract class of a job name on this queue, when one is registered."""
        ...


def job_info(source: JobSource, message: Mapping[str, Any], *, batched: bool = False) -> JobInfo:
    """The view of one received message that hooks and the outcome log get."""
    record = Message.of(message)
    job_name = job_name_of(record)
    return JobInfo(
        queue=source.name,
        job_name=job_name,
        message_id=record.message_id,
        attempt=record.receive_count,
        message=record,
        contract=source.contract_of(job_name),
        max_receive_count=source.max_receive_count,
        batched=batched,
    )


class Middleware:
    """The hooks a middleware may implement; each is a no-op here, override any subset."""

    def before_send(self, message: OutgoingMessage) -> None:
        """A job is about to be sent (or buffered in a batch block); attributes may be added."""

    def after_send(self, message: OutgoingMessage, message_id: str) -> None:
        """SQS accepted the message under ``message_id``."""

    def on_send_error(self, message: OutgoingMessage, error: BaseException) -> None:
        """The message was not sent: ``error`` says why (it is raised to the sender too)."""

    def before_send_batch(self, queue: str, messages: Sequence[OutgoingMessage]) -> None:
        """One ``SendMessageBatch`` request of already announced messages is about to go out."""

    def after_send_batch(
        self, queue: str, messages: Sequence[OutgoingMessage], error: BaseException | None
    ) -> None:
        """The request is over; ``after_send``/``on_send_error`` ran for each of its messages."""

    def before_process(self, job: JobInfo) -> None:
        """A received job is about to be decoded and handled (its context is current)."""

    def after_process(self, job: JobInfo, outcome: Outcome, duration_s: float) -> None:
        """The job is handled: ``outcome`` says delete, retry or dead-letter, and why."""

    def on_dead_letter(self, job: JobInfo, reason: str) -> None:
        """The job's message was moved to the dead-letter queue, or failed its last attempt
        before SQS moves it there."""

    def on_worker_start(self, worker: object) -> None:
        """A worker is about to start receiving."""

    def on_worker_stop(self, worker: object) -> None:
        """A worker has stopped and flushed its acknowledgements."""


HOOKS = tuple(name for name in vars(Middleware) if name.startswith(("before_", "after_", "on_")))
"""The names of the hooks, in the order :class:`Middleware` declares them."""

_REVERSED = frozenset(
    {"after_send", "on_send_error", "after_send_batch", "after_process", "on_worker_stop"}
)


class MiddlewareChain:
    """The env's middleware, in order; calls each hook on every middleware that has it."""

    __slots__ = ("_hooks", "_middleware")

    def __init__(self, middleware: Iterable[object] = ()) -> None:
        self._middleware: list[object] = []
        self._hooks: dict[str, list[tuple[object, Callable[..., Any]]]] = {h: [] for h in HOOKS}
        for item in middleware:
            self.add(item)

    def add(self, middleware: object) -> None:
        """Append a middleware: any object with one or more of the hooks of ``Middleware``."""
        found = {name: getattr(middleware, name, None) for name in HOOKS}
        if not any(callable(hook) for hook in found.values()):
            raise TypeError(
                f"{middleware!r} has none of the middleware hooks ({', '.join(HOOKS)}): "
                f"subclass sqs_contracts.Middleware and override the ones you need"
            )
        hooks = {name: list(entries) for name, entries in self._hooks.items()}
        no_ops = vars(Middleware)
        for name, hook in found.items():
            # The base class's no-ops are skipped, so an unused hook costs nothing per job.
            if not callable(hook) or getattr(type(middleware), name, None) is no_ops[name]:
                continue
            if name in _REVERSED:
                hooks[name].insert(0, (middleware, hook))
            else:
                hooks[name].append((middleware, hook))
        self._hooks = hooks
        self._middleware = [*self._middleware, middleware]

    def __bool__(self) -> bool:
        return bool(self._middleware)

    def __len__(self) -> int:
        return len(self._middleware)

    def __iter__(self) -> Iterator[object]:
        return iter(self._middleware)

    def __repr__(self) -> str:
        return f"MiddlewareChain({self._middleware!r})"

    def _call(self, name: str, *args: Any) -> None:
        for middleware, hook in self._hooks[name]:
            try:
                hook(*args)
            except Exception:
                logger.exception(
                    "middleware %r raised in %s; ignored, the job or send goes on",
                    middleware,
                    name,
                    extra={"middleware": type(middleware).__qualname__, "hook": name},
                )

    def before_send(self, message: OutgoingMessage) -> None:
        """Call every ``before_send`` in order."""
        self._call("before_send", message)

    def after_send(self, message: OutgoingMessage, message_id: str) -> None:
        """Call every ``after_send`` in reverse order."""
        self._call("after_send", message, message_id)

    def on_send_error(self, message: OutgoingMessage, error: BaseException) -> None:
        """Call every ``on_send_error`` in reverse order."""
        self._call("on_send_error", message, error)

    def before_send_batch(self, queue: str, messages: Sequence[OutgoingMessage]) -> None:
        """Call every ``before_send_batch`` in order."""
        self._call("before_send_batch", queue, messages)

    def after_send_batch(
        self, queue: str, messages: Sequence[OutgoingMessage], error: BaseException | None
    ) -> None:
        """Call every ``after_send_batch`` in reverse order."""
        self._call("after_send_batch", queue, messages, error)

    def before_process(self, job: JobInfo) -> None:
        """Call every ``before_process`` in order."""
        self._call("before_process", job)

    def after_process(self, job: JobInfo, outcome: Outcome, duration_s: float) -> None:
        """Call every ``after_process`` in reverse order."""
        self._call("after_process", job, outcome, duration_s)

    def on_dead_letter(self, job: JobInfo, reason: str) -> None:
        """Call every ``on_dead_letter`` in order."""
        self._call("on_dead_letter", job, reason)

    def on_worker_start(self, worker: object) -> None:
        """Call every ``on_worker_start`` in order."""
        self._call("on_worker_start", worker)

    def on_worker_stop(self, worker: object) -> None:
        """Call every ``on_worker_stop`` in reverse order."""
        self._call("on_worker_stop", worker)
