"""Delays beyond SQS's 15 minutes: hops of at most 900 s, and a not-before time on the message.

A message delayed longer is sent with the longest delay SQS allows and the ``NotBefore``
attribute (epoch seconds). A consumer that receives it early runs nothing: it sends it again
with the rest of the delay (at most one hop) and deletes the original.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from sqs_contracts.sessions.errors import QueueConfigError
from sqs_contracts.wire.envelope import NOT_BEFORE, OutgoingMessage, message_size

MAX_HOP_SECONDS = 900
"""SQS's longest per-message delay: the length of one hop."""

MAX_MESSAGE_ATTRIBUTES = 10


def hop(remaining: float) -> int:
    """The delay of the next hop for ``remaining`` seconds: whole seconds, at most one hop."""
    return max(0, min(math.ceil(remaining), MAX_HOP_SECONDS))


def delay_until(message: OutgoingMessage, not_before: float, queue_name: str) -> None:
    """Mark a message not to run before ``not_before`` (epoch seconds) and give it one hop."""
    if NOT_BEFORE not in message.attributes and len(message.attributes) >= MAX_MESSAGE_ATTRIBUTES:
        raise QueueConfigError(
            f"job {message.job_name!r} on queue {queue_name!r}: a delay beyond "
            f"{MAX_HOP_SECONDS} s needs the {NOT_BEFORE} message attribute, and the message "
            f"has {len(message.attributes)} of the {MAX_MESSAGE_ATTRIBUTES} SQS allows; drop "
            f"one of them or delay by at most {MAX_HOP_SECONDS} s"
        )
    message.attributes[NOT_BEFORE] = {"DataType": "Number", "StringValue": f"{not_before:.3f}"}
    message.size = message_size(message.body, message.attributes)
    message.delay_seconds = MAX_HOP_SECONDS


def seconds_until(eta: datetime, now: float) -> int:
    """The delay in whole seconds (rounded up, at least 0) from ``now`` to ``eta``.

    A naive ``eta`` is taken as UTC.
    """
    if eta.tzinfo is None:
        eta = eta.replace(tzinfo=timezone.utc)
    return max(0, math.ceil(eta.timestamp() - now))
