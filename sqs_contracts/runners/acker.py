"""Batched acknowledgements for the worker: deletes and visibility changes, sent in tens.

Handlers finish one by one; their messages are collected per queue and sent in
``DeleteMessageBatch`` / ``ChangeMessageVisibilityBatch`` calls as soon as ten are waiting,
or after ``flush_interval`` seconds, so a job is acknowledged shortly after it succeeds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqs_contracts.queues.acknowledge import AckTarget, change_visibility, delete_messages
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

ACK_ATTEMPTS = 4
"""Attempts per acknowledgement call before the messages are left to their visibility timeout."""


def with_retries(
    action: Callable[[], None], what: str, stop: threading.Event | None = None
) -> bool:
    """Run an SQS call, retrying transient failures with backoff; False if it kept failing."""
    for attempt in range(ACK_ATTEMPTS):
        try:
            action()
        except Exception as exc:  # network and throttling errors are retried
            if attempt == ACK_ATTEMPTS - 1:
                logger.error("%s failed %d times, giving up: %s", what, ACK_ATTEMPTS, exc)
                return False
            logger.warning("%s failed (%s), retrying", what, exc)
            delay = 0.2 * 2**attempt
            if stop is not None:
                stop.wait(delay)
            else:
                time.sleep(delay)
        else:
            return True
    return False


class Acker:
    """Collects acknowledgements per queue and sends them in batches of ten."""

    def __init__(self, flush_interval: float = 0.1, senders: int = 4) -> None:
        self.flush_interval = flush_interval
        # Full batches go out on their own threads: a handler thread must not wait a round
        # trip for a delete, and several deletes may be in flight under real SQS latency.
        self._pool = ThreadPoolExecutor(senders, thread_name_prefix="sqs-contracts-ack")
        self._lock = threading.Lock()
        self._deletes: dict[AckTarget, list[Mapping[str, Any]]] = {}
        self._changes: dict[AckTarget, list[tuple[Mapping[str, Any], int]]] = {}
        self._oldest: float | None = None
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqs-contracts-acker", daemon=True)

    def start(self) -> None:
        """Start the timer thread that flushes partial batches."""
        self._thread.start()

    def delete(self, queue: AckTarget, message: Mapping[str, Any]) -> None:
        """Delete a message soon (it succeeded)."""
        full = self._add(self._deletes, queue, message)
        if full:
            self._pool.submit(self._send_deletes, queue, full)

    def change(self, queue: AckTarget, message: Mapping[str, Any], timeout: int) -> None:
        """Set a message's visibility timeout soon (it failed, or it is being released)."""
        full = self._add(self._changes, queue, (message, timeout))
        if full:
            self._pool.submit(self._send_changes, queue, full)

    def _add(self, pending: dict[AckTarget, list[_T]], queue: AckTarget, item: _T) -> list[_T]:
        """Buffer an item; return a full batch to send now (empty when there is none)."""
        with self._lock:
            items = pending.setdefault(queue, [])
            items.append(item)
            if len(items) >= MAX_BATCH_ENTRIES:
                full = items[:]
                items.clear()
                return full
            if self._oldest is None:
                self._oldest = time.monotonic()
                self._wake.set()
            return []

    def flush(self) -> None:
        """Send everything waiting now."""
        with self._lock:
            deletes, self._deletes = self._deletes, {}
            changes, self._changes = self._changes, {}
            self._oldest = None
        for queue, messages in deletes.items():
            if messages:
                self._send_deletes(queue, messages)
        for queue, entries in changes.items():
            if entries:
                self._send_changes(queue, entries)

    def close(self) -> None:
        """Flush, wait for every acknowledgement in flight, and stop the threads."""
        self._stopped.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        self.flush()
        self._pool.shutdown(wait=True)

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                oldest = self._oldest
            if oldest is None:
                continue
            remaining = oldest + self.flush_interval - time.monotonic()
            if remaining > 0 and self._stopped.wait(remaining):
                break
            self.flush()

    @staticmethod
    def _send_deletes(queue: AckTarget, messages: Sequence[Mapping[str, Any]]) -> None:
        with_retries(
            lambda: delete_messages(queue, messages), f"DeleteMessageBatch on {queue.name}"
        )

    @staticmethod
    def _send_changes(queue: AckTarget, entries: Sequence[tuple[Mapping[str, Any], int]]) -> None:
        with_retries(
            lambda: change_visibility(queue, entries),
            f"ChangeMessageVisibilityBatch on {queue.name}",
        )
