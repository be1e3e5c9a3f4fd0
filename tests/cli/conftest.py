"""Fixtures of the command-line tests: an app directory and queues on the moto server."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqs_contracts.sessions import BotoSession

from .cli_helpers import App, make_app


@pytest.fixture(scope="session")
def moto_session(moto_endpoint: str) -> BotoSession:
    """One client for the moto server."""
    return BotoSession.create(endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def app(tmp_path: Path, moto_endpoint: str, moto_session: BotoSession) -> App:
    """``myapp.tasks:env`` in a fresh directory, with its queues emails (DLQ) and reports."""
    app = make_app(tmp_path, moto_endpoint, moto_session)
    app.create("emails_dead")
    app.create("emails", dlq="emails_dead", max_receive_count=3)
    app.create("reports")
    return app
