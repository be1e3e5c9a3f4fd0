"""Awaitables a handler returns: never dropped, always run to completion before a success.

A sync caller (the worker's handler threads, ``process_batch``, ``.run()``) runs the
awaitable on a private event loop of its own; inside a running loop it cannot block, so it
refuses with an error that says what to await instead.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqs_contracts.dispatch.errors import AsyncHandlerInRunningLoop

_T = TypeVar("_T")

DEFAULT_HINT = (
    "await its async API instead (`await task.arun()`), or call the sync API from a thread "
    "(`await asyncio.to_thread(queue.process_batch)`)"
)
"""What a sync call of an async handler inside a running loop should become."""


def is_async_callable(fn: object) -> bool:
    """True when calling ``fn`` returns a coroutine: ``async def``, also behind partials."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - an object with ``async def __call__``
    return not inspect.isroutine(fn) and inspect.iscoroutinefunction(call)


async def _await(awaitable: Awaitable[_T]) -> _T:
    return await awaitable


def run_to_completion(value: Any, what: str, hint: str = DEFAULT_HINT) -> Any:
    """Return ``value``, or, when it is awaitable, what it gives once run to completion.

    The awaitable runs on a private event loop in this thread; inside a running loop that
    would block every other task, so it raises :class:`AsyncHandlerInRunningLoop`.
    """
    if value is None or not inspect.isawaitable(value):
        return value
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        if inspect.iscoroutine(value):
            value.close()  # not run, and it must not warn "never awaited" on top of this error
        raise AsyncHandlerInRunningLoop(
            f"{what} is async and was called synchronously from inside a running event loop, "
            f"where it cannot be run to completion without blocking the loop: {hint}"
        )
    # A loop of our own, never set as the thread's current one, so the caller's is untouched.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_await(value))
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


async def await_result(value: Any) -> Any:
    """Await ``value`` when it is awaitable; return it unchanged otherwise."""
    if inspect.isawaitable(value):
        return await value
    return value


def call_in_thread(fn: Callable[..., _T], *args: Any) -> Awaitable[_T]:
    """Run a sync callable in a thread without blocking the loop (context variables kept)."""
    return asyncio.to_thread(fn, *args)
