"""The wording of compatibility findings: what breaks, for whom, and how to fix it."""

from __future__ import annotations

import json
from typing import Any, Literal

from sqs_contracts.schema.compare import Issue

Direction = Literal["backward", "forward"]
"""``backward``: a new consumer reads old messages; ``forward``: an old consumer reads new ones."""

# Per issue kind: (backward, forward) templates. {old}/{new} are what the old and the new model
# declare; {writer}/{reader} the producer's and the consumer's side in that direction.
_TEMPLATES: dict[str, tuple[str, str]] = {
    "missing": (
        "the new consumer requires '{field}' but messages the old producer wrote (still in the "
        "queue) lack it. Fix: give the new field a default, or {upcaster} that fills it",
        "old consumers require '{field}' but the new producer no longer writes it. Fix: keep the "
        "old field (a default is fine) until every consumer is upgraded and queues drain",
    ),
    "renamed": (
        "the wire name changed from '{writer}' to '{field}' (renamed field or alias): old "
        "messages carry '{writer}'. Fix: keep the old wire name with Field(alias='{writer}'), or "
        "accept both with validation_alias=AliasChoices('{field}', '{writer}'), or {upcaster}",
        "the wire name changed from '{field}' to '{writer}' (renamed field or alias): old "
        "consumers require '{field}'. Fix: keep writing the old name with Field(alias='{field}') "
        "until every consumer accepts the new one",
    ),
    "renamed_default": (
        "'{field}' looks like a rename of '{writer}' (same type, and '{writer}' is gone): old "
        "messages carry '{writer}', which the new consumer ignores, so '{field}' silently gets "
        "its default. Fix: accept the old name with validation_alias=AliasChoices('{field}', "
        "'{writer}'), or {upcaster} that renames it",
        "'{field}' looks renamed to '{writer}' (same type): old consumers ignore '{writer}' and "
        "silently use their default for '{field}'. Fix: keep writing '{field}' until every "
        "consumer reads '{writer}'",
    ),
    "forbidden_extra": (
        "the new model forbids extra fields (extra='forbid') but old messages carry {extra}, "
        "which it does not declare. Fix: keep the old field until queues drain, drop "
        "extra='forbid', or {upcaster} that removes it",
        "old consumers forbid extra fields (extra='forbid') and the new producer writes {extra}. "
        "Fix: first release consumers without extra='forbid' (or that declare it), then start "
        "writing it",
    ),
    "type": (
        "'{field}' changed from {old} to {new}: values in old messages fail the new consumer. "
        "Fix: accept both ({new} | {old}) until queues drain, or {upcaster} that converts them",
        "'{field}' changed from {old} to {new}: the new producer can write values that old "
        "consumers ({old}) reject. Fix: upgrade every consumer before producers write them",
    ),
    "null": (
        "old messages may carry null for '{field}' (it was optional, and producers write every "
        "field, None included) but the new consumer requires a value. Fix: keep it optional "
        "(T | None), or {upcaster} that replaces null",
        "the new producer may write null for '{field}' (producers write every field, None "
        "included) but old consumers require a value. Fix: use a non-null default rather than "
        "None, or upgrade every consumer before producers write null",
    ),
    "enum": (
        "'{field}' no longer accepts {writer}, which old messages may carry (value removed). "
        "Fix: keep the value until queues drain, or {upcaster} that maps it",
        "'{field}' gained {writer}, which old consumers reject (value added). Fix: upgrade every "
        "consumer before producers send the new value",
    ),
    "restricted": (
        "'{field}' now accepts only {reader}, while old messages may carry any {writer}. Fix: "
        "keep the wider type until queues drain, or {upcaster} that maps old values",
        "old consumers accept only {reader} for '{field}', and the new producer may write any "
        "{writer}. Fix: upgrade every consumer before producers write other values",
    ),
    "constraint": (
        "'{field}' {keyword} tightened from {old} to {new}: values in old messages may fail the "
        "new consumer. Fix: keep the old {keyword} ({old}) until queues drain, or {upcaster} "
        "that brings old values within it",
        "'{field}' {keyword} loosened from {old} to {new}: the new producer may write values "
        "that old consumers reject. Fix: upgrade every consumer before producers rely on it",
    ),
    "format": (
        "'{field}' string format changed from {old} to {new}: values in old messages may not "
        "parse. Fix: keep the old type until queues drain, or {upcaster} that converts them",
        "'{field}' string format changed from {old} to {new}: the new producer may write values "
        "that old consumers cannot parse. Fix: upgrade every consumer first",
    ),
    "default": (
        "'{field}' default changed from {old} to {new}: producers that leave it out now write "
        "{new} (messages carry the producer's value). Fix: make sure consumers handle both",
    )
    * 2,
}


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(json.dumps(v) for v in value)
    return value if isinstance(value, str) else json.dumps(value)


def explain(issue: Issue, direction: Direction, *, old_version: int, new_version: int) -> str:
    """The problem and its fix, for an issue seen in ``direction`` between two versions."""
    try:
        backward_text, forward_text = _TEMPLATES[issue.kind]
    except KeyError:
        raise ValueError(f"unknown issue kind {issue.kind!r}") from None
    backward = direction == "backward"
    old, new = (issue.writer, issue.reader) if backward else (issue.reader, issue.writer)
    extra = (
        "fields beyond the model (extra fields or dict keys)"
        if issue.path.endswith("{}")
        else f"'{issue.path}'"
    )
    bump = "" if new_version > old_version else "bump version= and "
    return (backward_text if backward else forward_text).format(
        field=issue.path,
        old=_show(old),
        new=_show(new),
        writer=_show(issue.writer),
        reader=_show(issue.reader),
        keyword=issue.keyword,
        extra=extra,
        upcaster=f"{bump}add an upcaster from version {old_version}",
    )
