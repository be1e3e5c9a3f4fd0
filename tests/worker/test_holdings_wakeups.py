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


def test_fast_units_are_left_to_the_running_handler() -> None:
    holdings, clock, notified = _holdings()
    stop = threading.Event()
    first, second, *rest = _units(6)
    holdings.add([first, second], 2)
    running = holdings.take(stop)
    clock.now += 0.00005  # a 50 us job
    assert holdings.take(stop, running) is second
    thread, took = _idle_handler(holdings, stop)

    holdings.add(rest, len(rest))  # 4 x 50 us: the running handler is there sooner than a wake

    assert notified == []
    assert took == []
    clock.now += WAKE_AFTER  # this job took long: now the ready units need another thread
    assert holdings.take(stop, second) is rest[0]
    thread.join(5)
    assert took == [rest[1]]
    assert notified == [1]


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
    holdings, clock, notified = _holdings()
    stop = threading.Event()
    first, second, *rest = _units(4)
    holdings.add([first, second], 2)
    running = holdings.take(stop)
    clock.now += 0.00005
    assert holdings.take(stop, running) is second  # fast so far; this one will hang
    thread, took = _idle_handler(holdings, stop)
    holdings.add(rest, len(rest))
    holdings.nudge()
    assert notified == []  # taken a moment ago

    clock.now += STALLED_AFTER + 0.001
    holdings.nudge()

    thread.join(5)
    assert took == [rest[0]]
    assert notified == [1]
