"""sqs-workers compatible import path for processors (``sqs_workers.processors``)."""

from sqs_contracts.dispatch.errors import RetryJob
from sqs_contracts.dispatch.processor import DEFAULT_CONTEXT_VAR, InvalidPayload, Processor
from sqs_contracts.dispatch.results import ProcessingResult

__all__ = ["DEFAULT_CONTEXT_VAR", "InvalidPayload", "ProcessingResult", "Processor", "RetryJob"]
