"""The benchmarks' quick mode runs to the end and writes valid JSON (figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_completes_and_writes_json(tmp_path: Path) -> None:
    # moto keeps CI free of the ministack virtual environment the full run builds.
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--server", "moto", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((tmp_path / "latest.json").read_text())
    assert data["results"]
    assert {r["group"] for r in data["results"]} >= {"boto3", "sqs-workers", "sqs_contracts"}


def test_receivers_option_sets_the_worker_receive_loops(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--server",
            "moto",
            "--only",
            "sqs_contracts/process.c8",
            "--receivers",
            "2",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((tmp_path / "latest.json").read_text())
    assert data["settings"]["receivers"] == 2
    [row] = data["results"]
    assert [run["extra"]["receive_loops"] for run in row["runs"]] == [2]
