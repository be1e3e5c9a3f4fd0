"""Count SQS API requests per operation on any boto3 client, through botocore's event hooks.

``before-call`` fires once per API call (what the tables report); ``before-send`` fires once
per HTTP attempt, so ``http`` minus the sum of ``calls`` is the number of retries.

It also counts acknowledged jobs (entries of successful ``DeleteMessage(Batch)`` calls) and
notes when the ``expect_acks`` target was reached, so that a worker's throughput can be
taken up to its last delete, without the time it then takes to shut down.

Works on a plain ``boto3.client("sqs")``, on a resource's ``.meta.client`` and on the client of
``sqs_contracts.sessions.boto.BotoSession`` (its ``.client``)::

    counter = RequestCounter()
    counter.attach(client)
    ...
    counter.snapshot()   # {"SendMessageBatch": 200, ...}
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any, TypeVar

T = TypeVar("T")


class RequestCounter:
    """Thread-safe per-operation request counts for the clients it is attached to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._http = 0
        self._acked = 0
        self._ack_target = 0
        self._acked_at: float | None = None
        self._uid = f"benchmarks-request-counter-{id(self)}"

    def attach(self, client: T) -> T:
        """Count the requests of ``client`` (a boto3 client; attaching twice counts once)."""
        events = client.meta.events  # type: ignore[attr-defined]
        events.register("before-call.sqs.*", self._on_call, unique_id=self._uid + "-call")
        events.register("before-send.sqs.*", self._on_send, unique_id=self._uid + "-send")
        for op in ("DeleteMessage", "DeleteMessageBatch"):
            events.register(
                f"before-parameter-build.sqs.{op}",
                self._on_delete_params,
                unique_id=f"{self._uid}-params-{op}",
            )
            events.register(
                f"after-call.sqs.{op}", self._on_delete_done, unique_id=f"{self._uid}-ack-{op}"
            )
        return client

    def _on_call(self, model: Any = None, **kwargs: Any) -> None:
        name = getattr(model, "name", None) or "unknown"
        with self._lock:
            self._calls[name] += 1
        # Returning None lets the call proceed; anything else would short-circuit it.

    def _on_send(self, **kwargs: Any) -> None:
        with self._lock:
            self._http += 1

    def _on_delete_params(
        self, params: Any = None, model: Any = None, context: Any = None, **kwargs: Any
    ) -> None:
        if context is None or params is None:
            return
        name = getattr(model, "name", "")
        if name == "DeleteMessageBatch":
            context["benchmarks_acks"] = len(params.get("Entries") or ())
        elif name == "DeleteMessage":
            context["benchmarks_acks"] = 1

    def _on_delete_done(self, parsed: Any = None, context: Any = None, **kwargs: Any) -> None:
        acks = context.get("benchmarks_acks", 0) if context else 0
        if not acks:
            return
        failed = len(parsed.get("Failed") or ()) if isinstance(parsed, dict) else 0
        with self._lock:
            self._acked += acks - failed
            if self._ack_target and self._acked_at is None and self._acked >= self._ack_target:
                self._acked_at = time.perf_counter()

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._http = 0
            self._acked = 0
            self._ack_target = 0
            self._acked_at = None

    def expect_acks(self, target: int) -> None:
        """Note the ``time.perf_counter()`` at which ``target`` jobs have been deleted."""
        with self._lock:
            self._ack_target = target

    @property
    def acked(self) -> int:
        with self._lock:
            return self._acked

    @property
    def acked_at(self) -> float | None:
        """When the ``expect_acks`` target was reached (``time.perf_counter()``), if it was."""
        with self._lock:
            return self._acked_at

    def snapshot(self) -> dict[str, int]:
        """API calls per operation since the last reset."""
        with self._lock:
            return dict(sorted(self._calls.items()))

    @property
    def http_requests(self) -> int:
        """HTTP attempts (calls plus retries) since the last reset."""
        with self._lock:
            return self._http

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._calls.values())
