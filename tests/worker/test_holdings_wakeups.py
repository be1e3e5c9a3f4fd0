"""Which idle handler thread the holdings wake: one more only when the ready units need it.

The holdings learn how long a unit takes on a clock the test moves, and each test observes
the notifications themselves, so nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import threading
from typing import Any

from sqs_contracts.runners.holdings import STALLED_AFTER, WAKE_AFTER, Holdings, Unit

from .helpers import wait_for


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _units(count: int) -> list[Unit]:
    queue: Any = type("Q", (), {"name": "jobs"})()
    return [Unit(queue, [{"MessageId": str(i)}], None, 0.0, 30.0) for i in range(count)]


def _holdings() -> tuple[Holdings, _Clock, list[int]]:
    clock = _Clock()
    holdings = Holdings(100, now=clock)
    notified: list[int] = []
    notify = holdings._work.notify

    def counting_notify(n: int = 1) -> None:
        notified.append(n)
        notify(n)

    holdings._work.notify = counting_notify  # type: ignore[method-assign]
    return holdings, clock, notified


def _idle_handler(holdings: Holdings, stop: threading.Event) -> tuple[threading.Thread, list[Any]]:
    took: list[Any] = []
    thread = threading.Thread(target=lambda: took.append(holdings.take(stop)), daemon=True)
    thread.start()
    assert wait_for(lambda: holdings._idle_handlers == 1, 5)
    return thread, took


class _FastSoFar:
    """One handler thread running its second unit after a 50 us one, another one idle."""

    def __init__(self, units: int) -> None:
        self.holdings, self.clock, self.notified = _holdings()
        self.stop = threading.Event()
        first, self.running, *self.rest = _units(units)
        self.holdings.add([first, self.running], 2)
        taken = self.holdings.take(self.stop)
        self.clock.now += 0.00005
        assert self.holdings.take(self.stop, taken) is self.running
        self.thread, self.took = _idle_handler(self.holdings, self.stop)


def test_fast_units_are_left_to_the_running_handler() -> None:
    case = _FastSoFar(6)

    # 4 x 50 us: the running handler is there sooner than a wake-up would be.
    case.holdings.add(case.rest, len(case.rest))

    assert case.notified == []
    assert case.took == []
    case.clock.now += WAKE_AFTER  # this job took long: now the ready units need another thread
    assert case.holdings.take(case.stop, case.running) is case.rest[0]
    case.thread.join(5)
    assert case.took == [case.rest[1]]
    assert case.notified == [1]


def test_units_wake_a_handler_while_none_runs_or_before_any_was_timed() -> None:
    holdings, _, notified = _holdings()
    stop = threading.Event()
    thread, took = _idle_handler(holdings, stop)
    unit = _units(1)
    holdings.add(unit, 1)
    thread.join(5)
    assert took == unit
    assert notified == [1]


def test_ready_units_nobody_took_for_a_while_wake_a_handler() -> None:
    case = _FastSoFar(4)  # the running unit will hang
    case.holdings.add(case.rest, len(case.rest))
    case.holdings.nudge()
    assert case.notified == []  # taken a moment ago

    case.clock.now += STALLED_AFTER + 0.001
    case.holdings.nudge()

    case.thread.join(5)
    assert case.took == [case.rest[0]]
    assert case.notified == [1]
