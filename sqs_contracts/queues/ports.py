"""What queues need of the env that creates them, as a port: the env implements it.

Queues read these once, when they are created, and never walk up to the env afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqs_contracts.dispatch.backoff import BackoffPolicy
from sqs_contracts.dispatch.middleware import MiddlewareChain
from sqs_contracts.dispatch.processor import Processor
from sqs_contracts.queues.offload import S3Offload
from sqs_contracts.queues.send_buffer import SendBuffer
from sqs_contracts.sessions.base import SQSSession
from sqs_contracts.wire.codecs import Codec
from sqs_contracts.wire.context import SQSContext


class QueueHost(Protocol):
    """The env as its queues and the management functions see it."""

    @property
    def session(self) -> SQSSession:
        """The SQS session."""
        ...

    @property
    def queue_prefix(self) -> str:
        """Prepended to every queue name on SQS."""
        ...

    @property
    def context(self) -> SQSContext:
        """The producer-side job context sent with every job."""
        ...

    @property
    def backoff_policy(self) -> BackoffPolicy:
        """The default backoff of the env's queues."""
        ...

    @property
    def processor_maker(self) -> Callable[..., Processor]:
        """Builds the processor of each handler."""
        ...

    @property
    def allowed_content_types(self) -> frozenset[str]:
        """Content types the env's consumers decode."""
        ...

    @property
    def send_buffer(self) -> SendBuffer:
        """The per-thread buffer behind batch blocks."""
        ...

    @property
    def middleware(self) -> MiddlewareChain:
        """The middleware called around sends and jobs."""
        ...

    @property
    def large_payloads(self) -> S3Offload | None:
        """Where bodies too large for SQS are stored, if anywhere."""
        ...

    @property
    def queues(self) -> Mapping[str, Any]:
        """The queues created so far, by name."""
        ...

    def encoder(self, content_type: str | None = None) -> tuple[str, type[Codec]]:
        """The (content type, codec) for new jobs."""
        ...

    def get_sqs_queue_name(self, queue_name: str) -> str:
        """The queue's name on SQS, with the prefix."""
        ...

    def describe_endpoint(self) -> str:
        """Where the env's SQS is, for error messages."""
        ...
