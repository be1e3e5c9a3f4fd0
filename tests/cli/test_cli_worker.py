"""``sqs-contracts worker`` started as a child process from an app directory, on moto."""

from __future__ import annotations

import json

from .cli_helpers import App, run_cli


def test_worker_runs_every_queue_with_a_handler_from_the_app_directory(app: App) -> None:
    app.send_job("emails", "send_email", {"to": "ada@example.com", "subject": "Hi"})
    app.send_job("reports", "build_report", {"month": 7})
    # No PYTHONPATH for the app, no queue names: the worker finds myapp and both queues.
    result = app.run("worker", "myapp.tasks:env", "--idle-shutdown", "1", "--wait", "1")
    assert result.code == 0, result.err
    assert "sent to ada@example.com" in result.out
    assert "report 7" in result.out
    err = result.err
    assert "Traceback" not in err
    assert "Found credentials" not in err  # botocore's chatter stays out at INFO
    banner = err.splitlines()[0]
    assert f"worker on {app.endpoint} (region us-east-1): 2 queue(s)" in banner
    assert "concurrency 1, prefetch 10" in banner
    assert (
        f"  {app.prefix}emails: send_email; dead-letter queue {app.prefix}emails_dead "
        "after 3 receives" in err
    )
    assert f"  {app.prefix}reports: build_report; no dead-letter queue" in err
    assert "worker stopped: 2 job(s) succeeded, 0 failed, 0 released unstarted" in err
    assert "WorkerStats(" not in err


def test_named_queue_without_handlers_is_a_warning_in_json_logs(app: App) -> None:
    app.create("orphans")
    result = app.run(
        "worker",
        "myapp.tasks:env",
        "orphans",
        "emails",
        "--idle-shutdown",
        "0.5",
        "--wait",
        "1",
        "--log-format",
        "json",
        "--concurrency",
        "2",
        "--prefetch",
        "3",
    )
    assert result.code == 0, result.err
    records = [json.loads(line) for line in result.err.splitlines() if line.startswith("{")]
    assert len(records) == len(result.err.splitlines())  # every line is a JSON object
    assert {"time", "level", "logger", "message"} <= records[0].keys()
    [warning] = [r for r in records if r["level"] == "WARNING"]
    assert "queue orphans has no handlers" in warning["message"]
    assert "queues with handlers: emails, reports" in warning["message"]
    banner = next(r["message"] for r in records if "worker on" in r["message"])
    assert "concurrency 2, prefetch 3" in banner
    assert f"{app.prefix}orphans: no handlers" in banner


def test_version() -> None:
    top = run_cli("--version")
    worker = run_cli("worker", "--version")
    assert top.code == worker.code == 0
    assert top.out.startswith("sqs-contracts ")
    assert worker.out == top.out


def test_log_level_is_a_choice() -> None:
    result = run_cli("worker", "myapp.tasks:env", "--log-level", "verbose")
    assert result.code == 2
    assert "invalid choice: 'verbose'" in result.err
    assert "Traceback" not in result.err
