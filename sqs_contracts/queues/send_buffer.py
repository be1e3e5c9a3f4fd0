"""The send buffer behind batch blocks, and the send threads and coalescer of an env.

Inside ``env.batch()``, ``async with env.abatch()``, ``queue.add_batch()`` or ``Model.batch()``
sends are buffered per thread (per task under asyncio) and queue, and go out in
``SendMessageBatch`` requests of at most 10 entries and 1 MiB: a chunk leaves for a send
thread as soon as it is full, so several requests are in flight while the block goes on,
and the rest leaves when the outermost block exits, which then waits for every request and
raises the failures, naming each job that was not sent. A session that answers at once
(``MemorySession``) has no round trip to overlap: its requests are made on the caller's
thread, which spares a thread hand-off per request.

On a FIFO queue a request waits until the earlier requests carrying one of its message
groups are done, so each group reaches SQS in the order it was enqueued.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqs_contracts.queues.batch_requests import (
    SEND_RETRIES,
    chunk_messages,
    request_failure,
    send_batch,
)
from sqs_contracts.queues.coalescer import Coalescer, linger_of
from sqs_contracts.queues.send_hooks import BatchTarget
from sqs_contracts.queues.send_pool import SEND_THREADS, SendPool
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES, answers_at_once
from sqs_contracts.sessions.errors import SendBatchError
from sqs_contracts.wire.envelope import OutgoingMessage

__all__ = [
    "SEND_RETRIES",
    "BatchTarget",
    "SendBuffer",
    "chunk_messages",
    "send_batch",
]


@dataclass(slots=True)
class _Pending:
    """One queue's buffered messages and their bytes, kept as a running total."""

    queue: BatchTarget
    messages: list[OutgoingMessage] = field(default_factory=list)
    size: int = 0

    def take(self) -> list[OutgoingMessage]:
        """Empty the buffer and return what it held: entries SQS accepted must not be sent
        again when the send raises for the others and the block's exit flushes."""
        chunk = self.messages[:]
        self.messages.clear()
        self.size = 0
        return chunk


def _send_chunk(queue: BatchTarget, chunk: list[OutgoingMessage], done: Future[None]) -> None:
    """Make one request on a send thread; ``done`` fails with the jobs not sent."""
    try:
        send_batch(queue, chunk)
    except SendBatchError as exc:
        done.set_exception(exc)
    except BaseException as exc:  # a bug below must still name the jobs it did not send
        failures = [request_failure(str(i), m, exc) for i, m in enumerate(chunk)]
        done.set_exception(SendBatchError(queue.name, failures))
    else:
        done.set_result(None)


_Start = Callable[[], None]
"""Starts one request: on a send thread, or here when the session answers at once."""


def _start_all(starts: Sequence[_Start]) -> None:
    # Called with the block's lock released: a request made here runs the middleware, which
    # may enqueue in turn.
    for start in starts:
        start()


def _raise_failures(requests: Sequence[Future[None]]) -> None:
    """Raise one :class:`SendBatchError` with every job the finished requests did not send."""
    by_queue: dict[str, list[Mapping[str, Any]]] = {}
    for request in requests:
        exc = request.exception()
        if isinstance(exc, SendBatchError):
            by_queue.setdefault(exc.queue_name, []).extend(exc.errors)
    if len(by_queue) == 1:
        ((name, errors),) = by_queue.items()
        raise SendBatchError(name, errors)
    if by_queue:
        raise SendBatchError(
            ", ".join(by_queue),
            [
                {**error, "JobName": f"{error.get('JobName', '?')} on {name}"}
                for name, errors in by_queue.items()
                for error in errors
            ],
        )


@dataclass
class _BlockState:
    """The batch blocks open in one thread or task, what they hold and what is in flight."""

    depth: int = 0
    scoped: Counter[str] = field(default_factory=Counter)
    pending: dict[str, _Pending] = field(default_factory=dict)
    in_flight: dict[str, list[Future[None]]] = field(default_factory=dict)
    last_of_group: dict[tuple[str, str], Future[None]] = field(default_factory=dict)
    # Tasks started inside an async block share it, and may hand work to threads.
    lock: threading.Lock = field(default_factory=threading.Lock)


