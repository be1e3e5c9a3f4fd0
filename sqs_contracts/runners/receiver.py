"""A receive loop of the worker: one queue, long polls, within the room the worker has left.

It accepts no message before the queue's settings are read (never runs on guessed ones),
though all loops but a queue's first poll while that one reads them; it receives only while
acknowledgements go through, retries transient failures for as long as they last, and stops
the worker on failures that waiting cannot fix. What a poll returns once the worker is
stopping is released at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqs_contracts.queues.acknowledge import change_visibility
from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.runners.acker import Acker, Deadlines
from sqs_contracts.runners.holdings import Holdings, Unit
from sqs_contracts.runners.retry import is_fatal, one_line, retry_delay
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES

logger = logging.getLogger(__name__)

Message = Mapping[str, Any]

EMPTY_PAUSE = 1.0
"""Seconds between receives that do not wait (``wait_seconds=0``) and found nothing."""

MIN_RECEIVE = 5
"""The fewest messages a receive loop asks for when the room is shared between loops."""


def loop_layout(limit: int, queues: int, prefetch: int, most: int) -> tuple[int, int]:
    """How many receive loops each queue gets (up to ``most``) and the messages each asks
    for, sharing a worker's room of ``limit`` messages between ``queues`` queues.

    Several receives in flight keep fast handlers fed at real latency: as many full receives
    of ten as the room holds, and at least two (of MIN_RECEIVE or more each, a receive costing
    at most 0.2 requests per job) where it holds that many.
    """
    chunk = min(MAX_BATCH_ENTRIES, prefetch or limit)
    room = limit // queues
    fits = max(room // MAX_BATCH_ENTRIES, min(2, room // MIN_RECEIVE))
    per_queue = max(1, min(most, fits))
    return per_queue, max(1, min(chunk, limit // (queues * per_queue)))


class Receiver:
    """Receives one queue's messages into the worker's holdings until the worker stops."""

    def __init__(
        self,
        queue: GenericQueue,
        *,
        holdings: Holdings,
        acker: Acker,
        deadlines: Deadlines,
        stop: threading.Event,
        clock: Callable[[], float],
        wait_seconds: int,
        share: int,
        on_fatal: Callable[[BaseException, GenericQueue], None],
        on_released: Callable[[int], None],
        run_ready: Callable[[], None],
        poll_first: bool,
    ) -> None:
        self.queue = queue
        self.holdings = holdings
        self.acker = acker
        self.deadlines = deadlines
        self.stop = stop
        self.clock = clock
        self.wait_seconds = wait_seconds
        self.share = share
        self.on_fatal = on_fatal
        self.on_released = on_released
        self.run_ready = run_ready
        """Called after each receive that got messages: runs fast jobs on this thread."""
        self.poll_first = poll_first
        """Poll as soon as the URL is known: another loop reads the settings meanwhile, which
        saves a worker's start one round trip."""
        # A poll holds its room until it returns, so a loop asks for its share of the room
        # only: every loop can then always poll, and none waits behind another's long poll.
        # Past ten, a batch queue receives until it holds a whole batch.
        self.want = max(queue.receive_size, min(MAX_BATCH_ENTRIES, share))
        """The messages each receive asks for."""

    def run(self) -> None:
        """The thread's body: any failure stops the worker rather than this thread alone."""
        try:
            if self.poll_first:
                ready = self._wait_for("URL", lambda: self.queue.url)
            else:
                ready = self.wait_for_settings()
            if ready:
                self._loop()
        except BaseException as exc:  # a bug: stop the worker, never die silently
            logger.exception("receive loop of queue %s failed", self.queue.name)
            self.on_fatal(exc, self.queue)

    def wait_for_settings(self) -> bool:
        """Read the queue's URL and settings, retrying while the endpoint is unreachable."""
        return self._wait_for("settings", lambda: self.queue.settings)

    def _wait_for(self, what: str, read: Callable[[], object]) -> bool:
        failures = 0
        while not self.stop.is_set():
            try:
                read()
                return True
            except Exception as exc:
                if is_fatal(exc):
                    self.on_fatal(exc, self.queue)
                    return False
                failures += 1
                delay = retry_delay(failures)
                logger.warning(
                    "cannot read the %s of queue %s (%s); retrying in %.1f s",
                    what,
                    self.queue.name,
                    one_line(exc),
                    delay,
                    extra={"queue": self.queue.name},
                )
                self.stop.wait(delay)
        return False

    def _loop(self) -> None:
        queue = self.queue
        batch_size = queue.receive_size
        want = self.want
        failures = 0
        settled = not self.poll_first
        while not self.stop.is_set():
            if not self.acker.wait_healthy(self.stop):
                return
            count = self.holdings.reserve(want, self.stop)
            if not count:
                return
            try:
                messages = queue.receive(count, self.wait_seconds)
            except Exception as exc:
                self.holdings.unreserve(count)
                if self.stop.is_set():
                    # The worker stopped during the poll (run() may have returned and the
                    # endpoint gone): nothing is lost and nothing is left to retry.
                    return
                if is_fatal(exc):
                    self.on_fatal(exc, queue)
                    return
                failures += 1
                delay = retry_delay(failures)
                logger.warning(
                    "receive from queue %s failed (%s); retrying in %.1f s",
                    queue.name,
                    one_line(exc),
                    delay,
                    extra={"queue": queue.name},
                )
                self.stop.wait(delay)
                continue
            failures = 0
            # SQS starts a message's visibility timeout when the receive returns it, at the
            # end of a long poll, not at its start: the clock read after the call is the
            # closer (and, under a ManualClock moved during the poll, the only right) time.
            received_at = self.clock()
            if not settled and messages:
                # Polled while another loop read the settings (this waits for that read).
                try:
                    self.queue.settings  # noqa: B018 - cached only once read
                except Exception:
                    self.holdings.unreserve(count)
                    self.release(messages)
                    if not self.wait_for_settings():
                        return
                    continue
                settled = True
            if not self._accept(messages, count, received_at, batch_size):
                self.release(messages)
                return
            if messages:
                self.run_ready()
            elif not self.wait_seconds:
                self.stop.wait(EMPTY_PAUSE)

    def _accept(
        self, messages: Sequence[Message], reserved: int, started: float, batch_size: int
    ) -> bool:
        queue = self.queue
        settings = queue.settings
        visible_at = started + settings.visibility_timeout
        # On FIFO queues a unit holds messages of one group, so its group keeps them in order
        # (batches too: two batches of a group must not run at the same time).
        chunks: dict[str | None, list[Message]] = {}
        for message in messages:
            group = message.get("Attributes", {}).get("MessageGroupId") if settings.fifo else None
            chunks.setdefault(group, []).append(message)
        self.deadlines.set(messages, visible_at)
        units = [
            Unit(queue, group_messages[i : i + batch_size], group, started, visible_at)
            for group, group_messages in chunks.items()
            for i in range(0, len(group_messages), batch_size)
        ]
        return self.holdings.add(units, reserved, here=True)

    def release(self, messages: Sequence[Message]) -> None:
        """Make messages a poll returned while stopping visible again, at once."""
        if not messages:
            return
        try:
            change_visibility(self.queue, [(m, 0) for m in messages])
        except Exception as exc:  # they come back when their visibility timeout ends
            logger.warning(
                "releasing %d messages of queue %s failed: %s",
                len(messages),
                self.queue.name,
                one_line(exc),
            )
        else:
            self.on_released(len(messages))
        self.deadlines.drop(messages)
