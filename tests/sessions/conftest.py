"""The ``s3_backend`` fixture: each S3 implementation in turn, in memory and on moto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from s3_backends import S3Backend, other_account_session

from sqs_contracts.sessions.s3_boto import BotoS3Session
from sqs_contracts.sessions.s3_memory import MemoryS3Session


@pytest.fixture(scope="session")
def _moto_s3(moto_endpoint: str) -> tuple[BotoS3Session, BotoS3Session]:
    # One client per account for the whole run: building a boto3 client is slow.
    ours = BotoS3Session(endpoint_url=moto_endpoint, region_name="us-east-1")
    return ours, other_account_session(moto_endpoint)


@pytest.fixture(params=["memory", "moto"])
def s3_backend(request: pytest.FixtureRequest) -> Iterator[S3Backend]:
    """Each S3 implementation in turn: ``memory`` and ``moto`` (moto's server on 127.0.0.1)."""
    if request.param == "memory":
        yield S3Backend("memory", MemoryS3Session())
    else:
        ours, other = request.getfixturevalue("_moto_s3")
        yield S3Backend("moto", ours, other)
