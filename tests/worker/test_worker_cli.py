"""The sqs-contracts command: queue management against moto, and the demo.

The queue commands build their own boto3 client from --endpoint-url, so they need a network
endpoint (moto) rather than the memory backend; the demo runs on its own in-memory SQS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from sqs_contracts.cli import main
from sqs_contracts.sessions import BotoSession

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "sqs-contracts"


def _stats(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, int]:
    assert main(["queue", "stats", *args, "--fields", "visible,in_flight,delayed"]) == 0
    line = capsys.readouterr().out.strip()
    return {key: int(value) for key, value in (part.split("=") for part in line.split())}


def test_queue_create_stats_purge_delete(
    moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = f"cli-{os.getpid()}-{time.monotonic_ns()}-"
    common = ["--endpoint-url", moto_endpoint, "--region", "us-east-1", "--prefix", prefix]
    session = BotoSession.create(endpoint_url=moto_endpoint, region_name="us-east-1")

    assert main(["queue", "create", "tasks_dead", *common]) == 0
    capsys.readouterr()
    args = ["--visibility-timeout", "45", "--dlq", "tasks_dead", "--max-receive-count", "3"]
    assert main(["queue", "create", "tasks", *common, *args]) == 0
    url = capsys.readouterr().out.strip()
    assert url.endswith(f"/{prefix}tasks")
    attrs = session.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "45"
    redrive = json.loads(attrs["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 3
    assert redrive["deadLetterTargetArn"].endswith(f":{prefix}tasks_dead")

    assert _stats(capsys, "tasks", *common) == {"visible": 0, "in_flight": 0, "delayed": 0}
    for n in range(3):
        session.send_message(QueueUrl=url, MessageBody=f"m{n}")
    session.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    session.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
    assert _stats(capsys, "tasks", *common) == {"visible": 2, "in_flight": 1, "delayed": 1}

    # The installed console script, in a child process.
    result = subprocess.run(
        [str(SCRIPT), "queue", "stats", "tasks", *common, "--fields", "visible,in_flight,delayed"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["visible=2", "in_flight=1", "delayed=1"]

    assert main(["queue", "purge", "tasks", *common, "--yes"]) == 0
    assert _stats(capsys, "tasks", *common) == {"visible": 0, "in_flight": 0, "delayed": 0}

    for name in ("tasks", "tasks_dead"):
        assert main(["queue", "delete", name, *common, "--yes"]) == 0
        with pytest.raises(ClientError):
            session.get_queue_url(QueueName=prefix + name)


def test_demo_prints_what_it_processed() -> None:
    result = subprocess.run(
        [str(SCRIPT), "demo"], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "send_email to=ada@example.com subject='Welcome'" in out
    assert "send_email to=flaky@example.com failed (attempt 1)" in out
    assert "send_email to=flaky@example.com subject='Retried once' (attempt 2" in out
    assert out.count("place_order ") == 3
    assert "resize_image cat.png width=640" in out
    assert "dead-lettered: ['send_email']" in out
