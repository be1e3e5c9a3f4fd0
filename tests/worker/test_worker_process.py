"""The worker as an operator meets it: a child process stopped by SIGTERM, and an outage.

Both need moto, not the memory backend: a child process shares no memory with the test,
and an outage needs a network endpoint to cut.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sqs_contracts import SQSEnv, create_standard_queue
from sqs_contracts.runners.worker_stats import WorkerStats
from sqs_contracts.sessions import BotoSession

from .contracts import Job
from .helpers import Guard, counts, receive_all, wait_for
from .proxy import FlakyProxy

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "sqs-contracts"
GRACE_PERIOD = 5.0


def _direct_env(moto_endpoint: str, prefix: str) -> SQSEnv:
    return SQSEnv(
        BotoSession.create(endpoint_url=moto_endpoint, region_name="us-east-1"),
        queue_prefix=prefix,
    )


def test_sigterm_finishes_running_jobs_and_releases_the_rest(
    moto_endpoint: str, tmp_path: Path
) -> None:
    prefix = f"sigterm-{os.getpid()}-{time.monotonic_ns()}-"
    env = _direct_env(moto_endpoint, prefix)
    url = create_standard_queue(env, "recorded", visibility_timeout=30)
    jobs = 40
    with env.batch():
        for job_id in range(jobs):
            env.queue("recorded").send_payload("RecordedJob", {"job_id": job_id})
    done = tmp_path / "done.txt"
    done.touch()
    child_env = {
        **os.environ,
        "AWS_ENDPOINT_URL_SQS": moto_endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "WORKER_TEST_PREFIX": prefix,
        "WORKER_TEST_DONE": str(done),
        "WORKER_TEST_SLEEP": "0.3",
    }
    command = [
        str(SCRIPT),
        "worker",
        "tests.worker.sigterm_app:env",
        "recorded",
        "--concurrency",
        "4",
        "--grace-period",
        str(GRACE_PERIOD),
    ]
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        child = subprocess.Popen(
            command, cwd=tmp_path, env=child_env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            started = wait_for(lambda: len(done.read_text().split()) >= 4, 20)
            assert started, log.read_text()
            child.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            code = child.wait(timeout=GRACE_PERIOD + 10)
            elapsed = time.monotonic() - signalled
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    output_text = log.read_text()
    assert code == 0, output_text
    assert elapsed <= GRACE_PERIOD, (elapsed, output_text)
    assert "received signal" in output_text

    recorded = [int(line) for line in done.read_text().split()]
    assert len(recorded) == len(set(recorded)), "a job ran twice"
    assert 4 <= len(recorded) < jobs
    # Everything not processed is visible again right away; processed jobs are deleted.
    assert counts(env, "recorded") == (jobs - len(recorded), 0)
    left = {int(m["Body"].split(":")[1].strip(" }")) for m in receive_all(env, "recorded")}
    assert left.isdisjoint(recorded)
    assert left | set(recorded) == set(range(jobs))
    env.session.delete_queue(QueueUrl=url)


def test_worker_survives_an_endpoint_outage(
    moto_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqs_contracts")
    parts = urlsplit(moto_endpoint)
    prefix = f"outage-{os.getpid()}-{time.monotonic_ns()}-"
    direct = _direct_env(moto_endpoint, prefix)
    # A poll cut by the outage goes on at the server: the messages it takes come back after
    # this visibility timeout, well within the wait for them once the endpoint is back.
    url = create_standard_queue(direct, "jobs", visibility_timeout=10)
    with FlakyProxy(parts.hostname or "127.0.0.1", parts.port or 80) as proxy:
        env = SQSEnv(endpoint_url=proxy.url, region_name="us-east-1", queue_prefix=prefix)
        handled: list[int] = []
        lock = threading.Lock()

        @env.handler(Job)
        def handle(task: Job) -> None:
            with lock:
                handled.append(task.n)

        def send(numbers: range) -> None:
            with direct.batch():
                for n in numbers:
                    Job(n=n).delay(env=direct)

        send(range(10))
        worker = env.worker(concurrency=2, wait_seconds=1, handle_signals=False)
        guard = Guard(worker, 60)
        results: list[WorkerStats] = []
        thread = threading.Thread(target=lambda: results.append(worker.run("jobs")))
        thread.start()
        try:
            assert wait_for(lambda: len(handled) == 10, 15), handled
            assert wait_for(lambda: counts(direct, "jobs") == (0, 0), 5)

            proxy.go_down()
            # A long poll cut by the outage goes on at the server and takes what arrives
            # before it ends: those messages are invisible until their visibility timeout,
            # as on SQS. New jobs arrive once such polls (1 s here) are normally over.
            time.sleep(1.5)
            send(range(10, 20))
            time.sleep(1.5)
            assert thread.is_alive()
            assert len(handled) == 10
            proxy.come_up()

            assert wait_for(lambda: len(handled) == 20, 20), handled
            assert wait_for(lambda: counts(direct, "jobs") == (0, 0), 5)
        finally:
            worker.stop()
            thread.join(timeout=15)
            guard.cancel()
        assert not thread.is_alive()
        assert not guard.fired
    assert sorted(handled) == list(range(20))
    assert results[0].succeeded == 20
    assert proxy.refused > 0
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "receive from queue jobs failed" in r.getMessage()
    ]
    assert warnings, caplog.text
    direct.session.delete_queue(QueueUrl=url)
