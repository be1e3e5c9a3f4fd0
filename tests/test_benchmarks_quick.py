"""The benchmarks' quick mode runs to the end and writes valid JSON (figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _quick_run(out: Path, *options: str) -> dict[str, Any]:
    """Run ``python -m benchmarks --quick`` on moto with ``options``; return its JSON."""
    # moto keeps CI free of the ministack virtual environment the full run builds.
    command = [sys.executable, "-m", "benchmarks", "--quick", "--server", "moto"]
    result = subprocess.run(
        [*command, *options, "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data: dict[str, Any] = json.loads((out / "latest.json").read_text())
    return data


def test_quick_benchmark_completes_and_writes_json(tmp_path: Path) -> None:
    data = _quick_run(tmp_path)
    assert data["results"]
    assert {r["group"] for r in data["results"]} >= {"boto3", "sqs-workers", "sqs_contracts"}


def test_receivers_option_sets_the_worker_receive_loops(tmp_path: Path) -> None:
    data = _quick_run(tmp_path, "--only", "sqs_contracts/process.c8", "--receivers", "2")
    assert data["settings"]["receivers"] == 2
    [row] = data["results"]
    assert [run["extra"]["receive_loops"] for run in row["runs"]] == [2]


def test_cpu_profile_thread_roles_name_the_worker_threads() -> None:
    import threading

    from benchmarks.cpu_profile import THREAD_ROLES, thread_role
    from sqs_contracts import MemorySession, SQSEnv, Task, create_standard_queue
    from sqs_contracts.shutdown_policies import MaxTasksShutdown

    class Ping(Task, queue="thread-roles"):
        n: int

    env = SQSEnv(MemorySession())
    create_standard_queue(env, "thread-roles")
    names: list[str] = []

    def ping(task: Ping) -> None:
        names.extend(t.name for t in threading.enumerate())

    env.handler(Ping)(ping)
    with env.activate():
        Ping(n=1).delay()
    env.worker(concurrency=2, handle_signals=False).run(
        "thread-roles", shutdown_policy=MaxTasksShutdown(1)
    )
    roles = {thread_role(name) for name in names}
    assert {role for _, role in THREAD_ROLES} <= roles
    assert thread_role("sqs-heartbeat") == "other threads (heartbeat, event loop)"
