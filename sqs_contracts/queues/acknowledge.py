"""Acknowledging dispatched messages: delete on success, back off on failure, dead-letter.

The one place where a message's outcome becomes SQS calls; a message is deleted only after
its handler succeeded, or after it was copied to the dead-letter queue.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sqs_contracts.dispatch.backoff import MAX_VISIBILITY_TIMEOUT
from sqs_contracts.dispatch.middleware import JobSource, job_info
from sqs_contracts.dispatch.results import BatchProcessingResult, Outcome
from sqs_contracts.queues.long_delay import hop
from sqs_contracts.sessions.base import BATCH_ENTRY_IDS, MAX_BATCH_ENTRIES, SQSSession
from sqs_contracts.wire.envelope import INVALID_REASON, sendable_attributes
from sqs_contracts.wire.message import Message, fields_of

logger = logging.getLogger(__name__)

MAX_MESSAGE_ATTRIBUTES = 10
_T = TypeVar("_T")


class QueueSettingsView(Protocol):
    """The queue settings acknowledging needs."""

    @property
    def fifo(self) -> bool:
        """Whether the queue is FIFO."""
        ...

    @property
    def dead_letter_arn(self) -> str | None:
        """The ARN of the dead-letter queue, from the redrive policy."""
        ...


class AckTarget(JobSource, Protocol):
    """The queue a message is acknowledged on: its name, URL, session, settings and the
    middleware told of dead letters."""

    @property
    def url(self) -> str:
        """The queue URL."""
        ...

    @property
    def session(self) -> SQSSession:
        """The SQS session to call."""
        ...

    @property
    def settings(self) -> QueueSettingsView:
        """The queue's settings."""
        ...

    def after_delete(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Called with messages once deleted (their S3 payloads may go now, never before)."""
        ...


class AckSink(Protocol):
    """Where acknowledgements go: sent at once in batches, or through the worker's acker."""

    def delete(self, queue: AckTarget, message: Mapping[str, Any]) -> None:
        """Delete a message (its handler succeeded)."""
        ...

    def change(self, queue: AckTarget, message: Mapping[str, Any], timeout: int) -> None:
        """Set a message's visibility timeout."""
        ...


def _chunks(items: Sequence[Any], size: int = MAX_BATCH_ENTRIES) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


PERMANENT_ENTRY_CODES = frozenset(
    {
        "ReceiptHandleIsInvalid",
        "InvalidParameterValue",
        "MessageNotInflight",
        "AWS.SimpleQueueService.MessageNotInflight",
        "InvalidBatchEntryId",
        "BatchEntryIdsNotDistinct",
    }
)
"""Per-entry answers that a retry cannot change (the message is gone or no longer held)."""


def _retryable_failures(
    queue: AckTarget, action: str, response: Mapping[str, Any], chunk: Sequence[_T]
) -> list[_T]:
    """The entries of a batch answer's ``Failed`` list worth retrying; the others are logged.

    An entry failed by the sender's fault or with a permanent code stays failed on a retry;
    any other (an internal error, throttling) may succeed later.
    """
    retry: list[_T] = []
    for failed in response.get("Failed", []):
        code = str(failed.get("Code", ""))
        permanent = code in PERMANENT_ENTRY_CODES or bool(failed.get("SenderFault"))
        index = str(failed.get("Id", ""))
        if not permanent and index.isdigit() and int(index) < len(chunk):
            retry.append(chunk[int(index)])
            continue
        logger.warning(
            "%s failed for a message of queue %s: %s %s",
            action,
            queue.name,
            code,
            failed.get("Message"),
            extra={"queue": queue.name, "message_id": failed.get("Id")},
        )
    return retry


def delete_messages(
    queue: AckTarget, messages: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """Delete messages with ``DeleteMessageBatch`` calls of up to 10; return the messages
    whose entries failed in a way a retry may fix."""
    retry: list[Mapping[str, Any]] = []
    for chunk in _chunks(messages):
        entries = [
            {"Id": entry_id, "ReceiptHandle": fields_of(m)["ReceiptHandle"]}
            for entry_id, m in zip(BATCH_ENTRY_IDS[: len(chunk)], chunk, strict=True)
        ]
        response = queue.session.delete_message_batch(QueueUrl=queue.url, Entries=entries)
        if not response.get("Failed"):
            queue.after_delete(chunk)
            continue
        retry.extend(_retryable_failures(queue, "DeleteMessageBatch", response, chunk))
        failed = {str(f.get("Id")) for f in response.get("Failed", [])}
        queue.after_delete([m for i, m in enumerate(chunk) if str(i) not in failed])
    return retry


def change_visibility(
    queue: AckTarget, messages: Sequence[tuple[Mapping[str, Any], int]]
) -> list[tuple[Mapping[str, Any], int]]:
    """Set each message's visibility timeout with ``ChangeMessageVisibilityBatch`` calls;
    return the entries that failed in a way a retry may fix."""
    retry: list[tuple[Mapping[str, Any], int]] = []
    for chunk in _chunks(messages):
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": timeout}
            for i, (m, timeout) in enumerate(chunk)
        ]
        response = queue.session.change_message_visibility_batch(
            QueueUrl=queue.url, Entries=entries
        )
        retry.extend(_retryable_failures(queue, "ChangeMessageVisibilityBatch", response, chunk))
    return retry


def dead_letter_url(queue: AckTarget) -> str | None:
    """The URL of the queue's dead-letter queue, from its redrive policy, if it has one."""
    arn = queue.settings.dead_letter_arn
    if not arn:
        return None
    response = queue.session.get_queue_url(QueueName=arn.split(":")[-1])
    return str(response["QueueUrl"])


def dead_letter(
    queue: AckTarget, message: Mapping[str, Any], reason: str, sink: AckSink | None = None
) -> bool:
    """Copy a message to the dead-letter queue with the reason attached, then delete it
    (through ``sink`` when given, which retries it).

    Returns False (and leaves the message alone) when the queue has no dead-letter queue.
    """
    url = dead_letter_url(queue)
    # The copy carries the pointer, not the payload, and its S3 object is kept for it.
    message = Message.of(message).as_sent()
    message_id = message.get("MessageId")
    if url is None:
        logger.error(
            "queue %s has no RedrivePolicy: cannot dead-letter message %s, it stays on the queue",
            queue.name,
            message_id,
            extra={"queue": queue.name, "message_id": message_id},
        )
        return False
    attributes = sendable_attributes(message)
    if len(attributes) < MAX_MESSAGE_ATTRIBUTES:
        attributes[INVALID_REASON] = {"DataType": "String", "StringValue": reason[:4000]}
    kwargs: dict[str, Any] = {"QueueUrl": url, "MessageBody": message["Body"]}
    if attributes:
        kwargs["MessageAttributes"] = attributes
    if url.endswith(".fifo"):
        system = message.get("Attributes", {})
        kwargs["MessageGroupId"] = system.get("MessageGroupId", "default")
        kwargs["MessageDeduplicationId"] = message["MessageId"]
    queue.session.send_message(**kwargs)
    # Sent: from here on the message must only be deleted, never also backed off.
    if sink is not None:
        sink.delete(queue, message)
    else:
        delete_messages(queue, [message])
    logger.warning(
        "moved message %s of queue %s to its dead-letter queue: %s",
        message_id,
        queue.name,
        reason,
        extra={"queue": queue.name, "message_id": message_id},
    )
    return True


def acknowledge(
    queue: AckTarget, message: Mapping[str, Any], outcome: Outcome, sink: AckSink
) -> None:
    """Apply one outcome: delete a success; re-send a deferred message, then delete it;
    dead-letter when asked (falling back to the backoff when that fails); give any other
    failure its backoff."""
    if outcome.action == "delete":
        sink.delete(queue, message)
        return
    if outcome.action == "defer":
        defer(queue, message, outcome.visibility_timeout, sink)
        return
    if outcome.action == "dead_letter" and outcome.reason is not None:
        try:
            if dead_letter(queue, message, outcome.reason, sink):
                if queue.middleware:
                    queue.middleware.on_dead_letter(job_info(queue, message), outcome.reason)
                return
        except Exception:  # not sent: left to backoff and redrive instead
            logger.exception("moving message to the dead-letter queue failed")
    sink.change(queue, message, outcome.visibility_timeout)
    if queue.middleware:
        _tell_last_attempt(queue, message)


def resend(queue: AckTarget, message: Mapping[str, Any], seconds: int) -> None:
    """Send a long-delayed message again as it was sent (body, pointer, attributes), for the
    next hop of the ``seconds`` left."""
    sent = Message.of(message).as_sent()
    kwargs: dict[str, Any] = {
        "QueueUrl": queue.url,
        "MessageBody": sent["Body"],
        "DelaySeconds": hop(seconds),
    }
    attributes = sendable_attributes(sent)
    if attributes:
        kwargs["MessageAttributes"] = attributes
    queue.session.send_message(**kwargs)


def defer(queue: AckTarget, message: Mapping[str, Any], seconds: int, sink: AckSink) -> None:
    """Re-send a message received before its not-before time, then delete the original
    (keeping its S3 payload, which the copy points to). When the send fails, the original
    stays hidden for as long as it may, and is deferred again when it returns."""
    try:
        resend(queue, message, seconds)
    except Exception:
        logger.exception(
            "re-sending long-delayed message %s of queue %s failed; it returns later",
            message.get("MessageId"),
            queue.name,
            extra={"queue": queue.name, "message_id": message.get("MessageId")},
        )
        sink.change(queue, message, min(seconds, MAX_VISIBILITY_TIMEOUT))
        return
    sink.delete(queue, Message.of(message).as_sent())


def _tell_last_attempt(queue: AckTarget, message: Mapping[str, Any]) -> None:
    """A failure on the last receive SQS allows: the next receive moves it to the DLQ."""
    job = job_info(queue, message)
    if job.last_attempt:
        queue.middleware.on_dead_letter(
            job,
            f"failed its last attempt ({job.attempt} of maxReceiveCount "
            f"{job.max_receive_count}): SQS moves it to the dead-letter queue on its next receive",
        )


class _BatchSink:
    """Collects one received batch's acknowledgements and sends them in batch calls."""

    def __init__(self) -> None:
        self.deletes: list[Mapping[str, Any]] = []
        self.changes: list[tuple[Mapping[str, Any], int]] = []

    def delete(self, queue: AckTarget, message: Mapping[str, Any]) -> None:
        self.deletes.append(message)

    def change(self, queue: AckTarget, message: Mapping[str, Any], timeout: int) -> None:
        self.changes.append((message, timeout))


def settle(
    queue: AckTarget, messages: Sequence[Mapping[str, Any]], outcomes: Sequence[Outcome]
) -> BatchProcessingResult:
    """Apply outcomes at once: delete successes, dead-letter or back off failures; count."""
    batch = BatchProcessingResult(queue.name)
    sink = _BatchSink()
    for message, outcome in zip(messages, outcomes, strict=True):
        if outcome.action == "delete":  # most outcomes: what acknowledge() does, inline
            batch.succeeded.append(message)
            sink.deletes.append(message)
            continue
        if outcome.action != "defer":  # nothing ran: neither a success nor a failure
            batch.update_with_message(message, False)
        acknowledge(queue, message, outcome, sink)
    delete_messages(queue, sink.deletes)
    change_visibility(queue, sink.changes)
    return batch
