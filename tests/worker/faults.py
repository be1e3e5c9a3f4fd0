"""A session that wraps another and fails chosen calls, to drive the worker through faults."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqs_contracts.sessions import SQSSession
from sqs_contracts.sessions.errors import TransientError

Fault = Callable[[dict[str, Any]], Any]
"""Called with a call's keyword arguments: raise to fail it, return a response to answer it
instead of the inner session, or return None to let the inner session answer."""


def transient(operation: str) -> TransientError:
    """The error a throttled or unreachable endpoint gives."""
    return TransientError(
        {"Error": {"Code": "ServiceUnavailable", "Message": "endpoint down"}}, operation
    )


class FaultySession:
    """Forwards every call to ``inner`` and counts it; ``faults[name]`` may fail it first."""

    def __init__(self, inner: SQSSession) -> None:
        self.inner = inner
        self.clock = getattr(inner, "clock", None)
        self.calls: Counter[str] = Counter()
        self.faults: dict[str, Fault] = {}
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if name.startswith("_") or not callable(method):
            return method

        def call(**kwargs: Any) -> Any:
            with self._lock:
                self.calls[name] += 1
                fault = self.faults.get(name)
            if fault is not None:
                answer = fault(kwargs)
                if answer is not None:
                    return answer
            return method(**kwargs)

        return call

    def fail(self, name: str, times: int) -> None:
        """Fail the next ``times`` calls of ``name`` with a transient error."""
        left = [times]

        def fault(kwargs: dict[str, Any]) -> None:
            with self._lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            raise transient(name)

        self.faults[name] = fault
