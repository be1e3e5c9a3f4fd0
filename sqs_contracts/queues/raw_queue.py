"""Raw queues: arbitrary messages (S3 or CloudWatch events...) for one raw processor."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqs_contracts.dispatch.async_dispatch import acall_raw
from sqs_contracts.dispatch.awaitables import is_async_callable
from sqs_contracts.dispatch.dispatcher import call_raw
from sqs_contracts.dispatch.results import ProcessingResult
from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.queues.ports import QueueHost
from sqs_contracts.wire.envelope import OutgoingMessage, message_size

_F = TypeVar("_F", bound=Callable[..., Any])


class RawQueue(GenericQueue):
    """A queue of arbitrary messages (S3 or CloudWatch events...) for one raw processor."""

    receive_attributes = ("All",)  # a raw processor may read any of them

    def __init__(
        self, env: QueueHost, name: str, *args: Any, offload: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(env, name, *args, **kwargs)
        self.processor: Callable[[Mapping[str, Any]], Any] | None = None
        if not offload:
            # Raw bodies pass untouched unless asked: a pointer reaches the processor as is.
            self.large_payloads = None

    def raw_processor(self) -> Callable[[_F], _F]:
        """Decorate the function that receives each raw message; returns the function."""

        def register(fn: _F) -> _F:
            self.connect_raw_processor(fn)
            return fn

        return register

    def connect_raw_processor(self, fn: Callable[[Mapping[str, Any]], Any]) -> None:
        """Set the function that receives each raw message."""
        self.processor = fn

    def add_raw_job(
        self,
        message_body: str,
        delay_seconds: int = 0,
        deduplication_id: str | None = None,
        group_id: str | None = "default",
        message_attributes: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> str | None:
        """Send a body (and attributes) untouched; returns the MessageId."""
        attributes = {k: dict(v) for k, v in (message_attributes or {}).items()}
        message = OutgoingMessage(
            "<raw>", message_body, attributes, message_size(message_body, attributes)
        )
        fifo = self.settings.fifo
        self.prepare(
            message,
            delay_seconds=delay_seconds if not fifo else None,
            group_id=group_id if fifo else None,
            deduplication_id=deduplication_id if fifo else None,
        )
        return self.send(message)

    def process_message(self, message: Mapping[str, Any]) -> ProcessingResult:
        """Hand the message to the raw processor."""
        return call_raw(self.name, self.processor, [message], as_list=False)

    def process_messages(self, messages: Sequence[Mapping[str, Any]]) -> ProcessingResult:
        """Hand a list of messages to the raw processor."""
        return call_raw(self.name, self.processor, messages, as_list=True)

    def is_async(self, messages: Sequence[Mapping[str, Any]]) -> bool:
        """True when the raw processor is ``async def``."""
        return is_async_callable(self.processor)

    def has_async_handlers(self) -> bool:
        """True when the raw processor is ``async def``."""
        return is_async_callable(self.processor)

    def has_sync_handlers(self) -> bool:
        """True unless the raw processor is ``async def``."""
        return not is_async_callable(self.processor)

    async def aprocess_message(self, message: Mapping[str, Any]) -> ProcessingResult:
        """Hand the message to the raw processor on the loop (a sync one in a thread)."""
        return await acall_raw(self.name, self.processor, [message], as_list=False)

    async def aprocess_each(self, messages: Sequence[Mapping[str, Any]]) -> list[ProcessingResult]:
        """Hand a list of messages to the raw processor on the loop; one shared result."""
        return [await acall_raw(self.name, self.processor, messages, as_list=True)] * len(messages)
