"""An in-memory SQS with SQS's behaviour and error codes, for tests, demos and benchmarks."""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqs_contracts.sessions.base import MAX_MESSAGE_BYTES, Response
from sqs_contracts.sessions.clock import Clock
from sqs_contracts.sessions.memory_admin import QueueRegistry, ok
from sqs_contracts.sessions.memory_attributes import AttributeCache
from sqs_contracts.sessions.memory_checks import (
    BATCH_TOO_LONG,
    MISSING_PARAMETER,
    SQSFault,
    check_batch,
    check_body,
    check_fifo_id,
    check_range,
    failed_entry,
    invalid,
    no_such_queue,
)
from sqs_contracts.sessions.memory_message import VISIBLE, Message, Renderer
from sqs_contracts.sessions.memory_queue import MemoryQueue


def _raw_size(entry: Mapping[str, Any]) -> int:
    # The request-size rule counts what the client sent, valid or not.
    body = entry.get("MessageBody")
    size = len(body.encode("utf-8", "surrogatepass")) if isinstance(body, str) else 0
    for name, attr in (entry.get("MessageAttributes") or {}).items():
        size += len(str(name).encode()) + len(str(attr.get("DataType", "")).encode())
        value = attr.get("StringValue", attr.get("BinaryValue", b""))
        size += len(
            value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
        )
    return size


