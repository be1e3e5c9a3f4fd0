"""Pointing an env and its queues at another session for a block, then back.

Queues copy the env's session when they are created and cache their URL and settings; an
override swaps the session of each of them (forgetting those caches) on entry, and restores
each one's own session on exit, also for queues created inside the block.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

from sqs_contracts.sessions.base import SQSSession


class SessionUser(Protocol):
    """A queue as an override sees it: its session, and how to switch to another."""

    @property
    def session(self) -> SQSSession:
        """The session the queue talks to."""
        ...

    def use_session(self, session: SQSSession) -> None:
        """Talk to another session from now on, forgetting the URL and settings read so far."""
        ...


class OverridableEnv(Protocol):
    """An env as an override sees it: a settable session and its queues by name."""

    session: SQSSession

    @property
    def queues(self) -> Mapping[str, Any]:
        """The queue objects created so far, by name."""
        ...


_E = TypeVar("_E", bound=OverridableEnv)


class SessionOverride(Generic[_E]):
    """``with`` / ``async with`` block pointing an env at ``session``; handlers are kept.

    The switch is process-wide (every thread sees it), like the env itself; blocks nest.
    """

    def __init__(self, env: _E, session: SQSSession) -> None:
        if not isinstance(session, SQSSession):
            raise TypeError(
                f"env.override() takes an SQS session (MemorySession, BotoSession.create(...) "
                f"or any object with the SQSSession methods), got {type(session).__name__}"
            )
        self.env = env
        self.session = session
        self._saved: list[tuple[SQSSession, dict[str, SQSSession]]] = []
        self._lock = threading.Lock()

    def __enter__(self) -> _E:
        with self._lock:
            env = self.env
            queues: dict[str, SessionUser] = dict(env.queues)
            self._saved.append((env.session, {name: q.session for name, q in queues.items()}))
            env.session = self.session
            for queue in queues.values():
                queue.use_session(self.session)
        return env

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            env = self.env
            previous, sessions = self._saved.pop()
            env.session = previous
            queues: dict[str, SessionUser] = dict(env.queues)
            for name, queue in queues.items():
                queue.use_session(sessions.get(name, previous))

    async def __aenter__(self) -> _E:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)
