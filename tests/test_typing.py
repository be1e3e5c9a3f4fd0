"""mypy accepts the ``tests/typing/pass_*.py`` files and rejects each ``fail_*.py`` file.

Each fail file marks the line mypy must reject with ``# expected: <error code>``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "typing"
EXPECTED = re.compile(r"#\s*expected:\s*([\w-]+)")


def _mypy(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "mypy.ini"), str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize("path", sorted(CASES.glob("pass_*.py")), ids=lambda p: p.stem)
def test_mypy_accepts(path: Path) -> None:
    result = _mypy(path)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("path", sorted(CASES.glob("fail_*.py")), ids=lambda p: p.stem)
def test_mypy_rejects(path: Path) -> None:
    expected = [
        (number, match.group(1))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if (match := EXPECTED.search(line))
    ]
    assert expected, f"{path.name} marks no line with '# expected: <code>'"
    result = _mypy(path)
    assert result.returncode == 1, result.stdout
    for number, code in expected:
        assert f"{path.name}:{number}: error:" in result.stdout, result.stdout
        assert f"[{code}]" in result.stdout, result.stdout
