"""AsyncAPI 3.0 documents, validated offline against the official AsyncAPI 3.0.0 JSON Schema.

``asyncapi-3.0.0.json`` beside this file is ``schemas/3.0.0.json`` of the ``@asyncapi/specs``
package, version 6.11.1 (Apache-2.0): the specification's own JSON Schema, with every
definition it references embedded, so validation needs no network.
"""

from __future__ import annotations

import copy
import functools
import json
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import jsonschema
import pytest
import yaml
from pydantic import BaseModel, Field

from sqs_contracts.contracts.task import Task
from sqs_contracts.schema import asyncapi_document, render_asyncapi, write_asyncapi
from sqs_contracts.schema.asyncapi import parse_queue_option, queue_binding

SPEC = Path(__file__).with_name("asyncapi-3.0.0.json")


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SPEC.read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def assert_valid(document: dict[str, Any]) -> None:
    """Validate against the official schema, listing every error if any."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


QUEUES = {
    "emails": {"VisibilityTimeout": "60", "DeadLetterQueue": "emails_dead", "MaxReceiveCount": "3"},
    "emails_dead": {"MessageRetentionPeriod": "1209600"},
    "orders.fifo": {"ContentBasedDeduplication": "true", "DelaySeconds": "5"},
}


def test_examples_document_validates_against_the_official_schema() -> None:
    document = asyncapi_document(["examples.contracts"], QUEUES)
    assert_valid(document)
    assert document["asyncapi"] == "3.0.0"
    assert sorted(document["channels"]) == ["emails", "emails_dead", "images", "orders.fifo"]
    assert sorted(document["operations"]) == [
        "receive.emails.send_email",
        "receive.images.resize_image",
        "receive.orders.fifo.place_order",
        "send.emails.send_email",
        "send.images.resize_image",
        "send.orders.fifo.place_order",
    ]
    for ref in _refs(document):
        assert ref.startswith("#/")
        _resolve(document, ref)  # every reference points inside the document


def test_the_validator_really_checks() -> None:
    document = asyncapi_document(["examples.contracts"])
    broken = copy.deepcopy(document)
    broken["operations"]["send.emails.send_email"]["action"] = "publish"
    assert list(_validator().iter_errors(broken))
    broken = copy.deepcopy(document)
    broken["channels"]["emails"]["bindings"]["sqs"]["queue"]["visibilityTimeout"] = 99_999
    assert list(_validator().iter_errors(broken))


def test_channels_carry_the_sqs_binding() -> None:
    document = asyncapi_document(["examples.contracts"], QUEUES)
    emails = document["channels"]["emails"]["bindings"]["sqs"]
    assert emails == {
        "queue": {
            "name": "emails",
            "fifoQueue": False,
            "visibilityTimeout": 60,
            "redrivePolicy": {"deadLetterQueue": {"name": "emails_dead"}, "maxReceiveCount": 3},
        },
        "deadLetterQueue": {"name": "emails_dead", "fifoQueue": False},
        "bindingVersion": "0.2.0",
    }
    orders = document["channels"]["orders.fifo"]["bindings"]["sqs"]["queue"]
    assert orders["fifoQueue"] is True  # from the .fifo suffix
    assert orders["deliveryDelay"] == 5
    assert document["channels"]["emails_dead"]["messages"] == {}


def test_messages_have_payload_headers_and_contract_metadata() -> None:
    document = asyncapi_document(["examples.contracts"])
    message = document["components"]["messages"]["orders.fifo.place_order"]
    assert message["name"] == "place_order"
    assert message["title"] == "PlaceOrder"
    assert message["summary"] == "Place a customer's order; FIFO per customer."
    assert message["payload"]["properties"]["lines"]["items"] == {
        "$ref": "#/components/schemas/Line"
    }
    assert "Line" in document["components"]["schemas"]
    headers = message["headers"]
    assert headers["required"] == ["JobName", "ContentType", "JobContext"]
    assert headers["properties"]["JobName"]["const"] == "place_order"
    resize = document["components"]["messages"]["images.resize_image"]
    assert resize["headers"]["properties"]["ContractVersion"]["maximum"] == 2
    assert resize["x-sqs-contracts"]["upcasters_from"] == [1]


def test_payloads_accept_what_producers_write() -> None:
    from examples.contracts import SendEmail

    document = asyncapi_document(["examples.contracts"])
    payload = document["components"]["messages"]["emails.send_email"]["payload"]
    body = SendEmail(to="a@example.com", subject="Hi").model_dump(mode="json", by_alias=True)
    jsonschema.validate(body, payload)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"to": "x" * 300, "subject": "s", "body": ""}, payload)


class Ping(BaseModel):
    """A ping."""

    kind: Literal["ping"] = "ping"


class Pong(BaseModel):
    """A pong."""

    kind: Literal["pong"] = "pong"


def test_clashing_model_names_and_discriminators() -> None:
    queue = f"zz-clash-{uuid.uuid4().hex[:6]}"  # sorts after the example queues

    class Line(BaseModel):
        """Another Line than the example's."""

        text: str

    class Note(Task, queue=queue, name="note"):
        """A note with lines and a signal."""

        lines: list[Line]
        signal: Annotated[Ping | Pong, Field(discriminator="kind")]

    from examples.contracts import PlaceOrder

    document = asyncapi_document([PlaceOrder, Note])
    assert_valid(document)
    schemas = document["components"]["schemas"]
    assert f"{queue}.note.Line" in schemas
    assert "Line" in schemas
    note = document["components"]["messages"][f"{queue}.note"]["payload"]
    assert note["properties"]["lines"]["items"]["$ref"] == f"#/components/schemas/{queue}.note.Line"
    assert note["properties"]["signal"]["discriminator"] == "kind"


