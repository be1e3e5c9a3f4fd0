"""Dead letters: read a dead-letter queue as typed records, and send its messages back.

Everything takes explicit arguments (a session, queue URLs, the allowed content types and
the contracts by job name), so it works for any env and for the command line alike.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ValidationError

from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES, SQSSession
from sqs_contracts.sessions.errors import QueueConfigError
from sqs_contracts.wire.envelope import (
    INVALID_REASON,
    decode_message,
    job_name_of,
    sendable_attributes,
    string_attribute,
)
from sqs_contracts.wire.errors import InvalidMessage

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]
"""Called with the number of messages moved so far."""

_PEEK_ATTRIBUTES = ["All"]


@dataclass(frozen=True)
class DeadLetter:
    """One message of a dead-letter queue, decoded as the worker would decode it.

    ``errors`` says why it is not a valid job today (decoding, no contract, validation);
    empty when today's contract accepts it.
    """

    message_id: str
    job_name: str | None
    contract: str | None
    payload: dict[str, Any] | None
    context: dict[str, Any]
    invalid_reason: str | None
    receive_count: int
    sent_at: datetime | None
    errors: list[str] = field(default_factory=list)
    body: str = ""

    @property
    def valid(self) -> bool:
        """True when the message decodes and validates against today's contract."""
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON-ready dict."""
        return {
            "message_id": self.message_id,
            "job_name": self.job_name,
            "contract": self.contract,
            "payload": self.payload,
            "context": self.context,
            "invalid_reason": self.invalid_reason,
            "receive_count": self.receive_count,
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "valid": self.valid,
            "errors": self.errors,
            "body": None if self.payload is not None else self.body,
        }


def contracts_of(queues: Iterable[object]) -> dict[str, type[BaseModel]]:
    """The contract of each job name with a handler on the given queues."""
    return {
        job_name: processor.model
        for queue in queues
        for job_name, processor in getattr(queue, "processors", {}).items()
        if processor.model is not None
    }


def describe(
    message: Mapping[str, Any],
    allowed_content_types: Collection[str],
    contracts: Mapping[str, type[BaseModel]],
) -> DeadLetter:
    """Decode one received message into a :class:`DeadLetter`, validating its payload."""
    system = message.get("Attributes", {})
    sent = system.get("SentTimestamp")
    common: dict[str, Any] = {
        "message_id": str(message.get("MessageId", "")),
        "invalid_reason": string_attribute(message, INVALID_REASON),
        "receive_count": int(system.get("ApproximateReceiveCount", 0)),
        "sent_at": datetime.fromtimestamp(int(sent) / 1000, timezone.utc) if sent else None,
        "body": str(message.get("Body", "")),
    }
    try:
        job = decode_message(message, allowed_content_types)
    except InvalidMessage as exc:
        return DeadLetter(
            job_name=job_name_of(message),
            contract=None,
            payload=None,
            context={},
            errors=[exc.reason],
            **common,
        )
    model = contracts.get(job.job_name)
    errors: list[str] = []
    if model is None:
        errors.append(f"no contract for job {job.job_name!r} in this app")
    else:
        payload = dict(job.payload)
        upcast = getattr(model, "upcast", None)
        try:
            if upcast is not None:
                payload = upcast(payload, job.version)
            model.model_validate(payload)
        except ValidationError as exc:
            errors += [
                f"{'.'.join(str(p) for p in e.get('loc', ())) or '<payload>'}: {e.get('msg')}"
                for e in exc.errors(include_url=False)
            ]
        except Exception as exc:  # an upcaster that fails is one more reason, not a crash
            errors.append(f"upcast from version {job.version} failed: {exc}")
    return DeadLetter(
        job_name=job.job_name,
        contract=model.__name__ if model is not None else None,
        payload=job.payload,
        context=job.context,
        errors=errors,
        **common,
    )


def _receive(
    session: SQSSession, url: str, count: int, visibility: int, wait: int
) -> list[dict[str, Any]]:
    answer = session.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=max(1, min(count, MAX_BATCH_ENTRIES)),
        VisibilityTimeout=visibility,
        WaitTimeSeconds=wait,
        AttributeNames=_PEEK_ATTRIBUTES,
        MessageAttributeNames=["All"],
    )
    return list(answer.get("Messages", []))


def release(session: SQSSession, url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    """Make received messages visible again at once."""
    for start in range(0, len(messages), MAX_BATCH_ENTRIES):
        chunk = messages[start : start + MAX_BATCH_ENTRIES]
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(chunk)
        ]
        session.change_message_visibility_batch(QueueUrl=url, Entries=entries)


def read_dead_letters(
    session: SQSSession,
    url: str,
    *,
    allowed_content_types: Collection[str],
    contracts: Mapping[str, type[BaseModel]],
    limit: int | None = None,
    visibility_timeout: int = 60,
    wait_seconds: int = 1,
) -> Iterator[DeadLetter]:
    """Yield up to ``limit`` messages of a queue as records; they stay in the queue.

    Messages are held invisible while the reading goes on, so none is read twice, and are
    made visible again when the iteration ends (or is abandoned).
    """
    held: list[dict[str, Any]] = []
    try:
        while limit is None or len(held) < limit:
            wanted = MAX_BATCH_ENTRIES if limit is None else limit - len(held)
            messages = _receive(session, url, wanted, visibility_timeout, wait_seconds)
            if not messages:
                return
            for message in messages:
                held.append(message)
                yield describe(message, allowed_content_types, contracts)
    finally:
        release(session, url, held)


def queue_arn(session: SQSSession, url: str) -> str:
    """A queue's ARN."""
    attrs = session.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attrs["Attributes"]["QueueArn"])


