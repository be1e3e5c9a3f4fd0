"""Errors of contracts and their handlers."""

from __future__ import annotations

from sqs_contracts.sessions.errors import SQSError


class NoCurrentEnv(SQSError, RuntimeError):
    """``.delay()`` or ``.run()`` was called with no ``SQSEnv`` to send through."""


class HandlerError(SQSError, TypeError):
    """A handler does not fit the contract it was registered for."""
