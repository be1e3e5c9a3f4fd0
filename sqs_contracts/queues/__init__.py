"""Queues: job, raw and dead-letter queues, the send buffer, queue management, the function API."""
