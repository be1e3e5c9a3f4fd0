"""Job context: values a producer attaches to every job it sends, and what a handler receives.

The producer side (:class:`SQSContext`, ``env.context``) lives in a ``ContextVar``, so each
thread and each asyncio task sees its own values.
"""

from __future__ import annotations

import contextvars
import itertools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_ids = itertools.count()


class SQSContext:
    """The producer's job context: ``env.context["k"] = v``, ``with env.context(k=v):``."""

    def __init__(self, **kwargs: Any) -> None:
        self._var: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
            f"sqs_contracts_context_{next(_ids)}"
        )
        self._default = dict(kwargs)

    @classmethod
    def from_dict(cls, kwargs: Mapping[str, Any]) -> SQSContext:
        """Create a context holding the given values."""
        return cls(**kwargs)

    def _get(self) -> dict[str, Any]:
        return self._var.get(self._default)

    def set(self, **kwargs: Any) -> None:
        """Replace every value with those given."""
        self._var.set(dict(kwargs))

    def update(self, **kwargs: Any) -> None:
        """Add or replace the given values."""
        self._var.set({**self._get(), **kwargs})

    def clear(self) -> None:
        """Remove every value (for example at the end of a web request)."""
        self._var.set({})

    def to_dict(self) -> dict[str, Any]:
        """Return a copy of the current values."""
        return dict(self._get())

    def get(self, key: str, default: Any = None) -> Any:
        """Return one value, or ``default``."""
        return self._get().get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update(**{key: value})

    def __contains__(self, key: object) -> bool:
        return key in self._get()

    def __bool__(self) -> bool:
        return bool(self._get())

    @contextmanager
    def __call__(self, **kwargs: Any) -> Iterator[SQSContext]:
        """Add values for the duration of a ``with`` block, then restore the previous ones."""
        token = self._var.set({**self._get(), **kwargs})
        try:
            yield self
        finally:
            self._var.reset(token)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._get()!r})"


@dataclass(frozen=True)
class JobContext(Mapping[str, Any]):
    """What a handler with ``pass_context=True`` receives: the producer's context and metadata.

    It reads like a dict of the producer's values; the SQS metadata is in attributes.
    """

    data: Mapping[str, Any] = field(default_factory=dict)
    queue_name: str = ""
    job_name: str = ""
    message_id: str = ""
    receive_count: int = 1
    sent_timestamp: float | None = None
    group_id: str | None = None
    version: int = 1

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def to_dict(self) -> dict[str, Any]:
        """Return a copy of the producer's values."""
        return dict(self.data)


def received_context(
    data: Mapping[str, Any],
    queue_name: str,
    job_name: str,
    message_id: str,
    receive_count: int,
    sent_timestamp: float | None,
    group_id: str | None,
    version: int,
) -> JobContext:
    """The :class:`JobContext` of a received job, every field given: the same instance as
    ``JobContext(...)`` makes, built without one ``object.__setattr__`` per frozen field."""
    context = object.__new__(JobContext)
    context.__dict__.update(
        data=data,
        queue_name=queue_name,
        job_name=job_name,
        message_id=message_id,
        receive_count=receive_count,
        sent_timestamp=sent_timestamp,
        group_id=group_id,
        version=version,
    )
    return context
