"""Acknowledging processed messages: delete on success, back off on failure, dead-letter.

The one place where a message's outcome becomes SQS calls; a message is deleted only after
its handler succeeded, or after it was copied to the dead-letter queue.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sqs_contracts.envelope import INVALID_REASON, job_name_of
from sqs_contracts.errors import RetryJob
from sqs_contracts.results import BatchProcessingResult, ProcessingResult
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES

if TYPE_CHECKING:
    from sqs_contracts.queues import GenericQueue, JobQueue
    from sqs_contracts.raw_queue import RawQueue

logger = logging.getLogger(__name__)

MAX_MESSAGE_ATTRIBUTES = 10
_SEND_ATTRIBUTE_KEYS = ("DataType", "StringValue", "BinaryValue")


class AckSink(Protocol):
    """Where acknowledgements go: sent at once in batches, or through the worker's acker."""

    def delete(self, queue: GenericQueue, message: Mapping[str, Any]) -> None:
        """Delete a message (its handler succeeded)."""
        ...

    def change(self, queue: GenericQueue, message: Mapping[str, Any], timeout: int) -> None:
        """Set a message's visibility timeout."""
        ...


def sendable_attributes(message: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A received message's attributes in the shape ``SendMessage`` accepts."""
    return {
        name: {k: v for k, v in attr.items() if k in _SEND_ATTRIBUTE_KEYS}
        for name, attr in message.get("MessageAttributes", {}).items()
    }


def _chunks(items: Sequence[Any], size: int = MAX_BATCH_ENTRIES) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _log_failed(queue: GenericQueue, action: str, response: Mapping[str, Any]) -> None:
    for failed in response.get("Failed", []):
        logger.warning(
            "%s failed for a message of queue %s: %s %s",
            action,
            queue.name,
            failed.get("Code"),
            failed.get("Message"),
            extra={"queue_name": queue.name, "message_id": failed.get("Id")},
        )


def delete_messages(queue: GenericQueue, messages: Sequence[Mapping[str, Any]]) -> None:
    """Delete messages with ``DeleteMessageBatch`` calls of up to 10."""
    for chunk in _chunks(messages):
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
        response = queue.env.session.delete_message_batch(QueueUrl=queue.url, Entries=entries)
        _log_failed(queue, "DeleteMessageBatch", response)


def change_visibility(
    queue: GenericQueue, messages: Sequence[tuple[Mapping[str, Any], int]]
) -> None:
    """Set each message's visibility timeout with ``ChangeMessageVisibilityBatch`` calls."""
    for chunk in _chunks(messages):
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": timeout}
            for i, (m, timeout) in enumerate(chunk)
        ]
        response = queue.env.session.change_message_visibility_batch(
            QueueUrl=queue.url, Entries=entries
        )
        _log_failed(queue, "ChangeMessageVisibilityBatch", response)


def backoff_for(queue: GenericQueue, message: Mapping[str, Any], result: ProcessingResult) -> int:
    """The visibility timeout a failed message gets: the result's policy, else the queue's."""
    policy = result.backoff_policy or queue.backoff_policy
    return policy.get_visibility_timeout(message)


def dead_letter_url(queue: GenericQueue) -> str | None:
    """The URL of the queue's dead-letter queue, from its redrive policy, if it has one."""
    arn = queue.settings.dead_letter_arn
    if not arn:
        return None
    parts = arn.split(":")
    response = queue.env.session.get_queue_url(QueueName=parts[-1])
    return str(response["QueueUrl"])


