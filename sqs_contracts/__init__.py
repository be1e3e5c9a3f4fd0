"""Typed background tasks on Amazon SQS: pydantic contracts, a fast worker, schema checks."""

from sqs_contracts.contracts.errors import NoCurrentEnv
from sqs_contracts.contracts.task import Task
from sqs_contracts.dispatch.backoff import (
    DEFAULT_BACKOFF,
    IMMEDIATE_RETURN,
    ConstantBackoff,
    ExponentialBackoff,
)
from sqs_contracts.dispatch.errors import RetryJob
from sqs_contracts.dispatch.middleware import JobInfo, Middleware
from sqs_contracts.dispatch.results import BatchProcessingResult, ProcessingResult
from sqs_contracts.env import SQSEnv
from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.queues.job_queue import JobQueue
from sqs_contracts.queues.management import create_fifo_queue, create_standard_queue, delete_queue
from sqs_contracts.queues.raw_queue import RawQueue
from sqs_contracts.sessions.clock import ManualClock
from sqs_contracts.sessions.errors import (
    AccessDenied,
    QueueNotFound,
    SendBatchError,
    SQSBatchError,
    SQSError,
    TransientError,
)
from sqs_contracts.sessions.memory import MemorySession
from sqs_contracts.wire.context import JobContext, SQSContext
from sqs_contracts.wire.errors import MessageTooLarge
from sqs_contracts.wire.message import Message

__all__ = [
    "DEFAULT_BACKOFF",
    "IMMEDIATE_RETURN",
    "AccessDenied",
    "BatchProcessingResult",
    "ConstantBackoff",
    "ExponentialBackoff",
    "GenericQueue",
    "JobContext",
    "JobInfo",
    "JobQueue",
    "ManualClock",
    "MemorySession",
    "Message",
    "MessageTooLarge",
    "Middleware",
    "NoCurrentEnv",
    "ProcessingResult",
    "QueueNotFound",
    "RawQueue",
    "RetryJob",
    "SQSBatchError",
    "SQSContext",
    "SQSEnv",
    "SQSError",
    "SendBatchError",
    "Task",
    "TransientError",
    "create_fifo_queue",
    "create_standard_queue",
    "delete_queue",
]
