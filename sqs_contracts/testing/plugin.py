"""The pytest plugin: an in-memory SQS on a manual clock for each test.

Registered through the ``pytest11`` entry point, so installing the package is enough.
"""

from __future__ import annotations

import pytest

from sqs_contracts.sessions.clock import ManualClock
from sqs_contracts.sessions.memory import MemorySession


@pytest.fixture
def sqs_clock() -> ManualClock:
    """The manual clock of ``sqs_memory``: time moves only when told (or by run_until_idle)."""
    return ManualClock()


@pytest.fixture
def sqs_memory(sqs_clock: ManualClock) -> MemorySession:
    """A fresh in-memory SQS on ``sqs_clock``; point an app's env at it with env.override()."""
    return MemorySession(clock=sqs_clock)
