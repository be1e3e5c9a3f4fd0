"""sqs-workers compatible import path for the env (``sqs_workers.sqs_env``)."""

from typing import TypeVar, Union

from typing_extensions import ParamSpec

from sqs_contracts.dispatch.batch_policies import NoBatching
from sqs_contracts.env import SQSEnv
from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.queues.job_queue import JobQueue
from sqs_contracts.queues.raw_queue import RawQueue

__all__ = ["POLICY_NO_BATCHING", "AnyQueue", "AnyQueueT", "P", "R", "SQSEnv"]

POLICY_NO_BATCHING = NoBatching()
"""The default batching policy of ``env.queue()``: one message per handler call."""

AnyQueue = Union[GenericQueue, JobQueue, RawQueue]  # noqa: UP007 - a runtime alias, as sqs-workers'
"""Any queue an env holds."""
AnyQueueT = TypeVar("AnyQueueT", GenericQueue, JobQueue, RawQueue)
"""The kind of queue ``env.queue()`` returns."""
P = ParamSpec("P")
"""A handler's parameters."""
R = TypeVar("R")
"""A handler's return type."""
