"""What a queue offers runners with an event loop: whether its handlers are async, and its
processing as coroutines. The defaults here suit a queue with sync processing only (a custom
``GenericQueue`` subclass): it runs in a thread, never on the loop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqs_contracts.dispatch.awaitables import call_in_thread
from sqs_contracts.dispatch.results import ProcessingResult


class _SyncProcessing(Protocol):
    def process_message(self, message: Mapping[str, Any]) -> ProcessingResult: ...

    def process_each(self, messages: Sequence[Mapping[str, Any]]) -> list[ProcessingResult]: ...


class AsyncProcessing:
    """Base of every queue: async processing that falls back to the sync one in a thread."""

    def is_async(self, messages: Sequence[Mapping[str, Any]]) -> bool:
        """True when handling these messages awaits an async handler (never, by default)."""
        return False

    def has_async_handlers(self) -> bool:
        """True when some message of this queue is handled by an ``async def`` handler."""
        return False

    def has_sync_handlers(self) -> bool:
        """True when some message of this queue is handled synchronously (it needs a thread)."""
        return True

    async def aprocess_message(
        self: _SyncProcessing, message: Mapping[str, Any]
    ) -> ProcessingResult:
        """Process one message without blocking the loop."""
        return await call_in_thread(self.process_message, message)

    async def aprocess_each(
        self: _SyncProcessing, messages: Sequence[Mapping[str, Any]]
    ) -> list[ProcessingResult]:
        """Batch mode without blocking the loop: one result per message."""
        return await call_in_thread(self.process_each, messages)
