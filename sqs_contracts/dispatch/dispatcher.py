"""The dispatch path: received messages in, one outcome per message out.

It routes a message by its ``JobName`` to a processor (or hands it to a raw processor),
and turns the result into an :class:`~sqs_contracts.dispatch.results.Outcome`: delete,
retry after the backoff, or dead-letter. It knows nothing of threads, receive loops or how
acknowledgements are batched: the worker, ``process_batch`` and the other runners call it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from sqs_contracts.dispatch.awaitables import run_to_completion
from sqs_contracts.dispatch.backoff import DEFAULT_BACKOFF, BackoffPolicy
from sqs_contracts.dispatch.batch_policies import BatchingConfiguration
from sqs_contracts.dispatch.errors import RetryJob
from sqs_contracts.dispatch.middleware import JobInfo, JobSource, job_info
from sqs_contracts.dispatch.outcome_log import log_outcome, successes_logged
from sqs_contracts.dispatch.processor import Processor
from sqs_contracts.dispatch.results import DELETE, Outcome, ProcessingResult
from sqs_contracts.wire.envelope import job_name_of, not_before_of
from sqs_contracts.wire.errors import InvalidMessage

logger = logging.getLogger(__name__)

Message = Mapping[str, Any]

NOT_RUN = ProcessingResult(False)
"""The result of a FIFO message left unrun because an earlier one of its batch failed."""


class Route(JobSource, Protocol):
    """What dispatch needs of a queue: its name, policies, middleware and how it processes
    messages."""

    @property
    def batching_policy(self) -> BatchingConfiguration:
        """Whether handlers take one message or a list."""
        ...

    @property
    def backoff_policy(self) -> BackoffPolicy:
        """The visibility timeout of a failed message."""
        ...

    @property
    def dead_letter_invalid(self) -> bool:
        """Move messages that cannot become jobs to the dead-letter queue at once."""
        ...

    def process_message(self, message: Message) -> ProcessingResult:
        """Process one message."""
        ...

    def process_each(self, messages: Sequence[Message]) -> list[ProcessingResult]:
        """Batch mode: process a list of messages, one result per message."""
        ...

    def now(self) -> float:
        """The current epoch time, which a long delay's not-before time is compared with."""
        ...


def dispatch(route: Route, messages: Sequence[Message]) -> list[Outcome]:
    """Process messages (one by one, or as one list in batch mode); one outcome each.

    Around each message the middleware's ``before_process`` and ``after_process`` run, and
    its outcome is logged (dispatch/outcome_log).
    """
    if not messages:
        return []
    deferred = deferrals(route, messages)
    if deferred is not None:
        ready = iter(
            dispatch(route, [m for m, d in zip(messages, deferred, strict=True) if d is None])
        )
        return [d or next(ready) for d in deferred]
    if route.batching_policy.batching_enabled:
        jobs = begin_jobs(route, messages, batched=True)
        start = time.perf_counter()
        results = _guarded(route, lambda: route.process_each(messages), len(messages))
        return end_jobs(route, messages, jobs, results, time.perf_counter() - start)
    outcomes: list[Outcome] = []
    has_chain = bool(route.middleware)
    # A success with no middleware and no success logged has nothing to report: it skips
    # the bookkeeping of end_jobs.
    quiet = not has_chain and not successes_logged()
    for message in messages:
        jobs = begin_jobs(route, [message], batched=False) if has_chain else [None]
        start = time.perf_counter()
        try:
            result = route.process_message(message)
        except Exception as exc:  # a processor bug fails its message, never the runner
            result = failed_call(route, exc, 1)[0]
        if quiet and result.success:
            outcomes.append(DELETE)
            continue
        outcomes += end_jobs(route, [message], jobs, [result], time.perf_counter() - start)
    return outcomes


