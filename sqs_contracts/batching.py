"""sqs-workers compatible import path for read-batching policies (``sqs_workers.batching``)."""

from sqs_contracts.dispatch.batch_policies import BatchingConfiguration, BatchMessages, NoBatching

__all__ = ["BatchMessages", "BatchingConfiguration", "NoBatching"]
