"""One ``SendMessageBatch`` request: request-sized chunks, retries, and each entry's outcome.

Shared by batch blocks (``queues/send_buffer``) and coalesced sends (``queues/coalescer``):
both need to know, per message, its MessageId or why it was not sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any, cast

from sqs_contracts.queues.send_hooks import BatchTarget, report_batch
from sqs_contracts.sessions.base import BATCH_ENTRY_IDS, MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES
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
    return _send_reported(queue, messages)[0]


def _send_reported(
    queue: BatchTarget, messages: Sequence[OutgoingMessage]
) -> tuple[list[str | Failure], list[Failure]]:
    """:func:`send_entries`, with the failures alone as well."""
    chain = queue.middleware
    if chain:
        chain.before_send_batch(queue.name, messages)
    outcomes, failed = _send_entries(queue, messages)
    if chain:
        ids = {str(i): outcome for i, outcome in enumerate(outcomes) if isinstance(outcome, str)}
        error = SendBatchError(queue.name, failed) if failed else None
        report_batch(chain, queue.name, messages, ids, error)
    if failed:
        for message, outcome in zip(messages, outcomes, strict=True):
            if not isinstance(outcome, str):
                queue.discard_payload(message)  # not sent: its stored payload would be orphaned
    return outcomes, failed


def _send_entries(
    queue: BatchTarget, messages: Sequence[OutgoingMessage]
) -> tuple[list[str | Failure], list[Failure]]:
    """Each message's MessageId or failure, in order, and the failures alone."""
    count = len(messages)
    keys = BATCH_ENTRY_IDS[:count] if count <= MAX_BATCH_ENTRIES else [str(i) for i in range(count)]
    pending = dict(zip(keys, messages, strict=True))
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
        bad_entries = response.get("Failed")
        if not bad_entries:
            break
        retry: dict[str, OutgoingMessage] = {}
        for bad in bad_entries:
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
    ordered = [outcomes[key] for key in keys]
    failed = [outcome for outcome in ordered if not isinstance(outcome, str)]
    return ordered, failed


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
    outcomes, failed = _send_reported(queue, messages)
    if failed:
        raise SendBatchError(queue.name, failed)
    return cast("list[str]", outcomes)
