"""The AWS Lambda handler: the records of an SQS event through the worker's dispatch path.

Records become ``Message``s at the edge (``wire.lambda_records``), go to the env's queue named by
their ARN, and through ``dispatch`` as the worker's messages do. Lambda deletes every record
the function does not report, so a success needs no SQS call; a failure is reported by its
``messageId`` and gets its backoff by a visibility change; an invalid message goes to the
dead-letter queue when its queue asks for it. On a FIFO queue a message group stops at its
first failure, and records not started when the time runs low are reported to come back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqs_contracts.dispatch.dispatcher import dispatch
from sqs_contracts.dispatch.results import Outcome
from sqs_contracts.queues.acknowledge import change_visibility, dead_letter, resend
from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.queues.job_queue import JobQueue
from sqs_contracts.queues.raw_queue import RawQueue
from sqs_contracts.wire.lambda_records import (
    InvalidRecord,
    QueueArn,
    message_from_record,
    records_of,
)
from sqs_contracts.wire.message import Message

logger = logging.getLogger(__name__)

DEFAULT_TIME_MARGIN = 5.0
"""Seconds of the invocation's remaining time under which no further record is started."""

LambdaResponse = dict[str, list[dict[str, str]]]
"""``{"batchItemFailures": [{"itemIdentifier": "<messageId>"}, ...]}``."""

LambdaFunction = Callable[[Any, Any], LambdaResponse]
"""What the Lambda runtime calls: ``handler(event, context)``."""


class LambdaHost(Protocol):
    """What the Lambda handler needs of its env: the queue prefix and the queues by name."""

    @property
    def queue_prefix(self) -> str:
        """Prepended to every queue name on SQS; removed from the name in a record's ARN."""
        ...

    @property
    def queues(self) -> Mapping[str, GenericQueue]:
        """The env's queues, by name without the prefix."""
        ...


def has_handlers(queue: GenericQueue) -> bool:
    """Whether a queue has anything to run its messages: a processor or a raw processor."""
    if isinstance(queue, JobQueue):
        return bool(queue.processors)
    if isinstance(queue, RawQueue):
        return queue.processor is not None
    return True


@dataclass(frozen=True, slots=True)
class _Route:
    """Where the records of one ARN go: the queue, whether it is FIFO, records per dispatch."""

    queue: GenericQueue
    fifo: bool
    size: int


@dataclass(eq=False, slots=True)
class _Unit:
    """Records handled by one dispatch: one record, or a list for ``BatchMessages`` queues."""

    queue: GenericQueue
    entries: list[tuple[int, Message]] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class _Lane:
    """Units run one after the other: a FIFO message group, or one unit of a standard queue."""

    ordered: bool
    units: list[_Unit] = field(default_factory=list)


class _Invocation:
    """One event's bookkeeping: which records failed, and the visibility changes to make."""

    def __init__(self, records: Sequence[Mapping[str, Any]], context: Any, margin_ms: float):
        self.records = records
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        self._remaining: Callable[[], float] | None = remaining if callable(remaining) else None
        self._margin_ms = margin_ms
        self._lock = threading.Lock()
        self.failed: set[int] = set()
        self.settled: set[int] = set()
        self.changes: dict[GenericQueue, list[tuple[Message, int]]] = {}
        self.late = 0
        self.late_remaining_ms: float | None = None

    def settle(self, index: int) -> None:
        """A record whose handler completed (or that moved to its dead-letter queue)."""
        with self._lock:
            self.settled.add(index)

    def fail(
        self,
        index: int,
        queue: GenericQueue | None = None,
        message: Message | None = None,
        timeout: int = 0,
    ) -> None:
        """Report a record failed; with its queue, set its visibility timeout too."""
        with self._lock:
            self.failed.add(index)
            if queue is not None and message is not None and message.receipt_handle:
                self.changes.setdefault(queue, []).append((message, timeout))

    def open(self, lane: _Lane, start: int) -> list[tuple[int, Message]]:
        """The records of ``lane`` from unit ``start`` on that are neither settled nor failed."""
        with self._lock:
            return [
                (index, message)
                for unit in lane.units[start:]
                for index, message in unit.entries
                if index not in self.settled and index not in self.failed
            ]

    def release(self, lane: _Lane, start: int) -> int:
        """Report the unrun records of a lane failed and make them visible again at once."""
        count = 0
        for unit in lane.units[start:]:
            for index, message in unit.entries:
                self.fail(index, unit.queue, message, 0)
                count += 1
        return count

    def too_late(self, count: int, remaining_ms: float) -> None:
        """Count records left unstarted because the remaining time was under the margin."""
        with self._lock:
            self.late += count
            self.late_remaining_ms = remaining_ms

    def remaining_ms_if_late(self) -> float | None:
        """The invocation's remaining time when it is under the margin, else None."""
        if self._remaining is None:
            return None
        remaining = float(self._remaining())
        return remaining if remaining < self._margin_ms else None

    def apply_changes(self) -> None:
        """Give failed records their backoff and released ones visibility 0; best effort."""
        for queue, entries in self.changes.items():
            try:
                change_visibility(queue, entries)
            except Exception as exc:  # the records are reported all the same
                logger.error(
                    "could not change the visibility of %d failed messages of queue %s: %s; "
                    "they are reported failed and return when their visibility timeout ends",
                    len(entries),
                    queue.name,
                    exc,
                    extra={"queue": queue.name},
                )

    def response(self) -> LambdaResponse:
        """The partial batch response: the failed records' ids, in event order, once each."""
        ids: dict[str, None] = {}
        for index in sorted(self.failed):
            ids[self.records[index]["messageId"]] = None
        return {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}


