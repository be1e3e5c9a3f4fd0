"""The acknowledgement timer: a partial batch waits its whole flush interval."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqs_contracts import MemorySession, SQSEnv, create_standard_queue
from sqs_contracts.runners.acker import Acker

from .faults import FaultySession
from .helpers import received_jobs, wait_for


def test_a_full_batch_restarts_the_flush_timer_for_what_comes_after_it() -> None:
    session, queue, messages = received_jobs(11)
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


def test_deletes_handed_on_together_go_out_in_tens_and_the_rest_at_the_timer() -> None:
    session, queue, messages = received_jobs(25)
    sent: list[tuple[float, int]] = []
    session.faults["delete_message_batch"] = lambda kwargs: sent.append(
        (time.monotonic(), len(kwargs["Entries"]))
    )
    acker = Acker(flush_interval=0.3)
    acker.start()
    try:
        added = time.monotonic()
        acker.delete_all([(queue, message) for message in messages])
        assert wait_for(lambda: len(sent) == 3, timeout=10)
    finally:
        acker.close()
    assert sorted(size for _, size in sent) == [5, 10, 10]
    partial = next(at for at, size in sent if size == 5)
    assert partial - added >= 0.3  # the five wait for more, a flush interval


class _CountingEvent(threading.Event):
    def __init__(self) -> None:
        super().__init__()
        self.sets = 0

    def set(self) -> None:
        self.sets += 1
        super().set()


def test_batches_in_quick_succession_do_not_wake_the_flush_timer_each_time() -> None:
    session = FaultySession(MemorySession())
    env = SQSEnv(session)
    create_standard_queue(env, "jobs")
    queue = env.queue("jobs")
    session.faults["delete_message_batch"] = lambda kwargs: {
        "Successful": [{"Id": entry["Id"]} for entry in kwargs["Entries"]],
        "Failed": [],
    }
    acker = Acker(flush_interval=5.0)
    wake = acker._wake = _CountingEvent()
    acker.start()
    messages = [{"MessageId": str(i), "ReceiptHandle": f"handle-{i}"} for i in range(1001)]
    try:
        acker.delete(queue, messages[0])
        assert wait_for(lambda: acker._timing, timeout=10)  # the timer follows it
        for message in messages[1:]:
            acker.delete(queue, message)
        # A hundred full batches went out while the timer followed them: one wake-up in all.
        assert wake.sets == 1
    finally:
        acker.close()
    assert session.calls["delete_message_batch"] == 101
