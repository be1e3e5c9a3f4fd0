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
