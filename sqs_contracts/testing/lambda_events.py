"""Lambda SQS events for tests: the event a function would get for messages received from a
session (``MemorySession`` or a server), so a Lambda handler runs locally on real messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqs_contracts.wire.lambda_records import QueueArn, record_from_message


def lambda_event(
    messages: Iterable[Mapping[str, Any]], queue_arn: str | None = None
) -> dict[str, Any]:
    """The SQS event Lambda delivers for ``messages``, received from the queue ``queue_arn``.

    Without ``queue_arn`` each message's queue is told from the URL it was received from.
    """
    records = []
    for message in messages:
        arn: QueueArn | str | None = queue_arn
        if arn is None:
            url = getattr(message, "queue_url", None)
            if not url:
                raise ValueError(
                    f"message {message.get('MessageId')!r} does not say which queue it came "
                    f"from; pass lambda_event(messages, queue_arn='arn:aws:sqs:...')"
                )
            arn = QueueArn.from_url(url)
        records.append(record_from_message(message, arn))
    return {"Records": records}
