"""Shared fixtures: no real AWS, a moto server on 127.0.0.1, and the ``backend`` fixture."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

if os.environ.get("SQS_TEST_AWS") != "1":
    # Nothing may reach AWS: fake credentials, no profile, no endpoint or config overrides.
    for _var in list(os.environ):
        if _var.startswith("AWS_ENDPOINT_URL") or _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            del os.environ[_var]
    os.environ["AWS_ACCESS_KEY_ID"] = "test"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "test"
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

from backends import Backend

from sqs_contracts.sessions import BotoSession, ManualClock, MemorySession


def _backend_names() -> list[str]:
    names = ["memory", "moto"]
    if os.environ.get("SQS_TEST_ENDPOINT"):
        names.append("endpoint")
    if os.environ.get("SQS_TEST_AWS") == "1":
        names.append("aws")
    return names


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server on 127.0.0.1 for the whole test run; yields its URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _boto_sessions() -> dict[str, BotoSession]:
    # One client per endpoint for the whole run: building a boto3 client is slow.
    return {}


@pytest.fixture(params=_backend_names())
def backend(
    request: pytest.FixtureRequest, _boto_sessions: dict[str, BotoSession]
) -> Iterator[Backend]:
    """Each SQS implementation in turn: ``memory`` (manual clock) and ``moto`` (+ opt-in ones)."""
    name: str = request.param
    if name == "memory":
        clock = ManualClock()
        chosen = Backend(name, MemorySession(clock=clock), clock=clock)
    else:
        if name == "moto":
            endpoint: str | None = request.getfixturevalue("moto_endpoint")
        elif name == "endpoint":
            endpoint = os.environ["SQS_TEST_ENDPOINT"]
        else:
            endpoint = None
        key = endpoint or "aws"
        if key not in _boto_sessions:
            region = (
                os.environ.get("AWS_DEFAULT_REGION", "us-east-1") if name == "aws" else "us-east-1"
            )
            _boto_sessions[key] = BotoSession.create(endpoint_url=endpoint, region_name=region)
        chosen = Backend(name, _boto_sessions[key], endpoint_url=endpoint)
    try:
        yield chosen
    finally:
        chosen.cleanup()
