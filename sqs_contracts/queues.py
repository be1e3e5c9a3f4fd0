"""Queues: resolve an SQS queue, enqueue jobs, and the sqs-workers style processing API."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from typing_extensions import ParamSpec

from sqs_contracts.backoff_policies import BackoffPolicy
from sqs_contracts.batching import BatchingConfiguration, NoBatching
from sqs_contracts.envelope import (
    RECEIVE_ATTRIBUTES,
    OutgoingMessage,
    encode_job,
    job_message,
    job_name_of,
)
from sqs_contracts.errors import MessageTooLarge, QueueConfigError, QueueNotFound
from sqs_contracts.management import QueueSettings
from sqs_contracts.processing import (
    delete_messages,
    process_grouped,
    process_received,
    unknown_job,
)
from sqs_contracts.results import BatchProcessingResult, ProcessingResult
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES, is_nonexistent_queue
from sqs_contracts.shutdown_policies import NEVER_SHUTDOWN, ShutdownPolicy

if TYPE_CHECKING:
    from pydantic import BaseModel

    from sqs_contracts.async_task import AsyncTask
    from sqs_contracts.env import SQSEnv
    from sqs_contracts.processors import Processor

logger = logging.getLogger(__name__)

MAX_DELAY_SECONDS = 900
_Q = TypeVar("_Q", bound="GenericQueue")
_P = ParamSpec("_P")
_R = TypeVar("_R")


class GenericQueue:
    """A queue of an env: resolves its URL and settings once, receives and acknowledges."""

    receive_attributes: tuple[str, ...] = RECEIVE_ATTRIBUTES
    """The system attributes asked for on receive."""

    def __init__(
        self,
        env: SQSEnv,
        name: str,
        backoff_policy: BackoffPolicy | None = None,
        batching_policy: BatchingConfiguration | None = None,
        *,
        queue_url: str | None = None,
        dead_letter_invalid: bool = False,
    ) -> None:
        self.env = env
        self.name = name
        self.backoff_policy: BackoffPolicy = backoff_policy or env.backoff_policy
        self.batching_policy = batching_policy or NoBatching()
        self.dead_letter_invalid = dead_letter_invalid
        self._url = queue_url
        self._settings: QueueSettings | None = None

    @classmethod
    def maker(cls: type[_Q], **kwargs: Any) -> Callable[..., _Q]:
        """A factory for ``env.queue(name, queue_maker=...)`` with preset arguments."""
        return functools.partial(cls, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    # -- resolution --------------------------------------------------------------------------

    @property
    def sqs_name(self) -> str:
        """The queue's name on SQS, with the env's prefix."""
        return self.env.get_sqs_queue_name(self.name)

    @property
    def url(self) -> str:
        """The queue URL, resolved with ``GetQueueUrl`` on first use unless given."""
        if self._url is None:
            try:
                self._url = str(self.env.session.get_queue_url(QueueName=self.sqs_name)["QueueUrl"])
            except Exception as exc:
                if is_nonexistent_queue(exc):
                    raise QueueNotFound(
                        f"queue {self.sqs_name!r} does not exist on {self.env.describe_endpoint()}"
                        f"; create it (sqs_contracts.create_standard_queue(env, {self.name!r}) "
                        f"or `sqs-contracts queue create {self.name}`) or fix queue_prefix"
                    ) from exc
                raise
        return self._url

    @property
    def queue_url(self) -> str | None:
        """The URL given or resolved so far (sqs-workers name)."""
        return self._url

    @property
    def settings(self) -> QueueSettings:
        """The queue's SQS settings, read once with ``GetQueueAttributes``."""
        if self._settings is None:
            try:
                attrs = self.env.session.get_queue_attributes(QueueUrl=self.url)
                self._settings = QueueSettings.from_attributes(self.sqs_name, attrs["Attributes"])
            except QueueNotFound:
                raise
            except Exception as exc:
                if is_nonexistent_queue(exc):
                    raise
                # Without sqs:GetQueueAttributes, fall back on what the name tells.
                logger.warning("cannot read attributes of queue %s: %s", self.name, exc)
                self._settings = QueueSettings(fifo=self.sqs_name.endswith(".fifo"))
        return self._settings

    def forget_settings(self) -> None:
        """Drop the cached settings (after changing the queue's attributes)."""
        self._settings = None

    # -- sending -----------------------------------------------------------------------------

    def prepare(
        self,
        message: OutgoingMessage,
        *,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> OutgoingMessage:
        """Check a message against the queue (size, FIFO rules) and set its send options."""
        settings = self.settings
        if message.size > settings.max_message_size:
            raise MessageTooLarge(
                message.job_name, self.name, message.size, settings.max_message_size
            )
        if delay_seconds is not None:
            if settings.fifo and delay_seconds:
                raise QueueConfigError(
                    f"job {message.job_name!r}: queue {self.name!r} is FIFO and SQS refuses "
                    f"per-message delays there; set DelaySeconds on the queue instead"
                )
            if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
                raise QueueConfigError(
                    f"job {message.job_name!r}: delay_seconds must be 0..900, got {delay_seconds}"
                )
            message.delay_seconds = None if settings.fifo else int(delay_seconds)
        if settings.fifo:
            message.group_id = group_id or "default"
            message.deduplication_id = deduplication_id
        else:
            if deduplication_id is not None:
                raise QueueConfigError(
                    f"job {message.job_name!r}: deduplication ids exist only on FIFO queues, "
                    f"and {self.name!r} is a standard queue"
                )
            message.group_id = group_id
        return message

    def send(self, message: OutgoingMessage) -> str | None:
        """Send a prepared message now, or buffer it when a batch block is open."""
        buffer = self.env.send_buffer
        if buffer.is_batching(self.name):
            buffer.add(self, message)
            return None
        response = self.env.session.send_message(QueueUrl=self.url, **message.send_kwargs())
        return str(response["MessageId"])

    def add_batch(self) -> AbstractContextManager[None]:
        """Buffer every send to this queue inside the block into ``SendMessageBatch`` calls."""
        return self.env.send_buffer.block(self.name)

    # -- receiving and acknowledging -----------------------------------------------------------

    def get_raw_messages(
        self, wait_seconds: int = 0, max_messages: int = MAX_BATCH_ENTRIES
    ) -> list[dict[str, Any]]:
        """Receive up to ``max_messages`` (1..10) with all attributes."""
        response = self.env.session.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=max(1, min(max_messages, MAX_BATCH_ENTRIES)),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=list(self.receive_attributes),
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def process_message(self, message: Mapping[str, Any]) -> ProcessingResult:
        """Process one received message; subclasses route it to a handler."""
        raise NotImplementedError

    def process_messages(self, messages: Sequence[Mapping[str, Any]]) -> ProcessingResult:
        """Process a list of messages at once (queues with ``BatchMessages``)."""
        raise NotImplementedError

    def process_batch(self, wait_seconds: int = 0) -> BatchProcessingResult:
        """Receive one batch, process it and acknowledge each message; return the counts."""
        size = self.batching_policy.batch_size if self.batching_policy.batching_enabled else 10
        messages = self.get_raw_messages(wait_seconds, min(size, MAX_BATCH_ENTRIES))
        return process_received(self, messages)

    def process_queue(
        self, shutdown_policy: ShutdownPolicy = NEVER_SHUTDOWN, wait_second: int = 10
    ) -> None:
        """Process batches until the shutdown policy says stop."""
        while True:
            result = self.process_batch(wait_seconds=wait_second)
            shutdown_policy.update_state(result)
            if shutdown_policy.need_shutdown():
                return

    def drain_queue(self, wait_seconds: int = 0) -> int:
        """Delete every message without processing it; return how many were deleted."""
        deleted = 0
        while messages := self.get_raw_messages(wait_seconds):
            delete_messages(self, messages)
            deleted += len(messages)
        return deleted

    def purge_queue(self) -> None:
        """Delete every message with ``PurgeQueue`` (SQS allows one purge a minute)."""
        self.env.session.purge_queue(QueueUrl=self.url)


class JobQueue(GenericQueue):
    """A queue of jobs routed by their ``JobName`` attribute to registered processors."""

    def __init__(self, env: SQSEnv, name: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(env, name, *args, **kwargs)
        self.processors: dict[str, Processor] = {}

    def add_job(
        self,
        job_name: str,
        _content_type: str | None = None,
        _delay_seconds: int | None = None,
        _deduplication_id: str | None = None,
        _group_id: str | None = None,
        **job_kwargs: Any,
    ) -> str | None:
        """Enqueue a job by name with keyword arguments; validated when a processor is known."""
        processor = self.processors.get(job_name)
        payload: BaseModel | Mapping[str, Any] = job_kwargs
        if processor is not None:
            payload = processor.validate_for_send(job_kwargs)
        return self.send_payload(
            job_name,
            payload,
            content_type=_content_type,
            delay_seconds=_delay_seconds,
            group_id=_group_id,
            deduplication_id=_deduplication_id,
        )

    def send_payload(
        self,
        job_name: str,
        payload: BaseModel | Mapping[str, Any],
        *,
        content_type: str | None = None,
        delay_seconds: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        version: int | None = None,
    ) -> str | None:
        """Encode a validated payload with the env's codec and context, check it and send it."""
        content_type, codec = self.env.encoder(content_type)
        message = encode_job(
            job_name, payload, self.env.context.to_dict(), content_type, codec, version=version
        )
        self.prepare(
            message,
            delay_seconds=delay_seconds,
            group_id=group_id,
            deduplication_id=deduplication_id,
        )
        return self.send(message)

    def processor(
        self, job_name: str, pass_context: bool = False, context_var: str = "context"
    ) -> Callable[[Callable[_P, _R]], AsyncTask[_P, _R]]:
        """Decorate a plain function into an ``AsyncTask`` handling ``job_name`` on this queue."""

        def register(fn: Callable[_P, _R]) -> AsyncTask[_P, _R]:
            return self.connect_processor(job_name, fn, pass_context, context_var)

        return register

    def connect_processor(
        self,
        job_name: str,
        fn: Callable[_P, _R],
        pass_context: bool = False,
        context_var: str = "context",
    ) -> AsyncTask[_P, _R]:
        """Register a plain function as the handler of ``job_name``; returns its ``AsyncTask``."""
        from sqs_contracts.async_task import connect_function

        return connect_function(self, job_name, fn, pass_context, context_var)

    def add_raw_job(
        self,
        job_name: str,
        message_body: str,
        job_context: str,
        content_type: str,
        delay_seconds: int | None = None,
        deduplication_id: str | None = None,
        group_id: str | None = None,
    ) -> str | None:
        """Send an already encoded body and context as a job (sqs-workers' low-level call)."""
        message = job_message(job_name, message_body, job_context, content_type)
        self.prepare(
            message,
            delay_seconds=delay_seconds,
            group_id=group_id,
            deduplication_id=deduplication_id,
        )
        return self.send(message)

    def get_processor(self, job_name: str) -> Processor | None:
        """Return the processor registered for a job name, if any."""
        return self.processors.get(job_name)

    def copy_processors(self, dst_queue: JobQueue) -> None:
        """Register this queue's processors on another queue (to run a DLQ in place)."""
        for job_name, processor in self.processors.items():
            dst_queue.processors[job_name] = processor.copy(queue=dst_queue)

    def process_message(self, message: Mapping[str, Any]) -> ProcessingResult:
        """Route a message to the processor of its ``JobName``."""
        processor = self.processors.get(job_name_of(message) or "")
        if processor is None:
            return unknown_job(self, message)
        return processor.process_message(message)

    def process_messages(self, messages: Sequence[Mapping[str, Any]]) -> ProcessingResult:
        """Route a list of messages, grouped by job name, to batch processors."""
        return process_grouped(self, messages)
