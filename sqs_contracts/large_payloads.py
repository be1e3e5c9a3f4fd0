"""Import path for large payloads in S3 (``SQSEnv(large_payloads=S3Offload(bucket=...))``)."""

from sqs_contracts.queues.offload import (
    DEFAULT_THRESHOLD,
    MAX_THRESHOLD,
    S3Offload,
    resolve_payload,
)
from sqs_contracts.sessions.s3 import (
    S3AccessDenied,
    S3BucketNotFound,
    S3Error,
    S3ObjectNotFound,
    S3Session,
)
from sqs_contracts.sessions.s3_boto import BotoS3Session
from sqs_contracts.sessions.s3_memory import MemoryS3Session

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAX_THRESHOLD",
    "BotoS3Session",
    "MemoryS3Session",
    "S3AccessDenied",
    "S3BucketNotFound",
    "S3Error",
    "S3ObjectNotFound",
    "S3Offload",
    "S3Session",
    "resolve_payload",
]
