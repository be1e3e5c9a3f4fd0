"""Contracts the worker tests send; every test gives its env a unique queue prefix."""

from __future__ import annotations

from sqs_contracts import Task


class Job(Task, queue="jobs"):
    n: int
    label: str = ""


class OrderJob(Task, queue="orders.fifo"):
    group: str
    seq: int


class BatchJob(Task, queue="batched"):
    n: int


class BadJob(Task, queue="bad"):
    n: int


class SlowJob0(Task, queue="slow0"):
    n: int


class SlowJob1(Task, queue="slow1"):
    n: int


class SlowJob2(Task, queue="slow2"):
    n: int


class SlowJob3(Task, queue="slow3"):
    n: int


SLOW_JOBS: list[type[SlowJob0 | SlowJob1 | SlowJob2 | SlowJob3]] = [
    SlowJob0,
    SlowJob1,
    SlowJob2,
    SlowJob3,
]
