"""sqs-workers compatible import path for queue management (``sqs_workers.sqs_manage``)."""

from sqs_contracts.queues.management import create_fifo_queue, create_standard_queue, delete_queue

__all__ = ["create_fifo_queue", "create_standard_queue", "delete_queue"]
