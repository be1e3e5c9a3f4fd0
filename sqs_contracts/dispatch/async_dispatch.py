"""The dispatch path on an event loop: async handlers awaited, sync ones run in a thread.

The same routing and outcomes as :mod:`~sqs_contracts.dispatch.dispatcher`, for runners that
own an event loop (the worker's loop thread, and any asyncio runner): an ``async def`` handler
is awaited on the loop, a sync one runs in a thread (``asyncio.to_thread``) so it never
blocks the loop's other handlers.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from sqs_contracts.dispatch.awaitables import await_result, call_in_thread, is_async_callable
from sqs_contracts.dispatch.dispatcher import (
    NOT_RUN,
    Message,
    Route,
    begin_jobs,
    call_raw,
    checked,
    deferrals,
    end_jobs,
    failed_call,
    job_runs,
    unknown_job,
)
from sqs_contracts.dispatch.errors import RetryJob
from sqs_contracts.dispatch.processor import Processor
from sqs_contracts.dispatch.results import Outcome, ProcessingResult
from sqs_contracts.wire.envelope import job_name_of

logger = logging.getLogger(__name__)


class AsyncRoute(Route, Protocol):
    """A route that can also process its messages on an event loop."""

    def is_async(self, messages: Sequence[Message]) -> bool:
        """True when handling these messages awaits an async handler."""
        ...

    async def aprocess_message(self, message: Message) -> ProcessingResult:
        """Process one message on the loop."""
        ...

    async def aprocess_each(self, messages: Sequence[Message]) -> list[ProcessingResult]:
        """Batch mode on the loop: one result per message."""
        ...


async def adispatch(route: AsyncRoute, messages: Sequence[Message]) -> list[Outcome]:
    """Process messages on the running loop (one by one, or as one list); one outcome each."""
    if not messages:
        return []
    deferred = deferrals(route, messages)
    if deferred is not None:
        ready = iter(
            await adispatch(
                route, [m for m, d in zip(messages, deferred, strict=True) if d is None]
            )
        )
        return [d or next(ready) for d in deferred]
    if route.batching_policy.batching_enabled:
        jobs = begin_jobs(route, messages, batched=True)
        start = time.perf_counter()
        results = await _guarded(route, lambda: route.aprocess_each(messages), len(messages))
        return end_jobs(route, messages, jobs, results, time.perf_counter() - start)
    outcomes: list[Outcome] = []
    for message in messages:
        jobs = begin_jobs(route, [message], batched=False)
        start = time.perf_counter()
        one = functools.partial(_one, route.aprocess_message, message)
        result = await _guarded(route, one, 1)
        outcomes += end_jobs(route, [message], jobs, result, time.perf_counter() - start)
    return outcomes


async def _one(
    process: Callable[[Message], Awaitable[ProcessingResult]], message: Message
) -> list[ProcessingResult]:
    return [await process(message)]


async def _guarded(
    route: Route, call: Callable[[], Awaitable[list[ProcessingResult]]], count: int
) -> list[ProcessingResult]:
    try:
        results = await call()
    except Exception as exc:  # a processor bug fails its messages, never the runner
        return failed_call(route, exc, count)
    return checked(route, results, count)


def jobs_are_async(processors: Mapping[str, Processor], messages: Sequence[Message]) -> bool:
    """True when one of the messages' job names has an async handler."""
    return any(
        (p := processors.get(job_name_of(m) or "")) is not None and p.is_async for m in messages
    )


async def aroute_job(
    queue_name: str, processors: Mapping[str, Processor], message: Message
) -> ProcessingResult:
    """Hand one message to the processor of its ``JobName``, on the loop."""
    processor = processors.get(job_name_of(message) or "")
    if processor is None:
        return unknown_job(queue_name, processors, message)
    return await processor.aprocess_message(message)


async def aroute_jobs(
    queue_name: str,
    processors: Mapping[str, Processor],
    messages: Sequence[Message],
    *,
    ordered: bool = False,
) -> list[ProcessingResult]:
    """Batch mode on the loop: each job name's messages to its processor, as ``route_jobs``."""
    results: list[ProcessingResult] = [NOT_RUN] * len(messages)
    for name, indexes in job_runs(messages, ordered=ordered):
        processor = processors.get(name)
        group = [messages[i] for i in indexes]
        if processor is None:
            group_results = [unknown_job(queue_name, processors, m) for m in group]
        else:
            group_results = await processor.aprocess_each(group)
        for i, result in zip(indexes, group_results, strict=True):
            results[i] = result
        if ordered and not all(r.success for r in group_results):
            break
    return results


async def acall_raw(
    queue_name: str,
    processor: Callable[..., Any] | None,
    messages: Sequence[Message],
    *,
    as_list: bool,
) -> ProcessingResult:
    """Call a raw processor on the loop: awaited when async, in a thread when sync."""
    if processor is None or not is_async_callable(processor):
        call = functools.partial(call_raw, queue_name, processor, messages, as_list=as_list)
        return await call_in_thread(call)
    extra = {"queue": queue_name, "message_ids": [m.get("MessageId") for m in messages]}
    try:
        if as_list:
            await await_result(processor(list(messages)))
        else:
            for message in messages:
                await await_result(processor(message))
    except RetryJob as exc:
        logger.info("Retrying raw messages of %s", queue_name, extra=extra)
        return ProcessingResult(False, exc.backoff_policy, error=exc)
    except Exception as exc:
        logger.exception("Error while processing raw messages of %s", queue_name, extra=extra)
        return ProcessingResult(False, error=exc)
    return ProcessingResult(True)