def deferrals(route: Route, messages: Sequence[Message]) -> list[Outcome | None] | None:
    """For each message, ``Outcome("defer", seconds left)`` when its not-before time is
    still ahead (a long delay received before its end), else None: it runs now. None when
    every message runs now, as nearly all do: the caller then builds and scans no list."""
    outcomes: list[Outcome | None] | None = None
    now: float | None = None
    for i, message in enumerate(messages):
        not_before = not_before_of(message)
        if not_before is None:
            continue
        now = route.now() if now is None else now
        if not_before > now:
            if outcomes is None:
                outcomes = [None] * len(messages)
            outcomes[i] = Outcome("defer", math.ceil(not_before - now))
    return outcomes


def begin_jobs(route: Route, messages: Sequence[Message], *, batched: bool) -> list[JobInfo | None]:
    """Before processing: the jobs' views for the middleware, whose ``before_process`` runs."""
    chain = route.middleware
    if not chain:
        return [None] * len(messages)
    jobs: list[JobInfo | None] = [job_info(route, m, batched=batched) for m in messages]
    for job in jobs:
        if job is not None:
            chain.before_process(job)
    return jobs


def end_jobs(
    route: Route,
    messages: Sequence[Message],
    jobs: list[JobInfo | None],
    results: Sequence[ProcessingResult],
    duration: float,
) -> list[Outcome]:
    """After processing: each result's outcome, logged; the middleware's ``after_process``
    in reverse, so contexts a middleware made current unwind in order. A batch handler's
    messages share its duration, and its exception's traceback is logged once."""
    outcomes = [outcome_of(route, m, r) for m, r in zip(messages, results, strict=True)]
    chain = route.middleware
    log_successes = successes_logged()
    if not chain and not log_successes and all(o.success for o in outcomes):
        return outcomes  # nothing to log, no middleware to call
    batched = len(messages) > 1 or route.batching_policy.batching_enabled
    logged: set[int] = set()
    for i, outcome in enumerate(outcomes):
        if jobs[i] is None and (log_successes or not outcome.success):
            jobs[i] = job_info(route, messages[i], batched=batched)
        job = jobs[i]
        if job is not None:
            error = id(outcome.error)
            log_outcome(job, outcome, duration, traceback=error not in logged)
            logged.add(error)
    if chain:
        for job, outcome in reversed(list(zip(jobs, outcomes, strict=True))):
            if job is not None:
                chain.after_process(job, outcome, duration)
    return outcomes


def _guarded(
    route: Route, call: Callable[[], list[ProcessingResult]], count: int
) -> list[ProcessingResult]:
    try:
        results = call()
    except Exception as exc:  # a processor bug fails its messages, never the runner
        return failed_call(route, exc, count)
    return checked(route, results, count)


def failed_call(route: Route, exc: Exception, count: int) -> list[ProcessingResult]:
    """The results of messages whose processing raised: each failed with the exception."""
    logger.exception("processing messages of queue %s raised", route.name)
    return [ProcessingResult(False, error=exc)] * count


def checked(route: Route, results: list[ProcessingResult], count: int) -> list[ProcessingResult]:
    """A queue's results, or failures when it returned another number than it was given."""
    if len(results) != count:
        logger.error(
            "queue %s returned %d results for %d messages", route.name, len(results), count
        )
        return [ProcessingResult(False)] * count
    return results


def outcome_of(route: Route, message: Message, result: ProcessingResult) -> Outcome:
    """Turn a processing result into what becomes of the message."""
    if result.success:
        return DELETE
    timeout = backoff_for(route, message, result)
    if result.invalid_reason is not None and route.dead_letter_invalid:
        return Outcome("dead_letter", timeout, result.invalid_reason, result.error)
    return Outcome("retry", timeout, result.invalid_reason, result.error)


def backoff_for(route: Route, message: Message, result: ProcessingResult) -> int:
    """The visibility timeout a failed message gets: the result's policy, else the queue's.

    A policy that raises is logged and replaced by the default, so a bad policy never leaves
    a message held.
    """
    policy = result.backoff_policy or route.backoff_policy
    try:
        return int(policy.get_visibility_timeout(message))
    except Exception:
        logger.exception(
            "backoff policy %r of queue %s raised; using the default backoff", policy, route.name
        )
        return DEFAULT_BACKOFF.get_visibility_timeout(message)


