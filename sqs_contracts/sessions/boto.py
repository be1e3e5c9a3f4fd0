"""The real SQS session: a boto3 SQS client behind the narrow session interface."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from sqs_contracts.sessions.base import Response

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def _drop_unset(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


class BotoSession:
    """An :class:`~sqs_contracts.sessions.base.SQSSession` backed by a boto3 SQS client."""

    def __init__(self, client: SQSClient) -> None:
        self.client = client

    @classmethod
    def create(
        cls,
        session: boto3.Session | None = None,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        retry_max_attempts: int = 3,
        retry_mode: str = "standard",
        max_pool_connections: int = 50,
    ) -> BotoSession:
        """Build a client from a ``boto3.Session`` (default: the default session).

        ``endpoint_url`` defaults to ``AWS_ENDPOINT_URL_SQS`` when that variable is set.
        """
        config = Config(
            retries={"max_attempts": retry_max_attempts, "mode": retry_mode},  # type: ignore[arg-type]
            max_pool_connections=max_pool_connections,
        )
        endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_SQS") or None
        factory = session if session is not None else boto3.Session()
        client = factory.client(
            "sqs", endpoint_url=endpoint_url, region_name=region_name, config=config
        )
        return cls(client)

    def __repr__(self) -> str:
        return f"BotoSession({self.client.meta.endpoint_url!r})"

    def create_queue(
        self,
        *,
        QueueName: str,
        Attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Response:
        """Create a queue; returns ``QueueUrl``."""
        kw = _drop_unset({"QueueName": QueueName, "Attributes": Attributes, "tags": tags})
        return dict(self.client.create_queue(**kw))

    def delete_queue(self, *, QueueUrl: str) -> Response:
        """Delete a queue."""
        return dict(self.client.delete_queue(QueueUrl=QueueUrl))

    def list_queues(
        self,
        *,
        QueueNamePrefix: str | None = None,
        NextToken: str | None = None,
        MaxResults: int | None = None,
    ) -> Response:
        """List queue URLs."""
        kw = _drop_unset(
            {"QueueNamePrefix": QueueNamePrefix, "NextToken": NextToken, "MaxResults": MaxResults}
        )
        return dict(self.client.list_queues(**kw))

    def get_queue_url(self, *, QueueName: str) -> Response:
        """Resolve a queue name to its URL."""
        return dict(self.client.get_queue_url(QueueName=QueueName))

    def get_queue_attributes(
        self, *, QueueUrl: str, AttributeNames: Sequence[str] | None = None
    ) -> Response:
        """Read queue attributes."""
        names = list(AttributeNames) if AttributeNames is not None else ["All"]
        return dict(self.client.get_queue_attributes(QueueUrl=QueueUrl, AttributeNames=names))  # type: ignore[arg-type]

    def set_queue_attributes(self, *, QueueUrl: str, Attributes: Mapping[str, str]) -> Response:
        """Change queue attributes."""
        return dict(self.client.set_queue_attributes(QueueUrl=QueueUrl, Attributes=Attributes))  # type: ignore[arg-type]

    def send_message(self, **kwargs: Any) -> Response:
        """Send one message."""
        return dict(self.client.send_message(**kwargs))

    def send_message_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Send up to 10 messages."""
        return dict(self.client.send_message_batch(QueueUrl=QueueUrl, Entries=Entries))  # type: ignore[arg-type]

    def receive_message(self, **kwargs: Any) -> Response:
        """Receive up to 10 messages."""
        return dict(self.client.receive_message(**kwargs))

    def delete_message(self, *, QueueUrl: str, ReceiptHandle: str) -> Response:
        """Delete one message."""
        return dict(self.client.delete_message(QueueUrl=QueueUrl, ReceiptHandle=ReceiptHandle))

    def delete_message_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Delete up to 10 messages."""
        return dict(self.client.delete_message_batch(QueueUrl=QueueUrl, Entries=Entries))  # type: ignore[arg-type]

    def change_message_visibility(
        self, *, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int
    ) -> Response:
        """Change one message's visibility timeout."""
        return dict(
            self.client.change_message_visibility(
                QueueUrl=QueueUrl, ReceiptHandle=ReceiptHandle, VisibilityTimeout=VisibilityTimeout
            )
        )

    def change_message_visibility_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Change the visibility of up to 10 messages."""
        return dict(
            self.client.change_message_visibility_batch(QueueUrl=QueueUrl, Entries=Entries)  # type: ignore[arg-type]
        )

    def purge_queue(self, *, QueueUrl: str) -> Response:
        """Delete every message in a queue."""
        return dict(self.client.purge_queue(QueueUrl=QueueUrl))
