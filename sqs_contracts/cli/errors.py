"""How the command line fails: one line on stderr and an exit code, never a traceback.

Exit code 2: usage or configuration (unknown module, no such env, no such queue).
Exit code 1: failure at run time (access denied, bad credentials, endpoint unreachable).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypeVar

from sqs_contracts.errors import (
    AccessDenied,
    QueueNotFound,
    SQSError,
    SQSServiceError,
    TransientError,
)

USAGE = 2
"""Exit code of a usage or configuration error."""

FAILURE = 1
"""Exit code of a failure at run time."""

_T = TypeVar("_T")


class CommandError(Exception):
    """An error the command reports as one line, with its exit code."""

    def __init__(self, message: str, code: int = USAGE) -> None:
        super().__init__(message)
        self.code = code


def _service_error(exc: SQSServiceError) -> CommandError:
    code = exc.code
    message = exc.detail or exc.response.get("Error", {}).get("Message") or str(exc)
    if isinstance(exc, AccessDenied):
        hint = "check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID) and IAM permissions"
        return CommandError(f"{code}: {message}; {hint}", FAILURE)
    if isinstance(exc, TransientError):
        return CommandError(f"{message} (still failing after retries)", FAILURE)
    if code == "QueueAlreadyExists":
        return CommandError(f"{code}: {message}", USAGE)
    if code.endswith("PurgeQueueInProgress"):
        return CommandError(
            "a purge of this queue is still in progress; SQS allows one purge per queue "
            "every 60 seconds, try again in a minute",
            FAILURE,
        )
    return CommandError(f"{code or 'error'}: {message}", FAILURE)


def classify(exc: BaseException) -> CommandError | None:
    """The one-line message and exit code for an exception, or None if it is a bug."""
    error: CommandError | None = None
    if isinstance(exc, CommandError):
        error = exc
    elif isinstance(exc, QueueNotFound):
        error = CommandError(_first_line(exc), USAGE)
    elif isinstance(exc, SQSServiceError):
        error = _service_error(exc)
    elif isinstance(exc, ImportError | ValueError | TypeError | OSError):
        # EndpointConfigError and QueueConfigError are ValueErrors: configuration, exit 2.
        error = CommandError(_first_line(exc), USAGE)
    elif isinstance(exc, SQSError):
        error = CommandError(_first_line(exc), FAILURE)
    return error


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def report(exc: BaseException, *, traceback: bool = False) -> int:
    """Print an exception as one line (or a traceback if asked); return the exit code."""
    error = classify(exc)
    if traceback:
        import traceback as tb

        tb.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        return error.code if error is not None else FAILURE
    if error is None:
        # Not an error the command knows: still one line, with the way to see more.
        name = type(exc).__name__
        print(
            f"sqs-contracts: error: {name}: {_first_line(exc)} (run with --traceback for details)",
            file=sys.stderr,
        )
        return FAILURE
    print(f"sqs-contracts: error: {error}", file=sys.stderr)
    return error.code


def guarded(func: Callable[[_T], int], traceback: Callable[[_T], bool]) -> Callable[[_T], int]:
    """Wrap a command so that its errors become one line and an exit code."""

    def run(args: _T) -> int:
        try:
            return func(args)
        except KeyboardInterrupt:
            print("sqs-contracts: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:
            return report(exc, traceback=traceback(args))

    return run


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, argparse.SUPPRESS) or action.nargs == "*":
            return action.help
        return super()._get_help_string(action)
