"""The narrow S3 interface large payloads need, and the errors every S3 session raises.

Method and parameter names follow boto3's S3 client, so the boto3 session and
:class:`~sqs_contracts.sessions.s3_memory.MemoryS3Session` are interchangeable, except that
``get_object`` returns the object's bytes rather than a stream. Errors are raised as
:class:`S3Error` and its subclasses, built by :func:`s3_error` so that every session words
them the same way; botocore never leaks past the session.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

MAX_KEY_BYTES = 1024
"""The S3 limit on an object key: 1024 bytes of UTF-8."""

_SHOWN_KEY_CHARS = 120

_BUCKET_MISSING = frozenset({"NoSuchBucket"})
_KEY_MISSING = frozenset({"NoSuchKey"})
_CREDENTIALS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}
)
_DENIED = frozenset({"AccessDenied", "AllAccessDisabled", "AccountProblem"}) | _CREDENTIALS
_RETRYABLE = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "InternalError",
        "ServiceUnavailable",
    }
)

# The IAM action and resource each call needs, for the "how to fix it" part of access errors.
_ACTIONS = {
    "put_object": ("s3:PutObject", "arn:aws:s3:::{bucket}/*"),
    "get_object": ("s3:GetObject", "arn:aws:s3:::{bucket}/*"),
    "delete_object": ("s3:DeleteObject", "arn:aws:s3:::{bucket}/*"),
    "head_bucket": ("s3:ListBucket", "arn:aws:s3:::{bucket}"),
    "create_bucket": ("s3:CreateBucket", "arn:aws:s3:::{bucket}"),
}

_HINTS = {
    "InvalidBucketName": (
        "bucket names are 3-63 characters of lowercase letters, digits, dots and hyphens, "
        "beginning and ending with a letter or digit; choose a valid name"
    ),
    "BucketAlreadyExists": (
        "bucket names are shared by all AWS accounts and another account owns this one; "
        "choose another name"
    ),
    "KeyTooLongError": f"object keys are at most {MAX_KEY_BYTES} bytes of UTF-8; use a shorter key",
    "InvalidArgument": "check the bucket name and key passed to the call",
    "PermanentRedirect": "the bucket is in another region; give the session that region",
    "AuthorizationHeaderMalformed": "the bucket is in another region; give the session that region",
    "IllegalLocationConstraintException": (
        "the region of the request and of the bucket differ; give the session the bucket's region"
    ),
}


class S3Error(Exception):
    """An S3 call failed: ``operation``, ``bucket``, ``key`` and S3's ``code`` say which and why.

    ``retryable`` is true for failures that waiting can fix (throttling, 5xx, connection errors).
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        bucket: str,
        key: str | None = None,
        code: str = "",
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.bucket = bucket
        self.key = key
        self.code = code
        self.retryable = retryable


class S3ObjectNotFound(S3Error):
    """The object does not exist (S3's ``NoSuchKey``)."""


class S3BucketNotFound(S3Error):
    """The bucket does not exist (S3's ``NoSuchBucket``)."""


class S3AccessDenied(S3Error):
    """S3 refused the call: missing permissions, a bucket of another account, bad credentials."""


def s3_location(bucket: str, key: str | None = None) -> str:
    """Return ``s3://bucket/key`` (or ``s3://bucket``) for messages; long keys are shortened."""
    if key is None:
        return f"s3://{bucket}"
    if len(key) > _SHOWN_KEY_CHARS:
        key = key[:_SHOWN_KEY_CHARS] + "..."
    return f"s3://{bucket}/{key}"


