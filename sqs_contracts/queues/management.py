"""Queue management: create and delete queues, redrive policies, queue statistics."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqs_contracts.sessions.base import MAX_MESSAGE_BYTES, SQSSession
from sqs_contracts.sessions.errors import QueueConfigError


class ManagedEnv(Protocol):
    """What managing queues needs of an env: its session, prefix and queues."""

    @property
    def session(self) -> SQSSession:
        """The SQS session."""
        ...

    @property
    def queues(self) -> Mapping[str, Any]:
        """The env's queue objects, by name."""
        ...

    def get_sqs_queue_name(self, queue_name: str) -> str:
        """The queue's name on SQS, with the prefix."""
        ...


_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


@dataclass(frozen=True)
class RedrivePolicy:
    """Move a message to ``dead_letter_queue_name`` once it was received more than n times."""

    env: ManagedEnv
    dead_letter_queue_name: str
    max_receive_count: int

    def __post_init__(self) -> None:
        if not 1 <= self.max_receive_count <= 1000:
            raise QueueConfigError(
                f"max_receive_count must be 1..1000, got {self.max_receive_count}"
            )

    def __json__(self) -> str:
        """The ``RedrivePolicy`` attribute value, resolving the dead-letter queue's ARN."""
        name = self.env.get_sqs_queue_name(self.dead_letter_queue_name)
        url = self.env.session.get_queue_url(QueueName=name)["QueueUrl"]
        attrs = self.env.session.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return json.dumps(
            {
                "deadLetterTargetArn": attrs["Attributes"]["QueueArn"],
                "maxReceiveCount": str(self.max_receive_count),
            }
        )


@dataclass(frozen=True)
class QueueSettings:
    """What the library needs to know of a queue's SQS attributes."""

    fifo: bool
    max_message_size: int = MAX_MESSAGE_BYTES
    visibility_timeout: int = 30
    dead_letter_arn: str | None = None
    max_receive_count: int | None = None
    content_based_deduplication: bool = False

    @classmethod
    def from_attributes(cls, name: str, attributes: Mapping[str, str]) -> QueueSettings:
        """Read the settings from a ``GetQueueAttributes`` answer."""
        redrive = json.loads(attributes.get("RedrivePolicy") or "{}")
        return cls(
            fifo=attributes.get("FifoQueue", str(name.endswith(".fifo"))).lower() == "true",
            max_message_size=int(attributes.get("MaximumMessageSize", MAX_MESSAGE_BYTES)),
            visibility_timeout=int(attributes.get("VisibilityTimeout", 30)),
            dead_letter_arn=redrive.get("deadLetterTargetArn"),
            max_receive_count=int(redrive["maxReceiveCount"]) if redrive else None,
            content_based_deduplication=(
                attributes.get("ContentBasedDeduplication", "false").lower() == "true"
            ),
        )


def _validate_name(env: ManagedEnv, queue_name: str, fifo: bool) -> str:
    sqs_name = env.get_sqs_queue_name(queue_name)
    base = sqs_name[: -len(".fifo")] if sqs_name.endswith(".fifo") else sqs_name
    if not _NAME.match(base) or len(sqs_name) > 80:
        raise QueueConfigError(
            f"queue name {sqs_name!r} is invalid: SQS allows 1-80 characters of letters, "
            f"digits, '-' and '_' (plus '.fifo' for FIFO queues)"
        )
    if fifo != sqs_name.endswith(".fifo"):
        hint = (
            "FIFO queue names must end in '.fifo'"
            if fifo
            else ("only FIFO queues may end in '.fifo': use create_fifo_queue()")
        )
        raise QueueConfigError(f"queue name {sqs_name!r}: {hint}")
    return sqs_name


def _attributes(
    *,
    message_retention_period: int | None,
    visibility_timeout: int | None,
    redrive_policy: RedrivePolicy | None,
    delay_seconds: int | None,
    maximum_message_size: int | None,
    receive_message_wait_time_seconds: int | None,
    extra: Mapping[str, str] | None,
) -> dict[str, str]:
    attributes: dict[str, str] = {}
    pairs = {
        "MessageRetentionPeriod": message_retention_period,
        "VisibilityTimeout": visibility_timeout,
        "DelaySeconds": delay_seconds,
        "MaximumMessageSize": maximum_message_size,
        "ReceiveMessageWaitTimeSeconds": receive_message_wait_time_seconds,
    }
    attributes.update({k: str(int(v)) for k, v in pairs.items() if v is not None})
    if redrive_policy is not None:
        attributes["RedrivePolicy"] = redrive_policy.__json__()
    attributes.update(extra or {})
    return attributes


def create_standard_queue(
    env: ManagedEnv,
    queue_name: str,
    message_retention_period: int | None = None,
    visibility_timeout: int | None = None,
    redrive_policy: RedrivePolicy | None = None,
    *,
    delay_seconds: int | None = None,
    maximum_message_size: int | None = None,
    receive_message_wait_time_seconds: int | None = None,
    attributes: Mapping[str, str] | None = None,
) -> str:
    """Create a standard queue (with the env's prefix); returns its URL."""
    return _create(env, queue_name, fifo=False, **_options(locals()))


def create_fifo_queue(
    env: ManagedEnv,
    queue_name: str,
    content_based_deduplication: bool = False,
    message_retention_period: int | None = None,
    visibility_timeout: int | None = None,
    redrive_policy: RedrivePolicy | None = None,
    *,
    delay_seconds: int | None = None,
    maximum_message_size: int | None = None,
    receive_message_wait_time_seconds: int | None = None,
    attributes: Mapping[str, str] | None = None,
) -> str:
    """Create a FIFO queue; its name must end in ``.fifo``. Returns its URL."""
    extra = {"FifoQueue": "true"}
    if content_based_deduplication:
        extra["ContentBasedDeduplication"] = "true"
    return _create(env, queue_name, fifo=True, fifo_attributes=extra, **_options(locals()))


_OPTION_NAMES = (
    "message_retention_period",
    "visibility_timeout",
    "redrive_policy",
    "delay_seconds",
    "maximum_message_size",
    "receive_message_wait_time_seconds",
)


def _options(arguments: Mapping[str, Any]) -> dict[str, Any]:
    options = {name: arguments[name] for name in _OPTION_NAMES}
    options["extra"] = arguments["attributes"]
    return options


def _create(
    env: ManagedEnv,
    queue_name: str,
    *,
    fifo: bool,
    fifo_attributes: Mapping[str, str] | None = None,
    **options: Any,
) -> str:
    name = _validate_name(env, queue_name, fifo=fifo)
    attrs = _attributes(**options)
    attrs.update(fifo_attributes or {})
    return str(env.session.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"])


def delete_queue(env: ManagedEnv, queue_name: str) -> None:
    """Delete a queue and every message in it."""
    url = env.session.get_queue_url(QueueName=env.get_sqs_queue_name(queue_name))["QueueUrl"]
    env.session.delete_queue(QueueUrl=url)
    queue = env.queues.get(queue_name)
    if queue is not None:
        queue.forget_settings()


def queue_stats(env: ManagedEnv, queue_name: str) -> dict[str, int]:
    """Approximate message counts of a queue: visible, in flight and delayed."""
    url = env.session.get_queue_url(QueueName=env.get_sqs_queue_name(queue_name))["QueueUrl"]
    attrs = env.session.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return {
        "visible": int(attrs.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
        "delayed": int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
    }
