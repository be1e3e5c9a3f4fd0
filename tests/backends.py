"""The SQS backends the conformance tests run against, and small helpers for them."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sqs_contracts.sessions import ManualClock, MemorySession, SQSSession


@dataclass
class Backend:
    """One SQS implementation under test: its session, and how to move its time forward."""

    name: str
    session: SQSSession
    clock: ManualClock | None = None
    endpoint_url: str | None = None
    created: list[str] = field(default_factory=list)

    @property
    def is_memory(self) -> bool:
        """True for the in-memory SQS, whose behaviour follows real SQS where moto does not."""
        return isinstance(self.session, MemorySession)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of SQS time pass: instantly in memory, by sleeping elsewhere."""
        if self.clock is not None:
            self.clock.advance(seconds)
        else:
            time.sleep(seconds)

    def now(self) -> float:
        """Return the backend's current epoch time."""
        return self.clock.time() if self.clock is not None else time.time()

    def unique(self, prefix: str, fifo: bool = False) -> str:
        """Return a queue name no other test uses (with ``.fifo`` when asked)."""
        name = f"{prefix[:50]}-{uuid.uuid4().hex[:16]}"
        return f"{name}.fifo" if fifo else name

    def make_queue(
        self,
        name_prefix: str = "q",
        *,
        fifo: bool = False,
        attributes: Mapping[str, str] | None = None,
    ) -> str:
        """Create a uniquely named queue and return its URL (deleted after the test)."""
        attrs = dict(attributes or {})
        if fifo:
            attrs.setdefault("FifoQueue", "true")
        url = str(
            self.session.create_queue(QueueName=self.unique(name_prefix, fifo), Attributes=attrs)[
                "QueueUrl"
            ]
        )
        self.created.append(url)
        return url

    def cleanup(self) -> None:
        """Delete the queues made by :meth:`make_queue` on servers (memory needs nothing)."""
        if self.is_memory:
            return
        for url in self.created:
            with contextlib.suppress(ClientError):
                self.session.delete_queue(QueueUrl=url)
        self.created.clear()


def receive(backend: Backend, url: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Receive once and return the messages (an empty list when there are none)."""
    return list(backend.session.receive_message(QueueUrl=url, **kwargs).get("Messages", []))


def count(backend: Backend, url: str, attribute: str = "ApproximateNumberOfMessages") -> int:
    """Return one of the queue's ApproximateNumberOfMessages* counters."""
    attrs = backend.session.get_queue_attributes(QueueUrl=url, AttributeNames=[attribute])
    return int(attrs["Attributes"][attribute])


def sqs_error(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    """Return the ``Error.Code`` of a raised ``ClientError``."""
    return str(excinfo.value.response["Error"]["Code"])
