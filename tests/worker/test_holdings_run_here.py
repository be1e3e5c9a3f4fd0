"""When a receive loop runs ready jobs itself: fast ones, in a free slot, another receive out
(or none could go out: the worker's only loop and slot).

The holdings time the units on a clock the test moves, so nothing here depends on how fast
the machine is.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from backends import Backend

from sqs_contracts import SQSEnv
from sqs_contracts.runners.holdings import RUN_HERE_UNDER, Holdings, Unit
from sqs_contracts.shutdown_policies import MaxTasksShutdown

from .contracts import Job
from .helpers import make_queue, wait_for
from .test_holdings_wakeups import _Clock, _units

FAST = 0.00005


class _Loops:
    """Holdings with ``slots`` handler slots and ``count`` units ready, just received, while a
    receive of another loop is out; a first unit, run by a handler thread in ``timed``
    seconds, taught them how long a job takes (unless ``timed`` is None)."""

    def __init__(self, count: int, slots: int = 4, *, timed: float | None = FAST) -> None:
        self.clock = _Clock()
        self.holdings = Holdings(100, now=self.clock, slots=slots)
        self.stop = threading.Event()
        self.other = self.holdings.reserve(10, self.stop)
        first, *self.units = _units(count + 1)
        if timed is not None:
            self.holdings.add([first], 0)
            taken = self.holdings.take(self.stop)
            self.clock.now += timed
            with self.holdings.lock:
                self.holdings._done(taken, self.clock())  # type: ignore[arg-type]
        mine = self.holdings.reserve(count, self.stop)
        self.holdings.add(self.units, mine)


def _run_here(loops: _Loops, most: int = 10) -> list[Unit]:
    """Take runs and run them all, as a receive loop does, until none is given."""
    ran: list[Unit] = []
    while run := loops.holdings.take_run(loops.stop, most):
        assert all(loops.holdings.begin(unit) for unit in run)
        ran.extend(run)
        loops.clock.now += FAST * len(run)
        loops.holdings.finish_run(run, [], [FAST] * len(run))
    return ran


def test_a_receive_loop_runs_its_fast_jobs_while_another_receive_is_out() -> None:
    loops = _Loops(3)
    run = loops.holdings.take_run(loops.stop, 10)
    assert run == loops.units
    assert loops.holdings._running == 1  # one slot for the whole run: its jobs run in turn
    assert not any(unit.started for unit in run)  # each starts in its turn
    for unit in run:
        assert loops.holdings.begin(unit)
        assert unit.started
    loops.holdings.finish_run(run, [], [FAST] * 3)
    assert loops.holdings._running == 0
    assert not loops.holdings.held & set(run)


def test_a_run_takes_at_most_what_it_asks_for() -> None:
    loops = _Loops(5)
    assert loops.holdings.take_run(loops.stop, 2) == loops.units[:2]
    loops.holdings.finish_run(loops.units[:2], [], [FAST, FAST])
    assert _run_here(loops, most=2) == loops.units[2:]


def test_jobs_of_unknown_or_long_duration_are_left_to_the_handler_threads() -> None:
    unknown = _Loops(2, timed=None)
    assert unknown.holdings.take_run(unknown.stop, 10) == []
    slow = _Loops(2, timed=2 * RUN_HERE_UNDER)
    assert slow.holdings.take_run(slow.stop, 10) == []
    # The handler threads still take them.
    assert unknown.holdings.take(unknown.stop) is unknown.units[0]
    assert slow.holdings.take(slow.stop) is slow.units[0]


def test_the_last_receive_loop_back_goes_out_again_rather_than_run_jobs() -> None:
    loops = _Loops(2)
    loops.holdings.unreserve(loops.other)  # the other loop's receive failed: none is out
    assert loops.holdings.take_run(loops.stop, 10) == []
    assert loops.holdings.take(loops.stop) is loops.units[0]


def test_nothing_runs_here_once_the_worker_stops_or_acknowledgements_fail() -> None:
    loops = _Loops(2)
    assert loops.holdings.take_run(loops.stop, 10, go=False) == []
    loops.stop.set()
    assert loops.holdings.take_run(loops.stop, 10) == []


def test_jobs_run_here_take_a_handler_slot() -> None:
    # One slot, taken by a run: a handler thread waits although units are ready, and takes
    # the next one once the run ends.
    loops = _Loops(3, slots=1)
    here = loops.holdings.take_run(loops.stop, 1)
    assert here == loops.units[:1]
    took: list[Unit | None] = []
    waiting = threading.Thread(target=lambda: took.append(loops.holdings.take(loops.stop)))
    waiting.start()
    assert wait_for(lambda: loops.holdings._idle_handlers == 1, 5)
    assert took == []
    assert loops.holdings.take_run(loops.stop, 10) == []  # no second slot here either

    loops.holdings.finish_run(here, [], [FAST])  # frees the slot

    waiting.join(5)
    assert took == [loops.units[1]]


def test_a_run_cut_short_gives_back_the_units_it_did_not_run_in_order() -> None:
    # A job turned out slow: the run ends, and the units it did not get to are ready again,
    # ahead of the others and in their order, for the handler threads.
    loops = _Loops(5, slots=2)
    run = loops.holdings.take_run(loops.stop, 3)
    assert run == loops.units[:3]
    assert loops.holdings.begin(run[0])
    loops.holdings.finish_run(run[:1], run[1:], [2 * RUN_HERE_UNDER])
    assert loops.units[0] not in loops.holdings.held
    assert not any(unit.started for unit in run[1:])
    assert loops.holdings.take_run(loops.stop, 10) == []  # slow now: the handlers' work
    assert loops.holdings.take(loops.stop) is loops.units[1]
    assert loops.holdings.take(loops.stop) is loops.units[2]


def test_the_units_of_a_run_not_begun_are_released_at_once_when_the_worker_stops() -> None:
    # The worker stops while a run's first job runs: the close releases the units the run
    # has not begun, as any unit not started, and the run begins none of them.
    loops = _Loops(3)
    run = loops.holdings.take_run(loops.stop, 10)
    assert loops.holdings.begin(run[0])
    assert sorted(loops.holdings.close(), key=run.index) == run[1:]
    assert not loops.holdings.begin(run[1])
    loops.holdings.finish_run(run[:1], run[1:], [FAST])
    assert not loops.holdings.held & set(run)
    assert not loops.holdings._ready
    assert loops.holdings._running == 0


def test_a_solo_loop_runs_its_fast_jobs_with_no_other_receive_out() -> None:
    # A worker at concurrency 1: one loop, one slot. Its loop would wait for these jobs
    # before it receives again, so it runs them rather than hand them to the handler thread.
    loops = _Loops(3, slots=1)
    loops.holdings.unreserve(loops.other)
    assert loops.holdings.take_run(loops.stop, 10) == []
    loops.holdings.solo = True
    assert _run_here(loops) == loops.units
    slow = _Loops(2, slots=1, timed=2 * RUN_HERE_UNDER)
    slow.holdings.unreserve(slow.other)
    slow.holdings.solo = True
    assert slow.holdings.take_run(slow.stop, 10) == []  # slow ones stay the handler's


@pytest.mark.parametrize(
    ("options", "solo"),
    [
        ({"concurrency": 1}, True),
        ({"concurrency": 1, "prefetch": 0}, True),
        # Two receive loops, or room for a second receive while one's jobs are held: the
        # handler thread runs the jobs while the loop receives.
        ({"concurrency": 1, "prefetch": 20}, False),
        ({"concurrency": 1, "prefetch": 50, "receivers": 1}, False),
        ({"concurrency": 4}, False),
    ],
)
def test_only_a_worker_that_cannot_receive_while_it_holds_a_receive_runs_solo(
    backend: Backend, options: dict[str, Any], solo: bool
) -> None:
    env = SQSEnv(backend.session, queue_prefix=backend.unique("solo") + "-")
    make_queue(backend, env, "jobs")
    env.handler(Job)(lambda job: None)
    Job(n=1).delay(env=env)
    worker = env.worker(wait_seconds=0, **options)
    worker.run("jobs", shutdown_policy=MaxTasksShutdown(1))
    assert worker._holdings.solo is solo
