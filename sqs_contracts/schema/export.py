"""JSON Schema export: one file per contract plus the envelope, written for clean diffs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqs_contracts.contracts.task import Task
from sqs_contracts.schema.discover import Target, find_tasks
from sqs_contracts.wire.envelope import (
    CONTENT_TYPE,
    CONTRACT_VERSION,
    INVALID_REASON,
    JOB_CONTEXT,
    JOB_NAME,
)

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The dialect pydantic generates, declared in every exported file."""

EXTENSION = "x-sqs-contracts"
"""The key of the contract metadata (queue, job name, version...) inside an exported schema."""

ENVELOPE_FILE = "envelope.json"
"""The file, at the root of an export, that describes the wire format."""

WIRE_CONTENT_TYPES = ("json", "pickle", "pickle_compat")
"""The ``ContentType`` values of the wire format shared with sqs-workers."""


def contract_key(queue: str, job_name: str) -> str:
    """The name of a contract in reports and exports: ``queue/job_name``."""
    return f"{queue}/{job_name}"


def contract_schema(task: type[Task]) -> dict[str, Any]:
    """The JSON Schema of one contract's payload, with its queue, job, version and upcasters."""
    schema = task.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema[EXTENSION] = {
        "queue": task.queue_name(),
        "job_name": task.job_name(),
        "version": task.__task_version__,
        "upcasters_from": sorted(task.__task_upcasters__),
        "extra": task.model_config.get("extra") or "ignore",
    }
    return schema


def _attribute(data_type: str, value: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": ["DataType", "StringValue"],
        "properties": {"DataType": {"const": data_type}, "StringValue": value},
    }


def envelope_schema() -> dict[str, Any]:
    """The JSON Schema of one SQS message of this library: the body and its attributes."""
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "sqs_contracts message",
        "description": (
            "One SQS message per job, byte-compatible with sqs-workers 0.7. Consumers ignore "
            "attributes they do not know."
        ),
        "type": "object",
        "required": ["body", "attributes"],
        "properties": {
            "body": {
                "type": "object",
                "description": (
                    "The job's keyword arguments: the contract's payload with every field "
                    "written by alias, defaults and null included (see <queue>/<job>.json). "
                    "Sent as JSON text for the json content type, as base64 of "
                    "zlib-compressed pickle for pickle and pickle_compat."
                ),
            },
            "attributes": {
                "type": "object",
                "description": "The SQS message attributes.",
                "required": [JOB_NAME, CONTENT_TYPE, JOB_CONTEXT],
                "properties": {
                    JOB_NAME: _attribute(
                        "String",
                        {"type": "string", "minLength": 1},
                        "The job name: selects the contract and the handler.",
                    ),
                    CONTENT_TYPE: _attribute(
                        "String",
                        {"enum": list(WIRE_CONTENT_TYPES)},
                        "The codec of the body and of JobContext.",
                    ),
                    JOB_CONTEXT: _attribute(
                        "String",
                        {"type": "string"},
                        "The producer's context, encoded with the same codec as the body.",
                    ),
                    CONTRACT_VERSION: _attribute(
                        "Number",
                        {"type": "string", "pattern": "^[1-9][0-9]*$"},
                        "Optional: the contract version of the producer, written when it is not "
                        "1. Absent means 1. Consumers upcast older versions.",
                    ),
                    INVALID_REASON: _attribute(
                        "String",
                        {"type": "string"},
                        "Optional: why a message moved to a dead-letter queue could not be "
                        "decoded or validated.",
                    ),
                },
            },
        },
    }


def render_json(document: Any) -> str:
    """Serialise a schema the way exports are committed: sorted keys, indent 2, final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _path_part(value: str, what: str) -> str:
    if not value or value.startswith(".") or "/" in value or "\\" in value:
        raise ValueError(f"{what} {value!r} cannot be used as a file name in a schema export")
    return value


def render_schemas(tasks: Sequence[type[Task]]) -> dict[str, str]:
    """The text of every export file, by relative path (``envelope.json``, ``queue/job.json``)."""
    files = {ENVELOPE_FILE: render_json(envelope_schema())}
    for task in tasks:
        queue = _path_part(task.queue_name(), "queue name")
        job = _path_part(task.job_name(), "job name")
        files[f"{queue}/{job}.json"] = render_json(contract_schema(task))
    return files


def _is_contract_file(path: Path) -> bool:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and EXTENSION in document


def _stale_files(out: Path, keep: Mapping[str, str]) -> list[Path]:
    # Only contract schemas count, so unrelated JSON files that live beside an export survive.
    if not out.is_dir():
        return []
    return [
        path
        for queue_dir in sorted(p for p in out.iterdir() if p.is_dir())
        for path in sorted(queue_dir.glob("*.json"))
        if path.relative_to(out).as_posix() not in keep and _is_contract_file(path)
    ]


def outdated_files(targets: Sequence[Target], out: Path) -> list[str]:
    """Relative paths under ``out`` that an export would create, change or delete."""
    files = render_schemas(find_tasks(targets))
    changed = [
        rel
        for rel, text in files.items()
        if not (out / rel).is_file() or (out / rel).read_text(encoding="utf-8") != text
    ]
    stale = [path.relative_to(out).as_posix() for path in _stale_files(out, files)]
    return sorted(changed + stale)


def export_schemas(targets: Sequence[Target], out: Path) -> list[Path]:
    """Write ``out/envelope.json`` and ``out/<queue>/<job_name>.json`` for every contract.

    Files of contracts that no longer exist are deleted; unchanged files are left untouched.
    Returns the paths of every file of the export.
    """
    files = render_schemas(find_tasks(targets))
    out.mkdir(parents=True, exist_ok=True)
    for path in _stale_files(out, files):
        path.unlink()
        if not any(path.parent.iterdir()):
            path.parent.rmdir()
    written: list[Path] = []
    for rel, text in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def contract_schemas(targets: Sequence[Target]) -> dict[str, dict[str, Any]]:
    """The schemas of the targets' contracts in memory, by ``queue/job_name``."""
    return {
        contract_key(task.queue_name(), task.job_name()): contract_schema(task)
        for task in find_tasks(targets)
    }


def load_schemas(source: Path | str | Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Contract schemas by ``queue/job_name``, read from an export directory or a mapping."""
    if isinstance(source, Mapping):
        items = [(str(key), dict(value)) for key, value in source.items()]
    else:
        root = Path(source)
        if not root.is_dir():
            raise FileNotFoundError(
                f"no schema export at {root}: run `sqs-contracts schema export`"
            )
        items = [
            (path.relative_to(root).with_suffix("").as_posix(), json.loads(path.read_text("utf-8")))
            for path in sorted(root.glob("*/*.json"))
        ]
    schemas: dict[str, dict[str, Any]] = {}
    for name, schema in items:
        meta = schema.get(EXTENSION)
        if isinstance(meta, dict):
            schemas[contract_key(str(meta["queue"]), str(meta["job_name"]))] = schema
        elif isinstance(source, Mapping):
            schemas[name] = schema
    return schemas
