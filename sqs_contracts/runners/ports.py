"""What a worker needs of the env it serves, as a port: the session, queues, middleware."""

from __future__ import annotations

from typing import Any, Protocol

from sqs_contracts.dispatch.middleware import MiddlewareChain
from sqs_contracts.sessions.base import SQSSession


class WorkerEnv(Protocol):
    """What a worker needs of its env: the session and the queues by name."""

    @property
    def session(self) -> SQSSession:
        """The SQS session (its clock, when it has one, drives the heartbeat)."""
        ...

    def queue(self, queue_name: str) -> Any:
        """The queue object registered under a name."""
        ...

    @property
    def middleware(self) -> MiddlewareChain:
        """Told when the worker starts and stops."""
        ...
