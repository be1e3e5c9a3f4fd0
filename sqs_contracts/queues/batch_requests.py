"""One ``SendMessageBatch`` request: request-sized chunks, retries, and each entry's outcome.

Shared by batch blocks (``queues/send_buffer``) and coalesced sends (``queues/coalescer``):
both need to know, per message, its MessageId or why it was not sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from sqs_contracts.queues.send_hooks import BatchTarget, report_batch
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES
from sqs_contracts.sessions.errors import SendBatchError, error_code
from sqs_contracts.wire.envelope import OutgoingMessage

logger = logging.getLogger(__name__)

SEND_RETRIES = 3
"""How many times entries that failed on the server side are sent again."""

Failure = dict[str, Any]
"""A ``Failed`` entry of SQS's answer, with the ``JobName`` of the message added."""


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


def send_entries(queue: BatchTarget, messages: Sequence[OutgoingMessage]) -> list[str | Failure]:
    """Send one chunk with ``SendMessageBatch``, retrying server-side failures.

    Returns, in the order of ``messages``, each one's MessageId or its failure. A request
    that raises (the endpoint down, access denied) fails every entry it carried, with the
    error's code, so that each job can be named. The middleware hears of the request and of
    each message's id or failure; the stored payload of a message not sent is deleted.
    """
    chain = queue.middleware
    if chain:
        chain.before_send_batch(queue.name, messages)
    outcomes = _send_entries(queue, messages)
    if chain:
        failed = [outcome for outcome in outcomes if not isinstance(outcome, str)]
        ids = {str(i): outcome for i, outcome in enumerate(outcomes) if isinstance(outcome, str)}
        error = SendBatchError(queue.name, failed) if failed else None
        report_batch(chain, queue.name, messages, ids, error)
    for message, outcome in zip(messages, outcomes, strict=True):
        if not isinstance(outcome, str):
            queue.discard_payload(message)  # not sent: its stored payload would be orphaned
    return outcomes


def _send_entries(queue: BatchTarget, messages: Sequence[OutgoingMessage]) -> list[str | Failure]:
    pending = {str(i): message for i, message in enumerate(messages)}
    outcomes: dict[str, str | Failure] = {}
    for attempt in range(SEND_RETRIES + 1):
        entries = [m.batch_entry(key) for key, m in pending.items()]
        try:
            response = queue.session.send_message_batch(QueueUrl=queue.url, Entries=entries)
        except Exception as exc:
            for key, message in pending.items():
                outcomes[key] = request_failure(key, message, exc)
            break
        for ok in response.get("Successful", ()):
            key = ok["Id"]
            if pending.pop(key, None) is not None:
                outcomes[key] = str(ok["MessageId"])
        retry: dict[str, OutgoingMessage] = {}
        for bad in response.get("Failed", []):
            if bad["Id"] not in pending:
                continue
            message = pending.pop(bad["Id"])
            if bad.get("SenderFault") or attempt == SEND_RETRIES:
                outcomes[bad["Id"]] = {**bad, "JobName": message.job_name}
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
    return [outcomes[str(i)] for i in range(len(messages))]


def request_failure(entry_id: str, message: OutgoingMessage, exc: BaseException) -> Failure:
    """The failure of an entry whose whole request raised ``exc``."""
    return {
        "Id": entry_id,
        "SenderFault": False,
        "Code": error_code(exc) or type(exc).__name__,
        "Message": str(exc),
        "JobName": message.job_name,
    }


def send_batch(queue: BatchTarget, messages: Sequence[OutgoingMessage]) -> list[str]:
    """Send one chunk with ``SendMessageBatch``; raise :class:`SendBatchError` naming every
    job that could not be sent. Returns the MessageIds in the order of ``messages``."""
    outcomes = send_entries(queue, messages)
    failed = [outcome for outcome in outcomes if not isinstance(outcome, str)]
    if failed:
        raise SendBatchError(queue.name, failed)
    return [outcome for outcome in outcomes if isinstance(outcome, str)]
