"""Stopping the worker: signals, the grace period, the exit code, and errors waiting cannot fix.

The signal and timing tests drive ``sqs-contracts worker`` in a child process against the
moto server; the deadlock test runs a worker on MemorySession in a child process, so that a
regression hangs the child, not the test run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqs_contracts import SQSEnv, create_standard_queue
from sqs_contracts.sessions import BotoSession
from sqs_contracts.sessions.errors import AccessDenied, QueueNotFound
from sqs_contracts.shutdown_policies import IdleShutdown

from .contracts import Job
from .helpers import counts, run_worker, wait_for

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "sqs-contracts"


def _child_env(moto_endpoint: str, prefix: str, tmp_path: Path, sleep: float) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL_SQS": moto_endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "WORKER_TEST_PREFIX": prefix,
        "WORKER_TEST_DONE": str(tmp_path / "done.txt"),
        "WORKER_TEST_STARTED": str(tmp_path / "started.txt"),
        "WORKER_TEST_SLEEP": str(sleep),
    }


def _start_worker(
    moto_endpoint: str, tmp_path: Path, sleep: float, *options: str
) -> tuple[subprocess.Popen[bytes], SQSEnv, Path]:
    prefix = f"stop-{os.getpid()}-{time.monotonic_ns()}-"
    env = SQSEnv(
        BotoSession.create(endpoint_url=moto_endpoint, region_name="us-east-1"),
        queue_prefix=prefix,
    )
    create_standard_queue(env, "recorded", visibility_timeout=60)
    env.queue("recorded").send_payload("RecordedJob", {"job_id": 1})
    (tmp_path / "started.txt").touch()
    (tmp_path / "done.txt").touch()
    log = tmp_path / "worker.log"
    command = [str(SCRIPT), "worker", "tests.worker.sigterm_app:env", "recorded", *options]
    with log.open("w") as output:
        child = subprocess.Popen(
            command,
            cwd=tmp_path,
            env=_child_env(moto_endpoint, prefix, tmp_path, sleep),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    assert wait_for(lambda: (tmp_path / "started.txt").read_text().strip() == "1", 30), (
        log.read_text()
    )
    return child, env, log


@pytest.fixture
def reap() -> Iterator[list[subprocess.Popen[bytes]]]:
    children: list[subprocess.Popen[bytes]] = []
    yield children
    for child in children:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_sigterm_during_a_long_poll_exits_within_the_grace_period_and_reports_abandoned(
    moto_endpoint: str, tmp_path: Path, reap: list[subprocess.Popen[bytes]]
) -> None:
    grace = 2.0
    child, env, log = _start_worker(
        moto_endpoint,
        tmp_path,
        30,
        "--concurrency",
        "2",
        "--wait",
        "20",
        "--grace-period",
        str(grace),
    )
    reap.append(child)
    # The second handler thread's receive loop is in a 20 s long poll on an empty queue.
    time.sleep(0.5)
    child.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    code = child.wait(timeout=30)
    elapsed = time.monotonic() - signalled
    output = log.read_text()
    assert code == 1, output
    assert elapsed <= grace + 1, (elapsed, output)
    assert "still running after the 2 s grace period" in output
    # The abandoned job's message stays invisible until its visibility timeout: not lost.
    assert counts(env, "recorded") == (0, 1)


def test_a_second_signal_stops_at_once(
    moto_endpoint: str, tmp_path: Path, reap: list[subprocess.Popen[bytes]]
) -> None:
    child, _, log = _start_worker(moto_endpoint, tmp_path, 30, "--grace-period", "30")
    reap.append(child)
    child.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    signalled = time.monotonic()
    code = child.wait(timeout=30)
    elapsed = time.monotonic() - signalled
    assert code == 1, log.read_text()
    assert elapsed < 2, (elapsed, log.read_text())
    assert "second signal" in log.read_text()


DEADLOCK_SCRIPT = textwrap.dedent(
    """
    import signal
    from sqs_contracts import MemorySession, SQSEnv, create_standard_queue
    from sqs_contracts.shutdown_policies import NeverShutdown

    class SignalWhileLocked(NeverShutdown):
        # need_shutdown() runs on the main thread with the worker's lock held: a signal
        # handler that took the same lock would wait forever.
        sent = False

        def need_shutdown(self):
            if not self.sent:
                self.sent = True
                signal.raise_signal(signal.SIGTERM)
            return False

    env = SQSEnv(MemorySession())
    create_standard_queue(env, "jobs")
    stats = env.worker(wait_seconds=1).run("jobs", shutdown_policy=SignalWhileLocked())
    print("stopped", stats.abandoned)
    """
)


def test_a_signal_arriving_while_the_worker_lock_is_held_does_not_deadlock() -> None:
    result = subprocess.run(
        [sys.executable, "-c", DEADLOCK_SCRIPT],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stopped 0"


@pytest.fixture
def moto_auth(moto_endpoint: str) -> Iterator[None]:
    """Make the moto server check credentials (its default accepts any) for one test."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    before = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    try:
        yield
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = before


def test_bad_credentials_stop_the_worker_with_a_one_line_reason(
    moto_endpoint: str, request: pytest.FixtureRequest
) -> None:
    prefix = f"creds-{os.getpid()}-{time.monotonic_ns()}-"
    session = BotoSession.create(endpoint_url=moto_endpoint, region_name="us-east-1")
    env = SQSEnv(session, queue_prefix=prefix)
    url = create_standard_queue(env, "jobs")
    env.handler(Job)(lambda task: None)
    env.queue("jobs").settings  # noqa: B018 - read while the credentials still pass
    request.getfixturevalue("moto_auth")
    with pytest.raises(AccessDenied) as raised:
        run_worker(env, "jobs", policy=IdleShutdown(30), timeout=20)
    message = str(raised.value)
    assert "\n" not in message
    assert "<" not in message
    assert "InvalidClientTokenId" in message
    assert "queue 'jobs' on" in message
    assert "check the AWS credentials" in message
    from moto import settings

    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    session.delete_queue(QueueUrl=url)


def test_a_missing_queue_stops_the_worker_and_the_command_exits_2(
    moto_endpoint: str, tmp_path: Path
) -> None:
    prefix = f"missing-{os.getpid()}-{time.monotonic_ns()}-"
    env = SQSEnv(
        BotoSession.create(endpoint_url=moto_endpoint, region_name="us-east-1"),
        queue_prefix=prefix,
    )
    env.handler(Job)(lambda task: None)
    with pytest.raises(QueueNotFound) as raised:
        run_worker(env, "jobs", policy=IdleShutdown(30), timeout=20)
    assert "does not exist" in str(raised.value)

    result = subprocess.run(
        [str(SCRIPT), "worker", "tests.worker.sigterm_app:env", "recorded"],
        cwd=tmp_path,
        env=_child_env(moto_endpoint, prefix, tmp_path, 0),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # A missing queue is a configuration error: one line, exit code 2.
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("sqs-contracts: error: "), result.stderr
    assert "recorded" in last
    assert "Traceback" not in result.stderr