def dead_letter(queue: GenericQueue, message: Mapping[str, Any], reason: str) -> bool:
    """Copy a message to the dead-letter queue with the reason attached, then delete it.

    Returns False (and leaves the message alone) when the queue has no dead-letter queue.
    """
    url = dead_letter_url(queue)
    if url is None:
        logger.error(
            "queue %s has no RedrivePolicy: cannot dead-letter message %s, it stays on the queue",
            queue.name,
            message.get("MessageId"),
            extra={"queue_name": queue.name, "message_id": message.get("MessageId")},
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
    queue.env.session.send_message(**kwargs)
    delete_messages(queue, [message])
    logger.warning(
        "moved message %s of queue %s to its dead-letter queue: %s",
        message.get("MessageId"),
        queue.name,
        reason,
        extra={"queue_name": queue.name, "message_id": message.get("MessageId")},
    )
    return True


def unknown_job(queue: JobQueue, message: Mapping[str, Any]) -> ProcessingResult:
    """The outcome of a message whose job name has no processor on this queue."""
    job_name = job_name_of(message)
    known = sorted(queue.processors)
    if job_name is None:
        reason = "message has no JobName attribute: not a job of this library"
    else:
        reason = (
            f"no handler for job {job_name!r} on queue {queue.name!r} (known: {known}); "
            f"register one with @env.handler(...) or @queue.processor({job_name!r})"
        )
    logger.error(
        "Could not process message %s: %s",
        message.get("MessageId"),
        reason,
        extra={
            "queue_name": queue.name,
            "job_name": job_name,
            "message_id": message.get("MessageId"),
        },
    )
    return ProcessingResult(False, invalid_reason=reason)


def process_grouped(queue: JobQueue, messages: Sequence[Mapping[str, Any]]) -> ProcessingResult:
    """Batch mode: hand each job name's messages to its processor; all must succeed."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for message in messages:
        groups[job_name_of(message) or ""].append(message)
    outcome = ProcessingResult(True)
    for job_name, group in groups.items():
        processor = queue.processors.get(job_name)
        result = processor.process_messages(group) if processor else unknown_job(queue, group[0])
        if not result.success and outcome.success:
            outcome = result
    return outcome


def call_raw(queue: RawQueue, messages: Sequence[Mapping[str, Any]]) -> ProcessingResult:
    """Call a raw queue's processor with each message (or the list, in batch mode)."""
    extra = {"queue_name": queue.name, "message_ids": [m.get("MessageId") for m in messages]}
    if queue.processor is None:
        logger.warning("raw queue %s has no processor", queue.name, extra=extra)
        return ProcessingResult(False, invalid_reason=f"raw queue {queue.name!r} has no processor")
    try:
        if queue.batching_policy.batching_enabled:
            queue.processor(list(messages))  # type: ignore[arg-type]
        else:
            for message in messages:
                queue.processor(message)
    except RetryJob as exc:
        logger.info("Retrying raw messages of %s", queue.name, extra=extra)
        return ProcessingResult(False, exc.backoff_policy)
    except Exception:
        logger.exception("Error while processing raw messages of %s", queue.name, extra=extra)
        return ProcessingResult(False)
    return ProcessingResult(True)


def acknowledge(
    queue: GenericQueue, message: Mapping[str, Any], result: ProcessingResult, sink: AckSink
) -> None:
    """Apply one outcome: delete a success; dead-letter an invalid message when the queue
    asks for it; give any other failure (or a failed dead-lettering) its backoff."""
    if result.success:
        sink.delete(queue, message)
        return
    if result.invalid_reason and queue.dead_letter_invalid:
        try:
            if dead_letter(queue, message, result.invalid_reason):
                return
        except Exception:  # left to backoff and redrive instead
            logger.exception("moving message to the dead-letter queue failed")
    sink.change(queue, message, backoff_for(queue, message, result))


class _BatchSink:
    """Collects one received batch's acknowledgements and sends them in batch calls."""

    def __init__(self) -> None:
        self.deletes: list[Mapping[str, Any]] = []
        self.changes: list[tuple[Mapping[str, Any], int]] = []

    def delete(self, queue: GenericQueue, message: Mapping[str, Any]) -> None:
        self.deletes.append(message)

    def change(self, queue: GenericQueue, message: Mapping[str, Any], timeout: int) -> None:
        self.changes.append((message, timeout))


def settle(
    queue: GenericQueue,
    outcomes: Sequence[tuple[Mapping[str, Any], ProcessingResult]],
) -> BatchProcessingResult:
    """Apply outcomes: delete successes, dead-letter or back off failures; count them."""
    batch = BatchProcessingResult(queue.name)
    sink = _BatchSink()
    for message, result in outcomes:
        batch.update_with_message(message, result.success)
        acknowledge(queue, message, result, sink)
    delete_messages(queue, sink.deletes)
    change_visibility(queue, sink.changes)
    return batch


def process_received(
    queue: GenericQueue, messages: Sequence[Mapping[str, Any]]
) -> BatchProcessingResult:
    """Process received messages one by one (or as one list in batch mode) and settle them."""
    if not messages:
        return BatchProcessingResult(queue.name)
    if queue.batching_policy.batching_enabled:
        result = queue.process_messages(messages)
        return settle(queue, [(m, result) for m in messages])
    return settle(queue, [(m, queue.process_message(m)) for m in messages])
