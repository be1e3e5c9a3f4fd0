"""What a worker run did: jobs succeeded, failed, released and abandoned, and its set-up."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class WorkerStats:
    """What a worker run did; ``abandoned`` counts messages whose handler was still running
    when the grace period ended (they run again after their visibility timeout)."""

    succeeded: int = 0
    failed: int = 0
    released: int = 0
    abandoned: int = 0
    queues: list[str] = field(default_factory=list)
    handler_threads: int = 0
    receive_loops: int = 0
    ack_senders: int = 0
    """Threads sending the batched deletes and visibility changes."""
    hold_limit: int = 0
    """The most messages held at once (running, waiting, and asked for by receives)."""
