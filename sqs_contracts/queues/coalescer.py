"""Coalescer: concurrent sends from many threads or tasks go out together in batch requests.

With ``SQSEnv(coalesce=True)`` (or a linger in ms) every ``.delay()`` and ``.adelay()`` hands
its checked message to the coalescer of the env and waits for its own outcome. Messages to
one queue are gathered into ``SendMessageBatch`` requests of at most 10 entries and 1 MiB,
several in flight at once on the send threads. A request goes out when it is full, when its
oldest message has waited the linger and fewer than two of the queue's requests are in
flight, or at once when the queue is quiet (nothing waiting, nothing in flight, nothing
sent for a linger), so a lone call is never held back.

Each caller gets its own MessageId, or a :class:`SendBatchError` naming its job when its entry
failed; entries of the same request that succeeded are not affected.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass

from sqs_contracts.queues.batch_requests import request_failure, send_entries
from sqs_contracts.queues.send_hooks import BatchTarget
from sqs_contracts.queues.send_pool import SendPool
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES
from sqs_contracts.sessions.errors import QueueConfigError, SendBatchError
from sqs_contracts.wire.envelope import OutgoingMessage

DEFAULT_LINGER_MS = 5.0
"""The linger of ``coalesce=True``: well under one SQS round trip, long enough to fill a
request when callers come back from the previous one."""

PARTIAL_IN_FLIGHT = 2
"""A partly filled request leaves only while fewer of the queue's requests are in flight;
otherwise its entries wait for one to finish and fill up meanwhile, so that a slow endpoint
gets fuller requests, not more of them."""

IDLE_EXIT_SECONDS = 1.0
"""How long the linger thread waits with nothing to send before it exits."""


def linger_of(coalesce: bool | float) -> float | None:
    """The linger in ms that ``SQSEnv(coalesce=...)`` asks for; None when it is off."""
    if coalesce is False or coalesce is None:
        return None
    if coalesce is True:
        return DEFAULT_LINGER_MS
    if isinstance(coalesce, (int, float)) and coalesce >= 0:
        return float(coalesce)
    raise QueueConfigError(
        f"coalesce={coalesce!r}: pass True, False, or a linger in milliseconds (>= 0), "
        f"for example SQSEnv(coalesce=5)"
    )


@dataclass(slots=True)
class _Entry:
    message: OutgoingMessage
    future: Future[str]
    added: float


class _Lane:
    """What waits for one queue, and how many of its requests are in flight."""

    def __init__(self, queue: BatchTarget) -> None:
        self.queue = queue
        self.entries: deque[_Entry] = deque()
        self.in_flight = 0
        self.last_done = float("-inf")


class Coalescer:
    """Gathers the sends of concurrent callers into ``SendMessageBatch`` requests."""

    def __init__(self, pool: SendPool, linger_ms: float = DEFAULT_LINGER_MS) -> None:
        self.pool = pool
        self.linger = linger_ms / 1000
        self.max_in_flight = pool.max_workers
        self._cond = threading.Condition()
        self._lanes: dict[BatchTarget, _Lane] = {}
        self._linger_thread: threading.Thread | None = None

    def send(self, queue: BatchTarget, message: OutgoingMessage) -> str:
        """Send a checked message with others; block until its MessageId or its error."""
        return self.submit(queue, message).result()

    def submit(self, queue: BatchTarget, message: OutgoingMessage) -> Future[str]:
        """Queue a checked message for the next request to ``queue``; returns its future."""
        future: Future[str] = Future()
        now = time.monotonic()
        with self._cond:
            lane = self._lanes.get(queue)
            if lane is None:
                lane = self._lanes[queue] = _Lane(queue)
            quiet = not lane.entries and not lane.in_flight and now - lane.last_done >= self.linger
            lane.entries.append(_Entry(message, future, now))
            ready = self._take_ready(lane, now, send_now=quiet)
            if len(lane.entries) == 1 and lane.in_flight < PARTIAL_IN_FLIGHT:
                self._wake_linger_thread()
        for chunk in ready:
            self.pool.submit(self._send, lane, chunk)
        return future

    def _take_ready(self, lane: _Lane, now: float, send_now: bool = False) -> list[list[_Entry]]:
        """Take the requests that may go out now (called with the lock held)."""
        ready: list[list[_Entry]] = []
        entries = lane.entries
        while entries and lane.in_flight < self.max_in_flight:
            count, size = 0, 0
            for entry in entries:
                too_big = count and size + entry.message.size > MAX_MESSAGE_BYTES
                if count == MAX_BATCH_ENTRIES or too_big:
                    break
                count += 1
                size += entry.message.size
            full = count < len(entries) or count == MAX_BATCH_ENTRIES
            due = send_now or now >= entries[0].added + self.linger
            if not (full or (due and lane.in_flight < PARTIAL_IN_FLIGHT)):
                break
            send_now = False
            # A caller that cancelled (an awaiting task) before its request left is dropped.
            chunk = [
                entry
                for entry in (entries.popleft() for _ in range(count))
                if entry.future.set_running_or_notify_cancel()
            ]
            if chunk:
                lane.in_flight += 1
                ready.append(chunk)
        return ready

    def _send(self, lane: _Lane, chunk: list[_Entry]) -> None:
        """Make one request (on a send thread) and hand each caller its own outcome."""
        try:
            outcomes = send_entries(lane.queue, [entry.message for entry in chunk])
        except BaseException as exc:  # a bug below must still reach every caller
            outcomes = [request_failure(str(i), e.message, exc) for i, e in enumerate(chunk)]
        for entry, outcome in zip(chunk, outcomes, strict=True):
            if isinstance(outcome, str):
                entry.future.set_result(outcome)
            else:
                entry.future.set_exception(SendBatchError(lane.queue.name, [outcome]))
        now = time.monotonic()
        with self._cond:
            lane.in_flight -= 1
            lane.last_done = now
            ready = self._take_ready(lane, now)
            if lane.entries:
                self._wake_linger_thread()
        for next_chunk in ready:
            self.pool.submit(self._send, lane, next_chunk)

    def _wake_linger_thread(self) -> None:
        """Make sure the thread that sends lingering messages runs (lock held)."""
        if self._linger_thread is None:
            self._linger_thread = threading.Thread(
                target=self._linger_loop, name="sqs-contracts-coalesce", daemon=True
            )
            self._linger_thread.start()
        else:
            self._cond.notify()

    def _linger_loop(self) -> None:
        """Send partly filled requests whose oldest message has waited the linger."""
        while True:
            ready: list[tuple[_Lane, list[_Entry]]] = []
            with self._cond:
                now = time.monotonic()
                deadline: float | None = None
                waiting = False
                for lane in self._lanes.values():
                    ready.extend((lane, chunk) for chunk in self._take_ready(lane, now))
                    if lane.entries:
                        waiting = True
                        if lane.in_flight < PARTIAL_IN_FLIGHT:
                            due = lane.entries[0].added + self.linger
                            deadline = due if deadline is None else min(deadline, due)
                if not ready:
                    if not waiting:
                        self._cond.wait(IDLE_EXIT_SECONDS)
                        if not any(lane.entries for lane in self._lanes.values()):
                            self._linger_thread = None
                            return
                    else:
                        # With the slots busy, a finishing request sends the next.
                        self._cond.wait(None if deadline is None else max(0.0, deadline - now))
                    continue
            for lane, chunk in ready:
                self.pool.submit(self._send, lane, chunk)
