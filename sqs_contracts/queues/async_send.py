"""Sending from coroutines: the request runs on a send thread, the event loop never waits.

A coroutine's message is encoded and checked on the loop (so errors raise at the call),
then buffered when an ``abatch()`` block is open, handed to the coalescer when the env
coalesces, or sent on one of the env's send threads. The queue's URL and settings are read
on a send thread too, the first time.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from typing import Protocol

from sqs_contracts.queues.send_buffer import SendBuffer
from sqs_contracts.queues.send_hooks import BatchTarget, send_one
from sqs_contracts.sessions.base import SQSSession
from sqs_contracts.wire.envelope import OutgoingMessage


class AsyncSendTarget(BatchTarget, Protocol):
    """The queue a coroutine sends to."""

    @property
    def send_buffer(self) -> SendBuffer:
        """The env's batch blocks, send threads and coalescer."""
        ...

    @property
    def settings(self) -> object:
        """The queue's settings, read on first use."""
        ...


_resolved: weakref.WeakKeyDictionary[AsyncSendTarget, SQSSession] = weakref.WeakKeyDictionary()
"""The queues whose URL and settings were read, with the session they were read from."""


def _resolve(queue: AsyncSendTarget) -> None:
    _ = queue.url, queue.settings


async def resolve(queue: AsyncSendTarget) -> None:
    """Read the queue's URL and settings on a send thread, once per session."""
    session = queue.session
    if _resolved.get(queue) is not session:
        await queue.send_buffer.pool.run(_resolve, queue)
        _resolved[queue] = session


async def asend(queue: AsyncSendTarget, message: OutgoingMessage) -> str | None:
    """Send a checked message without blocking the loop; returns its MessageId (None when
    an ``abatch()`` block buffers it)."""
    buffer = queue.send_buffer
    if buffer.is_batching(queue.name):
        buffer.add(queue, message)
        return None
    if buffer.coalescer is not None:
        message_id: str = await asyncio.wrap_future(buffer.coalescer.submit(queue, message))
        return message_id
    if queue.middleware:
        return await buffer.pool.run(send_one, queue, message)
    call = functools.partial(
        queue.session.send_message, QueueUrl=queue.url, **message.send_kwargs()
    )
    response = await buffer.pool.run(call)
    return str(response["MessageId"])