class LambdaRunner:
    """Runs an env's handlers on the records of SQS events delivered to a Lambda function."""

    def __init__(
        self,
        host: LambdaHost,
        *,
        concurrency: int = 1,
        time_margin_seconds: float = DEFAULT_TIME_MARGIN,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"lambda_handler(concurrency=...) must be >= 1, got {concurrency}")
        if time_margin_seconds < 0:
            raise ValueError(
                f"lambda_handler(time_margin_seconds=...) must be >= 0, got {time_margin_seconds}"
            )
        self.host = host
        self.concurrency = concurrency
        self.time_margin_seconds = time_margin_seconds
        self._pool: ThreadPoolExecutor | None = None  # made by the first event that needs it

    def handle(self, event: Any, context: Any = None) -> LambdaResponse:
        """Run one event's records; return the ones to retry as ``batchItemFailures``."""
        records = records_of(event)
        invocation = _Invocation(records, context, self.time_margin_seconds * 1000)
        lanes = self._plan(records, invocation)
        if self.concurrency > 1 and len(lanes) > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="sqs-lambda")
            for _ in self._pool.map(lambda lane: self._run_lane(lane, invocation), lanes):
                pass
        else:
            for lane in lanes:
                self._run_lane(lane, invocation)
        if invocation.late:
            logger.warning(
                "%d records not started: %.0f ms left, under the margin of %.0f ms; they are "
                "reported failed and come back",
                invocation.late,
                invocation.late_remaining_ms or 0,
                self.time_margin_seconds * 1000,
            )
        invocation.apply_changes()
        return invocation.response()

    # -- planning ---------------------------------------------------------------------------

    def _plan(self, records: Sequence[Mapping[str, Any]], invocation: _Invocation) -> list[_Lane]:
        """Group records into lanes: one per FIFO message group, one per unit otherwise."""
        lanes: list[_Lane] = []
        open_lanes: dict[tuple[str, str | None], _Lane] = {}
        # An event's records come from one queue, or a few: parse and route each ARN once.
        routes: dict[object, _Route | None] = {}
        for index, record in enumerate(records):
            try:
                source = record.get("eventSourceARN")
                if source in routes:
                    route = routes[source]
                else:
                    route = routes[source] = self._route(QueueArn.parse(source))
                if route is None:
                    invocation.fail(index)
                    continue
                queue = route.queue
                message = message_from_record(record, queue.queue_url)
            except (InvalidRecord, TypeError) as exc:  # TypeError: an unhashable ARN
                logger.error(
                    "record %s of the event cannot be read: %s; it is reported failed",
                    record["messageId"],
                    exc,
                    extra={"message_id": record["messageId"]},
                )
                invocation.fail(index)
                continue
            size = route.size
            if not route.fifo and size == 1:  # the common case: a lane of its own
                lanes.append(_Lane(False, [_Unit(queue, [(index, message)])]))
                continue
            group = message.attributes.get("MessageGroupId", "") if route.fifo else None
            lane = open_lanes.get((queue.name, group))
            if lane is None or (group is None and len(lane.units[-1].entries) >= size):
                lane = open_lanes[queue.name, group] = _Lane(ordered=group is not None)
                lanes.append(lane)
            if not lane.units or len(lane.units[-1].entries) >= size:
                lane.units.append(_Unit(queue))
            lane.units[-1].entries.append((index, message))
        return lanes

    def _route(self, arn: QueueArn) -> _Route | None:
        queue = self._queue_for(arn)
        return None if queue is None else _Route(queue, arn.fifo, queue.receive_size)

    def _queue_for(self, arn: QueueArn) -> GenericQueue | None:
        """The env's queue a record's ARN names, or None (logged) when it has no handlers."""
        prefix = self.host.queue_prefix
        queues = self.host.queues
        queue = queues.get(arn.name[len(prefix) :]) if arn.name.startswith(prefix) else None
        if queue is not None and has_handlers(queue):
            return queue
        handled = sorted(name for name, q in queues.items() if has_handlers(q))
        logger.error(
            "records from queue %r (%s) are reported failed: this env (queue_prefix %r) has no "
            "handler for it (queues with handlers: %s); register its handlers before building "
            "the Lambda handler, or point the event source mapping at the right function",
            arn.name,
            arn,
            prefix,
            handled,
            extra={"queue": arn.name},
        )
        return None

    # -- running ------------------------------------------------------------------------------

    def _run_lane(self, lane: _Lane, invocation: _Invocation) -> None:
        start = 0
        try:
            for start, unit in enumerate(lane.units):
                remaining = invocation.remaining_ms_if_late()
                if remaining is not None:
                    invocation.too_late(invocation.release(lane, start), remaining)
                    return
                if not self._run_unit(unit, invocation) and lane.ordered:
                    self._stop_group(lane, start + 1, invocation)
                    return
        except Exception:  # a bug here must not fail the other records of the event
            logger.exception("running records of the event raised; they are reported failed")
            for index, message in invocation.open(lane, start):
                invocation.fail(index, lane.units[start].queue, message, 0)

    def _run_unit(self, unit: _Unit, invocation: _Invocation) -> bool:
        """Dispatch one unit and report its outcomes; True when every record settled."""
        queue = unit.queue
        offload = queue.large_payloads
        # Pointers are resolved; their objects stay, as Lambda deletes the messages itself.
        messages = [m if offload is None else offload.resolve(m) for _, m in unit.entries]
        outcomes = dispatch(queue, messages)
        settled = True
        for (index, message), outcome in zip(unit.entries, outcomes, strict=True):
            if (
                outcome.success
                or (outcome.action == "defer" and _resend(queue, message, outcome))
                or (
                    outcome.action == "dead_letter"
                    and outcome.reason is not None
                    and _dead_letter(queue, message, outcome.reason)
                )
            ):
                invocation.settle(index)
            else:
                invocation.fail(index, queue, message, outcome.visibility_timeout)
                settled = False
        return settled

    @staticmethod
    def _stop_group(lane: _Lane, start: int, invocation: _Invocation) -> None:
        """After a failure in a FIFO group, its later records are reported without running."""
        count = invocation.release(lane, start)
        if count:
            queue = lane.units[0].queue
            group = lane.units[0].entries[0][1].attributes.get("MessageGroupId")
            logger.info(
                "%d later records of message group %r of queue %s not run after a failure; "
                "they are reported failed to keep the group's order",
                count,
                group,
                queue.name,
                extra={"queue": queue.name},
            )


