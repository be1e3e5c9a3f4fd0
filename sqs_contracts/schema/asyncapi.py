"""AsyncAPI 3.0 document of the contracts: a channel per SQS queue, a message per job."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqs_contracts.contracts.task import Task
from sqs_contracts.schema.discover import Target, find_tasks
from sqs_contracts.schema.export import EXTENSION, WIRE_CONTENT_TYPES, contract_schema
from sqs_contracts.wire.envelope import CONTENT_TYPE, CONTRACT_VERSION, JOB_CONTEXT, JOB_NAME

ASYNCAPI_VERSION = "3.0.0"
"""The AsyncAPI specification version of generated documents."""

SQS_BINDING_VERSION = "0.2.0"
"""The version of the AsyncAPI SQS channel binding used for queues."""


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _redrive(value: Any) -> dict[str, Any]:
    policy = json.loads(value) if isinstance(value, str) else dict(value)
    target = policy.get("deadLetterTargetArn") or policy.get("deadLetterQueue")
    if isinstance(target, Mapping):
        dead_letter = dict(target)
    else:
        dead_letter = {"arn": str(target)} if str(target).startswith("arn:") else {"name": target}
    out: dict[str, Any] = {"deadLetterQueue": dead_letter}
    if "maxReceiveCount" in policy:
        out["maxReceiveCount"] = int(policy["maxReceiveCount"])
    return out


# Accepted attribute names (SQS's and the binding's, case-insensitive): binding key, converter.
_ATTRIBUTES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "fifoqueue": ("fifoQueue", _flag),
    "visibilitytimeout": ("visibilityTimeout", int),
    "delayseconds": ("deliveryDelay", int),
    "deliverydelay": ("deliveryDelay", int),
    "messageretentionperiod": ("messageRetentionPeriod", int),
    "receivemessagewaittimeseconds": ("receiveMessageWaitTime", int),
    "receivemessagewaittime": ("receiveMessageWaitTime", int),
    "deduplicationscope": ("deduplicationScope", str),
    "fifothroughputlimit": ("fifoThroughputLimit", str),
    "contentbaseddeduplication": ("x-contentBasedDeduplication", _flag),
    "redrivepolicy": ("redrivePolicy", _redrive),
    "deadletterqueue": ("deadLetterQueue", str),
    "maxreceivecount": ("maxReceiveCount", int),
    "tags": ("tags", dict),
}


def parse_queue_option(text: str) -> tuple[str, dict[str, str]]:
    """Parse ``NAME:Attr=Value,Attr=Value`` (the CLI's ``--queue``) into a name and attributes."""
    name, _, rest = text.partition(":")
    attributes: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--queue {text!r}: expected NAME:Attr=Value,Attr=Value")
        attributes[key.strip()] = value.strip()
    if not name.strip():
        raise ValueError(f"--queue {text!r}: the queue name is missing")
    return name.strip(), attributes


def queue_binding(name: str, attributes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The AsyncAPI SQS channel binding of a queue; FIFO is inferred from the ``.fifo`` suffix."""
    queue: dict[str, Any] = {"name": name, "fifoQueue": name.endswith(".fifo")}
    dead_letter: str | None = None
    max_receive: int | None = None
    for raw_key, raw_value in (attributes or {}).items():
        try:
            key, convert = _ATTRIBUTES[raw_key.replace("_", "").lower()]
        except KeyError:
            known = ", ".join(sorted({k for k, _ in _ATTRIBUTES.values()}))
            raise ValueError(
                f"queue {name!r}: unknown attribute {raw_key!r}; known: {known} "
                "(SQS names such as VisibilityTimeout or DelaySeconds work too)"
            ) from None
        try:
            value = convert(raw_value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"queue {name!r}: bad value for {raw_key}: {exc}") from None
        if key == "deadLetterQueue":
            dead_letter = value
        elif key == "maxReceiveCount":
            max_receive = value
        else:
            queue[key] = value
    binding: dict[str, Any] = {"queue": queue, "bindingVersion": SQS_BINDING_VERSION}
    if dead_letter is not None:
        policy = queue.setdefault("redrivePolicy", {})
        policy["deadLetterQueue"] = {"name": dead_letter}
        binding["deadLetterQueue"] = {
            "name": dead_letter,
            "fifoQueue": dead_letter.endswith(".fifo"),
        }
    if max_receive is not None:
        if "redrivePolicy" not in queue:
            raise ValueError(
                f"queue {name!r}: MaxReceiveCount needs DeadLetterQueue or RedrivePolicy"
            )
        queue["redrivePolicy"]["maxReceiveCount"] = max_receive
    return binding


def headers_schema(job_name: str, version: int) -> dict[str, Any]:
    """The schema of a job's SQS message attributes, as AsyncAPI message headers."""
    return {
        "type": "object",
        "description": "SQS message attributes.",
        "required": [JOB_NAME, CONTENT_TYPE, JOB_CONTEXT],
        "properties": {
            JOB_NAME: {"type": "string", "const": job_name},
            CONTENT_TYPE: {"type": "string", "enum": list(WIRE_CONTENT_TYPES), "default": "json"},
            JOB_CONTEXT: {
                "type": "string",
                "description": "The producer's context, encoded with the body's codec.",
            },
            CONTRACT_VERSION: {
                "type": "integer",
                "minimum": 1,
                "maximum": version,
                "description": "An SQS Number attribute, written when the version is not 1 "
                "(absent means 1); consumers upcast older versions.",
            },
        },
    }


def _component_name(text: str) -> str:
    return re.sub(r"[^\w.\-]", "_", text)


def _pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _asyncapi_schema(node: Any, refs: Mapping[str, str]) -> Any:
    """Rewrite pydantic's JSON Schema for AsyncAPI: component refs, string discriminators."""
    if isinstance(node, list):
        return [_asyncapi_schema(item, refs) for item in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
            out[key] = f"#/components/schemas/{_pointer(refs[value.removeprefix('#/$defs/')])}"
        elif key == "discriminator" and isinstance(value, Mapping):
            out[key] = value["propertyName"]  # AsyncAPI's discriminator is the property name
        elif key in ("default", "examples", "const", "enum"):
            out[key] = value  # values, not schemas
        elif key in ("properties", "patternProperties", "$defs"):
            out[key] = {k: _asyncapi_schema(v, refs) for k, v in value.items()}
        else:
            out[key] = _asyncapi_schema(value, refs)
    return out


def _hoist(task: type[Task], schemas: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """The payload schema of a contract, its models moved into ``components.schemas``."""
    schema = contract_schema(task)
    for key in ("$schema", EXTENSION):
        schema.pop(key, None)
    defs: dict[str, Any] = schema.pop("$defs", {})
    # Models shared by contracts share a component; on a clash of names, prefix this contract's.
    clash = any(name in raw and raw[name] != body for name, body in defs.items())
    prefix = _component_name(f"{task.queue_name()}.{task.job_name()}.") if clash else ""
    refs = {name: prefix + _component_name(name) for name in defs}
    for name, body in sorted(defs.items()):
        schemas[refs[name]] = _asyncapi_schema(body, refs)
        raw[refs[name]] = body
    return dict(_asyncapi_schema(schema, refs))


def asyncapi_document(
    targets: Sequence[Target],
    queues: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    title: str = "sqs-contracts",
    version: str = "1.0.0",
) -> dict[str, Any]:
    """An AsyncAPI 3.0 document: one channel per queue (SQS binding), one message per contract.

    ``queues`` maps queue names to attributes (``VisibilityTimeout``, ``DeadLetterQueue``...);
    queues it names without contracts (dead-letter queues) become channels as well.
    """
    tasks = find_tasks(targets)
    queue_attributes = dict(queues or {})
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    for queue in sorted({t.queue_name() for t in tasks} | queue_attributes.keys()):
        channels[queue] = {
            "address": queue,
            "title": queue,
            "messages": {},
            "bindings": {"sqs": queue_binding(queue, queue_attributes.get(queue))},
        }
    for task in tasks:
        queue, job = task.queue_name(), task.job_name()
        message_id = _component_name(f"{queue}.{job}")
        message: dict[str, Any] = {
            "name": job,
            "title": task.__name__,
            "contentType": "application/json",
            "headers": headers_schema(job, task.__task_version__),
            "payload": _hoist(task, schemas, raw),
            EXTENSION: contract_schema(task)[EXTENSION],
        }
        doc = (task.__doc__ or "").strip()
        if doc:
            message["summary"] = doc.splitlines()[0]
        messages[message_id] = message
        channel_ref = f"#/channels/{_pointer(queue)}"
        channels[queue]["messages"][job] = {"$ref": f"#/components/messages/{_pointer(message_id)}"}
        for action, verb in (("send", "Send"), ("receive", "Handle")):
            operations[f"{action}.{message_id}"] = {
                "action": action,
                "channel": {"$ref": channel_ref},
                "messages": [{"$ref": f"{channel_ref}/messages/{_pointer(job)}"}],
                "summary": f"{verb} {job} jobs on queue {queue}.",
            }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": "Task contracts exchanged over Amazon SQS (sqs_contracts).",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def render_asyncapi(document: Mapping[str, Any], fmt: str = "yaml") -> str:
    """Serialise a document as ``yaml`` (needs PyYAML) or ``json``; key order is kept."""
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt != "yaml":
        raise ValueError(f"format must be 'yaml' or 'json', got {fmt!r}")
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML ships with the test extra
        raise RuntimeError("writing YAML needs PyYAML (pip install pyyaml), or use .json") from None

    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # repeated sub-schemas stay inline rather than becoming &id001 anchors

    return yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )


def write_asyncapi(document: Mapping[str, Any], path: Path) -> Path:
    """Write a document to ``path``: JSON for ``.json``, YAML otherwise."""
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_asyncapi(document, fmt), encoding="utf-8")
    return path
