"""SIGTERM/SIGINT for the worker: a handler that only counts, so it can never deadlock.

A Python signal handler runs on the main thread between two bytecodes, possibly while that
thread holds one of the worker's locks; taking any lock there could wait forever. The
handler therefore only bumps a counter, which the main thread reads in its short waits.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class SignalFlag:
    """How many stop signals arrived since :meth:`install` (0, 1: stop, 2+: stop at once)."""

    def __init__(self) -> None:
        self.count = 0
        self.last: int | None = None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Lock-free on purpose: an int assignment under the GIL, nothing else.
        self.last = signum
        self.count += 1

    def install(self) -> Callable[[], None]:
        """Catch the stop signals (on the main thread only); return what restores the old
        handlers."""
        self.count = 0
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore
