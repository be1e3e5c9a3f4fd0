"""A receive loop runs the fast jobs of its receive itself, one after another in one handler
slot, as a bare receive-process-delete loop does: a run.

A run takes the units from the holdings at once, hands their deletes to the acker at once
and lets them go at once; the shutdown policy still sees each job before the next starts. It
ends early after a job that took ``RUN_HERE_UNDER`` or more, when the worker stops or when
acknowledgements fail: the units it did not get to go back to the handler threads. Until a
unit of a run begins, the worker's stop releases it at once, as any unit not started.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from sqs_contracts.queues.acknowledge import AckTarget
from sqs_contracts.runners.acker import Acker
from sqs_contracts.runners.holdings import RUN_HERE_UNDER, Holdings, Unit
from sqs_contracts.sessions.base import MAX_BATCH_ENTRIES

Message = Mapping[str, Any]


class Run:
    """One run's acknowledgement sink: deletes kept for the end of the run (visibility
    changes go to the acker at once), and the units run and recorded."""

    def __init__(self, acker: Acker) -> None:
        self.acker = acker
        self.deletes: list[tuple[AckTarget, Message]] = []
        self.units: list[Unit] = []
        """The units run and recorded: the holdings let go of them at the end of the run."""

    def delete(self, queue: AckTarget, message: Message) -> None:
        """Keep a delete for the end of the run."""
        self.deletes.append((queue, message))

    def change(self, queue: AckTarget, message: Message, timeout: int) -> None:
        """Set a message's visibility timeout soon."""
        self.acker.change(queue, message, timeout)


def run_ready(
    holdings: Holdings, acker: Acker, stop: threading.Event, run_one: Callable[[Unit, Run], None]
) -> None:
    """Run ready units on this thread while they are fast, up to a receive's worth a run.

    ``run_one`` runs a unit; a unit it lets go of itself (FIFO, async or expired units) is
    not added to :attr:`Run.units`.
    """
    healthy = acker.healthy
    while units := holdings.take_run(stop, MAX_BATCH_ENTRIES, healthy.is_set()):
        run = Run(acker)
        times: list[float] = []
        begun = 0
        try:
            for unit in units:
                if times and (times[-1] >= RUN_HERE_UNDER or stop.is_set() or not healthy.is_set()):
                    break
                if not holdings.begin(unit):
                    break
                begun += 1
                began = holdings.clock()
                run_one(unit, run)
                times.append(holdings.clock() - began)
        finally:
            acker.delete_all(run.deletes)
            holdings.finish_run(run.units, units[begun:], times)
