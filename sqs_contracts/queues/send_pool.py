"""SendPool: a few threads that make send requests off the caller's thread or event loop.

boto3 blocks, so a coroutine hands its request to one of these threads and awaits it, and a
batch block keeps several ``SendMessageBatch`` requests in flight. Measured against
aiobotocore (see README, "asyncio"), a small pool costs the same CPU per request and keeps the
base install at its four dependencies. The threads start on first use.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")

SEND_THREADS = 8
"""Requests one env keeps in flight at once: enough to hide a 20 ms round trip."""


class SendPool:
    """The send threads of one env, started on first use."""

    def __init__(self, max_workers: int = SEND_THREADS) -> None:
        self.max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ThreadPoolExecutor:
        executor = self._executor
        if executor is None:
            with self._lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(
                        self.max_workers, thread_name_prefix="sqs-contracts-send"
                    )
                executor = self._executor
        return executor

    def submit(self, fn: Callable[..., _T], /, *args: Any) -> Future[_T]:
        """Run ``fn(*args)`` on a send thread; returns its future."""
        try:
            return self._pool().submit(fn, *args)
        except RuntimeError:
            # At interpreter exit executors refuse work, yet threads still running may send:
            # the request is made on the calling thread rather than left unsent.
            return _run_here(fn, args)

    async def run(self, fn: Callable[..., _T], /, *args: Any) -> _T:
        """Run ``fn(*args)`` on a send thread and await its result without blocking the loop."""
        return await asyncio.wrap_future(self.submit(fn, *args))


def _run_here(fn: Callable[..., _T], args: tuple[Any, ...]) -> Future[_T]:
    future: Future[_T] = Future()
    future.set_running_or_notify_cancel()
    try:
        future.set_result(fn(*args))
    except BaseException as exc:
        future.set_exception(exc)
    return future