class MemorySession(QueueRegistry):
    """An :class:`~sqs_contracts.sessions.base.SQSSession` that keeps queues in memory.

    Behaves as SQS does (visibility, redrive, FIFO, limits, error codes); time comes from ``clock``.
    """

    answers_at_once = True
    """Its calls never wait on a network: batch blocks send on the caller's thread."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
    ) -> None:
        super().__init__(clock, region, account_id)
        # MessageIds look like SQS's UUIDs: a random prefix per session and a counter.
        h = secrets.token_hex(9)
        self._id_prefix = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-a{h[15:18]}-"
        self._ids = itertools.count(1)
        self._sequence = itertools.count(1)
        self._attribute_cache = AttributeCache()

    def __repr__(self) -> str:
        return f"MemorySession({self.clock!r}, region={self.region!r}, queues={len(self._by_name)})"

    def client(self, service_name: str = "sqs", **kwargs: Any) -> MemorySession:
        """Return this session, for code written against ``boto3.Session().client("sqs")``."""
        if service_name != "sqs":
            raise ValueError(f"MemorySession only provides 'sqs', not {service_name!r}")
        return self

    # --- sending ---------------------------------------------------------------------------

    def _build(self, body: Any, attributes: Any) -> tuple[Message, int]:
        body = check_body(body)
        attrs, attrs_size, md5_attrs = self._attribute_cache.prepare(attributes)
        encoded = body.encode()
        message_id = f"{self._id_prefix}{next(self._ids):012x}"
        message = Message(message_id, body, hashlib.md5(encoded).hexdigest(), attrs, md5_attrs)
        return message, len(encoded) + attrs_size

    def _check_fifo(self, queue: MemoryQueue, delay: Any, group: Any, dedup: Any) -> None:
        if delay is not None:
            check_range("DelaySeconds", delay, 0, 900)
        if not queue.fifo:
            if dedup is not None:
                raise invalid(
                    f"Value {dedup} for parameter MessageDeduplicationId is invalid. Reason: The "
                    "request includes a parameter that is not valid for this queue type."
                )
            return
        if group is None:
            raise SQSFault(
                MISSING_PARAMETER, "The request must contain the parameter MessageGroupId."
            )
        if delay:
            raise invalid(
                f"Value {delay} for parameter DelaySeconds is invalid. Reason: The request include "
                "parameter that is not valid for this queue type."
            )
        if dedup is None and not queue.content_dedup:
            raise invalid(
                "The queue should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )

    def _enqueue(
        self, queue: MemoryQueue, message: Message, size: int, delay: Any, group: Any, dedup: Any
    ) -> Message:
        """Add a built message (lock held); return it, or the original when it is a duplicate."""
        if size > queue.max_size:
            raise invalid(
                "One or more parameters are invalid. "
                f"Reason: Message must be shorter than {queue.max_size} bytes."
            )
        now = self.clock.time()
        if group is not None:
            message.group = check_fifo_id(group, "MessageGroupId")
        if queue.fifo:
            if dedup is None:
                dedup = hashlib.sha256(message.body.encode()).hexdigest()
            message.dedup_id = check_fifo_id(dedup, "MessageDeduplicationId")
            key = f"{group}\x00{dedup}" if queue.group_dedup else dedup
            duplicate = queue.find_duplicate(key, now)
            if duplicate is not None:
                message.id, message.sequence_number = duplicate
                return message
            message.sequence_number = str(
                18_000_000_000_000_000_000 + next(self._sequence) * 65_536
            )
            queue.remember(key, message, now)
        message.sent_at = now
        message.sent_ms = int(now * 1000)
        queue.add(message, queue.delay if delay is None or queue.fifo else delay, now)
        if queue.waiters and message.state == VISIBLE:
            queue.wake()
        return message

    def send_message(
        self,
        *,
        QueueUrl: str,
        MessageBody: str,
        DelaySeconds: int | None = None,
        MessageAttributes: Mapping[str, Mapping[str, Any]] | None = None,
        MessageDeduplicationId: str | None = None,
        MessageGroupId: str | None = None,
    ) -> Response:
        """Send one message; returns ``MessageId``, MD5s and, on FIFO queues, ``SequenceNumber``."""
        try:
            message, size = self._build(MessageBody, MessageAttributes)
            with self._lock:
                queue = self._queue(QueueUrl)
                self._check_fifo(queue, DelaySeconds, MessageGroupId, MessageDeduplicationId)
                sent = self._enqueue(
                    queue, message, size, DelaySeconds, MessageGroupId, MessageDeduplicationId
                )
        except SQSFault as fault:
            raise fault.client_error("SendMessage") from None
        result = ok(MD5OfMessageBody=sent.md5_body, MessageId=sent.id)
        if sent.md5_attrs is not None:
            result["MD5OfMessageAttributes"] = sent.md5_attrs
        if sent.sequence_number is not None:
            result["SequenceNumber"] = sent.sequence_number
        return result

    def send_message_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Send up to 10 messages; invalid entries are reported in ``Failed``, the rest are sent."""
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        try:
            check_batch(Entries, "SendMessageBatch")
            built: list[tuple[Message, int] | SQSFault] = []
            for entry in Entries:
                try:
                    built.append(
                        self._build(entry.get("MessageBody"), entry.get("MessageAttributes"))
                    )
                except SQSFault as fault:
                    built.append(fault)
            total = sum(
                _raw_size(entry) if isinstance(item, SQSFault) else item[1]
                for entry, item in zip(Entries, built, strict=True)
            )
            if total > MAX_MESSAGE_BYTES:
                raise SQSFault(
                    BATCH_TOO_LONG,
                    f"Batch requests cannot be longer than {MAX_MESSAGE_BYTES} bytes. "
                    f"You have sent {total} bytes.",
                )
            with self._lock:
                queue = self._queue(QueueUrl)
                for entry in Entries:
                    self._check_fifo(
                        queue,
                        entry.get("DelaySeconds"),
                        entry.get("MessageGroupId"),
                        entry.get("MessageDeduplicationId"),
                    )
                for entry, item in zip(Entries, built, strict=True):
                    try:
                        if isinstance(item, SQSFault):
                            raise item
                        sent = self._enqueue(
                            queue,
                            *item,
                            entry.get("DelaySeconds"),
                            entry.get("MessageGroupId"),
                            entry.get("MessageDeduplicationId"),
                        )
                    except SQSFault as fault:
                        failed.append(failed_entry(entry["Id"], fault))
                        continue
                    done: dict[str, Any] = {
                        "Id": entry["Id"],
                        "MessageId": sent.id,
                        "MD5OfMessageBody": sent.md5_body,
                    }
                    if sent.md5_attrs is not None:
                        done["MD5OfMessageAttributes"] = sent.md5_attrs
                    if sent.sequence_number is not None:
                        done["SequenceNumber"] = sent.sequence_number
                    successful.append(done)
        except SQSFault as fault:
            raise fault.client_error("SendMessageBatch") from None
        return ok(Successful=successful, Failed=failed)

    # --- receiving -------------------------------------------------------------------------

    def receive_message(
        self,
        *,
        QueueUrl: str,
        AttributeNames: Sequence[str] | None = None,
        MessageSystemAttributeNames: Sequence[str] | None = None,
        MessageAttributeNames: Sequence[str] | None = None,
        MaxNumberOfMessages: int | None = None,
        VisibilityTimeout: int | None = None,
        WaitTimeSeconds: int | None = None,
        ReceiveRequestAttemptId: str | None = None,
    ) -> Response:
        """Receive up to ``MaxNumberOfMessages``, long polling until a message is visible."""
        try:
            count = (
                1
                if MaxNumberOfMessages is None
                else check_range("MaxNumberOfMessages", MaxNumberOfMessages, 1, 10)
            )
            if VisibilityTimeout is not None:
                check_range("VisibilityTimeout", VisibilityTimeout, 0, 43_200)
            if WaitTimeSeconds is not None:
                check_range("WaitTimeSeconds", WaitTimeSeconds, 0, 20)
            with self._lock:
                queue = self._queue(QueueUrl)
                visibility = queue.visibility if VisibilityTimeout is None else VisibilityTimeout
                wait = queue.wait_time if WaitTimeSeconds is None else WaitTimeSeconds
                now = self.clock.time()
                queue.tick(now)
                taken = queue.take(count, visibility, now)
                if not taken and wait > 0:
                    taken = self._long_poll(queue, count, visibility, wait, now)
                messages = []
                if taken:
                    render = Renderer(
                        [*(AttributeNames or ()), *(MessageSystemAttributeNames or ())],
                        MessageAttributeNames,
                        self._sender_id,
                    ).render
                    messages = [render(m) for m in taken]
        except SQSFault as fault:
            raise fault.client_error("ReceiveMessage") from None
        return ok(Messages=messages) if messages else ok()

    def _long_poll(
        self, queue: MemoryQueue, count: int, visibility: int, wait: float, now: float
    ) -> list[Message]:
        # Waits on the queue's condition (lock held); sends, visibility changes, a manual clock
        # moving and the next due delay or timeout all end the wait early. ``now`` is the time
        # of the last look at the queue: the clock is not read again before waiting, so a
        # manual clock can tell whether it moved in between.
        deadline = time.monotonic() + wait
        queue.waiters += 1
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                due = queue.next_due()
                timeout = remaining if due is None else min(remaining, max(due - now, 0.001))
                self.clock.wait(queue.cond, timeout)
                if self._by_url.get(queue.url) is not queue:
                    raise no_such_queue()
                now = self.clock.time()
                queue.tick(now)
                taken = queue.take(count, visibility, now)
                if taken:
                    return taken
        finally:
            queue.waiters -= 1

    # --- acknowledging ---------------------------------------------------------------------

    def delete_message(self, *, QueueUrl: str, ReceiptHandle: str) -> Response:
        """Delete a received message by its latest receipt handle."""
        try:
            with self._lock:
                queue = self._queue(QueueUrl)
                queue.tick(self.clock.time())
                queue.delete(ReceiptHandle)
        except SQSFault as fault:
            raise fault.client_error("DeleteMessage") from None
        return ok()

    def delete_message_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Delete up to 10 messages; bad receipt handles are reported in ``Failed``."""
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        try:
            check_batch(Entries, "DeleteMessageBatch")
            with self._lock:
                queue = self._queue(QueueUrl)
                queue.tick(self.clock.time())
                for entry in Entries:
                    try:
                        queue.delete(entry.get("ReceiptHandle"))
                    except SQSFault as fault:
                        failed.append(failed_entry(entry["Id"], fault))
                    else:
                        successful.append({"Id": entry["Id"]})
        except SQSFault as fault:
            raise fault.client_error("DeleteMessageBatch") from None
        return ok(Successful=successful, Failed=failed)

    def change_message_visibility(
        self, *, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int
    ) -> Response:
        """Make a received message visible again after ``VisibilityTimeout`` seconds from now."""
        try:
            check_range("VisibilityTimeout", VisibilityTimeout, 0, 43_200)
            with self._lock:
                queue = self._queue(QueueUrl)
                now = self.clock.time()
                queue.tick(now)
                queue.change_visibility(ReceiptHandle, VisibilityTimeout, now)
        except SQSFault as fault:
            raise fault.client_error("ChangeMessageVisibility") from None
        return ok()

    def change_message_visibility_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Change the visibility of up to 10 messages; failures are reported in ``Failed``."""
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        try:
            check_batch(Entries, "ChangeMessageVisibilityBatch")
            with self._lock:
                queue = self._queue(QueueUrl)
                now = self.clock.time()
                queue.tick(now)
                for entry in Entries:
                    try:
                        timeout = check_range(
                            "VisibilityTimeout", entry.get("VisibilityTimeout", 0), 0, 43_200
                        )
                        queue.change_visibility(entry.get("ReceiptHandle"), timeout, now)
                    except SQSFault as fault:
                        failed.append(failed_entry(entry["Id"], fault))
                    else:
                        successful.append({"Id": entry["Id"]})
        except SQSFault as fault:
            raise fault.client_error("ChangeMessageVisibilityBatch") from None
        return ok(Successful=successful, Failed=failed)
