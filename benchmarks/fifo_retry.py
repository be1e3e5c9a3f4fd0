"""FIFO: what a failing head costs its group's healthy followers, on MemorySession.

A group of ``--group`` messages whose head always fails, on a FIFO queue with a dead-letter
queue at ``--max-receive-count``, backoff ``IMMEDIATE_RETURN``; a worker of two threads runs
until the queue is empty. Prints how many followers ran, how many reached the dead-letter
queue without running, and the receive calls made. Run: ``python -m benchmarks.fifo_retry``.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
from typing import Any

from sqs_contracts import (
    IMMEDIATE_RETURN,
    ManualClock,
    MemorySession,
    SQSEnv,
    Task,
    create_fifo_queue,
)
from sqs_contracts.shutdown_policies import IdleShutdown


class Step(Task, queue="steps.fifo"):
    seq: int


class _Counting:
    """Counts the receive calls made through a session."""

    def __init__(self, inner: MemorySession) -> None:
        self.inner = inner
        self.clock = inner.clock
        self.receives = 0
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def receive_message(self, **kwargs: Any) -> Any:
        with self._lock:
            self.receives += 1
        return self.inner.receive_message(**kwargs)


def measure(group: int, max_receive_count: int) -> dict[str, int]:
    """Run one group through a worker; return what became of the followers."""
    session = _Counting(MemorySession(clock=ManualClock()))
    env = SQSEnv(session, backoff_policy=IMMEDIATE_RETURN)
    create_fifo_queue(env, "steps_dead.fifo")
    create_fifo_queue(
        env,
        "steps.fifo",
        content_based_deduplication=True,
        redrive_policy=env.redrive_policy("steps_dead.fifo", max_receive_count),
    )
    ran: list[int] = []

    @env.handler(Step)
    def handle(task: Step) -> None:
        ran.append(task.seq)
        if task.seq == 0:
            raise ValueError("poison")

    with env.batch():
        for seq in range(group):
            Step(seq=seq).delay(env=env, group_id="g")
    env.worker(concurrency=2, wait_seconds=1, handle_signals=False).run(
        "steps.fifo", shutdown_policy=IdleShutdown(1.5)
    )
    dead = []
    while batch := env.queue("steps_dead.fifo").get_raw_messages(0):
        dead.extend(json.loads(m["Body"])["seq"] for m in batch)
    followers = set(range(1, group))
    return {
        "followers": len(followers),
        "followers_ran": len(followers & set(ran)),
        "followers_dead_lettered_unrun": len((followers - set(ran)) & set(dead)),
        "head_runs": ran.count(0),
        "receive_calls": session.receives,
    }


def main() -> None:
    """Parse the options and print the measurement."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--group", type=int, default=10)
    parser.add_argument("--max-receive-count", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    print(json.dumps(measure(args.group, args.max_receive_count)))


if __name__ == "__main__":
    main()
