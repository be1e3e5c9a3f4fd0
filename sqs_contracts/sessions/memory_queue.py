"""One in-memory SQS queue: message states, visibility, delays, FIFO groups, redrive.

Not thread-safe by itself: :class:`~sqs_contracts.sessions.memory.MemorySession` calls it with
its lock held. Every operation is O(log n) at most; deleted or stale entries are skipped lazily.
"""

from __future__ import annotations

import heapq
import json
import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from sqs_contracts.sessions.memory_checks import (
    FIFO_DEFAULTS,
    STANDARD_DEFAULTS,
    bad_handle,
    invalid,
)
from sqs_contracts.sessions.memory_message import DELAYED, GONE, IN_FLIGHT, VISIBLE, Message

MAX_VISIBILITY = 43_200
"""The longest a message may stay in flight after one receive: 12 hours."""
DEDUP_WINDOW = 300.0
"""How long a FIFO deduplication id suppresses duplicates, in seconds."""


class _Group:
    """A FIFO message group: its waiting messages in order and how many are in flight."""

    __slots__ = ("heap", "in_flight", "key", "queued")

    def __init__(self, key: str) -> None:
        self.key = key
        self.heap: list[tuple[int, Message]] = []
        self.in_flight = 0
        self.queued = False


class MemoryQueue:
    """The state of one queue; the session validates requests and holds the lock."""

    def __init__(
        self,
        name: str,
        url: str,
        arn: str,
        fifo: bool,
        attributes: dict[str, str],
        now: float,
        lock: threading.Lock,
        find_arn: Callable[[str], MemoryQueue | None],
    ) -> None:
        self.name, self.url, self.arn, self.fifo = name, url, arn, fifo
        self.attributes = {**(FIFO_DEFAULTS if fifo else STANDARD_DEFAULTS), **attributes}
        self.created = self.modified = int(now)
        self.cond = threading.Condition(lock)
        self.waiters = 0
        self.find_arn = find_arn
        # Receipt handles carry a per-queue prefix: a handle of another queue or a made-up one
        # is told apart from a stale one of this queue, which SQS accepts without effect.
        self.handle_prefix = f"AQ{secrets.token_hex(6)}/"
        self.handles: dict[str, Message] = {}
        self.visible: list[tuple[int, Message]] = []
        self.groups: dict[str, _Group] = {}
        self.ready: deque[_Group] = deque()
        self.delayed: list[tuple[float, int, Message]] = []
        self.in_flight: list[tuple[float, int, Message]] = []
        self.n_visible = self.n_delayed = self.n_in_flight = 0
        self.dedup: OrderedDict[str, tuple[float, str, str | None]] = OrderedDict()
        self.counter = 0
        # No live message was sent before this: retention scans are skipped until it expires.
        self.oldest = float("inf")
        self.configure()

    def configure(self) -> None:
        """Cache the numeric attributes the hot paths read."""
        a = self.attributes
        self.visibility = int(a["VisibilityTimeout"])
        self.delay = int(a["DelaySeconds"])
        self.retention = int(a["MessageRetentionPeriod"])
        self.max_size = int(a["MaximumMessageSize"])
        self.wait_time = int(a["ReceiveMessageWaitTimeSeconds"])
        self.content_dedup = a.get("ContentBasedDeduplication") == "true"
        self.group_dedup = a.get("DeduplicationScope") == "messageGroup"
        policy = a.get("RedrivePolicy")
        self.redrive: tuple[str, int] | None = None
        if policy:
            parsed = json.loads(policy)
            self.redrive = (parsed["deadLetterTargetArn"], int(parsed["maxReceiveCount"]))

    # --- sending ---------------------------------------------------------------------------

    def find_duplicate(self, key: str, now: float) -> tuple[str, str | None] | None:
        """Return (MessageId, SequenceNumber) of a message sent with ``key`` in the last 5 min."""
        dedup = self.dedup
        while dedup:
            first = next(iter(dedup.values()))
            if first[0] > now:
                break
            dedup.popitem(last=False)
        hit = dedup.get(key)
        return (hit[1], hit[2]) if hit is not None and hit[0] > now else None

    def remember(self, key: str, msg: Message, now: float) -> None:
        """Start the deduplication window of a FIFO message."""
        self.dedup[key] = (now + DEDUP_WINDOW, msg.id, msg.sequence_number)
        self.dedup.move_to_end(key)

    def add(self, msg: Message, delay: int, now: float) -> None:
        """Enqueue a new message, delayed by ``delay`` seconds."""
        self.counter += 1
        msg.seq = self.counter
        self.oldest = min(self.oldest, msg.sent_at)
        if delay > 0:
            msg.state = DELAYED
            self.n_delayed += 1
            heapq.heappush(self.delayed, (now + delay, msg.seq, msg))
        else:
            self._make_visible(msg)

    def _make_visible(self, msg: Message) -> None:
        msg.state = VISIBLE
        self.n_visible += 1
        if msg.group is None or not self.fifo:
            heapq.heappush(self.visible, (msg.seq, msg))
            return
        group = self.groups.get(msg.group)
        if group is None:
            group = self.groups[msg.group] = _Group(msg.group)
        heapq.heappush(group.heap, (msg.seq, msg))
        if not group.in_flight and not group.queued:
            group.queued = True
            self.ready.append(group)

    def tick(self, now: float) -> bool:
        """Make due delayed and timed-out in-flight messages visible; tell whether any did."""
        moved = False
        delayed = self.delayed
        while delayed and delayed[0][0] <= now:
            msg = heapq.heappop(delayed)[2]
            if msg.state == DELAYED:
                self.n_delayed -= 1
                self._make_visible(msg)
                moved = True
        in_flight = self.in_flight
        while in_flight and in_flight[0][0] <= now:
            _, token, msg = heapq.heappop(in_flight)
            if msg.state == IN_FLIGHT and msg.vis_token == token:
                self._leave_flight(msg)
                self._make_visible(msg)
                moved = True
        if moved:
            self.wake()
        return moved

    def next_due(self) -> float | None:
        """Return when the next delayed or in-flight message may become visible."""
        times = [h[0][0] for h in (self.delayed, self.in_flight) if h]
        return min(times) if times else None

    # --- receiving -------------------------------------------------------------------------

    def take(self, count: int, visibility: int, now: float) -> list[Message]:
        """Receive up to ``count`` visible messages, redriving those past maxReceiveCount."""
        out: list[Message] = []
        if not self.fifo:
            visible = self.visible
            # Most messages are neither past retention nor due for redrive: they skip _admit.
            cutoff = now - self.retention
            limit = self.redrive[1] if self.redrive is not None else 1 << 62
            while visible and len(out) < count:
                msg = heapq.heappop(visible)[1]
                if msg.state != VISIBLE:
                    continue
                if msg.sent_at > cutoff and msg.receive_count < limit:
                    self.n_visible -= 1
                elif not self._admit(msg, now):
                    continue
                self._deliver(msg, visibility, now)
                out.append(msg)
            return out
        # FIFO: serve whole groups in the order they became ready; a group with a message in
        # flight is out of the line until nothing of it is in flight any more.
        ready = self.ready
        while ready and len(out) < count:
            group = ready.popleft()
            group.queued = False
            if group.in_flight:
                continue
            while group.heap and len(out) < count:
                msg = heapq.heappop(group.heap)[1]
                if self._admit(msg, now):
                    self._deliver(msg, visibility, now)
                    out.append(msg)
            if group.heap and not group.in_flight:
                group.queued = True
                ready.appendleft(group)
            elif not group.heap and not group.in_flight and self.groups.get(group.key) is group:
                del self.groups[group.key]
        return out

    def _admit(self, msg: Message, now: float) -> bool:
        # A message leaves the visible set here: expired by retention, moved to the
        # dead-letter queue, or about to be delivered.
        self.n_visible -= 1
        if msg.sent_at <= now - self.retention:
            self._drop(msg)
            return False
        redrive = self.redrive
        if redrive is not None and msg.receive_count >= redrive[1]:
            target = self.find_arn(redrive[0])
            if target is not None and target is not self:
                self._drop(msg)
                target.add(msg.moved_copy(self.arn), 0, now)
                target.wake()
                return False
        return True

    def _deliver(self, msg: Message, visibility: int, now: float) -> None:
        if msg.handle is not None:
            self.handles.pop(msg.handle, None)
        self.counter += 1
        msg.handle = f"{self.handle_prefix}{self.counter:x}"
        self.handles[msg.handle] = msg
        msg.receive_count += 1
        msg.received_at = now
        if msg.first_receive_ms is None:
            msg.first_receive_ms = int(now * 1000)
        msg.state = IN_FLIGHT
        self.n_in_flight += 1
        if self.fifo and msg.group is not None:
            self.groups[msg.group].in_flight += 1
        self._schedule(msg, now + visibility)

    def _schedule(self, msg: Message, visible_at: float) -> None:
        self.counter += 1
        msg.vis_token = self.counter
        heapq.heappush(self.in_flight, (visible_at, self.counter, msg))
        # Deleted messages leave entries behind; rebuild before the heap grows unbounded.
        if len(self.in_flight) > 2 * self.n_in_flight + 1024:
            self.in_flight = [
                e for e in self.in_flight if e[2].state == IN_FLIGHT and e[2].vis_token == e[1]
            ]
            heapq.heapify(self.in_flight)

    def _leave_flight(self, msg: Message) -> None:
        self.n_in_flight -= 1
        if self.fifo and msg.group is not None:
            group = self.groups[msg.group]
            group.in_flight -= 1
            if not group.in_flight:
                if group.heap:
                    if not group.queued:
                        group.queued = True
                        self.ready.append(group)
                        # As on SQS, a long poll returns the group's next message at once.
                        self.wake()
                elif not group.queued:
                    del self.groups[msg.group]

    def _drop(self, msg: Message) -> None:
        if msg.handle is not None:
            self.handles.pop(msg.handle, None)
            msg.handle = None
        msg.state = GONE

    def wake(self) -> None:
        """Wake long polls waiting on this queue."""
        if self.waiters:
            self.cond.notify_all()

    # --- acknowledging ---------------------------------------------------------------------

    def _lookup(self, handle: Any) -> Message | None:
        if not isinstance(handle, str) or not handle.startswith(self.handle_prefix):
            raise bad_handle(str(handle))
        return self.handles.get(handle)

    def delete(self, handle: Any) -> None:
        """Delete by receipt handle; a stale handle of this queue succeeds without effect."""
        msg = self._lookup(handle)
        if msg is None:
            return
        if msg.state == IN_FLIGHT:
            self._leave_flight(msg)
        elif self.fifo:
            raise invalid(
                f"Value {handle} for parameter ReceiptHandle is invalid. "
                "Reason: The receipt handle has expired."
            )
        else:
            self.n_visible -= 1
        self._drop(msg)

    def change_visibility(self, handle: Any, timeout: int, now: float) -> None:
        """Set a received message's visibility timeout, counted from now (12 h cap in total)."""
        msg = self._lookup(handle)
        if msg is None or msg.state != IN_FLIGHT:
            raise invalid(
                f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not "
                "exist or is not available for visibility timeout change."
            )
        if now - msg.received_at + timeout > MAX_VISIBILITY:
            raise invalid(
                f"Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                f"VisibilityTimeout for the message is beyond the limit [{MAX_VISIBILITY} seconds]"
            )
        if timeout == 0:
            self._leave_flight(msg)
            self._make_visible(msg)
            self.wake()
        else:
            self._schedule(msg, now + timeout)

    # --- inspection ------------------------------------------------------------------------

    def live(self) -> list[Message]:
        """Every message not deleted yet (visible, delayed or in flight), in send order."""
        heaps: list[list[Any]] = [self.visible, self.delayed, self.in_flight]
        heaps += [group.heap for group in self.groups.values()]
        found = {id(entry[-1]): entry[-1] for heap in heaps for entry in heap}
        return sorted((m for m in found.values() if m.state != GONE), key=lambda m: m.seq)

    def next_receivable(self, now: float) -> float | None:
        """When a receive gets a message: ``now`` if one can be received, else when the next
        delayed or in-flight message becomes visible; None when the queue holds none."""
        if self.fifo:
            if any(group.heap and not group.in_flight for group in self.groups.values()):
                return now
        elif self.n_visible:
            return now
        times = [t for t, _, m in self.delayed if m.state == DELAYED]
        times += [
            t for t, token, m in self.in_flight if m.state == IN_FLIGHT and m.vis_token == token
        ]
        return min(times, default=None)

    # --- whole queue -----------------------------------------------------------------------

    def purge(self) -> None:
        """Delete every message, in flight or not."""
        for msg in self.handles.values():
            msg.state = GONE
        for heap in (self.visible, self.delayed, self.in_flight):
            for entry in heap:
                entry[-1].state = GONE
        for group in self.groups.values():
            for _, msg in group.heap:
                msg.state = GONE
        self.handles.clear()
        self.visible, self.delayed, self.in_flight = [], [], []
        self.groups.clear()
        self.ready.clear()
        self.dedup.clear()
        self.n_visible = self.n_delayed = self.n_in_flight = 0
        self.oldest = float("inf")

    def expire(self, now: float) -> None:
        """Drop messages past the retention period (a full scan: only for queue statistics)."""
        cutoff = now - self.retention
        if cutoff < self.oldest:
            return
        lists: list[list[Any]] = [
            self.visible,
            self.delayed,
            *(g.heap for g in self.groups.values()),
        ]
        for heap in lists:
            for entry in heap:
                msg: Message = entry[-1]
                if msg.sent_at <= cutoff and msg.state in (VISIBLE, DELAYED):
                    if msg.state == VISIBLE:
                        self.n_visible -= 1
                    else:
                        self.n_delayed -= 1
                    self._drop(msg)
            heap[:] = [e for e in heap if e[-1].state != GONE]
            heapq.heapify(heap)
        for msg in list(self.handles.values()):
            if msg.sent_at <= cutoff and msg.state == IN_FLIGHT:
                self._leave_flight(msg)
                self._drop(msg)
        live = [e[-1].sent_at for h in lists for e in h]
        live += [m.sent_at for m in self.handles.values() if m.state == IN_FLIGHT]
        self.oldest = min(live, default=float("inf"))

    def counts(self) -> dict[str, str]:
        """Return the ApproximateNumberOfMessages* attributes."""
        return {
            "ApproximateNumberOfMessages": str(self.n_visible),
            "ApproximateNumberOfMessagesNotVisible": str(self.n_in_flight),
            "ApproximateNumberOfMessagesDelayed": str(self.n_delayed),
        }
