"""SQS sessions: the narrow interface, the boto3 implementation and the in-memory one."""

from sqs_contracts.sessions.base import SQSSession
from sqs_contracts.sessions.boto import BotoSession
from sqs_contracts.sessions.clock import Clock, ManualClock, SystemClock
from sqs_contracts.sessions.errors import (
    AccessDenied,
    QueueNotFound,
    SQSError,
    SQSServiceError,
    TransientError,
    error_code,
    is_nonexistent_queue,
)
from sqs_contracts.sessions.memory import MemorySession

__all__ = [
    "AccessDenied",
    "BotoSession",
    "Clock",
    "ManualClock",
    "MemorySession",
    "QueueNotFound",
    "SQSError",
    "SQSServiceError",
    "SQSSession",
    "SystemClock",
    "TransientError",
    "error_code",
    "is_nonexistent_queue",
]
