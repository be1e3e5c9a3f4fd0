"""The worker's start-up banner: where it connects and what it will run."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.queues.raw_queue import RawQueue


def package_version() -> str:
    """The installed version of sqs_contracts."""
    try:
        return version("sqs_contracts")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def describe_endpoint(session: Any) -> str:
    """The SQS endpoint of a session: its URL and region, or the in-memory SQS."""
    client = getattr(session, "client", None)
    meta = getattr(client, "meta", None)
    if meta is None:
        return f"in-memory SQS ({type(session).__name__})"
    region = getattr(meta, "region_name", None) or "no region"
    url = str(getattr(meta, "endpoint_url", ""))
    if url.rstrip("/").endswith(".amazonaws.com"):
        return f"AWS SQS, region {region}"
    return f"{url} (region {region})"


def handler_names(queue: GenericQueue) -> list[str]:
    """Job names with a handler on a queue; ``<raw>`` for a raw queue's processor."""
    if isinstance(queue, RawQueue):
        return ["<raw>"] if queue.processor is not None else []
    return sorted(getattr(queue, "processors", {}))


def queue_line(queue: GenericQueue) -> str:
    """One banner line for a queue: its handlers and where its dead letters go."""
    settings = queue.settings
    handlers = ", ".join(handler_names(queue)) or "no handlers"
    if settings.dead_letter_arn:
        dead = settings.dead_letter_arn.rsplit(":", 1)[-1]
        tail = f"dead-letter queue {dead} after {settings.max_receive_count} receives"
    else:
        tail = "no dead-letter queue"
    kind = " (FIFO)" if settings.fifo else ""
    return f"  {queue.sqs_name}{kind}: {handlers}; {tail}"


def banner(session: Any, queues: Sequence[GenericQueue], *, concurrency: int, prefetch: int) -> str:
    """The lines logged when a worker starts."""
    lines = [
        f"sqs-contracts {package_version()} worker on {describe_endpoint(session)}: "
        f"{len(queues)} queue(s), concurrency {concurrency}, prefetch {prefetch}"
    ]
    lines += [queue_line(queue) for queue in queues]
    return "\n".join(lines)
