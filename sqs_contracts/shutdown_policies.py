"""sqs-workers compatible import path for shutdown policies (``sqs_workers.shutdown_policies``)."""

from sqs_contracts.queues.shutdown_policies import (
    NEVER_SHUTDOWN,
    AndShutdown,
    IdleShutdown,
    MaxTasksShutdown,
    NeverShutdown,
    OrShutdown,
    ShutdownPolicy,
    asap_shutdown,
)

__all__ = [
    "NEVER_SHUTDOWN",
    "AndShutdown",
    "IdleShutdown",
    "MaxTasksShutdown",
    "NeverShutdown",
    "OrShutdown",
    "ShutdownPolicy",
    "asap_shutdown",
]
