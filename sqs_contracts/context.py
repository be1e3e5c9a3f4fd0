"""sqs-workers compatible import path for the job context (``sqs_workers.context``)."""

from sqs_contracts.wire.context import JobContext, SQSContext

__all__ = ["JobContext", "SQSContext"]
