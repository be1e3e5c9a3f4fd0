"""Read an earlier schema export from a git ref, without a checkout."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

GIT_PREFIX = "git:"
"""Marks an ``--against`` value as a git ref rather than a directory."""

DEFAULT_PATH = "schemas"
"""Where the export lives in the repository when the ref names no path."""


def parse_git_source(spec: str) -> tuple[str, str]:
    """Split ``git:REF[:PATH]`` into the ref and the export directory (default ``schemas``)."""
    ref, _, path = spec[len(GIT_PREFIX) :].partition(":")
    if not ref:
        raise ValueError(f"{spec!r}: expected git:REF[:PATH], e.g. git:v1.2.0:schemas")
    return ref, (path or DEFAULT_PATH).strip("/")


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
        )
    except FileNotFoundError:
        raise ValueError("--against git:... needs the git command on PATH") from None
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise ValueError(f"git {' '.join(args)}: {detail[-1] if detail else 'failed'}")
    return done.stdout


def schemas_at_ref(spec: str, cwd: Path | None = None) -> dict[str, dict[str, Any]]:
    """The exported schemas under PATH (relative to ``cwd``) at REF, by file stem path."""
    ref, path = parse_git_source(spec)
    where = cwd or Path.cwd()
    tree = f"{ref}:./{path}"
    names = _git(where, "ls-tree", "-r", "--name-only", tree).split("\n")
    files = [name for name in names if name.count("/") == 1 and name.endswith(".json")]
    if not files:
        raise ValueError(f"no schema export under {path}/ at {ref}")
    return {
        name[: -len(".json")]: json.loads(_git(where, "show", f"{tree}/{name}")) for name in files
    }


def github_file(spec: str, contract: str) -> str:
    """The export file of a contract, for workflow annotations."""
    path = parse_git_source(spec)[1] if spec.startswith(GIT_PREFIX) else spec.rstrip("/")
    return f"{path}/{contract}.json"
