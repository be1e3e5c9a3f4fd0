"""SQS sessions: the narrow interface, the boto3 implementation and the in-memory one."""

from sqs_contracts.sessions.base import SQSSession, error_code, is_nonexistent_queue
from sqs_contracts.sessions.boto import BotoSession
from sqs_contracts.sessions.clock import Clock, ManualClock, SystemClock
from sqs_contracts.sessions.memory import MemorySession

__all__ = [
    "BotoSession",
    "Clock",
    "ManualClock",
    "MemorySession",
    "SQSSession",
    "SystemClock",
    "error_code",
    "is_nonexistent_queue",
]
