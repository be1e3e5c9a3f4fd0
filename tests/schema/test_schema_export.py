"""JSON Schema export: the committed ``schemas/``, file layout, determinism, the envelope."""

from __future__ import annotations

import json
import sys
import textwrap
import uuid
from pathlib import Path

import jsonschema
import pytest

from sqs_contracts.codecs import JSONCodec
from sqs_contracts.contracts.task import Task
from sqs_contracts.schema import (
    contract_schema,
    envelope_schema,
    export_schemas,
    find_tasks,
    outdated_files,
)
from sqs_contracts.wire.envelope import encode_job

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schemas_match_the_examples() -> None:
    outdated = outdated_files(["examples.contracts"], ROOT / "schemas")
    assert outdated == [], (
        "schemas/ is out of date with examples/contracts.py; run "
        "`sqs-contracts schema export examples.contracts --out schemas` and commit the result"
    )


def test_export_layout_and_metadata(tmp_path: Path) -> None:
    paths = export_schemas(["examples.contracts"], tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "emails/send_email.json",
        "envelope.json",
        "images/resize_image.json",
        "orders.fifo/place_order.json",
    ]
    resize = json.loads((tmp_path / "images/resize_image.json").read_text())
    assert resize["x-sqs-contracts"] == {
        "queue": "images",
        "job_name": "resize_image",
        "version": 2,
        "upcasters_from": [1],
        "extra": "ignore",
    }
    assert resize["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert resize["properties"]["width"] == {
        "exclusiveMinimum": 0,
        "maximum": 10_000,
        "title": "Width",
        "type": "integer",
    }


def test_export_is_deterministic_and_diff_friendly(tmp_path: Path) -> None:
    first = {p: p.read_bytes() for p in export_schemas(["examples.contracts"], tmp_path / "a")}
    second = export_schemas(["examples.contracts"], tmp_path / "b")
    for a, b in zip(sorted(first), sorted(second), strict=True):
        assert first[a] == b.read_bytes()
        text = first[a].decode()
        assert text.endswith("}\n")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_every_exported_schema_is_a_valid_json_schema(tmp_path: Path) -> None:
    for path in export_schemas(["examples.contracts"], tmp_path):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


def _write_module(directory: Path, source: str) -> str:
    name = f"export_contracts_{uuid.uuid4().hex[:8]}"
    (directory / f"{name}.py").write_text(textwrap.dedent(source))
    return name


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on sys.path for throw-away contract modules."""
    directory = tmp_path / "mods"
    directory.mkdir()
    monkeypatch.syspath_prepend(str(directory))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    return directory


def test_export_removes_files_of_contracts_that_are_gone(module_dir: Path, tmp_path: Path) -> None:
    queue = f"q-{uuid.uuid4().hex[:6]}"
    name = _write_module(
        module_dir,
        f"""
        from sqs_contracts.contracts.task import Task

        class A(Task, queue="{queue}", name="a"):
            x: int

        class B(Task, queue="{queue}-other", name="b"):
            x: int
        """,
    )
    out = tmp_path / "out"
    export_schemas([name], out)
    (out / queue / "notes.json").write_text('{"kept": true}\n')
    assert (out / f"{queue}-other" / "b.json").is_file()

    (module_dir / f"{name}.py").write_text(
        f"from sqs_contracts.contracts.task import Task\n\n"
        f"class A(Task, queue='{queue}', name='a'):\n    x: int\n"
    )
    del sys.modules[name]
    assert outdated_files([name], out) == [f"{queue}-other/b.json"]
    export_schemas([name], out)
    assert not (out / f"{queue}-other").exists()
    assert (out / queue / "a.json").is_file()
    assert (out / queue / "notes.json").read_text() == '{"kept": true}\n'
    assert outdated_files([name], out) == []


def test_find_tasks_walks_packages_and_sorts(module_dir: Path) -> None:
    queue = f"p-{uuid.uuid4().hex[:6]}"
    package = module_dir / f"pkg_{queue.replace('-', '_')}"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "jobs.py").write_text(
        "from sqs_contracts.contracts.task import Task\n\n"
        f"class Zed(Task, queue='{queue}', name='zed'):\n    x: int\n\n"
        f"class Alpha(Task, queue='{queue}', name='alpha'):\n    x: int\n\n"
        "class NoQueue(Task):\n    x: int\n"
    )
    tasks = find_tasks([package.name])
    assert [t.job_name() for t in tasks] == ["alpha", "zed"]


def test_find_tasks_accepts_classes_and_rejects_duplicates() -> None:
    queue = f"dup-{uuid.uuid4().hex[:6]}"

    class One(Task, queue=queue, name="same"):
        x: int

    class Two(Task, queue=queue, name="same"):
        x: int

    assert find_tasks([One]) == [One]
    with pytest.raises(ValueError, match="two contracts claim job 'same'"):
        find_tasks([One, Two])
    with pytest.raises(TypeError, match="not a Task subclass with a queue"):
        find_tasks([Task])


def test_model_extra_setting_is_recorded() -> None:
    from pydantic import ConfigDict

    class Strict(Task, queue=f"strict-{uuid.uuid4().hex[:6]}"):
        model_config = ConfigDict(extra="forbid")
        x: int

    schema = contract_schema(Strict)
    assert schema["x-sqs-contracts"]["extra"] == "forbid"
    assert schema["additionalProperties"] is False


def test_envelope_describes_real_messages() -> None:
    from examples.contracts import ResizeImage

    message = encode_job(
        "resize_image",
        ResizeImage(key="a.png", width=300),
        {"request_id": "r1"},
        "json",
        JSONCodec,
        version=ResizeImage.__task_version__,
    )
    wire = {"body": json.loads(message.body), "attributes": message.attributes}
    jsonschema.validate(wire, envelope_schema(), cls=jsonschema.Draft202012Validator)
    # The body itself validates against the contract's exported schema.
    jsonschema.validate(wire["body"], contract_schema(ResizeImage))
    wire["attributes"]["ContentType"]["StringValue"] = "yaml"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wire, envelope_schema(), cls=jsonschema.Draft202012Validator)


def test_envelope_attribute_set_matches_the_wire_format() -> None:
    attributes = envelope_schema()["properties"]["attributes"]
    assert attributes["required"] == ["JobName", "ContentType", "JobContext"]
    assert "ContractVersion" in attributes["properties"]
    content_type = attributes["properties"]["ContentType"]["properties"]["StringValue"]
    assert content_type == {"enum": ["json", "pickle", "pickle_compat"]}


def test_names_that_cannot_be_file_names_are_refused(tmp_path: Path) -> None:
    class Slashed(Task, queue=f"s-{uuid.uuid4().hex[:6]}", name="a/b"):
        x: int

    with pytest.raises(ValueError, match="cannot be used as a file name"):
        export_schemas([Slashed], tmp_path)
