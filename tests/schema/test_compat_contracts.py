"""Contract-level compatibility: removed, renamed, moved and added jobs, and the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from schema_builders import contract

from sqs_contracts.schema import check_compatibility, load_schemas


def _schemas(*items: tuple[str, str, dict[str, Any], str]) -> dict[str, dict[str, Any]]:
    """Schemas keyed by queue/job from (queue, job, fields, class title) tuples."""
    out = {}
    for queue, job, fields, title in items:
        schema = contract(fields, queue=queue, job=job)
        schema["title"] = title
        out[f"{queue}/{job}"] = schema
    return out


EMAIL = {"to": (str, ...)}


def test_removed_contract_breaks_backward_while_messages_can_be_in_the_queue() -> None:
    old = _schemas(("emails", "send_email", EMAIL, "SendEmail"))
    report = check_compatibility(old, {}, mode="full")
    assert not report.ok
    [finding] = report.findings
    assert (finding.contract, finding.direction, finding.severity) == (
        "emails/send_email",
        "backward",
        "error",
    )
    assert "still in queue 'emails'" in finding.message
    assert "until the queue drains" in finding.message


def test_renamed_job_is_reported_as_removed_with_a_hint() -> None:
    old = _schemas(("emails", "send_email", EMAIL, "SendEmail"))
    new = _schemas(("emails", "send_mail", EMAIL, "SendEmail"))
    report = check_compatibility(old, new)
    errors = [f for f in report.errors if f.direction == "backward"]
    assert [f.contract for f in errors] == ["emails/send_email"]
    assert "renamed or moved to emails/send_mail?" in errors[0].message
    # The new name on the same queue is unknown to the old consumers: they cannot route it.
    forward = [(f.contract, f.severity) for f in report.findings if f.direction == "forward"]
    assert forward == [("emails/send_mail", "error")]


def test_job_moved_to_another_queue() -> None:
    old = _schemas(("emails", "send_email", EMAIL, "SendEmail"))
    new = _schemas(("mail", "send_email", EMAIL, "SendEmail"))
    report = check_compatibility(old, new)
    assert [(f.contract, f.direction) for f in report.errors] == [
        ("emails/send_email", "backward"),
        ("mail/send_email", "forward"),
    ]
    assert "moved to mail/send_email" in report.errors[0].message
    # The new producer sends to a queue no old consumer reads.
    assert "old consumers do not route JobName 'send_email' on queue 'mail'" in (
        report.errors[1].message
    )
    assert not report.warnings


def test_added_contract_is_fine() -> None:
    old = _schemas(("emails", "send_email", EMAIL, "SendEmail"))
    new = {**old, **_schemas(("sms", "send_sms", EMAIL, "SendSms"))}
    report = check_compatibility(old, new)
    assert report.ok
    assert report.findings == []


def test_added_contract_on_an_existing_queue_breaks_forward_only() -> None:
    old = _schemas(("emails", "send_email", EMAIL, "SendEmail"))
    new = {**old, **_schemas(("emails", "send_digest", EMAIL, "SendDigest"))}
    assert check_compatibility(old, new, mode="backward").findings == []
    report = check_compatibility(old, new, mode="forward")
    assert not report.ok
    [error] = report.errors
    assert error.contract == "emails/send_digest"
    assert "deploy the consumers before any producer sends it" in error.message


def test_removed_contract_is_not_a_forward_problem() -> None:
    old = _schemas(("emails", "send_email", EMAIL, "SendEmail"))
    assert check_compatibility(old, {}, mode="forward").findings == []


def test_version_going_down_breaks_backward() -> None:
    old = {"q/j": contract(EMAIL, queue="q", job="j", version=3)}
    new = {"q/j": contract(EMAIL, queue="q", job="j", version=2)}
    report = check_compatibility(old, new, mode="backward")
    assert report.errors[0].message.startswith("q/j [backward]: version went down")


def test_directories_and_mappings_compare_alike(tmp_path: Path) -> None:
    old = _schemas(("emails", "send_email", EMAIL, "SendEmail"))
    new = _schemas(("emails", "send_email", {**EMAIL, "cc": (str, ...)}, "SendEmail"))
    for root, schemas in ((tmp_path / "old", old), (tmp_path / "new", new)):
        for key, schema in schemas.items():
            path = root / f"{key}.json"
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps(schema))
        (root / "envelope.json").write_text("{}")
        (root / "emails" / "notes.json").write_text('{"not": "a contract"}')
    assert load_schemas(tmp_path / "old") == old
    from_dirs = check_compatibility(tmp_path / "old", str(tmp_path / "new"))
    assert from_dirs.findings == check_compatibility(old, new).findings
    assert [f.field for f in from_dirs.errors] == ["cc"]


def test_missing_directory_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="schema export"):
        check_compatibility(tmp_path / "nope", {})


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="mode must be"):
        check_compatibility({}, {}, mode="both")  # type: ignore[arg-type]


def test_report_format_lists_errors_then_warnings() -> None:
    old = _schemas(("q", "j", {"a": (int, 1), "b": (int, ...)}, "J"))
    new = _schemas(("q", "j", {"a": (int, 2), "b": (str, ...)}, "J"))
    report = check_compatibility(old, new)
    lines = report.format().splitlines()
    assert lines[0] == "INCOMPATIBLE (mode full): 2 error(s), 1 warning(s)"
    assert lines[1].startswith("ERROR q/j field 'b' [backward]: 'b' changed from integer to string")
    assert lines[2].startswith("ERROR q/j field 'b' [forward]")
    assert lines[3].startswith("WARNING q/j field 'a' [backward]: 'a' default changed from 1 to 2")
    assert (
        check_compatibility(old, old).format() == "compatible (mode full): 0 error(s), 0 warning(s)"
    )
