"""Printing a compatibility report: text, JSON, or GitHub workflow annotations."""

from __future__ import annotations

import importlib.util
import json

from sqs_contracts.schema.compat import Report
from sqs_contracts.schema.git import github_file


def yaml_available() -> bool:
    """True when PyYAML can be imported (the ``sqs-contracts[yaml]`` extra)."""
    try:
        return importlib.util.find_spec("yaml") is not None
    except ValueError:  # a module set to None in sys.modules: deliberately unavailable
        return False


def _escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_report(report: Report, fmt: str, against: str) -> str:
    """The report as ``text``, ``json`` or ``github`` (one ``::error``/``::warning`` a finding)."""
    if fmt == "json":
        document = {
            "ok": report.ok,
            "mode": report.mode,
            "errors": len(report.errors),
            "warnings": len(report.warnings),
            "findings": [
                {
                    "contract": f.contract,
                    "field": f.field,
                    "direction": f.direction,
                    "severity": f.severity,
                    "message": f.message,
                }
                for f in report.errors + report.warnings
            ],
        }
        return json.dumps(document, indent=2)
    if fmt == "github":
        lines = [
            f"::{f.severity} file={_escape(github_file(against, f.contract), prop=True)},"
            f"title={_escape(f'contract {f.contract} [{f.direction}]', prop=True)}::"
            f"{_escape(f.message)}"
            for f in report.errors + report.warnings
        ]
        return "\n".join([*lines, report.format().splitlines()[0]])
    return report.format()
