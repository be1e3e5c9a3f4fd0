"""Build contract schemas for the compatibility tests without clashing in the task registry."""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import ConfigDict, create_model

from sqs_contracts.contracts.task import Task
from sqs_contracts.schema import contract_schema

_counter = itertools.count()


class ForbidTask(Task):
    """Contracts that reject unknown fields."""

    model_config = ConfigDict(extra="forbid")


class AllowTask(Task):
    """Contracts that keep unknown fields (and so write them again)."""

    model_config = ConfigDict(extra="allow")


def contract(
    fields: dict[str, Any],
    *,
    version: int = 1,
    upcaster_from: int | None = None,
    base: type[Task] = Task,
    queue: str = "cases",
    job: str = "job",
) -> dict[str, Any]:
    """The exported schema of a contract built from ``create_model``-style fields.

    Every model gets its own queue so the global registry never sees two classes under one
    key; the schema is then filed under ``queue``/``job`` for the comparison.
    """
    model: type[Task] = create_model(
        "Case",
        __base__=base,
        __cls_kwargs__={"queue": f"compat-{next(_counter)}", "name": job, "version": version},
        **fields,
    )
    if upcaster_from is not None:
        model.upcaster(upcaster_from)(lambda payload: payload)
    schema = contract_schema(model)
    schema["x-sqs-contracts"]["queue"] = queue
    return schema
