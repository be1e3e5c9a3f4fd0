"""Closing the acker: it waits for every batch already taken out of its buffer."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from sqs_contracts.runners.acker import Acker

from .helpers import received_jobs

HAND_OVER_HELD = 0.5
"""How long the test keeps a batch between the buffer and the senders (close() must wait)."""


@pytest.mark.parametrize("path", ["delete", "delete_all", "flush"])
def test_close_waits_for_a_batch_on_its_way_from_the_buffer_to_a_sender(path: str) -> None:
    # A batch leaves the buffer under the lock and reaches a sender after it: a close() in
    # between once saw nothing to wait for, returned, and the batch then queued behind the
    # senders' stop marks was never sent (its messages ran again after their timeout).
    count = 3 if path == "flush" else 10
    session, queue, messages = received_jobs(count)
    deleted: list[int] = []
    session.faults["delete_message_batch"] = lambda kwargs: deleted.append(len(kwargs["Entries"]))
    acker = Acker(flush_interval=3600)  # no timer flush: the test hands the batch over
    acker.start()
    handing_over, closed = threading.Event(), threading.Event()
    submit = acker._submit

    def held_submit(*args: Any) -> None:
        handing_over.set()
        closed.wait(HAND_OVER_HELD)
        submit(*args)

    acker._submit = held_submit  # type: ignore[method-assign]

    def hand() -> None:
        if path == "delete_all":
            acker.delete_all([(queue, m) for m in messages])
            return
        for m in messages:  # the tenth cuts a batch
            acker.delete(queue, m)
        if path == "flush":
            acker.flush()  # what the timer does with a partial batch

    producer = threading.Thread(target=hand)
    producer.start()
    assert handing_over.wait(10)
    done = acker.close(until=time.monotonic() + 30)
    closed.set()
    producer.join(10)
    assert done
    assert deleted == [count]
