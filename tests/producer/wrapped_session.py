"""A session wrapper for producer tests: records requests, fails chosen entries, holds calls."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqs_contracts import SQSEnv
from sqs_contracts.sessions.base import SQSSession

Entry = dict[str, Any]


def job_name_of(entry: Entry) -> str:
    """The JobName attribute of a send entry."""
    return str(entry["MessageAttributes"]["JobName"]["StringValue"])


class WrappedSession:
    """Delegates to a backend's session.

    ``fail(entry)`` returning a code makes that ``SendMessageBatch`` entry fail with it
    (``sender_fault`` says whether it is the sender's fault, which is not retried);
    ``raise_on_batch`` makes every ``SendMessageBatch`` raise it; ``hold(operation)`` runs
    on the calling thread before each request is passed on.
    """

    def __init__(
        self,
        inner: SQSSession,
        *,
        fail: Callable[[Entry], str | None] | None = None,
        sender_fault: bool = True,
        raise_on_batch: Exception | None = None,
        hold: Callable[[str], None] | None = None,
    ) -> None:
        self.inner = inner
        self.fail = fail
        self.sender_fault = sender_fault
        self.raise_on_batch = raise_on_batch
        self.hold = hold
        self.calls: Counter[str] = Counter()
        self.batches: list[list[Entry]] = []
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(**kwargs: Any) -> Any:
            with self.lock:
                self.calls[name] += 1
            if self.hold is not None:
                self.hold(name)
            return method(**kwargs)

        return call

    @property
    def batch_sizes(self) -> list[int]:
        """The number of entries of each ``SendMessageBatch`` so far, sorted."""
        with self.lock:
            return sorted(len(entries) for entries in self.batches)

    def send_message_batch(self, *, QueueUrl: str, Entries: list[Entry]) -> Any:
        with self.lock:
            self.calls["send_message_batch"] += 1
            self.batches.append(list(Entries))
        if self.hold is not None:
            self.hold("send_message_batch")
        if self.raise_on_batch is not None:
            raise self.raise_on_batch
        codes = {e["Id"]: self.fail(e) if self.fail else None for e in Entries}
        passing = [e for e in Entries if codes[e["Id"]] is None]
        response: dict[str, Any] = {"Successful": [], "Failed": []}
        if passing:
            response = dict(self.inner.send_message_batch(QueueUrl=QueueUrl, Entries=passing))
        response["Failed"] = list(response.get("Failed", [])) + [
            {"Id": key, "SenderFault": self.sender_fault, "Code": code, "Message": "injected"}
            for key, code in codes.items()
            if code is not None
        ]
        return response


def read_back(env: SQSEnv, queue_name: str) -> list[dict[str, Any]]:
    """Every message on the queue, in the order received, deleting each batch received."""
    queue = env.queue(queue_name)
    out: list[dict[str, Any]] = []
    while messages := queue.get_raw_messages(0):
        out.extend(messages)
        queue.session.delete_message_batch(
            QueueUrl=queue.url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)
            ],
        )
    return out


def bodies_by_id(env: SQSEnv, queue_name: str) -> dict[str, str]:
    """MessageId -> body of every message on the queue; fails on a message seen twice."""
    messages = read_back(env, queue_name)
    found = {m["MessageId"]: m["Body"] for m in messages}
    bodies = [m["Body"] for m in messages]
    assert len(found) == len(messages), "a message received twice"
    assert len(set(bodies)) == len(bodies), "a job sent twice"
    return found
