"""Batched acknowledgements for the worker: deletes and visibility changes, sent in tens.

Handlers finish one by one; their messages are collected per queue and sent in
``DeleteMessageBatch`` / ``ChangeMessageVisibilityBatch`` calls as soon as ten are waiting,
or after ``flush_interval`` seconds. A call that fails, and each entry of an answer that
failed in a way a retry may fix, is retried until the message's visibility ends: after that
SQS may deliver it to another consumer, and the delete can no longer prevent a second run.
"""

from __future__ import annotations

import logging
import math
import queue as queue_module
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqs_contracts.queues.acknowledge import AckTarget, change_visibility, delete_messages
from sqs_contracts.runners.retry import is_fatal, one_line, retry_delay
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
Message = Mapping[str, Any]


class Deadlines:
    """When the visibility of each held message ends, in the worker's clock, by receipt."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ends: dict[str, float] = {}

    def set(self, messages: Iterable[Message], end: float) -> None:
        """Record that messages stay invisible until ``end``."""
        with self._lock:
            for message in messages:
                self._ends[message["ReceiptHandle"]] = end

    def get(self, messages: Iterable[Message]) -> list[float]:
        """When each message's visibility ends (never, for a message not tracked)."""
        with self._lock:
            return [self._ends.get(m["ReceiptHandle"], math.inf) for m in messages]

    def drop(self, messages: Iterable[Message]) -> None:
        """Forget messages (acknowledged, or past their deadline)."""
        with self._lock:
            for message in messages:
                self._ends.pop(message["ReceiptHandle"], None)


