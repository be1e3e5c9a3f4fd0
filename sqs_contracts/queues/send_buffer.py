"""The send buffer behind batch blocks.

Inside ``env.batch()``, ``queue.add_batch()`` or ``Model.batch()`` sends are buffered per
thread and queue and go out in ``SendMessageBatch`` calls of at most 10 entries and 1 MiB,
flushed as soon as a chunk is full and when the outermost block exits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqs_contracts.dispatch.middleware import MiddlewareChain
from sqs_contracts.queues.send_hooks import report_batch
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES, SQSSession
from sqs_contracts.sessions.errors import SendBatchError
from sqs_contracts.wire.envelope import OutgoingMessage

logger = logging.getLogger(__name__)

SEND_RETRIES = 3
"""How many times entries that failed on the server side are sent again."""


class BatchTarget(Protocol):
    """The queue a batch is sent to: its name, URL and session."""

    @property
    def name(self) -> str:
        """The queue's name."""
        ...

    @property
    def url(self) -> str:
        """The queue URL."""
        ...

    @property
    def session(self) -> SQSSession:
        """The SQS session."""
        ...

    @property
    def middleware(self) -> MiddlewareChain:
        """The env's middleware, told of each request and each message's id."""
        ...


def chunk_messages(
    messages: Sequence[OutgoingMessage], max_bytes: int = MAX_MESSAGE_BYTES
) -> Iterator[list[OutgoingMessage]]:
    """Split messages into request-sized chunks: at most 10 entries and ``max_bytes``."""
    chunk: list[OutgoingMessage] = []
    size = 0
    for message in messages:
        if chunk and (len(chunk) == MAX_BATCH_ENTRIES or size + message.size > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(message)
        size += message.size
    if chunk:
        yield chunk


def send_batch(queue: BatchTarget, messages: Sequence[OutgoingMessage]) -> list[str]:
    """Send one chunk with ``SendMessageBatch``; retry server-side failures, raise the rest.

    Returns the MessageIds in the order of ``messages``.
    """
    ids: dict[str, str] = {}
    chain = queue.middleware
    if not chain:
        _send_entries(queue, messages, ids)
        return [ids[str(i)] for i in range(len(messages))]
    chain.before_send_batch(queue.name, messages)
    try:
        _send_entries(queue, messages, ids)
    except BaseException as exc:
        report_batch(chain, queue.name, messages, ids, exc)
        raise
    report_batch(chain, queue.name, messages, ids, None)
    return [ids[str(i)] for i in range(len(messages))]


def _send_entries(
    queue: BatchTarget, messages: Sequence[OutgoingMessage], ids: dict[str, str]
) -> None:
    """The requests of one chunk: fills ``ids`` (MessageId by entry index) as SQS accepts
    entries, so a request that raises still tells which messages went out."""
    pending = {str(i): message for i, message in enumerate(messages)}
    failed: dict[str, dict[str, Any]] = {}
    for attempt in range(SEND_RETRIES + 1):
        entries = [{"Id": key, **m.send_kwargs()} for key, m in pending.items()]
        response = queue.session.send_message_batch(QueueUrl=queue.url, Entries=entries)
        for ok in response.get("Successful", []):
            ids[ok["Id"]] = ok["MessageId"]
            pending.pop(ok["Id"], None)
        retry: dict[str, OutgoingMessage] = {}
        for bad in response.get("Failed", []):
            message = pending.pop(bad["Id"], None)
            if message is None:
                continue
            if bad.get("SenderFault") or attempt == SEND_RETRIES:
                failed[bad["Id"]] = {**bad, "JobName": message.job_name}
            else:
                retry[bad["Id"]] = message
        if not retry:
            break
        logger.warning(
            "retrying %d failed SendMessageBatch entries for queue %s",
            len(retry),
            queue.name,
            extra={"queue": queue.name},
        )
        time.sleep(0.05 * 2**attempt)
        pending = retry
    if failed:
        raise SendBatchError(queue.name, list(failed.values()))


def _send_taken(queue: BatchTarget, buffered: list[OutgoingMessage]) -> None:
    """Send what is buffered, emptying the buffer first: entries SQS accepted must not be
    sent again when the send raises for the others and the block's exit flushes."""
    chunk = buffered[:]
    buffered.clear()
    send_batch(queue, chunk)


@dataclass
class _ThreadState:
    depth: int = 0
    scoped: Counter[str] = field(default_factory=Counter)
    pending: dict[str, tuple[BatchTarget, list[OutgoingMessage]]] = field(default_factory=dict)


class SendBuffer:
    """The per-thread buffer of one env: which queues are batching, and what waits to be sent."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _state(self) -> _ThreadState:
        state: _ThreadState | None = getattr(self._local, "state", None)
        if state is None:
            state = self._local.state = _ThreadState()
        return state

    def is_batching(self, queue_name: str) -> bool:
        """Tell whether sends to this queue are being buffered in this thread."""
        state: _ThreadState | None = getattr(self._local, "state", None)
        return state is not None and (state.depth > 0 or state.scoped[queue_name] > 0)

    def add(self, queue: BatchTarget, message: OutgoingMessage) -> None:
        """Buffer a message; send a chunk as soon as it is full (10 entries or 1 MiB)."""
        state = self._state()
        entry = state.pending.setdefault(queue.name, (queue, []))
        buffered = entry[1]
        if buffered and sum(m.size for m in buffered) + message.size > MAX_MESSAGE_BYTES:
            _send_taken(queue, buffered)
        buffered.append(message)
        if len(buffered) == MAX_BATCH_ENTRIES:
            _send_taken(queue, buffered)

    def flush(self, queue_name: str | None = None) -> None:
        """Send what is buffered for one queue, or for every queue."""
        state = self._state()
        names = [queue_name] if queue_name is not None else list(state.pending)
        for name in names:
            entry = state.pending.pop(name, None)
            if entry is None:
                continue
            queue, buffered = entry
            for chunk in chunk_messages(buffered):
                send_batch(queue, chunk)

    @contextmanager
    def block(self, queue_name: str | None = None) -> Iterator[None]:
        """A batch block: for one queue, or for every queue when ``queue_name`` is None.

        The buffer is flushed when the block exits, even when it raises: what was enqueued
        was validated and accepted, and partial chunks may already be on the queue, so
        dropping the rest would lose work without making the block atomic.
        """
        state = self._state()
        if queue_name is None:
            state.depth += 1
        else:
            state.scoped[queue_name] += 1
        try:
            yield
        finally:
            if queue_name is None:
                state.depth -= 1
            else:
                state.scoped[queue_name] -= 1
            if state.depth == 0:
                if queue_name is None:
                    self._flush_idle(state)
                elif state.scoped[queue_name] == 0:
                    self.flush(queue_name)

    def _flush_idle(self, state: _ThreadState) -> None:
        for name in list(state.pending):
            if state.scoped[name] == 0:
                self.flush(name)
