"""sqs-workers compatible import path for the base error (``sqs_workers.exceptions``)."""

from sqs_contracts.errors import SQSError

__all__ = ["SQSError"]
