"""The ``schema export``, ``schema check`` and ``asyncapi`` subcommands, end to end."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from sqs_contracts.cli import main
from sqs_contracts.schema.cli import register

Run = Callable[..., tuple[int, str, str]]

BEFORE = """
    from pydantic import Field
    from sqs_contracts.contracts.task import Task

    class SendEmail(Task, queue="{queue}", name="send_email"):
        to: str = Field(max_length=254)
        subject: str
"""

BREAKING = """
    from sqs_contracts.contracts.task import Task

    class SendEmail(Task, queue="{queue}", name="send_email"):
        to: str
        subject: str
        priority: int
"""

SAFE = """
    from pydantic import Field
    from sqs_contracts.contracts.task import Task

    class SendEmail(Task, queue="{queue}", name="send_email"):
        to: str = Field(max_length=254)
        subject: str
        body: str = ""
"""


class Contracts:
    """A throw-away contracts module on sys.path, rewritten between commands."""

    def __init__(self, directory: Path) -> None:
        self.name = f"cli_contracts_{uuid.uuid4().hex[:8]}"
        self.queue = f"cli-{uuid.uuid4().hex[:6]}"
        self.path = directory / f"{self.name}.py"

    def write(self, source: str) -> None:
        self.path.write_text(textwrap.dedent(source.format(queue=self.queue)))
        sys.modules.pop(self.name, None)  # the next command imports the new text


@pytest.fixture
def contracts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Contracts:
    """The module, first written with the ``BEFORE`` contract."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    module = Contracts(tmp_path)
    module.write(BEFORE)
    return module


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """Run ``sqs-contracts`` with arguments; returns (exit code, stdout, stderr)."""

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_check_unchanged_module_is_compatible(
    contracts: Contracts, run: Run, tmp_path: Path
) -> None:
    out_dir = tmp_path / "schemas"
    code, out, _ = run("schema", "export", contracts.name, "--out", str(out_dir))
    assert code == 0
    assert "wrote 2 schema file(s)" in out
    assert (out_dir / contracts.queue / "send_email.json").is_file()
    code, out, _ = run("schema", "check", contracts.name, "--against", str(out_dir))
    assert code == 0
    assert out.startswith("compatible (mode full): 0 error(s), 0 warning(s)")


def test_check_breaking_edit_exits_1_and_explains(
    contracts: Contracts, run: Run, tmp_path: Path
) -> None:
    out_dir = tmp_path / "schemas"
    run("schema", "export", contracts.name, "--out", str(out_dir))
    contracts.write(BREAKING)
    code, out, _ = run("schema", "check", contracts.name, "--against", str(out_dir))
    assert code == 1
    key = f"{contracts.queue}/send_email"
    lines = out.splitlines()
    assert lines[0] == "INCOMPATIBLE (mode full): 2 error(s), 0 warning(s)"
    assert (
        f"ERROR {key} field 'priority' [backward]: the new consumer requires 'priority' but "
        "messages the old producer wrote (still in the queue) lack it. Fix: give the new field "
        "a default" in out
    )
    assert f"ERROR {key} field 'to' [forward]: 'to' max_length loosened from 254 to none" in out
    code, out, _ = run(
        "schema", "check", contracts.name, "--against", str(out_dir), "--mode", "forward"
    )
    assert code == 1
    assert "priority" not in out


def test_check_safe_edit_exits_0(contracts: Contracts, run: Run, tmp_path: Path) -> None:
    out_dir = tmp_path / "schemas"
    run("schema", "export", contracts.name, "--out", str(out_dir))
    contracts.write(SAFE)
    code, out, _ = run("schema", "check", contracts.name, "--against", str(out_dir))
    assert (code, out.splitlines()[0]) == (0, "compatible (mode full): 0 error(s), 0 warning(s)")


def test_check_prints_warnings_when_compatible(
    contracts: Contracts, run: Run, tmp_path: Path
) -> None:
    out_dir = tmp_path / "schemas"
    run("schema", "export", contracts.name, "--out", str(out_dir))
    contracts.write(SAFE.replace('body: str = ""', 'body: str = ""\n        cc: str = "me"'))
    run("schema", "export", contracts.name, "--out", str(out_dir))
    contracts.write(SAFE.replace('body: str = ""', 'body: str = ""\n        cc: str = "you"'))
    code, out, _ = run("schema", "check", contracts.name, "--against", str(out_dir))
    assert code == 0
    assert out.startswith("compatible (mode full): 0 error(s), 1 warning(s)")
    assert "WARNING" in out
    assert "'cc' default changed" in out


def test_export_check_flag(contracts: Contracts, run: Run, tmp_path: Path) -> None:
    out_dir = tmp_path / "schemas"
    code, out, _ = run("schema", "export", contracts.name, "--out", str(out_dir), "--check")
    assert code == 1
    assert "envelope.json" in out
    run("schema", "export", contracts.name, "--out", str(out_dir))
    code, out, _ = run("schema", "export", contracts.name, "--out", str(out_dir), "--check")
    assert (code, out.strip()) == (0, f"{out_dir} is up to date")
    contracts.write(SAFE)
    code, out, _ = run("schema", "export", contracts.name, "--out", str(out_dir), "--check")
    assert code == 1
    assert f"{contracts.queue}/send_email.json" in out


def test_asyncapi_command(contracts: Contracts, run: Run, tmp_path: Path) -> None:
    target = tmp_path / "docs" / "asyncapi.yaml"
    code, out, _ = run(
        "asyncapi",
        contracts.name,
        "--out",
        str(target),
        "--queue",
        f"{contracts.queue}:VisibilityTimeout=60,DeadLetterQueue=dead,MaxReceiveCount=4",
        "--title",
        "Mail",
    )
    assert code == 0
    assert out.strip() == f"wrote {target}"
    document = yaml.safe_load(target.read_text())
    assert document["info"]["title"] == "Mail"
    queue = document["channels"][contracts.queue]["bindings"]["sqs"]["queue"]
    assert queue["visibilityTimeout"] == 60
    assert queue["redrivePolicy"]["maxReceiveCount"] == 4
    code, _, _ = run("asyncapi", contracts.name, "--out", str(tmp_path / "a.json"))
    assert code == 0
    assert json.loads((tmp_path / "a.json").read_text())["asyncapi"] == "3.0.0"


def test_errors_exit_2_with_a_message(run: Run, tmp_path: Path) -> None:
    code, _, err = run("schema", "export", "no_such_module_here", "--out", str(tmp_path))
    assert code == 2
    assert "No module named 'no_such_module_here'" in err
    code, _, err = run("schema", "check", "examples.contracts", "--against", str(tmp_path / "x"))
    assert code == 2
    assert "no schema export at" in err
    code, _, err = run("asyncapi", "examples.contracts", "--queue", "emails:Colour=red")
    assert code == 2
    assert "unknown attribute 'Colour'" in err


def test_schema_without_a_subcommand_prints_help(run: Run) -> None:
    code, _, err = run("schema")
    assert code == 2
    assert "export" in err
    assert "check" in err


def test_register_plugs_into_any_parser(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="tool")
    register(parser.add_subparsers(dest="command", required=True))
    schemas = str(Path(__file__).resolve().parents[2] / "schemas")
    args = parser.parse_args(["schema", "check", "examples.contracts", "--against", schemas])
    assert args.mode == "full"
    assert args.func(args) == 0
    assert capsys.readouterr().out.startswith("compatible")
