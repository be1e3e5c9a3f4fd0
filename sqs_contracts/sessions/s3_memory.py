"""An in-memory S3 for tests and the demo: the calls large payloads make, as S3 answers them."""

from __future__ import annotations

import ipaddress
import re
import threading

from sqs_contracts.sessions.s3 import check_body, check_key, s3_error

# S3's rules for general purpose bucket names, checked when a bucket is created, so that a
# name the tests accept is one S3 accepts too.
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def _valid_bucket_name(name: str) -> bool:
    if not _BUCKET_NAME.fullmatch(name) or ".." in name:
        return False
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return False
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return True
    return False


class MemoryS3Session:
    """An :class:`~sqs_contracts.sessions.s3.S3Session` keeping buckets in memory; thread-safe.

    Errors are those of S3: a missing bucket, a missing key, a bucket of another account.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, dict[str, bytes]] = {}
        self._foreign: set[str] = set()

    def __repr__(self) -> str:
        return f"MemoryS3Session(buckets={sorted(self._buckets)!r})"

    def create_bucket(self, *, Bucket: str) -> None:
        """Create a bucket; creating one that is already ours succeeds, as in us-east-1."""
        if not _valid_bucket_name(Bucket):
            raise s3_error("create_bucket", Bucket, None, "InvalidBucketName")
        with self._lock:
            if Bucket in self._foreign:
                raise s3_error("create_bucket", Bucket, None, "BucketAlreadyExists")
            self._buckets.setdefault(Bucket, {})

    def head_bucket(self, *, Bucket: str) -> None:
        """Check that the bucket exists and may be used."""
        with self._lock:
            self._objects("head_bucket", Bucket, None)

    def put_object(self, *, Bucket: str, Key: str, Body: bytes) -> None:
        """Store a copy of ``Body`` under ``Key``."""
        check_key("put_object", Bucket, Key)
        data = check_body(Bucket, Key, Body)
        with self._lock:
            self._objects("put_object", Bucket, Key)[Key] = data

    def get_object(self, *, Bucket: str, Key: str) -> bytes:
        """Return the object's bytes."""
        check_key("get_object", Bucket, Key)
        with self._lock:
            data = self._objects("get_object", Bucket, Key).get(Key)
        if data is None:
            raise s3_error("get_object", Bucket, Key, "NoSuchKey")
        return data

    def delete_object(self, *, Bucket: str, Key: str) -> None:
        """Delete the object; a missing key is no error, as in S3."""
        check_key("delete_object", Bucket, Key)
        with self._lock:
            self._objects("delete_object", Bucket, Key).pop(Key, None)

    def deny(self, Bucket: str) -> None:
        """Make ``Bucket`` one of another account: every call on it is denied, as S3 does.

        For tests of how an application copes with ``S3AccessDenied``.
        """
        with self._lock:
            self._buckets.pop(Bucket, None)
            self._foreign.add(Bucket)

    def keys(self, Bucket: str) -> list[str]:
        """Return the bucket's object keys, sorted (a test helper; not part of the interface)."""
        with self._lock:
            return sorted(self._objects("keys", Bucket, None))

    def _objects(self, operation: str, bucket: str, key: str | None) -> dict[str, bytes]:
        # Called with the lock held.
        objects = self._buckets.get(bucket)
        if objects is not None:
            return objects
        if bucket in self._foreign:
            raise s3_error(operation, bucket, key, "AccessDenied", status=403)
        raise s3_error(operation, bucket, key, "NoSuchBucket", status=404)
