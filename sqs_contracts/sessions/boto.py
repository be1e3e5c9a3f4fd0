"""The real SQS session: a boto3 SQS client behind the narrow session interface.

The client is built on first use, so creating an env (at import time in an app module) needs
no region, credentials or network; botocore's errors are translated into the library's here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config

from sqs_contracts.sessions.base import Response, SQSSession
from sqs_contracts.sessions.boto_parsing import FastJSONParserFactory
from sqs_contracts.sessions.errors import translate

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def _drop_unset(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


class BotoSession:
    """An :class:`~sqs_contracts.sessions.base.SQSSession` backed by a boto3 SQS client."""

    def __init__(
        self, client: SQSClient | None = None, *, factory: Callable[[], SQSClient] | None = None
    ) -> None:
        if client is None and factory is None:
            raise ValueError("BotoSession needs a client or a factory building one")
        self._client = client
        self._factory = factory
        self._lock = threading.Lock()

    @property
    def client(self) -> SQSClient:
        """The boto3 SQS client, built on first use."""
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    assert self._factory is not None
                    try:
                        self._client = self._factory()
                    except Exception as exc:
                        raise translate(exc, "CreateClient") from exc
                client = self._client
        return client

    def _call(self, operation: str, method: str, kwargs: dict[str, Any]) -> Response:
        try:
            return dict(getattr(self.client, method)(**kwargs))
        except Exception as exc:
            raise translate(exc, operation) from exc

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
        parameter_validation: bool = False,
    ) -> BotoSession:
        """Build a client from a ``boto3.Session`` (default: the default session).

        ``endpoint_url`` defaults to ``AWS_ENDPOINT_URL_SQS`` when that variable is set.
        ``parameter_validation`` is botocore's client-side check of each request: the library
        builds and checks its requests itself, and the check costs 4-9 us per processed job.
        Without ``session``, the client reads responses with
        :class:`~sqs_contracts.sessions.boto_parsing.FastJSONParserFactory`'s parsers; a
        ``session`` given is used as it is.
        """
        config = Config(
            retries={"max_attempts": retry_max_attempts, "mode": retry_mode},  # type: ignore[arg-type]
            max_pool_connections=max_pool_connections,
            parameter_validation=parameter_validation,
        )
        endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_SQS") or None

        def build() -> SQSClient:
            factory = session if session is not None else _default_session()
            return factory.client(
                "sqs", endpoint_url=endpoint_url, region_name=region_name, config=config
            )

        made = cls(factory=build)
        made.endpoint_hint = endpoint_url or (f"region {region_name}" if region_name else None)
        return made

    endpoint_hint: str | None = None
    """Where the client will connect, known before it is built (for banners and errors)."""

    def __repr__(self) -> str:
        if self._client is not None:
            return f"BotoSession({self._client.meta.endpoint_url!r})"
        return f"BotoSession({self.endpoint_hint or 'default endpoint'!r})"

    def create_queue(
        self,
        *,
        QueueName: str,
        Attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Response:
        """Create a queue; returns ``QueueUrl``."""
        kw = _drop_unset({"QueueName": QueueName, "Attributes": Attributes, "tags": tags})
        return self._call("CreateQueue", "create_queue", kw)

    def delete_queue(self, *, QueueUrl: str) -> Response:
        """Delete a queue."""
        return self._call("DeleteQueue", "delete_queue", {"QueueUrl": QueueUrl})

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
        return self._call("ListQueues", "list_queues", kw)

    def get_queue_url(self, *, QueueName: str) -> Response:
        """Resolve a queue name to its URL."""
        return self._call("GetQueueUrl", "get_queue_url", {"QueueName": QueueName})

    def get_queue_attributes(
        self, *, QueueUrl: str, AttributeNames: Sequence[str] | None = None
    ) -> Response:
        """Read queue attributes."""
        names = list(AttributeNames) if AttributeNames is not None else ["All"]
        kw = {"QueueUrl": QueueUrl, "AttributeNames": names}
        return self._call("GetQueueAttributes", "get_queue_attributes", kw)

    def set_queue_attributes(self, *, QueueUrl: str, Attributes: Mapping[str, str]) -> Response:
        """Change queue attributes."""
        kw = {"QueueUrl": QueueUrl, "Attributes": Attributes}
        return self._call("SetQueueAttributes", "set_queue_attributes", kw)

    def send_message(self, **kwargs: Any) -> Response:
        """Send one message."""
        return self._call("SendMessage", "send_message", kwargs)

    def send_message_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Send up to 10 messages."""
        kw = {"QueueUrl": QueueUrl, "Entries": Entries}
        return self._call("SendMessageBatch", "send_message_batch", kw)

    def receive_message(self, **kwargs: Any) -> Response:
        """Receive up to 10 messages."""
        return self._call("ReceiveMessage", "receive_message", kwargs)

    def delete_message(self, *, QueueUrl: str, ReceiptHandle: str) -> Response:
        """Delete one message."""
        kw = {"QueueUrl": QueueUrl, "ReceiptHandle": ReceiptHandle}
        return self._call("DeleteMessage", "delete_message", kw)

    def delete_message_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Delete up to 10 messages."""
        kw = {"QueueUrl": QueueUrl, "Entries": Entries}
        return self._call("DeleteMessageBatch", "delete_message_batch", kw)

    def change_message_visibility(
        self, *, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int
    ) -> Response:
        """Change one message's visibility timeout."""
        kw = {
            "QueueUrl": QueueUrl,
            "ReceiptHandle": ReceiptHandle,
            "VisibilityTimeout": VisibilityTimeout,
        }
        return self._call("ChangeMessageVisibility", "change_message_visibility", kw)

    def change_message_visibility_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Change the visibility of up to 10 messages."""
        kw = {"QueueUrl": QueueUrl, "Entries": Entries}
        return self._call("ChangeMessageVisibilityBatch", "change_message_visibility_batch", kw)

    def purge_queue(self, *, QueueUrl: str) -> Response:
        """Delete every message in a queue."""
        return self._call("PurgeQueue", "purge_queue", {"QueueUrl": QueueUrl})


def _default_session() -> boto3.Session:
    """boto3's default session, with the faster reader of JSON responses."""
    core = botocore.session.get_session()
    core.register_component("response_parser_factory", FastJSONParserFactory())
    return boto3.Session(botocore_session=core)


def make_session(
    session: Any, sqs_client: Any, endpoint_url: str | None, region_name: str | None, **config: Any
) -> SQSSession:
    """The session an env was given: an ``SQSSession`` as is, a boto3 client or
    ``boto3.Session`` wrapped (built on first use), or boto3's default session."""
    if sqs_client is not None:
        return BotoSession(sqs_client)
    if isinstance(session, SQSSession):
        return session
    return BotoSession.create(session, endpoint_url=endpoint_url, region_name=region_name, **config)