class SendBuffer:
    """The sending side of one env: batch blocks, the send threads and the coalescer."""

    def __init__(self, coalesce: bool | float = False, send_threads: int = SEND_THREADS) -> None:
        self.pool = SendPool(send_threads)
        """The threads requests are made on, off the caller's thread or event loop."""
        linger = linger_of(coalesce)
        self.coalescer = Coalescer(self.pool, linger) if linger is not None else None
        """Gathers concurrent sends into batch requests (``SQSEnv(coalesce=...)``), or None."""
        self._state: contextvars.ContextVar[_BlockState | None] = contextvars.ContextVar(
            f"sqs_contracts_send_buffer_{id(self)}", default=None
        )

    def is_batching(self, queue_name: str) -> bool:
        """Tell whether sends to this queue are being buffered in this thread or task."""
        state = self._state.get()
        return state is not None and (state.depth > 0 or state.scoped[queue_name] > 0)

    def add(self, queue: BatchTarget, message: OutgoingMessage) -> None:
        """Buffer a message; a chunk leaves as soon as it is full (10 entries or 1 MiB)."""
        state = self._state.get()
        if state is None:
            raise RuntimeError("SendBuffer.add() outside a batch block: check is_batching()")
        starts: list[_Start] = []
        with state.lock:
            pending = state.pending.get(queue.name)
            if pending is None:
                pending = state.pending[queue.name] = _Pending(queue)
            if pending.messages and pending.size + message.size > MAX_MESSAGE_BYTES:
                self._submit(state, pending.queue, pending.take(), starts)
            pending.messages.append(message)
            pending.size += message.size
            if len(pending.messages) == MAX_BATCH_ENTRIES:
                self._submit(state, pending.queue, pending.take(), starts)
        if starts:  # nine adds in ten start nothing
            _start_all(starts)

    def flush(self, queue_name: str | None = None) -> None:
        """Send what is buffered for one queue, or for every queue, and wait for it."""
        state = self._state.get()
        if state is None:
            return
        starts: list[_Start] = []
        with state.lock:
            names = [queue_name] if queue_name is not None else list(state.pending)
            requests = self._take(state, names, starts)
        _start_all(starts)
        concurrent.futures.wait(requests)
        _raise_failures(requests)

    @contextmanager
    def block(self, queue_name: str | None = None) -> Iterator[None]:
        """A batch block: for one queue, or for every queue when ``queue_name`` is None.

        The buffer is flushed when the block exits, even when it raises: what was enqueued
        was validated and accepted, and chunks may already be on the queue, so dropping the
        rest would lose work without making the block atomic.
        """
        state, token = self._enter(queue_name)
        try:
            yield
        finally:
            requests = self._leave(state, token, queue_name)
            concurrent.futures.wait(requests)
            _raise_failures(requests)

    @asynccontextmanager
    async def ablock(self, queue_name: str | None = None) -> AsyncIterator[None]:
        """:meth:`block` for coroutines: its exit awaits the requests without blocking the loop."""
        state, token = self._enter(queue_name)
        try:
            yield
        finally:
            requests = self._leave(state, token, queue_name)
            if requests:
                await asyncio.wait([asyncio.wrap_future(request) for request in requests])
            _raise_failures(requests)

    # -- internals ---------------------------------------------------------------------------

    def _enter(
        self, queue_name: str | None
    ) -> tuple[_BlockState, contextvars.Token[_BlockState | None] | None]:
        state = self._state.get()
        token = None
        if state is None:
            state = _BlockState()
            token = self._state.set(state)
        with state.lock:
            if queue_name is None:
                state.depth += 1
            else:
                state.scoped[queue_name] += 1
        return state, token

    def _leave(
        self,
        state: _BlockState,
        token: contextvars.Token[_BlockState | None] | None,
        queue_name: str | None,
    ) -> list[Future[None]]:
        """Close a block; send what it leaves and return the requests to wait for."""
        starts: list[_Start] = []
        with state.lock:
            if queue_name is None:
                state.depth -= 1
            else:
                state.scoped[queue_name] -= 1
            names: list[str] = []
            if state.depth == 0:
                if queue_name is not None:
                    names = [queue_name] if state.scoped[queue_name] == 0 else []
                else:
                    known = {*state.pending, *state.in_flight}
                    names = [name for name in known if state.scoped[name] == 0]
            requests = self._take(state, names, starts)
        if token is not None:
            self._state.reset(token)
        _start_all(starts)
        return requests

    def _take(
        self, state: _BlockState, names: Sequence[str], starts: list[_Start]
    ) -> list[Future[None]]:
        """Queue up what is buffered for ``names``; return their requests (lock held)."""
        requests: list[Future[None]] = []
        for name in names:
            pending = state.pending.pop(name, None)
            if pending is not None:
                for chunk in chunk_messages(pending.messages):
                    self._submit(state, pending.queue, chunk, starts)
            requests.extend(state.in_flight.pop(name, ()))
            for key in [key for key in state.last_of_group if key[0] == name]:
                del state.last_of_group[key]
        return requests

    def _submit(
        self,
        state: _BlockState,
        queue: BatchTarget,
        chunk: list[OutgoingMessage],
        starts: list[_Start],
    ) -> None:
        """Add a request to ``starts``, to start once the lock is released, or have it start
        when the requests it must follow are done (lock held)."""
        done: Future[None] = Future()
        done.set_running_or_notify_cancel()  # an awaiting task that is cancelled cannot drop it
        state.in_flight.setdefault(queue.name, []).append(done)
        groups = (
            {m.group_id for m in chunk if m.group_id is not None}
            if queue.url.endswith(".fifo")
            else set()
        )
        before = {
            last
            for group in groups
            if (last := state.last_of_group.get((queue.name, group))) is not None
            and not last.done()
        }
        for group in groups:
            state.last_of_group[(queue.name, group)] = done

        def start() -> None:
            if answers_at_once(queue.session):
                _send_chunk(queue, chunk, done)
            else:
                self.pool.submit(_send_chunk, queue, chunk, done)

        if not before:
            starts.append(start)
            return
        remaining = [len(before)]
        count_lock = threading.Lock()

        def one_done(_: Future[None]) -> None:
            with count_lock:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                start()

        for request in before:
            request.add_done_callback(one_done)
