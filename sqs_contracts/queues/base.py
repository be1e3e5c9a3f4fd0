"""GenericQueue: one SQS queue of an env: its URL and settings, sending, receiving, processing."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from pydantic import BaseModel

from sqs_contracts.dispatch.backoff import BackoffPolicy
from sqs_contracts.dispatch.batch_policies import BatchingConfiguration, NoBatching
from sqs_contracts.dispatch.dispatcher import dispatch
from sqs_contracts.dispatch.results import BatchProcessingResult, ProcessingResult
from sqs_contracts.queues.acknowledge import delete_messages, settle
from sqs_contracts.queues.async_processing import AsyncProcessing
from sqs_contracts.queues.long_delay import delay_until
from sqs_contracts.queues.management import QueueSettings
from sqs_contracts.queues.offload import S3Offload
from sqs_contracts.queues.ports import QueueHost
from sqs_contracts.queues.send_hooks import announce, send_one
from sqs_contracts.queues.shutdown_policies import NEVER_SHUTDOWN, ShutdownPolicy
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES, SQSSession
from sqs_contracts.sessions.errors import AccessDenied, QueueConfigError, QueueNotFound
from sqs_contracts.wire.envelope import RECEIVE_ATTRIBUTES, OutgoingMessage
from sqs_contracts.wire.errors import MessageTooLarge
from sqs_contracts.wire.message import Message

logger = logging.getLogger(__name__)

MAX_DELAY_SECONDS = 900
_Q = TypeVar("_Q", bound="GenericQueue")


class GenericQueue(AsyncProcessing):
    """A queue of an env: resolves its URL and settings once, receives and acknowledges."""

    receive_attributes: tuple[str, ...] = RECEIVE_ATTRIBUTES
    """The system attributes asked for on receive."""

    def __init__(
        self,
        env: QueueHost,
        name: str,
        backoff_policy: BackoffPolicy | None = None,
        batching_policy: BatchingConfiguration | None = None,
        *,
        queue_url: str | None = None,
        dead_letter_invalid: bool = False,
    ) -> None:
        self.env = env
        """The env that created the queue (kept for sqs-workers code that reads it)."""
        self.name = name
        self.sqs_name = env.get_sqs_queue_name(name)
        """The queue's name on SQS, with the env's prefix."""
        self.session: SQSSession = env.session
        self.context = env.context
        self.encoder = env.encoder
        self.allowed_content_types = env.allowed_content_types
        self.send_buffer = env.send_buffer
        self.processor_maker = env.processor_maker
        self.describe_endpoint = env.describe_endpoint
        self.middleware = env.middleware
        self.large_payloads: S3Offload | None = env.large_payloads
        """Where this queue stores bodies too large for SQS and reads pointers from."""
        self.backoff_policy: BackoffPolicy = backoff_policy or env.backoff_policy
        self.batching_policy = batching_policy or NoBatching()
        self.dead_letter_invalid = dead_letter_invalid
        self._given_url = queue_url
        self._url = queue_url
        # Two locks: a thread that needs only the URL must not wait for the settings' read.
        self._resolving = threading.Lock()
        self._reading = threading.Lock()
        self._settings: QueueSettings | None = None

    def use_session(self, session: SQSSession) -> None:
        """Talk to another session from now on, forgetting the URL and settings read so far."""
        self.session = session
        self._url = self._given_url
        self._settings = None

    @classmethod
    def maker(cls: type[_Q], **kwargs: Any) -> Callable[..., _Q]:
        """A factory for ``env.queue(name, queue_maker=...)`` with preset arguments."""
        return functools.partial(cls, **kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    # -- resolution --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The queue URL, resolved with ``GetQueueUrl`` on first use unless given."""
        if self._url is None:
            with self._resolving:  # threads starting together make one call, not one each
                if self._url is None:
                    self._url = self._resolve_url()
        return self._url

    def _resolve_url(self) -> str:
        try:
            return str(self.session.get_queue_url(QueueName=self.sqs_name)["QueueUrl"])
        except QueueNotFound as exc:
            raise QueueNotFound(
                exc.response,
                exc.operation_name,
                f"queue {self.sqs_name!r} does not exist on {self.describe_endpoint()}; "
                f"create it (sqs_contracts.create_standard_queue(env, {self.name!r}) or "
                f"`sqs-contracts queue create {self.name}`) or fix queue_prefix",
            ) from exc

    @property
    def queue_url(self) -> str | None:
        """The URL given or resolved so far (sqs-workers name)."""
        return self._url

    @property
    def settings(self) -> QueueSettings:
        """The queue's SQS settings, read once with ``GetQueueAttributes``.

        Without permission to read them, what the name tells is used; any other failure
        (an endpoint down) raises and caches nothing, so the next use reads them again.
        """
        if self._settings is None:
            url = self.url
            with self._reading:
                if self._settings is None:
                    self._settings = self._read_settings(url)
        return self._settings

    def _read_settings(self, url: str) -> QueueSettings:
        try:
            attrs = self.session.get_queue_attributes(QueueUrl=url)
            return QueueSettings.from_attributes(self.sqs_name, attrs["Attributes"])
        except AccessDenied as exc:
            logger.warning("cannot read attributes of queue %s: %s", self.name, exc)
            return QueueSettings(fifo=self.sqs_name.endswith(".fifo"))

    def forget_settings(self) -> None:
        """Drop the cached settings (after changing the queue's attributes)."""
        self._settings = None

    @property
    def max_receive_count(self) -> int | None:
        """The redrive policy's ``maxReceiveCount`` once the settings were read, else None."""
        return self._settings.max_receive_count if self._settings is not None else None

    def now(self) -> float:
        """The epoch time long delays count from: the session's clock when it has one
        (``MemorySession``), else the system's."""
        clock = getattr(self.session, "clock", None)
        return float(clock.time()) if clock is not None else time.time()

    def contract_of(self, job_name: str | None) -> type[BaseModel] | None:
        """The contract class of a job name on this queue, when known (for middleware)."""
        return None

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
        if delay_seconds is not None and delay_seconds > MAX_DELAY_SECONDS and not settings.fifo:
            delay_until(message, self.now() + delay_seconds, self.name)
            delay_seconds = message.delay_seconds
        if self.large_payloads is not None:
            self.large_payloads.offload(message, self.name, settings.max_message_size)
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
            if delay_seconds < 0:
                raise QueueConfigError(
                    f"job {message.job_name!r}: delay_seconds must be >= 0, got {delay_seconds}"
                )
            message.delay_seconds = None if settings.fifo else int(delay_seconds)
        if group_id is not None or deduplication_id is not None:
            _check_ids(message.job_name, self.name, group_id, deduplication_id)
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
        if self.middleware:
            announce(self, message, settings.max_message_size)
        return message

    def send(self, message: OutgoingMessage) -> str | None:
        """Send a prepared message now, or buffer it when a batch block is open."""
        if message.offloaded is None or self.large_payloads is None:
            return self._send(message)
        try:
            return self._send(message)
        except BaseException:
            self.discard_payload(message)
            raise

    def discard_payload(self, message: OutgoingMessage) -> None:
        """Delete the stored payload of a message that was not sent (none is left behind)."""
        if message.offloaded is not None and self.large_payloads is not None:
            self.large_payloads.discard(message)

    def _send(self, message: OutgoingMessage) -> str | None:
        buffer = self.send_buffer
        if buffer.is_batching(self.name):
            buffer.add(self, message)
            return None
        if buffer.coalescer is not None:
            return buffer.coalescer.send(self, message)
        if self.middleware:
            return send_one(self, message)
        response = self.session.send_message(QueueUrl=self.url, **message.send_kwargs())
        return str(response["MessageId"])

    def add_batch(self) -> AbstractContextManager[None]:
        """Buffer every send to this queue inside the block into ``SendMessageBatch`` calls."""
        return self.send_buffer.block(self.name)

    # -- receiving and acknowledging -----------------------------------------------------------

    def get_raw_messages(
        self, wait_seconds: int = 0, max_messages: int = MAX_BATCH_ENTRIES
    ) -> list[Message]:
        """Receive up to ``max_messages`` (1..10) with all message attributes."""
        response = self.session.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=max(1, min(max_messages, MAX_BATCH_ENTRIES)),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=list(self.receive_attributes),
            MessageAttributeNames=["All"],
        )
        url = self._url
        messages = [Message(m, url) for m in response.get("Messages", ())]
        if self.large_payloads is not None:
            messages = [self.large_payloads.resolve(m) for m in messages]
        return messages

    def receive(self, count: int, wait_seconds: int = 0) -> list[Message]:
        """Receive up to ``count`` messages: one receive, then (past ten) more without waiting
        until there are ``count`` or the queue has no more."""
        messages = self.get_raw_messages(wait_seconds, min(count, MAX_BATCH_ENTRIES))
        while len(messages) < count and messages:
            more = self.get_raw_messages(0, min(MAX_BATCH_ENTRIES, count - len(messages)))
            if not more:
                break
            messages.extend(more)
        return messages

    @property
    def receive_size(self) -> int:
        """How many messages one handler call takes: the batch size, or one."""
        policy = self.batching_policy
        return policy.batch_size if policy.batching_enabled else 1

    def process_message(self, message: Mapping[str, Any]) -> ProcessingResult:
        """Process one received message; subclasses route it to a handler."""
        raise NotImplementedError

    def process_messages(self, messages: Sequence[Mapping[str, Any]]) -> ProcessingResult:
        """Process a list of messages at once (queues with ``BatchMessages``)."""
        raise NotImplementedError

    def process_each(self, messages: Sequence[Mapping[str, Any]]) -> list[ProcessingResult]:
        """Batch mode with one result per message; by default all share the list's result."""
        return [self.process_messages(messages)] * len(messages)

    def process_batch(self, wait_seconds: int = 0) -> BatchProcessingResult:
        """Receive one batch, process it and acknowledge each message; return the counts.

        A ``BatchMessages(n)`` queue receives until it has ``n`` messages or the queue is
        empty, and hands them to its handler in one call.
        """
        size = self.receive_size if self.batching_policy.batching_enabled else MAX_BATCH_ENTRIES
        messages = self.receive(size, wait_seconds)
        return settle(self, messages, dispatch(self, messages))

    def process_queue(
        self, shutdown_policy: ShutdownPolicy = NEVER_SHUTDOWN, wait_second: int = 10
    ) -> None:
        """Process batches until the shutdown policy says stop."""
        while True:
            result = self.process_batch(wait_seconds=wait_second)
            shutdown_policy.update_state(result)
            if shutdown_policy.need_shutdown():
                return

    def after_delete(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Called with the messages just deleted: their payload objects in S3 go too."""
        if self.large_payloads is not None:
            self.large_payloads.after_delete(messages)

    def drain_queue(self, wait_seconds: int = 0) -> int:
        """Delete every message without processing it; return how many were deleted."""
        deleted = 0
        while messages := self.get_raw_messages(wait_seconds):
            delete_messages(self, messages)
            deleted += len(messages)
        return deleted

    def purge_queue(self) -> None:
        """Delete every message with ``PurgeQueue`` (SQS allows one purge a minute)."""
        self.session.purge_queue(QueueUrl=self.url)


def _check_ids(job_name: str, queue_name: str, group_id: object, deduplication_id: object) -> None:
    """Refuse a group or deduplication id that is not a string (SQS takes only strings)."""
    for option, value in (("group_id", group_id), ("deduplication_id", deduplication_id)):
        if value is not None and not isinstance(value, str):
            raise QueueConfigError(
                f"job {job_name!r} for queue {queue_name!r}: {option} must be a string, "
                f"got {type(value).__name__} {value!r}"
            )