def unknown_job(
    queue_name: str, processors: Mapping[str, Processor], message: Message
) -> ProcessingResult:
    """The result of a message whose job name has no processor on this queue."""
    job_name = job_name_of(message)
    unreadable = unreadable_payload(message)
    if unreadable is not None:
        return unreadable
    if job_name is None:
        reason = "message has no JobName attribute: not a job of this library"
    else:
        reason = (
            f"no handler for job {job_name!r} on queue {queue_name!r} "
            f"(known: {sorted(processors)}); register one with @env.handler(...) "
            f"or @queue.processor({job_name!r})"
        )
    return ProcessingResult(False, invalid_reason=reason)


def unreadable_payload(message: Message) -> ProcessingResult | None:
    """The result of a pointer message whose payload could not be read from S3, if it is one:
    invalid for a malformed pointer or a missing object, a plain failure when transient."""
    error = getattr(message, "payload_error", None)
    if error is None:
        return None
    if isinstance(error, InvalidMessage):
        return ProcessingResult(False, invalid_reason=str(error), error=error)
    return ProcessingResult(False, error=error)


def route_job(
    queue_name: str, processors: Mapping[str, Processor], message: Message
) -> ProcessingResult:
    """Hand one message to the processor of its ``JobName``."""
    processor = processors.get(job_name_of(message) or "")
    if processor is None:
        return unknown_job(queue_name, processors, message)
    return processor.process_message(message)


def route_jobs(
    queue_name: str,
    processors: Mapping[str, Processor],
    messages: Sequence[Message],
    *,
    ordered: bool = False,
) -> list[ProcessingResult]:
    """Batch mode: hand each job name's messages to its processor, one result per message.

    ``ordered`` (FIFO queues) keeps send order: consecutive runs of one job name go in turn,
    and once a run fails the later runs do not run (they are retried after it, in order).
    """
    results: list[ProcessingResult] = [NOT_RUN] * len(messages)
    for name, indexes in job_runs(messages, ordered=ordered):
        processor = processors.get(name)
        group = [messages[i] for i in indexes]
        if processor is None:
            group_results = [unknown_job(queue_name, processors, m) for m in group]
        else:
            group_results = processor.process_each(group)
        for i, result in zip(indexes, group_results, strict=True):
            results[i] = result
        if ordered and not all(r.success for r in group_results):
            break
    return results


def job_runs(messages: Sequence[Message], *, ordered: bool) -> list[tuple[str, list[int]]]:
    """The batch's messages by job name: consecutive runs when ``ordered``, else grouped."""
    runs: list[tuple[str, list[int]]] = []
    by_name: dict[str, list[int]] = {}
    for i, message in enumerate(messages):
        name = job_name_of(message) or ""
        if ordered:
            if runs and runs[-1][0] == name:
                runs[-1][1].append(i)
            else:
                runs.append((name, [i]))
        elif name in by_name:
            by_name[name].append(i)
        else:
            by_name[name] = [i]
            runs.append((name, by_name[name]))
    return runs


def call_raw(
    queue_name: str,
    processor: Callable[..., Any] | None,
    messages: Sequence[Message],
    *,
    as_list: bool,
) -> ProcessingResult:
    """Call a raw processor with each message (or with the list, when ``as_list``)."""
    if processor is None:
        return ProcessingResult(False, invalid_reason=f"raw queue {queue_name!r} has no processor")
    for message in messages:
        unreadable = unreadable_payload(message)
        if unreadable is not None:
            return unreadable
    try:
        what = f"raw processor of queue {queue_name!r}"
        if as_list:
            run_to_completion(processor(list(messages)), what)
        else:
            for message in messages:
                run_to_completion(processor(message), what)
    except RetryJob as exc:
        return ProcessingResult(False, exc.backoff_policy, error=exc)
    except Exception as exc:  # logged with the outcome, by dispatch
        return ProcessingResult(False, error=exc)
    return ProcessingResult(True)
