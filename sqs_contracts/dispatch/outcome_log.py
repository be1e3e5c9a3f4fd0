"""One log line per job outcome, on the ``sqs_contracts.jobs`` logger.

Every line carries ``queue``, ``job``, ``message_id``, ``attempt`` (the receive count),
``duration_ms`` and ``outcome`` as ``extra`` fields (and ``trace_id`` when a middleware set
one); a failure adds the error, the next retry delay (``retry_in_s``) and whether it was the
last attempt before the dead-letter queue (``last_attempt``).

Levels: successes at DEBUG; a retry the handler asked for (``RetryJob``) at INFO; a failure
that will be retried at WARNING; a failure that sends the message to the dead-letter queue
(its last attempt, or a message that cannot become a job) at ERROR.
"""

from __future__ import annotations

import logging
from typing import Any

from sqs_contracts.dispatch.errors import RetryJob
from sqs_contracts.dispatch.middleware import JobInfo
from sqs_contracts.dispatch.results import Outcome

logger = logging.getLogger("sqs_contracts.jobs")

# Fields a LogRecord has already: logging refuses an ``extra`` that would overwrite them.
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


def successes_logged() -> bool:
    """Whether successful outcomes are logged at the current level (DEBUG)."""
    return logger.isEnabledFor(logging.DEBUG)


def _what(job: JobInfo) -> str:
    return f"job {job.job_name} of queue {job.queue}" if job.job_name else f"queue {job.queue}"


def _attempt(job: JobInfo) -> str:
    if job.max_receive_count is None:
        return f"attempt {job.attempt}"
    return f"attempt {job.attempt} of {job.max_receive_count}"


def _next(job: JobInfo, outcome: Outcome) -> str:
    if outcome.action == "dead_letter":
        return "moving it to the dead-letter queue"
    if job.last_attempt:
        return "last attempt before the dead-letter queue: SQS moves it there on its next receive"
    return f"retrying in {outcome.visibility_timeout} s"


def log_outcome(
    job: JobInfo, outcome: Outcome, duration_s: float, *, traceback: bool = True
) -> None:
    """Log what became of one job; ``traceback=False`` leaves the handler's traceback out
    (a batch handler's one error, logged in full with its first message only)."""
    extra: dict[str, Any] = {
        "queue": job.queue,
        "job": job.job_name,
        "message_id": job.message_id,
        "attempt": job.attempt,
        "duration_ms": round(duration_s * 1000, 3),
        "outcome": outcome.action,
    }
    extra.update((k, v) for k, v in job.log_fields.items() if k not in _RESERVED)
    if outcome.success:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "Processed %s (message %s, %s) in %.1f ms",
                _what(job),
                job.message_id,
                _attempt(job),
                duration_s * 1000,
                extra=extra,
            )
        return
    last = outcome.action == "dead_letter" or job.last_attempt
    extra["last_attempt"] = last
    if outcome.action == "retry":
        extra["retry_in_s"] = outcome.visibility_timeout
    error = outcome.error
    if error is not None:
        extra["error_type"] = type(error).__qualname__
    level = logging.ERROR if last else logging.WARNING
    if outcome.reason is not None:
        logger.log(
            logging.ERROR,
            "Invalid message %s on %s (%s): %s; %s",
            job.message_id,
            _what(job),
            _attempt(job),
            outcome.reason,
            _next(job, outcome),
            extra=extra,
        )
    elif isinstance(error, RetryJob):
        logger.log(
            logging.WARNING if last else logging.INFO,
            "Retrying %s (message %s, %s) as the handler asked: %s",
            _what(job),
            job.message_id,
            _attempt(job),
            _next(job, outcome) if last else f"back in {outcome.visibility_timeout} s",
            extra=extra,
        )
    else:
        described = f"{type(error).__name__}: {error}" if error is not None else "no result"
        exc_info = (type(error), error, error.__traceback__) if error and traceback else None
        logger.log(
            level,
            "Failed %s (message %s, %s) after %.1f ms: %s; %s",
            _what(job),
            job.message_id,
            _attempt(job),
            duration_s * 1000,
            described,
            _next(job, outcome),
            extra=extra,
            exc_info=exc_info,
        )
