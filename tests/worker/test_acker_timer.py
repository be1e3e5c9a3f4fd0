"""The acknowledgement timer: a partial batch waits its whole flush interval."""

from __future__ import annotations

import time
from typing import Any

from sqs_contracts import MemorySession, SQSEnv, create_standard_queue
from sqs_contracts.runners.acker import Acker

from .contracts import Job
from .faults import FaultySession
from .helpers import receive_all, wait_for


def test_a_full_batch_restarts_the_flush_timer_for_what_comes_after_it() -> None:
    session = FaultySession(MemorySession())
    env = SQSEnv(session)
    create_standard_queue(env, "jobs")
    for n in range(11):
        Job(n=n).delay(env=env)
    messages = receive_all(env, "jobs")
    assert len(messages) == 11
    queue = env.queue("jobs")
    sent: list[tuple[float, int]] = []

    def record(kwargs: dict[str, Any]) -> None:
        sent.append((time.monotonic(), len(kwargs["Entries"])))

    session.faults["delete_message_batch"] = record
    acker = Acker(flush_interval=0.3)
    acker.start()
    try:
        for message in messages[:10]:
            acker.delete(queue, message)
        assert wait_for(lambda: len(sent) == 1, timeout=10)
        time.sleep(0.2)  # most of the first item's interval has passed
        added = time.monotonic()
        acker.delete(queue, messages[10])
        assert wait_for(lambda: len(sent) == 2, timeout=10)
    finally:
        acker.close()
    assert [size for _, size in sent] == [10, 1]
    # Sent a flush interval after it was added, not when the first batch's timer ran out:
    # a delay of the timer thread only makes it later.
    assert sent[1][0] - added >= 0.3
