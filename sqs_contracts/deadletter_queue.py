"""sqs-workers compatible import path for dead-letter queues (``sqs_workers.deadletter_queue``)."""

from sqs_contracts.queues.dead_letter_queue import DeadLetterQueue, PushBackSender

__all__ = ["DeadLetterQueue", "PushBackSender"]
