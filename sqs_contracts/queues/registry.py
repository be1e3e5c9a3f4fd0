"""An env's queues are configured once: the settings a later ``env.queue()`` call changes."""

from __future__ import annotations

from typing import Any

from sqs_contracts.dispatch.backoff import BackoffPolicy
from sqs_contracts.dispatch.batch_policies import BatchingConfiguration
from sqs_contracts.queues.base import GenericQueue


def settings_conflicts(
    existing: GenericQueue,
    *,
    queue_maker: Any,
    batching_policy: BatchingConfiguration | None,
    backoff_policy: BackoffPolicy | None,
    queue_url: str | None,
    dead_letter_invalid: bool | None,
) -> list[str]:
    """The settings given that differ from the queue's (``None`` means "not given")."""
    conflicts = []
    if queue_maker is not None and not _same_maker(queue_maker, existing):
        conflicts.append(f"queue_maker={queue_maker!r}")
    if batching_policy is not None and batching_policy != existing.batching_policy:
        conflicts.append(f"batching_policy={batching_policy!r}")
    if backoff_policy is not None and backoff_policy is not existing.backoff_policy:
        conflicts.append(f"backoff_policy={backoff_policy!r}")
    if queue_url is not None and queue_url != existing.queue_url:
        conflicts.append(f"queue_url={queue_url!r}")
    if dead_letter_invalid is not None and dead_letter_invalid != existing.dead_letter_invalid:
        conflicts.append(f"dead_letter_invalid={dead_letter_invalid!r}")
    return conflicts


def _same_maker(maker: Any, queue: GenericQueue) -> bool:
    used = getattr(queue, "maker_used", None)
    if used is maker:
        return True
    keys = ("func", "args", "keywords")
    return all(getattr(used, k, None) == getattr(maker, k, object()) for k in keys)