def test_yaml_and_json_output(tmp_path: Path) -> None:
    document = asyncapi_document(["examples.contracts"], QUEUES)
    text = render_asyncapi(document)
    assert "&id" not in text  # no YAML anchors: shared sub-schemas are written out
    assert yaml.safe_load(text) == document
    assert text.startswith("asyncapi: 3.0.0\n")
    path = write_asyncapi(document, tmp_path / "doc.json")
    assert json.loads(path.read_text()) == document
    assert render_asyncapi(document) == render_asyncapi(
        asyncapi_document(["examples.contracts"], QUEUES)
    )
    with pytest.raises(ValueError, match="yaml"):
        render_asyncapi(document, "toml")


def test_queue_options() -> None:
    assert parse_queue_option("emails:VisibilityTimeout=60, DelaySeconds=5") == (
        "emails",
        {"VisibilityTimeout": "60", "DelaySeconds": "5"},
    )
    assert parse_queue_option("plain") == ("plain", {})
    with pytest.raises(ValueError, match="NAME:Attr=Value"):
        parse_queue_option("emails:VisibilityTimeout")
    with pytest.raises(ValueError, match="unknown attribute 'Colour'"):
        queue_binding("emails", {"Colour": "red"})
    with pytest.raises(ValueError, match="bad value for VisibilityTimeout"):
        queue_binding("emails", {"VisibilityTimeout": "soon"})
    with pytest.raises(ValueError, match="MaxReceiveCount needs"):
        queue_binding("emails", {"MaxReceiveCount": "3"})
    policy = {"deadLetterTargetArn": "arn:aws:sqs:eu-west-1:1:dead", "maxReceiveCount": 5}
    redrive = queue_binding("jobs", {"RedrivePolicy": json.dumps(policy), "fifo_queue": "no"})
    assert redrive["queue"]["redrivePolicy"] == {
        "deadLetterQueue": {"arn": "arn:aws:sqs:eu-west-1:1:dead"},
        "maxReceiveCount": 5,
    }
    assert redrive["queue"]["fifoQueue"] is False
