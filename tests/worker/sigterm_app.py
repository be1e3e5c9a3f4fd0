"""A worker app run by ``sqs-contracts worker`` in a child process (see test_worker_process.py).

Its handler notes the job id in ``WORKER_TEST_STARTED`` (when set), sleeps, then appends
the job id to the file named by ``WORKER_TEST_DONE``.
"""

from __future__ import annotations

import os
import threading
import time

from sqs_contracts import SQSEnv, Task


class RecordedJob(Task, queue="recorded"):
    job_id: int


env = SQSEnv(queue_prefix=os.environ.get("WORKER_TEST_PREFIX", ""), region_name="us-east-1")
_lock = threading.Lock()


@env.handler(RecordedJob)
def record(task: RecordedJob) -> None:
    if "WORKER_TEST_STARTED" in os.environ:
        with _lock, open(os.environ["WORKER_TEST_STARTED"], "a", encoding="utf-8") as started:
            started.write(f"{task.job_id}\n")
    time.sleep(float(os.environ.get("WORKER_TEST_SLEEP", "0.3")))
    with _lock, open(os.environ["WORKER_TEST_DONE"], "a", encoding="utf-8") as done:
        done.write(f"{task.job_id}\n")
