"""sqs-workers compatible import path for the queues (``sqs_workers.queue``)."""

from typing import TypeVar

from typing_extensions import ParamSpec

from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.queues.job_queue import JobQueue
from sqs_contracts.queues.raw_queue import RawQueue
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES
from sqs_contracts.sessions.errors import SQSBatchError

__all__ = [
    "DEFAULT_MESSAGE_GROUP_ID",
    "MAX_MESSAGE_LENGTH",
    "SEND_BATCH_SIZE",
    "GenericQueue",
    "JobQueue",
    "P",
    "R",
    "RawQueue",
    "SQSBatchError",
]

DEFAULT_MESSAGE_GROUP_ID = "default"
"""The FIFO message group of jobs sent without ``_group_id``."""
SEND_BATCH_SIZE = MAX_BATCH_ENTRIES
"""At most this many entries go in one ``SendMessageBatch`` call."""
MAX_MESSAGE_LENGTH = MAX_MESSAGE_BYTES
"""SQS's limit on one message and on one batch request, in bytes."""

P = ParamSpec("P")
"""A handler's parameters."""
R = TypeVar("R")
"""A handler's return type."""
