"""MemorySession under concurrent producers and consumers (real clock, bounded waits)."""

from __future__ import annotations

import threading
import time
from collections import Counter

from sqs_contracts.sessions import MemorySession, SystemClock

PRODUCERS = 4
CONSUMERS = 4
PER_PRODUCER = 500


def _produce(session: MemorySession, url: str, producer: int, fifo: bool) -> None:
    for start in range(0, PER_PRODUCER, 10):
        entries = []
        for i in range(start, start + 10):
            entry = {"Id": f"e{i}", "MessageBody": f"{producer}:{i}"}
            if fifo:
                entry["MessageGroupId"] = f"g{producer}"
                entry["MessageDeduplicationId"] = f"{producer}-{i}"
            entries.append(entry)
        result = session.send_message_batch(QueueUrl=url, Entries=entries)
        assert not result["Failed"]


def _run(fifo: bool) -> tuple[list[str], MemorySession, str]:
    session = MemorySession(SystemClock())
    attributes = {"VisibilityTimeout": "60"}
    if fifo:
        attributes["FifoQueue"] = "true"
    url = session.create_queue(QueueName="load.fifo" if fifo else "load", Attributes=attributes)[
        "QueueUrl"
    ]
    total = PRODUCERS * PER_PRODUCER
    received: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 20

    def consume() -> None:
        while time.monotonic() < deadline:
            with lock:
                if len(received) >= total:
                    return
            got = session.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            messages = got.get("Messages", [])
            with lock:
                # Recorded before the delete, so a FIFO group's order is the delivery order.
                received.extend(m["Body"] for m in messages)
            if messages:
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ]
                assert not session.delete_message_batch(QueueUrl=url, Entries=entries)["Failed"]

    threads = [threading.Thread(target=consume) for _ in range(CONSUMERS)]
    threads += [
        threading.Thread(target=_produce, args=(session, url, p, fifo)) for p in range(PRODUCERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return received, session, url


def test_standard_queue_loses_and_duplicates_nothing() -> None:
    received, session, url = _run(fifo=False)
    assert len(received) == PRODUCERS * PER_PRODUCER
    assert max(Counter(received).values()) == 1
    attrs = session.get_queue_attributes(QueueUrl=url)["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_fifo_queue_keeps_each_group_in_order_across_consumers() -> None:
    received, _, _ = _run(fifo=True)
    assert len(received) == PRODUCERS * PER_PRODUCER
    assert max(Counter(received).values()) == 1
    for producer in range(PRODUCERS):
        sequence = [int(b.split(":")[1]) for b in received if b.startswith(f"{producer}:")]
        assert sequence == list(range(PER_PRODUCER))
