"""Read-batching policies: how many messages a queue's handler receives at once."""

from __future__ import annotations


class BatchingConfiguration:
    """How many messages a queue's handlers receive at once."""

    batching_enabled: bool = False
    batch_size: int = 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BatchingConfiguration) and (
            self.batching_enabled,
            self.batch_size,
        ) == (other.batching_enabled, other.batch_size)

    def __hash__(self) -> int:
        return hash((self.batching_enabled, self.batch_size))


class NoBatching(BatchingConfiguration):
    """Handlers receive one message at a time (the default)."""

    def __repr__(self) -> str:
        return "NoBatching()"


class BatchMessages(BatchingConfiguration):
    """Handlers receive a list of at most ``batch_size`` messages, never more."""

    batching_enabled = True

    def __init__(self, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError(f"BatchMessages needs a batch_size >= 1, got {batch_size}")
        self.batch_size = batch_size

    def __repr__(self) -> str:
        return f"BatchMessages({self.batch_size})"
