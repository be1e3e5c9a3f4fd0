"""sqs-workers compatible import path for results and redrive policies (``sqs_workers.core``)."""

from sqs_contracts.envelope import job_name_of as get_job_name
from sqs_contracts.management import RedrivePolicy
from sqs_contracts.results import BatchProcessingResult

__all__ = ["BatchProcessingResult", "RedrivePolicy", "get_job_name"]