class Acker:
    """Collects acknowledgements per queue and sends them in batches of ten, with retries."""

    def __init__(
        self,
        flush_interval: float = 0.1,
        senders: int = 4,
        *,
        clock: Callable[[], float] = time.monotonic,
        deadlines: Deadlines | None = None,
        on_fatal: Callable[[BaseException, AckTarget], None] | None = None,
    ) -> None:
        self.flush_interval = flush_interval
        self.clock = clock
        self.deadlines = deadlines or Deadlines()
        self._on_fatal = on_fatal
        self._lock = threading.Lock()
        self._deletes: dict[AckTarget, list[Message]] = {}
        self._changes: dict[AckTarget, list[tuple[Message, int]]] = {}
        self._oldest: float | None = None
        self._wake = threading.Event()
        self._timing = False  # the timer thread follows _oldest: no need to wake it
        self._stopped = threading.Event()
        self._abort = threading.Event()
        # Daemon senders, not an executor: a sender stuck in a call during an outage must
        # not keep the process from exiting at the end of the grace period.
        self._jobs: queue_module.Queue[Callable[[], None] | None] = queue_module.Queue()
        self._busy = 0
        self._idle = threading.Condition(self._lock)
        self._failing = 0
        self.healthy = threading.Event()
        """Set while acknowledgements go through; receiving pauses while it is clear."""
        self.healthy.set()
        self._threads = [
            threading.Thread(target=self._send_loop, name=f"sqs-contracts-ack-{i}", daemon=True)
            for i in range(senders)
        ]
        self._thread = threading.Thread(target=self._run, name="sqs-contracts-acker", daemon=True)

    def start(self) -> None:
        """Start the sender threads and the timer thread that flushes partial batches."""
        for thread in [*self._threads, self._thread]:
            thread.start()

    def delete(self, queue: AckTarget, message: Message) -> None:
        """Delete a message soon (it succeeded)."""
        full = self._add(self._deletes, queue, message)
        if full:
            self._submit(self._send_deletes, queue, full)

    def delete_all(self, deletes: Sequence[tuple[AckTarget, Message]]) -> None:
        """Delete messages soon, as :meth:`delete` does each, taking the lock once."""
        full: list[tuple[AckTarget, list[Message]]] = []
        with self._lock:
            for queue, message in deletes:
                batch = self._append(self._deletes, queue, message)
                if batch:
                    full.append((queue, batch))
                    self._busy += 1
            self._time_rest()
        for queue, messages in full:
            self._submit(self._send_deletes, queue, messages)

    def change(self, queue: AckTarget, message: Message, timeout: int) -> None:
        """Set a message's visibility timeout soon (it failed, or it is being released)."""
        full = self._add(self._changes, queue, (message, timeout))
        if full:
            self._submit(self._send_changes, queue, full)

    def _add(self, pending: dict[AckTarget, list[_T]], queue: AckTarget, item: _T) -> list[_T]:
        """Buffer an item; return a full batch to send now (empty when there is none)."""
        with self._lock:
            full = self._append(pending, queue, item)
            if full:
                self._busy += 1
                self._time_rest()
                return full
            # No batch was cut, so something is waiting: only an idle timer needs starting.
            if self._oldest is None:
                self._oldest = time.monotonic()
                if not self._timing:
                    self._wake.set()
            return []

    @staticmethod
    def _append(pending: dict[AckTarget, list[_T]], queue: AckTarget, item: _T) -> list[_T]:
        """Buffer an item (under the lock); return the batch it fills, else an empty list."""
        items = pending.setdefault(queue, [])
        items.append(item)
        if len(items) < MAX_BATCH_ENTRIES:
            return []
        full = items[:]
        items.clear()
        return full

    def _time_rest(self) -> None:
        """Set the flush timer after items were added and full batches taken (under the lock)."""
        if not any(self._deletes.values()) and not any(self._changes.values()):
            # Nothing left waiting: the flush timer starts again with the next item (else it
            # would send a partial batch of whatever arrived since).
            self._oldest = None
        elif self._oldest is None:
            self._oldest = time.monotonic()
            if not self._timing:
                self._wake.set()

    def _submit(self, send: Callable[[AckTarget, list[_T]], None], queue: Any, items: Any) -> None:
        # The batch was counted in _busy when it left the buffer, under the same lock: close()
        # then waits for it even when it runs between that moment and this put.
        self._jobs.put(lambda: send(queue, items))

    def flush(self) -> None:
        """Hand everything waiting to the senders now."""
        with self._lock:
            batches: list[tuple[Callable[[AckTarget, Any], None], AckTarget, Any]] = [
                *((self._send_deletes, q, items) for q, items in self._deletes.items() if items),
                *((self._send_changes, q, items) for q, items in self._changes.items() if items),
            ]
            self._deletes, self._changes = {}, {}
            self._oldest = None
            self._busy += len(batches)
        for send, queue, items in batches:
            self._submit(send, queue, items)

    def wait_healthy(self, stop: threading.Event) -> bool:
        """Block while acknowledgements fail; False when ``stop`` is set first."""
        if self.healthy.is_set():  # without the Event's lock: asked once per job
            return not stop.is_set()
        while not self.healthy.wait(0.1):
            if stop.is_set():
                return False
        return not stop.is_set()

    def close(self, until: float | None = None) -> bool:
        """Flush and wait for every acknowledgement in flight, until ``until`` (monotonic
        time) at the latest; then abandon what is left. True when everything went out."""
        self._stopped.set()
        self._wake.set()
        self.flush()
        with self._lock:
            while self._busy:
                left = None if until is None else until - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._idle.wait(0.1 if left is None else min(0.1, left))
            done = not self._busy
        self._abort.set()
        for _ in self._threads:
            self._jobs.put(None)
        if not done:
            logger.error(
                "acknowledgements still failing at exit: their messages return to their "
                "queues when their visibility timeout ends, and run again"
            )
        return done

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait()
            self._wake.clear()
            # Flush once the oldest item waiting is flush_interval old. A full batch sent
            # meanwhile may have taken it: the timer then follows the next oldest, and stays
            # one interval after the last, so that adds need not wake it batch after batch.
            lingered = False
            while True:
                with self._lock:
                    oldest = self._oldest
                    self._timing = oldest is not None or not lingered
                    if not self._timing:
                        break
                if oldest is None:
                    lingered, wait = True, self.flush_interval
                else:
                    lingered, wait = False, oldest + self.flush_interval - time.monotonic()
                    if wait <= 0:
                        self.flush()
                        continue
                if self._stopped.wait(wait):
                    return

    def _send_loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception:  # a bug must not take a sender thread down with it
                logger.exception("sending acknowledgements failed")
            finally:
                with self._lock:
                    self._busy -= 1
                    if not self._busy:
                        self._idle.notify_all()

    def _send_deletes(self, queue: AckTarget, messages: list[Message]) -> None:
        self._retrying(
            queue,
            messages,
            lambda items: delete_messages(queue, items),
            lambda item: item,
            f"DeleteMessageBatch on {queue.name}",
        )

    def _send_changes(self, queue: AckTarget, entries: list[tuple[Message, int]]) -> None:
        self._retrying(
            queue,
            entries,
            lambda items: change_visibility(queue, items),
            lambda item: item[0],
            f"ChangeMessageVisibilityBatch on {queue.name}",
        )

    def _retrying(
        self,
        queue: AckTarget,
        items: list[_T],
        send: Callable[[list[_T]], Sequence[_T]],
        message_of: Callable[[_T], Message],
        what: str,
    ) -> None:
        """Send, then resend what failed, until it went through or its visibility ended."""
        failures = 0
        handled = [message_of(i) for i in items]
        try:
            while items:
                items = self._drop_late(items, message_of, what, queue)
                if not items:
                    break
                try:
                    items = list(send(items))
                except Exception as exc:
                    if is_fatal(exc):
                        logger.error("%s failed: %s", what, one_line(exc))
                        if self._on_fatal is not None:
                            self._on_fatal(exc, queue)
                        return
                    logger.warning("%s failed (%s), retrying", what, one_line(exc))
                else:
                    if not items:
                        break
                    logger.warning("%s: %d entries failed, retrying", what, len(items))
                if failures == 0:
                    self._set_failing(+1)
                failures += 1
                if self._abort.wait(retry_delay(failures, base=0.1, cap=1.0)):
                    logger.error("%s: abandoned %d message(s) at exit", what, len(items))
                    return
        finally:
            if failures:
                self._set_failing(-1)
            self.deadlines.drop(handled)

    def _drop_late(
        self, items: list[_T], message_of: Callable[[_T], Message], what: str, queue: AckTarget
    ) -> list[_T]:
        """The items whose visibility has not ended yet; the others are logged and dropped."""
        now = self.clock()
        ends = self.deadlines.get([message_of(i) for i in items])
        keep = [i for i, end in zip(items, ends, strict=True) if end > now]
        if len(keep) < len(items):
            logger.error(
                "%s: gave up on %d message(s) whose visibility timeout ended; SQS delivers "
                "them again",
                what,
                len(items) - len(keep),
                extra={"queue": queue.name},
            )
        return keep

    def _set_failing(self, change: int) -> None:
        with self._lock:
            self._failing += change
            if self._failing:
                self.healthy.clear()
            else:
                self.healthy.set()