def _dead_letter(queue: GenericQueue, message: Message, reason: str) -> bool:
    """Move an invalid message to the queue's dead-letter queue; False when it did not move."""
    try:
        return dead_letter(queue, message, reason)
    except Exception:  # reported failed instead; redrive moves it later
        logger.exception(
            "moving message %s of queue %s to its dead-letter queue failed; it is reported "
            "failed and gets its backoff",
            message.message_id,
            queue.name,
            extra={"queue": queue.name, "message_id": message.message_id},
        )
        return False


def _resend(queue: GenericQueue, message: Message, outcome: Outcome) -> bool:
    """Send a long-delayed record again for the time left; False when that failed."""
    try:
        resend(queue, message, outcome.visibility_timeout)
    except Exception:  # reported failed instead: it returns after its backoff
        logger.exception("re-sending long-delayed message %s failed", message.message_id)
        return False
    return True


def make_handler(
    host: LambdaHost, *, concurrency: int = 1, time_margin_seconds: float = DEFAULT_TIME_MARGIN
) -> LambdaFunction:
    """A plain ``handler(event, context)`` for the Lambda runtime; it makes no network call."""
    runner = LambdaRunner(host, concurrency=concurrency, time_margin_seconds=time_margin_seconds)

    def handler(event: Any, context: Any = None) -> LambdaResponse:
        """Handle one SQS event; returns the records to retry as ``batchItemFailures``."""
        return runner.handle(event, context)

    return handler
