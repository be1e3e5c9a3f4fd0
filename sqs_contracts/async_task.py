"""sqs-workers compatible import path for the function API (``sqs_workers.async_task``)."""

from sqs_contracts.queues.function_api import (
    AsyncTask,
    AsyncTaskDelayArgs,
    BakedAsyncTask,
    P,
    connect_function,
)

__all__ = ["AsyncTask", "AsyncTaskDelayArgs", "BakedAsyncTask", "P", "connect_function"]
