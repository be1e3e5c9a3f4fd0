"""Backoff policies: how long a failed job stays invisible before SQS delivers it again."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Protocol

MAX_VISIBILITY_TIMEOUT = 43_200
"""SQS's cap on a message's visibility timeout: 12 hours."""


class BackoffPolicy(Protocol):
    """Chooses the visibility timeout (seconds) of a failed message."""

    def get_visibility_timeout(self, message: Mapping[str, Any]) -> int:
        """Return the seconds before the failed message becomes visible again."""
        ...


def _receive_count(message: Mapping[str, Any]) -> int:
    try:
        return int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
    except (TypeError, ValueError):
        return 1


def _clamp(seconds: float) -> int:
    return max(0, min(MAX_VISIBILITY_TIMEOUT, round(seconds)))


class ConstantBackoff:
    """The same visibility timeout after every failure."""

    def __init__(self, backoff_value: float = 0) -> None:
        self.backoff_value = backoff_value

    def get_visibility_timeout(self, message: Mapping[str, Any]) -> int:
        """Return the constant, rounded and capped at 12 h."""
        return _clamp(self.backoff_value)

    def __repr__(self) -> str:
        return f"ConstantBackoff({self.backoff_value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConstantBackoff) and other.backoff_value == self.backoff_value

    def __hash__(self) -> int:
        return hash((ConstantBackoff, self.backoff_value))


class ExponentialBackoff:
    """``min + multiplier * base ** (receive_count - 1)`` seconds with 10% jitter, capped."""

    def __init__(
        self,
        base: float = 2,
        min_visibility_timeout: float = 0,
        max_visibility_timeout: float = 1800,
        multiplier: float = 1,
        *,
        max_visbility_timeout: float | None = None,
    ) -> None:
        # ``max_visbility_timeout`` is the misspelled keyword of sqs-workers, kept as an alias.
        if max_visbility_timeout is not None:
            max_visibility_timeout = max_visbility_timeout
        self.base = base
        self.min_visibility_timeout = min_visibility_timeout
        self.max_visibility_timeout = min(max_visibility_timeout, MAX_VISIBILITY_TIMEOUT)
        self.multiplier = multiplier

    @property
    def max_visbility_timeout(self) -> float:
        """The sqs-workers spelling of :attr:`max_visibility_timeout`."""
        return self.max_visibility_timeout

    def get_visibility_timeout(self, message: Mapping[str, Any]) -> int:
        """Return the jittered exponential timeout for this message's receive count."""
        attempt = _receive_count(message) - 1
        try:
            mu = self.min_visibility_timeout + self.multiplier * self.base**attempt
        except OverflowError:
            mu = float(self.max_visibility_timeout)
        mu = min(mu, float(self.max_visibility_timeout))
        value = random.normalvariate(mu, mu / 10)
        value = max(self.min_visibility_timeout, min(self.max_visibility_timeout, value))
        return _clamp(value)

    def __repr__(self) -> str:
        return (
            f"ExponentialBackoff(base={self.base}, min={self.min_visibility_timeout}, "
            f"max={self.max_visibility_timeout}, multiplier={self.multiplier})"
        )


IMMEDIATE_RETURN = ConstantBackoff()
"""Make a failed message visible again at once."""

DEFAULT_BACKOFF = ExponentialBackoff()
"""About 1 s, 2 s, 4 s... with jitter, capped at 30 minutes."""
