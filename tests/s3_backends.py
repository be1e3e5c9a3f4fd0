"""The S3 backends the S3 tests run against, and how to make buckets on them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from sqs_contracts.sessions.s3 import S3Session
from sqs_contracts.sessions.s3_boto import BotoS3Session
from sqs_contracts.sessions.s3_memory import MemoryS3Session

OTHER_ACCOUNT = "111111111111"
"""The account that owns the "foreign" buckets on moto (ours is moto's default one)."""


def unique_bucket(prefix: str = "b") -> str:
    """Return a bucket name no other test uses (buckets are global on a moto server)."""
    return f"{prefix[:40]}-{uuid.uuid4().hex[:16]}"


@dataclass
class S3Backend:
    """One S3 implementation under test, and how to make buckets on it."""

    name: str
    session: S3Session
    # On moto, a session acting for another account, to own buckets that are not ours.
    other: BotoS3Session | None = None

    def bucket(self, prefix: str = "b") -> str:
        """Create a uniquely named bucket and return its name."""
        name = unique_bucket(prefix)
        self.session.create_bucket(Bucket=name)
        return name

    def foreign_bucket(self, monkeypatch: pytest.MonkeyPatch, *, locked: bool = True) -> str:
        """Return a bucket owned by another account, which S3 denies us when ``locked``.

        Moto lets accounts share buckets unless ``MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS`` is
        false; it reads the variable on each request, and runs in this process.
        """
        name = unique_bucket("foreign")
        if isinstance(self.session, MemoryS3Session):
            self.session.deny(name)
            return name
        assert self.other is not None
        self.other.create_bucket(Bucket=name)
        if locked:
            monkeypatch.setenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")
        return name


def other_account_session(endpoint: str) -> BotoS3Session:
    """A session whose requests moto attributes to :data:`OTHER_ACCOUNT`."""
    session = BotoS3Session(endpoint_url=endpoint, region_name="us-east-1")

    def add_account(request: object, **_: object) -> None:
        request.headers["x-moto-account-id"] = OTHER_ACCOUNT  # type: ignore[attr-defined]

    session.client.meta.events.register("before-sign.s3", add_account)
    return session
