"""Run the command line in a child process, and build apps and queues for it on moto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqs_contracts.sessions import BotoSession

ROOT = Path(__file__).resolve().parents[2]
ENTRY = Path(__file__).with_name("entry.py")

APP = """
    import os

    from sqs_contracts import SQSEnv, Task

    env = SQSEnv(
        endpoint_url=os.environ["APP_ENDPOINT"],
        region_name="us-east-1",
        queue_prefix=os.environ["APP_PREFIX"],
    )


    class SendEmail(Task, queue="emails", name="send_email"):
        to: str
        subject: str


    class BuildReport(Task, queue="reports", name="build_report"):
        month: int


    @env.handler(SendEmail)
    def send_email(task: SendEmail) -> None:
        print(f"sent to {task.to}", flush=True)


    @env.handler(BuildReport)
    def build_report(task: BuildReport) -> None:
        print(f"report {task.month}", flush=True)
"""


@dataclass
class Result:
    """A finished command: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    def one_error_line(self) -> str:
        """The single stderr line of a failed command (asserting there is one, no traceback)."""
        lines = self.err.strip().splitlines()
        assert "Traceback" not in self.err, self.err
        assert len(lines) == 1, self.err
        return lines[0]


def run_cli(
    *args: str,
    cwd: Path = ROOT,
    extra_env: dict[str, str] | None = None,
    stdin: Any = subprocess.DEVNULL,
    timeout: float = 60,
) -> Result:
    """Run ``sqs-contracts ARGS`` from ``cwd``; only the package (not ``cwd``) is importable."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(extra_env or {})}
    done = subprocess.run(
        [sys.executable, str(ENTRY), *args],
        cwd=cwd,
        env=env,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@dataclass
class App:
    """An app directory (``myapp.tasks:env``) and queues with a unique prefix on moto."""

    directory: Path
    endpoint: str
    prefix: str
    session: BotoSession

    @property
    def env_vars(self) -> dict[str, str]:
        """What the app reads to find its SQS."""
        return {"APP_ENDPOINT": self.endpoint, "APP_PREFIX": self.prefix}

    @property
    def where(self) -> list[str]:
        """Options that point an admin command at the app's endpoint and prefix."""
        return ["--endpoint-url", self.endpoint, "--region", "us-east-1", "--prefix", self.prefix]

    def run(self, *args: str, **kwargs: Any) -> Result:
        """Run the command line from the app directory with the app's settings."""
        return run_cli(*args, cwd=self.directory, extra_env=self.env_vars, **kwargs)

    def create(self, name: str, dlq: str | None = None, max_receive_count: int = 3) -> str:
        """Create a queue (with a redrive policy to ``dlq``); returns its URL."""
        attributes = {}
        if dlq is not None:
            dead_url = self.url(dlq)
            arn = self.session.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            policy = {"deadLetterTargetArn": arn, "maxReceiveCount": str(max_receive_count)}
            attributes["RedrivePolicy"] = json.dumps(policy)
        return str(
            self.session.create_queue(QueueName=self.prefix + name, Attributes=attributes)[
                "QueueUrl"
            ]
        )

    def url(self, name: str) -> str:
        """The URL of one of the app's queues."""
        return str(self.session.get_queue_url(QueueName=self.prefix + name)["QueueUrl"])

    def send_job(self, queue: str, job_name: str, payload: dict[str, Any]) -> None:
        """Send a job message as a producer of this library would."""
        self.session.send_message(
            QueueUrl=self.url(queue),
            MessageBody=json.dumps(payload),
            MessageAttributes={
                "JobName": {"DataType": "String", "StringValue": job_name},
                "ContentType": {"DataType": "String", "StringValue": "json"},
                "JobContext": {"DataType": "String", "StringValue": '{"request_id": "r1"}'},
            },
        )

    def count(self, name: str) -> int:
        """Visible plus in-flight messages of a queue."""
        attrs = self.session.get_queue_attributes(QueueUrl=self.url(name), AttributeNames=["All"])
        a = attrs["Attributes"]
        return int(a["ApproximateNumberOfMessages"]) + int(
            a["ApproximateNumberOfMessagesNotVisible"]
        )


def make_app(directory: Path, endpoint: str, session: BotoSession) -> App:
    """Write ``myapp/tasks.py`` under ``directory``; queues get a prefix unique to the test."""
    package = directory / "myapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tasks.py").write_text(textwrap.dedent(APP))
    return App(directory, endpoint, f"cli{uuid.uuid4().hex[:8]}-", session)
