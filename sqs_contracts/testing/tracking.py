"""A session wrapper that tells when a worker holds nothing, and receives that can be woken.

``run_until_idle`` points the env at it for the run. It counts the SQS calls in progress and
the messages received but not yet acknowledged (deleted, or their visibility changed), so
"nothing in flight" is known exactly, without timing. A receive asks the wrapped session
without waiting and waits here instead, where a send, an acknowledgement, a moved clock or
the end of the run wakes it at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqs_contracts.sessions.base import Response, SQSSession

_T = TypeVar("_T")


def _handles(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(entry.get("ReceiptHandle")) for entry in entries]


class TrackingSession:
    """Wraps a session: counts calls in progress and received, unacknowledged messages."""

    def __init__(self, inner: SQSSession) -> None:
        self.inner = inner
        self.clock = getattr(inner, "clock", None)
        """The wrapped session's clock, so the worker times what it holds by it."""
        self.lock = threading.Condition()
        """Held while deciding that the run is idle: no call can start meanwhile."""
        self._calls = 0
        self._unacknowledged: set[str] = set()
        self._generation = 0
        self._closed = False

    def __repr__(self) -> str:
        return repr(self.inner)

    # -- what the run asks --------------------------------------------------------------------

    def quiet(self) -> bool:
        """No call in progress and every received message acknowledged (hold ``lock``)."""
        return not self._calls and not self._unacknowledged

    def hold(self, handles: Iterable[str]) -> None:
        """Count messages as unacknowledged again: the worker still holds them after a
        visibility change that only extended their visibility."""
        with self.lock:
            self._unacknowledged.update(handles)

    def wake(self) -> None:
        """Make waiting receives ask the session again (something may be visible now)."""
        with self.lock:
            self._generation += 1
            self.lock.notify_all()

    def close(self) -> None:
        """End every waiting receive now, with no messages."""
        with self.lock:
            self._closed = True
            self.lock.notify_all()

    # -- calls ---------------------------------------------------------------------------------

    def _call(
        self, call: Callable[[], _T], settled: Iterable[str] = (), changes: bool = True
    ) -> _T:
        with self.lock:
            self._calls += 1
        try:
            return call()
        finally:
            # Settled even when the call failed: the worker retries it or leaves the message
            # to its visibility timeout, and either way holds nothing more of it.
            with self.lock:
                self._calls -= 1
                self._unacknowledged.difference_update(settled)
                if changes:
                    self._generation += 1
                    self.lock.notify_all()

    def receive_message(self, **kwargs: Any) -> Response:
        """Receive without waiting; if nothing came, wait here until woken, then ask again."""
        deadline = time.monotonic() + float(kwargs.pop("WaitTimeSeconds", 0) or 0)
        while True:
            with self.lock:
                if self._closed:
                    return {}
                generation = self._generation
                self._calls += 1
            response: Response = {}
            try:
                response = self.inner.receive_message(WaitTimeSeconds=0, **kwargs)
            finally:
                with self.lock:
                    self._calls -= 1
                    self._unacknowledged.update(_handles(response.get("Messages", ())))
            if response.get("Messages"):
                return response
            with self.lock:
                while self._generation == generation and not self._closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return response
                    self.lock.wait(remaining)

    def delete_message(self, *, QueueUrl: str, ReceiptHandle: str) -> Response:
        """Delete one message; it is acknowledged."""
        return self._call(
            lambda: self.inner.delete_message(QueueUrl=QueueUrl, ReceiptHandle=ReceiptHandle),
            [ReceiptHandle],
        )

    def delete_message_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Delete up to 10 messages; they are acknowledged."""
        return self._call(
            lambda: self.inner.delete_message_batch(QueueUrl=QueueUrl, Entries=Entries),
            _handles(Entries),
        )

    def change_message_visibility(
        self, *, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int
    ) -> Response:
        """Change one message's visibility; it is acknowledged."""
        return self._call(
            lambda: self.inner.change_message_visibility(
                QueueUrl=QueueUrl, ReceiptHandle=ReceiptHandle, VisibilityTimeout=VisibilityTimeout
            ),
            [ReceiptHandle],
        )

    def change_message_visibility_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Change the visibility of up to 10 messages; they are acknowledged."""
        return self._call(
            lambda: self.inner.change_message_visibility_batch(QueueUrl=QueueUrl, Entries=Entries),
            _handles(Entries),
        )

    def send_message(self, **kwargs: Any) -> Response:
        """Send one message."""
        return self._call(lambda: self.inner.send_message(**kwargs))

    def send_message_batch(
        self, *, QueueUrl: str, Entries: Sequence[Mapping[str, Any]]
    ) -> Response:
        """Send up to 10 messages."""
        return self._call(lambda: self.inner.send_message_batch(QueueUrl=QueueUrl, Entries=Entries))

    def purge_queue(self, *, QueueUrl: str) -> Response:
        """Delete every message of a queue."""
        return self._call(lambda: self.inner.purge_queue(QueueUrl=QueueUrl))

    def create_queue(self, **kwargs: Any) -> Response:
        """Create a queue."""
        return self._call(lambda: self.inner.create_queue(**kwargs))

    def delete_queue(self, *, QueueUrl: str) -> Response:
        """Delete a queue."""
        return self._call(lambda: self.inner.delete_queue(QueueUrl=QueueUrl))

    def set_queue_attributes(self, *, QueueUrl: str, Attributes: Mapping[str, str]) -> Response:
        """Change queue attributes."""
        return self._call(
            lambda: self.inner.set_queue_attributes(QueueUrl=QueueUrl, Attributes=Attributes)
        )

    def list_queues(self, **kwargs: Any) -> Response:
        """List queue URLs."""
        return self._call(lambda: self.inner.list_queues(**kwargs), changes=False)

    def get_queue_url(self, *, QueueName: str) -> Response:
        """Resolve a queue name to its URL."""
        return self._call(lambda: self.inner.get_queue_url(QueueName=QueueName), changes=False)

    def get_queue_attributes(self, **kwargs: Any) -> Response:
        """Read queue attributes."""
        return self._call(lambda: self.inner.get_queue_attributes(**kwargs), changes=False)
