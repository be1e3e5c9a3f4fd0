"""Fixtures of the large-payload tests: SQS and S3 of one backend, in memory or on moto."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from backends import Backend
from s3_backends import unique_bucket

from sqs_contracts import SQSEnv, create_standard_queue
from sqs_contracts.large_payloads import S3Offload
from sqs_contracts.sessions.s3 import S3Session
from sqs_contracts.sessions.s3_boto import BotoS3Session
from sqs_contracts.sessions.s3_memory import MemoryS3Session


@dataclass
class Stack:
    """SQS and S3 of one backend, and a bucket of this test."""

    backend: Backend
    s3: S3Session
    bucket: str

    def env(self, session: Any = None, **offload: Any) -> SQSEnv:
        """An env with a unique queue prefix that offloads to this test's bucket."""
        options = {"bucket": self.bucket, "s3": self.s3, **offload}
        return SQSEnv(
            session or self.backend.session,
            queue_prefix=self.backend.unique("lp") + "-",
            large_payloads=S3Offload(**options),
        )

    def queue(self, env: SQSEnv, name: str, **options: Any) -> str:
        """Create one of the env's standard queues; deleted after the test."""
        url = create_standard_queue(env, name, **options)
        self.backend.created.append(url)
        return url

    def keys(self) -> list[str]:
        """The keys in this test's bucket."""
        if isinstance(self.s3, MemoryS3Session):
            return self.s3.keys(self.bucket)
        assert isinstance(self.s3, BotoS3Session)
        listed = self.s3.client.list_objects_v2(Bucket=self.bucket)
        return sorted(o["Key"] for o in listed.get("Contents", []))


class Recorder:
    """Delegates to an SQS session and records the calls made, with their arguments."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if not callable(method):
            return method

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return method(**kwargs)

        return call

    def made(self, name: str) -> list[dict[str, Any]]:
        """The arguments of each call of one operation, in order."""
        return [kwargs for called, kwargs in self.calls if called == name]


@pytest.fixture(scope="session")
def _moto_s3_session(moto_endpoint: str) -> BotoS3Session:
    # One client for the whole run: building a boto3 client is slow.
    return BotoS3Session(endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def stack(backend: Backend, request: pytest.FixtureRequest) -> Stack:
    """SQS and S3 of the ``backend`` in turn: memory with MemoryS3Session, moto with moto's S3."""
    s3: S3Session = (
        MemoryS3Session() if backend.is_memory else request.getfixturevalue("_moto_s3_session")
    )
    bucket = unique_bucket("lp")
    s3.create_bucket(Bucket=bucket)
    return Stack(backend, s3, bucket)
