"""Testing helpers: run an app's handlers on the real worker path, read what was sent, build
Lambda events.

Also a pytest plugin (``sqs_contracts.testing.plugin``, registered through the ``pytest11``
entry point) with the fixtures ``sqs_memory`` and ``sqs_clock``. Importing this package does
not import pytest.
"""

from sqs_contracts.testing.errors import MaxJobsExceeded, RealSessionError
from sqs_contracts.testing.inspect import decode_task, sent
from sqs_contracts.testing.lambda_events import lambda_event
from sqs_contracts.testing.results import JobRun, RunResult
from sqs_contracts.testing.run import run_until_idle

__all__ = [
    "JobRun",
    "MaxJobsExceeded",
    "RealSessionError",
    "RunResult",
    "decode_task",
    "lambda_event",
    "run_until_idle",
    "sent",
]
