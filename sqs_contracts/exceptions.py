"""sqs-workers compatible import path for the base error (``sqs_workers.exceptions``)."""

from sqs_contracts.sessions.errors import SQSError

__all__ = ["SQSError"]
