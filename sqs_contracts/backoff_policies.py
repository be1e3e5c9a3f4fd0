"""sqs-workers compatible import path for backoff policies (``sqs_workers.backoff_policies``)."""

from sqs_contracts.dispatch.backoff import (
    DEFAULT_BACKOFF,
    IMMEDIATE_RETURN,
    MAX_VISIBILITY_TIMEOUT,
    BackoffPolicy,
    ConstantBackoff,
    ExponentialBackoff,
)

__all__ = [
    "DEFAULT_BACKOFF",
    "IMMEDIATE_RETURN",
    "MAX_VISIBILITY_TIMEOUT",
    "BackoffPolicy",
    "ConstantBackoff",
    "ExponentialBackoff",
]
