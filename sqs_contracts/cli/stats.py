"""Queue figures for the operator: counts, age of the oldest message, dead-letter depth."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqs_contracts.sessions.base import SQSSession
from sqs_contracts.sessions.cloudwatch import oldest_message_age


@dataclass(frozen=True)
class QueueFigures:
    """What ``queue list`` and ``queue stats`` show of one queue."""

    name: str
    visible: int
    in_flight: int
    delayed: int
    oldest_age: float | None
    dead_letter_queue: str | None
    dead_letter_visible: int | None
    max_receive_count: int | None

    def fields(self) -> dict[str, str]:
        """The figures as ``key: text`` pairs, ``-`` where unknown."""
        return {
            "visible": str(self.visible),
            "in_flight": str(self.in_flight),
            "delayed": str(self.delayed),
            "oldest_age": "-" if self.oldest_age is None else format_age(self.oldest_age),
            "dead_letter_queue": self.dead_letter_queue or "-",
            "dead_letter_visible": _text(self.dead_letter_visible),
            "max_receive_count": _text(self.max_receive_count),
        }


def _text(value: int | None) -> str:
    return "-" if value is None else str(value)


def format_age(seconds: float) -> str:
    """A duration as ``45s``, ``12m``, ``3h`` or ``2d``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def queue_figures(
    session: SQSSession, url: str, *, display_name: str | None = None
) -> QueueFigures:
    """Read a queue's figures (and its dead-letter queue's depth) through a session."""
    attrs: dict[str, Any] = session.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"
    ]
    sqs_name = url.rsplit("/", 1)[-1]
    redrive = json.loads(attrs.get("RedrivePolicy") or "{}")
    dead_name = str(redrive["deadLetterTargetArn"]).rsplit(":", 1)[-1] if redrive else None
    dead_visible = None
    if dead_name:
        try:
            dead_url = session.get_queue_url(QueueName=dead_name)["QueueUrl"]
            dead_attrs = session.get_queue_attributes(
                QueueUrl=dead_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            dead_visible = int(dead_attrs.get("ApproximateNumberOfMessages", 0))
        except Exception:  # a deleted dead-letter queue still shows by name
            dead_visible = None
    return QueueFigures(
        name=display_name or sqs_name,
        visible=int(attrs.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
        delayed=int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
        oldest_age=oldest_message_age(session, sqs_name),
        dead_letter_queue=dead_name,
        dead_letter_visible=dead_visible,
        max_receive_count=int(redrive["maxReceiveCount"]) if redrive else None,
    )


def list_queue_urls(session: SQSSession, prefix: str) -> list[str]:
    """Every queue URL whose name starts with ``prefix``, across result pages."""
    urls: list[str] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"QueueNamePrefix": prefix, "MaxResults": 1000}
        if token:
            kwargs["NextToken"] = token
        answer = session.list_queues(**kwargs)
        urls += answer.get("QueueUrls", [])
        token = answer.get("NextToken")
        if not token:
            return sorted(urls, key=lambda u: u.rsplit("/", 1)[-1])
