"""``schema check --against git:REF`` in a temporary repository, the output formats, and
``asyncapi`` on an install without PyYAML."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

from .cli_helpers import run_cli

BEFORE = """
    from sqs_contracts import Task

    class SendEmail(Task, queue="mail", name="send_email"):
        to: str
        subject: str
"""

BREAKING = """
    from sqs_contracts import Task

    class SendEmail(Task, queue="mail", name="send_email"):
        to: str
        subject: str
        priority: int

    class SendDigest(Task, queue="mail", name="send_digest"):
        to: str
"""

NO_YAML = {"SQS_CONTRACTS_NO_YAML": "1"}


def _git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, timeout=30)


def _write(repo: Path, source: str) -> None:
    (repo / "mailer.py").write_text(textwrap.dedent(source))


def test_check_against_a_git_ref_in_three_formats(tmp_path: Path) -> None:
    _write(tmp_path, BEFORE)
    assert run_cli("schema", "export", "mailer", cwd=tmp_path).code == 0
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "release 1")
    _write(tmp_path, BREAKING)
    result = run_cli("schema", "check", "mailer", "--against", "git:HEAD", cwd=tmp_path)
    assert result.code == 1, result.err
    assert result.out.startswith("INCOMPATIBLE (mode full): 2 error(s), 0 warning(s)")
    assert "ERROR mail/send_email field 'priority' [backward]" in result.out
    assert "ERROR mail/send_digest [forward]: new job on existing queue 'mail'" in result.out

    result = run_cli(
        "schema", "check", "mailer", "--against", "git:HEAD:schemas", "--format", "github",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 1, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith(
        "::error file=schemas/mail/send_digest.json,title=contract mail/send_digest [forward]::"
    )
    assert lines[1].startswith("::error file=schemas/mail/send_email.json,")
    assert lines[-1].startswith("INCOMPATIBLE")

    result = run_cli(
        "schema", "check", "mailer", "--against", "git:HEAD", "--format", "json", cwd=tmp_path
    )
    report = json.loads(result.out)
    assert (report["ok"], report["errors"]) == (False, 2)
    assert {f["contract"] for f in report["findings"]} == {"mail/send_email", "mail/send_digest"}

    result = run_cli("schema", "check", "mailer", "--against", "git:nope", cwd=tmp_path)
    assert result.code == 2
    assert "git ls-tree" in result.one_error_line()


def test_asyncapi_writes_json_without_pyyaml_and_names_the_extra(tmp_path: Path) -> None:
    _write(tmp_path, BEFORE)
    result = run_cli("asyncapi", "mailer", cwd=tmp_path, extra_env=NO_YAML)
    assert (result.code, result.out.strip()) == (0, "wrote asyncapi.json"), result.err
    assert json.loads((tmp_path / "asyncapi.json").read_text())["asyncapi"] == "3.0.0"
    result = run_cli("asyncapi", "mailer", "--out", "api.yaml", cwd=tmp_path, extra_env=NO_YAML)
    assert result.code == 2
    assert "pip install 'sqs-contracts[yaml]'" in result.one_error_line()
    assert not (tmp_path / "api.yaml").exists()
