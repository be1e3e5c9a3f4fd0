"""How the worker waits between failed SQS calls, and which failures stop it instead."""

from __future__ import annotations

import re

from sqs_contracts.sessions.errors import AccessDenied, QueueNotFound, SQSServiceError

FATAL_ERRORS: tuple[type[Exception], ...] = (AccessDenied, QueueNotFound)
"""Failures that waiting cannot fix: bad credentials, no permission, a missing queue."""

_MAX_EXPONENT = 16
"""Past this many failures the delay is at its cap anyway; bounding the exponent keeps
``2 ** failures`` from overflowing a float after a long outage."""


def retry_delay(failures: int, base: float = 0.25, cap: float = 10.0) -> float:
    """Seconds to wait after ``failures`` consecutive failures: doubling from ``base``."""
    exponent = max(0, min(failures, _MAX_EXPONENT) - 1)
    return float(min(cap, base * 2**exponent))


def is_fatal(exc: BaseException) -> bool:
    """Tell whether a failed SQS call should stop the worker rather than be retried."""
    return isinstance(exc, FATAL_ERRORS)


_XML_FIELD = re.compile(r"<(Code|Message)>([^<]*)</\1>")


def one_line(exc: BaseException) -> str:
    """An exception as one line: its SQS code and message, without XML or line breaks."""
    if isinstance(exc, SQSServiceError) and not exc.detail:
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", type(exc).__name__)), str(error.get("Message", ""))
        # An answer botocore could not parse (an XML error to a JSON request) keeps the
        # raw body as its message: pick the code and the message out of it.
        fields = dict(_XML_FIELD.findall(message))
        if fields:
            code, message = fields.get("Code", code), fields.get("Message", "")
        text = f"{code}: {message}".rstrip(": ")
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def fatal_reason(exc: BaseException, queue_name: str, endpoint: str) -> str:
    """The one-line reason a fatal failure on a queue stops the worker, and how to fix it."""
    if isinstance(exc, QueueNotFound):
        fix = "create the queue or fix the queue name or prefix"
    else:
        fix = "check the AWS credentials and the IAM permissions for SQS on this queue"
    return f"queue {queue_name!r} on {endpoint}: {one_line(exc)}; {fix}"
