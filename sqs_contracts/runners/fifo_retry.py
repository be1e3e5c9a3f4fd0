"""FIFO: a failed head is run again in place, its group held, rather than released.

Releasing the group would spend one receive of every follower (SQS counts each receive
against ``maxReceiveCount``), so healthy followers of a failing head would reach the
dead-letter queue without ever running. The head's attempts are counted here instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqs_contracts.dispatch.results import Outcome
from sqs_contracts.runners.holdings import Holdings, Unit
from sqs_contracts.wire.message import Message


def retry_in_place(
    holdings: Holdings,
    unit: Unit,
    outcomes: list[Outcome],
    clock: Callable[[], float],
    record: Callable[[Unit, Sequence[Outcome]], None],
) -> bool:
    """Keep a failed FIFO head with followers held, to run again after its backoff; False
    (the caller settles it as usual) when that does not apply. Once the head has used its
    ``maxReceiveCount``, its outcome becomes a dead-letter move, as SQS would make it."""
    if unit.group is None or len(unit.messages) != 1:
        return False
    outcome = outcomes[0]
    settings = unit.queue.settings
    if outcome.action != "retry" or outcome.visibility_timeout > settings.visibility_timeout:
        return False
    if not holdings.followers(unit):
        return False
    attempts = Message.of(unit.messages[0]).receive_count + unit.retries
    limit = settings.max_receive_count
    if limit is not None and attempts >= limit:
        if settings.dead_letter_arn:
            # What SQS would do at the next receive, without the followers paying for it.
            outcomes[0] = Outcome(
                "dead_letter",
                outcome.visibility_timeout,
                f"failed {attempts} times (maxReceiveCount {limit}): {outcome.error!r}",
                outcome.error,
            )
        return False
    with holdings.lock:
        record(unit, outcomes)
    if not holdings.retry_in_place(unit, clock() + outcome.visibility_timeout):
        return False
    holdings.promote_due(clock())
    return True
