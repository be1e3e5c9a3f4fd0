"""``sqs-contracts worker``: run an app's handlers on its queues."""

from __future__ import annotations

import argparse
import logging
import sys

from sqs_contracts.cli.banner import banner, handler_names, package_version
from sqs_contracts.cli.errors import CommandError, HelpFormatter
from sqs_contracts.cli.loading import load_env
from sqs_contracts.env import SQSEnv
from sqs_contracts.logging import JsonFormatter
from sqs_contracts.queues.base import GenericQueue
from sqs_contracts.runners.worker import DEFAULT_CONCURRENCY
from sqs_contracts.runners.worker_stats import WorkerStats
from sqs_contracts.shutdown_policies import (
    IdleShutdown,
    MaxTasksShutdown,
    NeverShutdown,
    OrShutdown,
    ShutdownPolicy,
)

logger = logging.getLogger("sqs_contracts.cli")

LOG_LEVELS = ("debug", "info", "warning", "error")
"""The choices of ``--log-level``."""

_NOISY = ("botocore", "boto3", "urllib3", "s3transfer")


def configure_logging(level: str, fmt: str) -> None:
    """Log to stderr at ``level``, as text or JSON lines; AWS SDK chatter only at debug."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper()))
    # botocore logs "Found credentials ..." at INFO on every start: noise unless debugging.
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "debug" else logging.WARNING)


def select_queues(env: SQSEnv, names: list[str]) -> list[GenericQueue]:
    """The queues to run: those named, else every queue of the env with a handler."""
    with_handlers = [name for name, queue in env.queues.items() if handler_names(queue)]
    if not names:
        if not with_handlers:
            raise CommandError(
                "the env has no handlers, so no queue to run: register one with "
                "@env.handler(Contract), or name queues on the command line"
            )
        return [env.queues[name] for name in with_handlers]
    queues = []
    for name in names:
        queue = env.queues.get(name) or env.queue(name)
        if not handler_names(queue):
            logger.warning(
                "queue %s has no handlers: its messages will fail as unknown jobs "
                "(queues with handlers: %s)",
                name,
                ", ".join(with_handlers) or "none",
            )
        queues.append(queue)
    return queues


def summary(stats: WorkerStats) -> str:
    """The shutdown line: what the run did, as a sentence."""
    return (
        f"worker stopped: {stats.succeeded} job(s) succeeded, {stats.failed} failed, "
        f"{stats.released} released unstarted (queues: {', '.join(stats.queues)})"
    )


def _policy(args: argparse.Namespace) -> ShutdownPolicy:
    policies: list[ShutdownPolicy] = []
    if args.idle_shutdown is not None:
        policies.append(IdleShutdown(args.idle_shutdown))
    if args.max_tasks is not None:
        policies.append(MaxTasksShutdown(args.max_tasks))
    return OrShutdown(*policies) if policies else NeverShutdown()


def run(args: argparse.Namespace) -> int:
    """Import the app, print the banner, and process its queues until stopped."""
    configure_logging(args.log_level, args.log_format)
    env = load_env(args.env_spec)
    queues = select_queues(env, list(args.queues))
    for queue in queues:
        queue.settings  # noqa: B018 - a missing queue fails here, before any thread starts
    worker = env.worker(
        concurrency=args.concurrency,
        prefetch=args.prefetch,
        grace_period=args.grace_period,
        wait_seconds=args.wait,
    )
    logger.info(
        banner(env.session, queues, concurrency=worker.concurrency, prefetch=worker.prefetch)
    )
    stats = worker.run(*(queue.name for queue in queues), shutdown_policy=_policy(args))
    logger.info(summary(stats))
    # Jobs abandoned at the end of the grace period run again elsewhere: say so.
    return 1 if stats.abandoned else 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def _wait(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 20:
        raise argparse.ArgumentTypeError(f"SQS long polls 0 to 20 seconds, got {value}")
    return value


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    parent: argparse.ArgumentParser,
) -> None:
    """Add the ``worker`` command."""
    worker = subparsers.add_parser(
        "worker",
        parents=[parent],
        help="process queues with an app's handlers",
        description="Process queues with the handlers of an app's SQSEnv. The current "
        "directory is on the import path.",
        formatter_class=HelpFormatter,
    )
    worker.add_argument(
        "env_spec",
        metavar="MODULE[:ATTR]",
        help="where the SQSEnv lives, e.g. myapp.tasks:env (ATTR defaults to env)",
    )
    worker.add_argument(
        "queues",
        nargs="*",
        metavar="QUEUE",
        help="queue names without prefix (default: every queue with a handler)",
    )
    worker.add_argument(
        "--concurrency", type=_positive, default=DEFAULT_CONCURRENCY, help="handler threads"
    )
    worker.add_argument(
        "--prefetch",
        type=_not_negative,
        default=None,
        help="messages held beyond the running ones, waiting for a thread "
        "(default: 10 per receive loop, one full receive each: 10 at concurrency 1, "
        "80 at 8, 160 from 16)",
    )
    worker.add_argument(
        "--grace-period",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="time running jobs get to finish after SIGTERM",
    )
    worker.add_argument(
        "--wait", type=_wait, default=10, metavar="SECONDS", help="long-poll wait, 0-20"
    )
    worker.add_argument(
        "--idle-shutdown",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this long without messages",
    )
    worker.add_argument(
        "--max-tasks", type=int, default=None, help="stop after this many processed jobs"
    )
    worker.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="log level")
    worker.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="log line format"
    )
    worker.add_argument("--version", action="version", version=f"sqs-contracts {package_version()}")
    worker.set_defaults(func=run)
