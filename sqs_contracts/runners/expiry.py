"""Units whose visibility ended before they started: left to the queue, not run.

While acknowledgements fail (an outage), handlers start nothing new: a job run then could
not be deleted before its visibility ends, and would run again. A unit that waited past its
visibility has already gone back to the queue, where another consumer may have it, so it is
let go unrun; the FIFO followers held behind it are released with it, to keep the order.
"""

from __future__ import annotations

import logging

from sqs_contracts.runners.acker import Deadlines
from sqs_contracts.runners.holdings import Holdings, Unit

logger = logging.getLogger(__name__)


def expired(unit: Unit, now: float) -> bool:
    """True when a unit's visibility has ended (its messages are back in the queue)."""
    return now >= unit.visible_at


def let_go(holdings: Holdings, unit: Unit, deadlines: Deadlines) -> list[Unit]:
    """Drop an expired unit without running it; return the FIFO followers to release."""
    released = holdings.finish(unit, False, lambda: None)
    deadlines.drop(unit.messages)
    logger.warning(
        "%d message(s) of queue %s waited past their visibility timeout while "
        "acknowledgements failed; left to the queue, not run here",
        len(unit.messages),
        unit.queue.name,
        extra={"queue": unit.queue.name},
    )
    return released
