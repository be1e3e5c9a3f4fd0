"""The sample application on the in-memory SQS of the plugin's ``sqs_memory`` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sample_app import tasks

from sqs_contracts import MemorySession, SQSEnv


@pytest.fixture
def app(sqs_memory: MemorySession) -> Iterator[SQSEnv]:
    """The sample app's env pointed at ``sqs_memory``, with its queues created."""
    tasks.reset()
    with tasks.env.override(sqs_memory):
        tasks.create_queues()
        yield tasks.env
