"""The real S3 session: a boto3 S3 client behind the narrow S3 interface.

botocore's errors are translated here into :class:`~sqs_contracts.sessions.s3.S3Error` and
its subclasses, so nothing above the sessions imports botocore.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)

from sqs_contracts.sessions.s3 import S3Error, check_body, check_key, s3_error, s3_location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# us-east-1 is the one region where CreateBucket takes no LocationConstraint.
_NO_LOCATION_CONSTRAINT = frozenset({None, "", "us-east-1", "aws-global"})


class BotoS3Session:
    """An :class:`~sqs_contracts.sessions.s3.S3Session` backed by a boto3 S3 client.

    The client is built on first use, so constructing the session needs no network, region or
    credentials. Pass ``client`` to use one of your own instead.
    """

    def __init__(
        self,
        client: S3Client | None = None,
        *,
        session: boto3.Session | None = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        path_style: bool | None = None,
        retry_max_attempts: int = 3,
        retry_mode: str = "standard",
        max_pool_connections: int = 50,
    ) -> None:
        self._client = client
        self._session = session
        self._endpoint_url = endpoint_url
        self._region_name = region_name
        self._path_style = path_style
        self._retries = {"max_attempts": retry_max_attempts, "mode": retry_mode}
        self._max_pool_connections = max_pool_connections
        self._lock = threading.Lock()

    @property
    def client(self) -> S3Client:
        """The boto3 S3 client, built on first use.

        The endpoint is ``endpoint_url``, else ``AWS_ENDPOINT_URL_S3``, else
        ``AWS_ENDPOINT_URL``; with an endpoint, addressing is path-style (``path_style``
        overrides), since local servers such as moto on 127.0.0.1 have no bucket subdomains.
        """
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build()
                client = self._client
        return client

    def _build(self) -> S3Client:
        endpoint = (
            self._endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
            or None
        )
        path_style = self._path_style if self._path_style is not None else endpoint is not None
        config = Config(
            retries=self._retries,  # type: ignore[arg-type]
            max_pool_connections=self._max_pool_connections,
            s3={"addressing_style": "path" if path_style else "auto"},
        )
        factory = self._session if self._session is not None else boto3.Session()
        return factory.client(
            "s3", endpoint_url=endpoint, region_name=self._region_name, config=config
        )

    def __repr__(self) -> str:
        if self._client is not None:
            return f"BotoS3Session({self._client.meta.endpoint_url!r})"
        return f"BotoS3Session(endpoint_url={self._endpoint_url!r}, not connected yet)"

    def put_object(self, *, Bucket: str, Key: str, Body: bytes) -> None:
        """Store ``Body`` as the object ``Key``."""
        check_key("put_object", Bucket, Key)
        data = check_body(Bucket, Key, Body)
        with _translated("put_object", Bucket, Key):
            self.client.put_object(Bucket=Bucket, Key=Key, Body=data)

    def get_object(self, *, Bucket: str, Key: str) -> bytes:
        """Return the whole object's bytes."""
        check_key("get_object", Bucket, Key)
        with _translated("get_object", Bucket, Key):
            stream = self.client.get_object(Bucket=Bucket, Key=Key)["Body"]
            try:
                return stream.read()
            finally:
                stream.close()

    def delete_object(self, *, Bucket: str, Key: str) -> None:
        """Delete the object; a missing key is no error."""
        check_key("delete_object", Bucket, Key)
        with _translated("delete_object", Bucket, Key):
            self.client.delete_object(Bucket=Bucket, Key=Key)

    def head_bucket(self, *, Bucket: str) -> None:
        """Check that the bucket exists and these credentials may use it."""
        with _translated("head_bucket", Bucket, None):
            self.client.head_bucket(Bucket=Bucket)

    def create_bucket(self, *, Bucket: str) -> None:
        """Create the bucket in the client's region; a bucket already ours is no error."""
        with _translated("create_bucket", Bucket, None):
            client = self.client
            region = client.meta.region_name
            try:
                if region in _NO_LOCATION_CONSTRAINT:
                    client.create_bucket(Bucket=Bucket)
                else:
                    client.create_bucket(
                        Bucket=Bucket,
                        CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
                    )
            except ClientError as exc:
                if _code(exc) != "BucketAlreadyOwnedByYou":
                    raise


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _translated(operation: str, bucket: str, key: str | None) -> Iterator[None]:
    """Raise botocore's errors inside the block as the library's S3 errors."""
    try:
        yield
    except ClientError as exc:
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        message = str(exc.response.get("Error", {}).get("Message", ""))
        raise s3_error(operation, bucket, key, _code(exc), detail=message, status=status) from exc
    except BotoCoreError as exc:
        raise _client_side_error(operation, bucket, key, exc) from exc


def _client_side_error(operation: str, bucket: str, key: str | None, exc: BotoCoreError) -> S3Error:
    where = s3_location(bucket, key)
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        hint = "S3 could not be reached; a transient failure, retry later"
        retryable = True
    elif isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        hint = (
            "no usable AWS credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "a profile, or a role"
        )
        retryable = False
    else:
        hint = "check the arguments and the client configuration"
        retryable = False
    return S3Error(
        f"S3 {operation} on {where} failed: {exc}; {hint}",
        operation=operation,
        bucket=bucket,
        key=key,
        code=type(exc).__name__,
        retryable=retryable,
    )
