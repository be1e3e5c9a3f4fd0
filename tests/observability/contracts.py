"""Contracts the observability tests send; every test gives its env a unique queue prefix."""

from __future__ import annotations

from sqs_contracts import Task


class Traced(Task, queue="traced"):
    n: int


class TracedBatch(Task, queue="traced_batch"):
    n: int
