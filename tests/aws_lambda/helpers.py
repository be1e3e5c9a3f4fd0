"""Helpers for the Lambda tests: a fake context, events from received messages, and what the
event source mapping does with the function's answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from backends import Backend

from sqs_contracts import SQSEnv, create_fifo_queue, create_standard_queue
from sqs_contracts.testing.lambda_events import lambda_event

DOCUMENTED_ARN = "arn:aws:sqs:us-east-2:123456789012:my-queue"


class FakeContext:
    """A Lambda context whose remaining time the test sets (and may lower as records run)."""

    function_name = "sqs-contracts-test"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def __init__(self, remaining_ms: int = 900_000) -> None:
        self.remaining_ms = remaining_ms
        self.asked = 0

    def get_remaining_time_in_millis(self) -> int:
        """The time left before Lambda stops the invocation."""
        self.asked += 1
        return self.remaining_ms


def make_env(backend: Backend, **options: Any) -> SQSEnv:
    """An env on the backend's session with a queue prefix no other test uses."""
    return SQSEnv(backend.session, queue_prefix=backend.unique("l") + "-", **options)


def make_queue(backend: Backend, env: SQSEnv, name: str, **options: Any) -> str:
    """Create one of the env's queues (FIFO when the name ends in .fifo); deleted after the test."""
    if name.endswith(".fifo"):
        url = create_fifo_queue(env, name, **options)
    else:
        url = create_standard_queue(env, name, **options)
    backend.created.append(url)
    return url


def queue_arn(env: SQSEnv, name: str) -> str:
    """The ARN of one of the env's queues, as the event source mapping names it."""
    attrs = env.session.get_queue_attributes(
        QueueUrl=env.queue(name).url, AttributeNames=["QueueArn"]
    )
    return str(attrs["Attributes"]["QueueArn"])


def receive(env: SQSEnv, name: str, count: int = 10) -> list[Any]:
    """Receive up to ``count`` visible messages of a queue, with every attribute, as Lambda does."""
    queue = env.queue(name)
    messages: list[Any] = []
    while len(messages) < count:
        response = env.session.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=min(10, count - len(messages)),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        batch = response.get("Messages", [])
        if not batch:
            break
        messages.extend(batch)
    return messages


def event_of(env: SQSEnv, name: str, count: int = 10) -> dict[str, Any]:
    """The event Lambda would deliver for up to ``count`` messages received from a queue."""
    return lambda_event(receive(env, name, count), queue_arn=queue_arn(env, name))


def invoke(
    handler: Callable[[Any, Any], Mapping[str, Any]],
    event: Mapping[str, Any],
    context: Any = None,
) -> list[str]:
    """Call a Lambda handler; check its answer is one AWS accepts; return the reported ids."""
    response = handler(event, context if context is not None else FakeContext())
    assert set(response) == {"batchItemFailures"}
    ids = [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
    assert all(set(f) == {"itemIdentifier"} for f in response["batchItemFailures"])
    # An empty, missing or unknown identifier makes Lambda fail the whole batch.
    batch = {record["messageId"] for record in event["Records"]}
    assert all(isinstance(i, str) and i in batch for i in ids), (ids, batch)
    assert len(ids) == len(set(ids))
    return ids


def settle(env: SQSEnv, event: Mapping[str, Any], failed: Sequence[str]) -> None:
    """What the event source mapping does after the function returns: delete every record
    that was not reported failed."""
    by_queue: dict[str, list[str]] = {}
    for record in event["Records"]:
        if record["messageId"] not in failed:
            name = record["eventSourceARN"].rsplit(":", 1)[-1]
            by_queue.setdefault(name, []).append(record["receiptHandle"])
    for name, handles in by_queue.items():
        url = env.session.get_queue_url(QueueName=name)["QueueUrl"]
        for start in range(0, len(handles), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": h}
                for i, h in enumerate(handles[start : start + 10])
            ]
            response = env.session.delete_message_batch(QueueUrl=url, Entries=entries)
            assert not response.get("Failed"), response


def attribute(message: Mapping[str, Any], name: str) -> str | None:
    """A string message attribute of a received message."""
    attr = message.get("MessageAttributes", {}).get(name)
    return None if attr is None else attr.get("StringValue")


def aws_record(
    message_id: str = "059f36b4-87a3-44ab-83d2-661975830a7d",
    *,
    body: str = "Test message.",
    arn: str = DOCUMENTED_ARN,
    receive_count: int = 1,
    message_attributes: Mapping[str, Any] | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    """A record in the exact shape of AWS's documented SQS events (FIFO ones with ``group``)."""
    attributes = {
        "ApproximateReceiveCount": str(receive_count),
        "SentTimestamp": "1545082649183",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": "1545082649185",
    }
    if group is not None:
        attributes |= {
            "SequenceNumber": "18849496460467696128",
            "MessageGroupId": group,
            "MessageDeduplicationId": message_id,
        }
    return {
        "messageId": message_id,
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a" + message_id[:8],
        "body": body,
        "attributes": attributes,
        "messageAttributes": dict(message_attributes or {}),
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": arn.split(":")[3],
    }


def string_attribute(value: str) -> dict[str, Any]:
    """A String message attribute as Lambda writes it."""
    return {
        "stringValue": value,
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }


def job_attributes(job_name: str, context: str = "{}") -> dict[str, Any]:
    """The message attributes of a JSON job of this library (and of sqs-workers), as Lambda
    writes them."""
    return {
        "JobName": string_attribute(job_name),
        "ContentType": string_attribute("json"),
        "JobContext": string_attribute(context),
    }


class Recording:
    """An SQS session that records the name of every call before passing it on."""

    def __init__(self, session: Any) -> None:
        self.inner = session
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name.startswith("_") or not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return target(*args, **kwargs)

        return call
