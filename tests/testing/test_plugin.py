"""The pytest plugin and how the package is used from a user's project."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: pytest itself depends on tomli there
    import tomli as tomllib

from sqs_contracts import ManualClock, MemorySession
from sqs_contracts.testing import plugin

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"


def clean_environment(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh shell with no AWS configuration at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(tmp_path)  # no ~/.aws either
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(TESTS)])
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env


def run(
    args: list[str], tmp_path: Path, *, autoload: bool = False
) -> subprocess.CompletedProcess[str]:
    env = clean_environment(tmp_path)
    if autoload:  # as in a user's project: installed plugins load through their entry points
        del env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
    return subprocess.run(
        args,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_fixtures_give_a_memory_session_on_its_manual_clock(
    sqs_memory: MemorySession, sqs_clock: ManualClock
) -> None:
    assert isinstance(sqs_memory, MemorySession)
    assert sqs_memory.clock is sqs_clock
    before = sqs_clock.time()
    sqs_clock.advance(5)
    assert sqs_memory.clock.time() == before + 5


def test_the_entry_point_in_pyproject_names_the_plugin_module() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    entry_points = project["project"]["entry-points"]["pytest11"]
    assert entry_points == {"sqs_contracts": "sqs_contracts.testing.plugin"}
    assert plugin.__name__ == entry_points["sqs_contracts"]


def test_the_fixtures_are_listed_and_usable_in_a_users_project(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            from sqs_contracts import MemorySession, SQSEnv, create_standard_queue


            def test_memory(sqs_memory, sqs_clock):
                env = SQSEnv(sqs_memory)
                create_standard_queue(env, "q")
                assert isinstance(sqs_memory, MemorySession)
                assert sqs_memory.clock is sqs_clock
            """
        )
    )
    # No -p: installing the package is enough, its pytest11 entry point loads the plugin.
    pytest_args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    pytest_args += ["--rootdir", str(tmp_path)]

    listed = run([*pytest_args, "--fixtures"], tmp_path, autoload=True)
    ran = run([*pytest_args, "-q", "test_user.py"], tmp_path, autoload=True)

    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "sqs_memory" in listed.stdout
    assert "sqs_clock" in listed.stdout
    assert "A fresh in-memory SQS on ``sqs_clock``" in listed.stdout
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "1 passed" in ran.stdout


def test_importing_the_testing_package_does_not_import_pytest(tmp_path: Path) -> None:
    code = "import sys, sqs_contracts.testing; print('pytest' in sys.modules)"
    done = run([sys.executable, "-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_importing_the_app_needs_no_region_credentials_or_network(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise AssertionError("network used at import")

        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        from sample_app import tasks

        print(tasks.env, len(tasks.env.queues), tasks.SendEmail(to="a", subject="b").to)
        """
    )
    done = run([sys.executable, "-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "<SQSEnv",
        "BotoSession('default",
        "endpoint')",
        "prefix=''>",
        "5",
        "a",
    ]
