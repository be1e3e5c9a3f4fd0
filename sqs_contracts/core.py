"""sqs-workers compatible import path for results and redrive policies (``sqs_workers.core``)."""

from sqs_contracts.dispatch.results import BatchProcessingResult
from sqs_contracts.queues.management import RedrivePolicy
from sqs_contracts.wire.envelope import job_name_of as get_job_name

__all__ = ["BatchProcessingResult", "RedrivePolicy", "get_job_name"]
