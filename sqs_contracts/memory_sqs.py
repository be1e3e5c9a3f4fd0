"""sqs-workers compatible import path for the in-memory SQS (``sqs_workers.memory_sqs``)."""

from sqs_contracts.sessions.memory import MemorySession

__all__ = ["MemorySession"]
