"""Every error the library raises on purpose, from one import path (a re-export module)."""

from sqs_contracts.contracts.errors import HandlerError, NoCurrentEnv
from sqs_contracts.dispatch.errors import AsyncHandlerInRunningLoop, RetryJob, UnknownJob
from sqs_contracts.sessions.errors import (
    AccessDenied,
    EndpointConfigError,
    QueueConfigError,
    QueueNotFound,
    SendBatchError,
    SQSBatchError,
    SQSError,
    SQSServiceError,
    TransientError,
)
from sqs_contracts.wire.errors import (
    ContentTypeNotAllowed,
    InvalidMessage,
    MessageTooLarge,
    UnsendableValue,
)

__all__ = [
    "AccessDenied",
    "AsyncHandlerInRunningLoop",
    "ContentTypeNotAllowed",
    "EndpointConfigError",
    "HandlerError",
    "InvalidMessage",
    "MessageTooLarge",
    "NoCurrentEnv",
    "QueueConfigError",
    "QueueNotFound",
    "RetryJob",
    "SQSBatchError",
    "SQSError",
    "SQSServiceError",
    "SendBatchError",
    "TransientError",
    "UnknownJob",
    "UnsendableValue",
]
