"""Compatibility check between two exports of contract schemas, for CI.

*backward*: a new consumer reads messages the old producer wrote, still in the queue.
*forward*: an old consumer, still running, reads messages from the new producer.
``full`` checks both, as Confluent's schema registry modes do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqs_contracts.schema.advice import Direction, explain
from sqs_contracts.schema.compare import compare_payloads
from sqs_contracts.schema.export import EXTENSION, load_schemas

Mode = Literal["full", "backward", "forward"]
"""Which directions a check covers."""

Severity = Literal["error", "warning"]
"""An error breaks consumers; a warning deserves a look but breaks nothing by itself."""

SchemaSource = Path | str | Mapping[str, Mapping[str, Any]]
"""An export directory, or contract schemas by ``queue/job_name``."""


@dataclass(frozen=True)
class Finding:
    """One compatibility problem: which contract, which field (dotted path), which direction.

    ``message`` stands alone: it names the contract, the field and the direction, says what
    breaks and how to fix it.
    """

    contract: str
    field: str
    direction: Direction
    severity: Severity
    message: str

    @classmethod
    def make(
        cls, contract: str, field: str, direction: Direction, severity: Severity, text: str
    ) -> Finding:
        """A finding whose message leads with the contract, the field and the direction."""
        where = f" field '{field}'" if field else ""
        return cls(contract, field, direction, severity, f"{contract}{where} [{direction}]: {text}")

    def format(self) -> str:
        """One line: the severity, then the message."""
        return f"{self.severity.upper()} {self.message}"


@dataclass
class Report:
    """The outcome of :func:`check_compatibility`."""

    mode: Mode
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """Findings that break a consumer in a checked direction."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """Findings that break nothing by themselves."""
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def format(self) -> str:
        """A readable report: a summary line, then errors, then warnings."""
        verdict = "compatible" if self.ok else "INCOMPATIBLE"
        lines = [
            f"{verdict} (mode {self.mode}): {len(self.errors)} error(s), "
            f"{len(self.warnings)} warning(s)"
        ]
        lines += [f.format() for f in self.errors + self.warnings]
        return "\n".join(lines)


def _meta(schema: Mapping[str, Any]) -> dict[str, Any]:
    meta = schema.get(EXTENSION)
    return dict(meta) if isinstance(meta, Mapping) else {}


def _directions(mode: Mode) -> list[Direction]:
    if mode not in ("full", "backward", "forward"):
        raise ValueError(f"mode must be 'full', 'backward' or 'forward', got {mode!r}")
    return ["backward", "forward"] if mode == "full" else [mode]


def _contract_findings(
    key: str, old: Mapping[str, Any], new: Mapping[str, Any], directions: list[Direction]
) -> list[Finding]:
    old_meta, new_meta = _meta(old), _meta(new)
    old_version, new_version = int(old_meta.get("version", 1)), int(new_meta.get("version", 1))
    # Only an upcaster written for the old version's payloads can repair them.
    upcaster = new_version > old_version and old_version in new_meta.get("upcasters_from", ())
    findings: list[Finding] = []
    if new_version > old_version and "forward" in directions:
        findings.append(
            Finding.make(
                key,
                "",
                "forward",
                "error",
                f"version went from {old_version} to {new_version}: old consumers reject "
                f"messages marked ContractVersion {new_version} ('deploy the newer consumer "
                "first'). Fix: upgrade every consumer of this job before producers of version "
                f"{new_version} run (and check that release with --mode backward)",
            )
        )
    if new_version < old_version and "backward" in directions:
        findings.append(
            Finding.make(
                key,
                "",
                "backward",
                "error",
                f"version went down from {old_version} to {new_version}: the new consumer "
                f"rejects messages of version {old_version} still in the queue. Fix: never "
                "lower version=",
            )
        )
    defaults_seen = False
    for direction in directions:
        writer, reader = (old, new) if direction == "backward" else (new, old)
        for issue in compare_payloads(writer, reader):
            text = explain(issue, direction, old_version=old_version, new_version=new_version)
            severity: Severity = "error"
            if issue.kind == "default":
                # Both passes see the same default change: report it once.
                if defaults_seen:
                    continue
                severity = "warning"
            elif issue.kind == "renamed_default":
                severity = "warning"
            elif direction == "backward" and upcaster:
                severity = "warning"
                text = (
                    text.split(" Fix: ", 1)[0] + f" Fix: make sure the upcaster from version "
                    f"{old_version} handles it; it runs on these messages before validation"
                )
            findings.append(Finding.make(key, issue.path, direction, severity, text))
        defaults_seen = True
    return findings


def _queue_of(key: str, schema: Mapping[str, Any]) -> str:
    return str(_meta(schema).get("queue", key.split("/", 1)[0]))


def _removed(key: str, old: Mapping[str, Any], added: Mapping[str, Mapping[str, Any]]) -> Finding:
    job = _meta(old).get("job_name", key.rsplit("/", 1)[-1])
    # A class keeps its name (the schema title) when its job is renamed or moved.
    title = old.get("title")
    moved = [k for k, s in added.items() if title and s.get("title") == title]
    hint = f" (renamed or moved to {moved[0]}?)" if moved else ""
    return Finding.make(
        key,
        "",
        "backward",
        "error",
        f"the contract was removed{hint}: messages with JobName '{job}' still in queue "
        f"'{_queue_of(key, old)}' will find no handler. Fix: keep the old contract and its "
        "handler until the queue drains, then remove it",
    )


def _added(key: str, new: Mapping[str, Any]) -> Finding:
    return Finding.make(
        key,
        "",
        "forward",
        "error",
        f"new job on existing queue '{_queue_of(key, new)}': its old consumers cannot route it "
        "(no handler), so its messages fail until they are upgraded. Fix: deploy the "
        "consumers before any producer sends it",
    )


def _moved(key: str, new: Mapping[str, Any], old_key: str) -> Finding:
    queue = _queue_of(key, new)
    return Finding.make(
        key,
        "",
        "forward",
        "error",
        f"the contract of {old_key} now goes to {key}: old consumers do not route "
        f"JobName '{_meta(new).get('job_name', key.rsplit('/', 1)[-1])}' on queue '{queue}'. "
        "Fix: deploy consumers that handle the new name and queue before the producers",
    )


def check_compatibility(old: SchemaSource, new: SchemaSource, mode: Mode = "full") -> Report:
    """Compare two sets of contract schemas (directories or mappings) in the given mode.

    Works on the exported JSON Schemas only, so ``old`` can come from an older release.
    """
    directions = _directions(mode)
    olds, news = load_schemas(old), load_schemas(new)
    old_queues = {_queue_of(k, s) for k, s in olds.items()}
    added = {k: s for k, s in news.items() if k not in olds}
    report = Report(mode)
    for key in sorted(olds.keys() | news.keys()):
        if key not in news:
            if "backward" in directions:
                report.findings.append(_removed(key, olds[key], added))
        elif key not in olds:
            if "forward" not in directions:
                continue
            # A class keeps its title when its job is renamed or moved to another queue.
            title = news[key].get("title")
            gone = [k for k, s in olds.items() if k not in news and title == s.get("title")]
            if title and gone:
                report.findings.append(_moved(key, news[key], gone[0]))
            elif _queue_of(key, news[key]) in old_queues:
                report.findings.append(_added(key, news[key]))
        else:
            report.findings += _contract_findings(key, olds[key], news[key], directions)
    return report
