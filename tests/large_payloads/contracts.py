"""Contracts the large-payload tests send; every test gives its env a unique queue prefix."""

from __future__ import annotations

from sqs_contracts import Task


class Report(Task, queue="reports"):
    name: str
    blob: str = ""


class Small(Task, queue="reports"):
    n: int
