"""Faults against a moto server: duplicates in an endpoint outage, and the time to exit.

- Outage: ``--jobs`` jobs of 50 ms on a queue with a 5 s visibility timeout, a worker reaching
  moto through a loopback proxy that drops every connection for ``--outage`` seconds once
  a quarter of the jobs ran. Prints the jobs run twice and the messages in hand (received,
  not yet deleted) when the outage began, for concurrency 1 and 8.
- SIGTERM: ``sqs-contracts worker`` in a child process with ``--wait 20``, a job running and
  a receive loop in its long poll; prints the seconds from the signal to the exit and the
  exit code, for a job that ends within the grace period and one that does not.

Run: ``python -m benchmarks.fault_matrix``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from moto.server import ThreadedMotoServer

from sqs_contracts import SQSEnv, Task, create_standard_queue
from sqs_contracts.sessions import BotoSession
from tests.worker.proxy import FlakyProxy

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "sqs-contracts"


class Measured(Task, queue="measured"):
    n: int


def _in_flight(env: SQSEnv) -> int:
    attrs = env.session.get_queue_attributes(
        QueueUrl=env.queue("measured").url,
        AttributeNames=["ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessages"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessagesNotVisible"])


def outage(endpoint: str, concurrency: int, jobs: int, seconds: float) -> dict[str, float]:
    """Run ``jobs`` jobs through an outage; return duplicates and messages in hand."""
    prefix = f"fault-{os.getpid()}-{time.monotonic_ns()}-"
    direct = SQSEnv(BotoSession.create(endpoint_url=endpoint), queue_prefix=prefix)
    create_standard_queue(direct, "measured", visibility_timeout=5)
    with direct.batch():
        for n in range(jobs):
            Measured(n=n).delay(env=direct)
    parts = urlsplit(endpoint)
    with FlakyProxy(parts.hostname or "127.0.0.1", parts.port or 80) as proxy:
        env = SQSEnv(endpoint_url=proxy.url, region_name="us-east-1", queue_prefix=prefix)
        runs: Counter[int] = Counter()
        lock = threading.Lock()

        @env.handler(Measured)
        def handle(task: Measured) -> None:
            time.sleep(0.05)
            with lock:
                runs[task.n] += 1

        # One receive loop: moto's receive is not thread-safe and would add duplicates.
        worker = env.worker(concurrency=concurrency, wait_seconds=1, receivers=1)
        worker.handle_signals = False
        thread = threading.Thread(target=worker.run, args=("measured",), daemon=True)
        thread.start()
        while sum(runs.values()) < jobs // 4:
            time.sleep(0.01)
        in_hand = _in_flight(direct)
        proxy.go_down()
        time.sleep(seconds)
        proxy.come_up()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (len(runs) < jobs or _in_flight(direct)):
            time.sleep(0.1)
        worker.stop()
        thread.join(30)
    direct.session.delete_queue(QueueUrl=direct.queue("measured").url)
    return {
        "concurrency": concurrency,
        "jobs_run": len(runs),
        "duplicates": sum(runs.values()) - len(runs),
        "in_hand_at_outage": in_hand,
    }


def sigterm(endpoint: str, job_seconds: float, grace: float) -> dict[str, float]:
    """Time from SIGTERM to exit of a worker child with a job running and a 20 s poll open."""
    prefix = f"term-{os.getpid()}-{time.monotonic_ns()}-"
    env = SQSEnv(BotoSession.create(endpoint_url=endpoint), queue_prefix=prefix)
    create_standard_queue(env, "recorded", visibility_timeout=60)
    env.queue("recorded").send_payload("RecordedJob", {"job_id": 1})
    with tempfile.TemporaryDirectory() as tmp:
        started, done = Path(tmp) / "started", Path(tmp) / "done"
        started.touch()
        done.touch()
        child_env = {
            **os.environ,
            "AWS_ENDPOINT_URL_SQS": endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "PYTHONPATH": str(REPO),
            "WORKER_TEST_PREFIX": prefix,
            "WORKER_TEST_DONE": str(done),
            "WORKER_TEST_STARTED": str(started),
            "WORKER_TEST_SLEEP": str(job_seconds),
        }
        command = [
            str(SCRIPT), "worker", "tests.worker.sigterm_app:env", "recorded",
            "--concurrency", "2", "--wait", "20", "--grace-period", str(grace),
        ]  # fmt: skip
        child = subprocess.Popen(
            command, cwd=tmp, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while not started.read_text().strip():
            time.sleep(0.01)
        time.sleep(0.5)  # the idle receive loop is in its 20 s long poll by now
        child.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        code = child.wait(60)
        elapsed = time.monotonic() - signalled
    env.session.delete_queue(QueueUrl=env.queue("recorded").url)
    return {
        "job_seconds": job_seconds,
        "grace": grace,
        "exit_seconds": round(elapsed, 2),
        "exit_code": code,
    }


def main() -> None:
    """Start moto, run the measurements, print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--outage", type=float, default=5.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        for concurrency in (1, 8):
            print(json.dumps(outage(endpoint, concurrency, args.jobs, args.outage)), flush=True)
        for job_seconds, grace in ((3.0, 30.0), (30.0, 2.0)):
            print(json.dumps(sigterm(endpoint, job_seconds, grace)), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
