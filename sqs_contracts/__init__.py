"""Typed background tasks on Amazon SQS: pydantic contracts, a fast worker, schema checks."""

from sqs_contracts.backoff_policies import (
    DEFAULT_BACKOFF,
    IMMEDIATE_RETURN,
    ConstantBackoff,
    ExponentialBackoff,
)
from sqs_contracts.context import JobContext, SQSContext
from sqs_contracts.env import SQSEnv
from sqs_contracts.errors import (
    MessageTooLarge,
    NoCurrentEnv,
    QueueNotFound,
    RetryJob,
    SendBatchError,
    SQSBatchError,
    SQSError,
)
from sqs_contracts.management import create_fifo_queue, create_standard_queue, delete_queue
from sqs_contracts.queues import GenericQueue, JobQueue
from sqs_contracts.raw_queue import RawQueue
from sqs_contracts.results import BatchProcessingResult, ProcessingResult
from sqs_contracts.sessions.clock import ManualClock
from sqs_contracts.sessions.memory import MemorySession
from sqs_contracts.task import Task

__all__ = [
    "DEFAULT_BACKOFF",
    "IMMEDIATE_RETURN",
    "BatchProcessingResult",
    "ConstantBackoff",
    "ExponentialBackoff",
    "GenericQueue",
    "JobContext",
    "JobQueue",
    "ManualClock",
    "MemorySession",
    "MessageTooLarge",
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
    "create_fifo_queue",
    "create_standard_queue",
    "delete_queue",
]
