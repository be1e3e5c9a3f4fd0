"""Contracts the Lambda tests send; every test gives its env a unique queue prefix."""

from __future__ import annotations

from sqs_contracts import Task


class Note(Task, queue="notes"):
    n: int
    text: str = ""


class Step(Task, queue="steps.fifo"):
    group: str
    seq: int