def source_queue_urls(session: SQSSession, dead_url: str, prefix: str = "") -> list[str]:
    """The queues (named with ``prefix``) whose redrive policy targets this dead-letter queue."""
    dead_arn = queue_arn(session, dead_url)
    sources = []
    for url in session.list_queues(QueueNamePrefix=prefix).get("QueueUrls", []):
        if url == dead_url:
            continue
        attrs = session.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
        policy = json.loads(attrs.get("Attributes", {}).get("RedrivePolicy") or "{}")
        if policy.get("deadLetterTargetArn") == dead_arn:
            sources.append(str(url))
    return sorted(sources)


def _send_entries(messages: Sequence[Mapping[str, Any]], fifo: bool) -> list[dict[str, Any]]:
    entries = []
    for i, message in enumerate(messages):
        entry: dict[str, Any] = {"Id": str(i), "MessageBody": message["Body"]}
        attributes = sendable_attributes(message)
        if attributes:
            entry["MessageAttributes"] = attributes
        if fifo:
            system = message.get("Attributes", {})
            entry["MessageGroupId"] = system.get("MessageGroupId", "default")
            # The dead-letter message's id, not the original one, which SQS may still hold
            # in its five-minute deduplication window; a repeated move stays a no-op.
            entry["MessageDeduplicationId"] = message["MessageId"]
        entries.append(entry)
    return entries


def move_messages(
    session: SQSSession,
    dead_url: str,
    target_url: str,
    *,
    job_name: str | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    visibility_timeout: int = 60,
    wait_seconds: int = 1,
) -> int:
    """Move messages client-side: send each to the target, then delete it. Returns the count.

    A message is deleted only after its send succeeded: a crash in between leaves one copy
    in each queue, never none. Messages of other jobs (``job_name``) are left in place.
    """
    fifo = target_url.endswith(".fifo")
    moved = 0
    skipped: list[dict[str, Any]] = []
    try:
        while limit is None or moved < limit:
            wanted = MAX_BATCH_ENTRIES if limit is None else limit - moved
            messages = _receive(session, dead_url, wanted, visibility_timeout, wait_seconds)
            if not messages:
                break
            chosen = []
            for message in messages:
                if job_name is None or job_name_of(message) == job_name:
                    chosen.append(message)
                else:
                    skipped.append(message)
            if not chosen:
                continue
            answer = session.send_message_batch(
                QueueUrl=target_url, Entries=_send_entries(chosen, fifo)
            )
            sent = [chosen[int(entry["Id"])] for entry in answer.get("Successful", [])]
            for failure in answer.get("Failed", []):
                logger.warning("redrive: sending a message failed: %s", failure)
                skipped.append(chosen[int(failure["Id"])])
            if sent:
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(sent)
                ]
                session.delete_message_batch(QueueUrl=dead_url, Entries=entries)
            moved += len(sent)
            if progress is not None:
                progress(moved)
    finally:
        release(session, dead_url, skipped)
    return moved


def start_native_move(session: SQSSession, dead_url: str, target_url: str) -> str | None:
    """Start SQS's ``StartMessageMoveTask``; None when the endpoint does not support it."""
    client = getattr(session, "client", None)
    start = getattr(client, "start_message_move_task", None)
    if start is None:
        return None
    try:
        answer = start(
            SourceArn=queue_arn(session, dead_url),
            DestinationArn=queue_arn(session, target_url),
        )
    except Exception as exc:  # moto and some emulators lack it; the client-side move works
        logger.debug("StartMessageMoveTask unavailable (%s): moving client-side", exc)
        return None
    return str(answer["TaskHandle"])


def native_move_status(session: SQSSession, dead_url: str) -> tuple[str, int]:
    """The latest move task of a dead-letter queue: its status and messages moved so far."""
    client: Any = getattr(session, "client", None)
    if client is None:
        return "UNKNOWN", 0
    answer = client.list_message_move_tasks(SourceArn=queue_arn(session, dead_url), MaxResults=1)
    results = answer.get("Results", [])
    if not results:
        return "UNKNOWN", 0
    task = results[0]
    return str(task.get("Status", "UNKNOWN")), int(task.get("ApproximateNumberOfMessagesMoved", 0))


def resolve_target(session: SQSSession, dead_url: str, prefix: str, to_url: str | None) -> str:
    """The queue to redrive into: ``to_url`` if given, else the one source queue."""
    if to_url is not None:
        return to_url
    sources = source_queue_urls(session, dead_url, prefix)
    name = dead_url.rsplit("/", 1)[-1]
    if not sources:
        raise QueueConfigError(
            f"no queue sends its dead letters to {name!r} (no redrive policy targets it): "
            f"name the destination with --to QUEUE"
        )
    if len(sources) > 1:
        names = ", ".join(url.rsplit("/", 1)[-1] for url in sources)
        raise QueueConfigError(
            f"{name!r} is the dead-letter queue of several queues ({names}): "
            f"choose one with --to QUEUE"
        )
    return sources[0]
