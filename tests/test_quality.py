"""The quality bars, enforced by the test suite: mypy --strict and ruff are clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_mypy_strict_is_clean_on_the_package() -> None:
    result = _run("mypy", "--config-file", "mypy.ini", "sqs_contracts")
    assert result.returncode == 0, result.stdout


def test_ruff_check_is_clean() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout


def test_ruff_format_is_clean() -> None:
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "sqs_contracts").rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 420
    }
    assert not long, long