def s3_error(
    operation: str,
    bucket: str,
    key: str | None,
    code: str,
    *,
    detail: str = "",
    status: int = 0,
) -> S3Error:
    """Build the library's error for S3's error ``code`` (and HTTP ``status``) on one call.

    The message names the call, the bucket and key, and how to fix the problem.
    """
    # HEAD answers carry the bare HTTP status as their code; name it as GET answers would.
    if code == "404":
        code = "NoSuchKey" if key is not None else "NoSuchBucket"
    elif code == "403":
        code = "AccessDenied"
    where = s3_location(bucket, key)
    said = f" ({detail})" if detail and detail != code else ""

    def make(cls: type[S3Error], message: str, retryable: bool = False) -> S3Error:
        return cls(
            message, operation=operation, bucket=bucket, key=key, code=code, retryable=retryable
        )

    if code in _BUCKET_MISSING:
        return make(
            S3BucketNotFound,
            f"S3 {operation} on {where} failed: bucket {bucket!r} does not exist; create it "
            f"(aws s3 mb s3://{bucket}) or fix the bucket name in the configuration",
        )
    if code in _KEY_MISSING:
        return make(
            S3ObjectNotFound,
            f"S3 {operation} failed: object {where} does not exist; it was never written, or "
            "was deleted or expired (a lifecycle rule?) before it was read; check the bucket "
            "and key, and keep payload objects until their messages are processed",
        )
    if status == 403 or code in _DENIED:
        return make(
            S3AccessDenied,
            f"S3 {operation} on {where} was denied ({code or status}): "
            + _access_hint(operation, bucket, code),
        )
    retryable = status >= 500 or code in _RETRYABLE
    hint = _HINTS.get(code) or (
        "a transient failure; retry later" if retryable else "see S3's error code"
    )
    return make(
        S3Error, f"S3 {operation} on {where} failed: {code or status}{said}: {hint}", retryable
    )


def _access_hint(operation: str, bucket: str, code: str) -> str:
    if code in _CREDENTIALS:
        return "check the AWS credentials (access key, secret key, session token) the session uses"
    action, resource = _ACTIONS.get(operation, ("s3:*", "arn:aws:s3:::{bucket}"))
    hint = (
        f"allow {action} on {resource.format(bucket=bucket)} to these credentials "
        "(IAM or bucket policy), or fix the bucket name if the bucket is not yours"
    )
    if operation == "get_object":
        hint += "; S3 also answers 403 for a missing key when s3:ListBucket is not allowed"
    return hint


def check_key(operation: str, bucket: str, key: str) -> None:
    """Raise :class:`S3Error` for a key S3 would refuse: empty, or over 1024 bytes of UTF-8."""
    if not key:
        raise S3Error(
            f"S3 {operation} on {s3_location(bucket)} needs a non-empty object key",
            operation=operation,
            bucket=bucket,
            key=key,
            code="InvalidArgument",
        )
    size = len(key.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise s3_error(operation, bucket, key, "KeyTooLongError", detail=f"{size} bytes")


def check_body(bucket: str, key: str, body: object) -> bytes:
    """Return ``body`` as bytes, or raise ``TypeError`` if it is not bytes-like."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise TypeError(
        f"S3 put_object of {s3_location(bucket, key)} needs Body as bytes, got "
        f"{type(body).__name__}; encode text first (for example body.encode('utf-8'))"
    )


@runtime_checkable
class S3Session(Protocol):
    """The S3 operations large payloads use, with boto3's names and keyword arguments."""

    def put_object(self, *, Bucket: str, Key: str, Body: bytes) -> None:
        """Store ``Body`` as the object ``Key`` (replacing any object of that key)."""
        ...

    def get_object(self, *, Bucket: str, Key: str) -> bytes:
        """Return the whole object's bytes."""
        ...

    def delete_object(self, *, Bucket: str, Key: str) -> None:
        """Delete the object; deleting a missing key succeeds, as in S3."""
        ...

    def head_bucket(self, *, Bucket: str) -> None:
        """Check that the bucket exists and these credentials may use it."""
        ...

    def create_bucket(self, *, Bucket: str) -> None:
        """Create the bucket (for tests and tools); succeeds if it is already ours."""
        ...
