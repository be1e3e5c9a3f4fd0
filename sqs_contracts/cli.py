"""The ``sqs-contracts`` command: run workers, manage queues, export and check contracts."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from sqs_contracts.env import SQSEnv
from sqs_contracts.errors import SQSError
from sqs_contracts.queues.management import (
    create_fifo_queue,
    create_standard_queue,
    delete_queue,
    queue_stats,
)
from sqs_contracts.shutdown_policies import (
    IdleShutdown,
    MaxTasksShutdown,
    NeverShutdown,
    OrShutdown,
    ShutdownPolicy,
)


def load_env(spec: str) -> SQSEnv:
    """Import ``module:attribute`` and return the ``SQSEnv`` it names."""
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    env = getattr(module, attribute or "env", None)
    if callable(env) and not isinstance(env, SQSEnv):
        env = env()
    if not isinstance(env, SQSEnv):
        raise SystemExit(f"{spec!r} does not name an SQSEnv (expected module:attribute)")
    return env


def _env_from_args(args: argparse.Namespace) -> SQSEnv:
    if args.env:
        return load_env(args.env)
    return SQSEnv(endpoint_url=args.endpoint_url, region_name=args.region, queue_prefix=args.prefix)


def _worker(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    env = load_env(args.env_spec)
    policies: list[ShutdownPolicy] = []
    if args.idle_shutdown is not None:
        policies.append(IdleShutdown(args.idle_shutdown))
    if args.max_tasks is not None:
        policies.append(MaxTasksShutdown(args.max_tasks))
    policy: ShutdownPolicy = OrShutdown(*policies) if policies else NeverShutdown()
    worker = env.worker(
        concurrency=args.concurrency,
        grace_period=args.grace_period,
        wait_seconds=args.wait,
        prefetch=args.prefetch,
    )
    try:
        stats = worker.run(*args.queues, shutdown_policy=policy)
    except SQSError as exc:
        print(f"sqs-contracts worker: {exc}", file=sys.stderr)
        return 1
    logging.getLogger(__name__).info("worker stopped: %s", stats)
    # Jobs abandoned at the end of the grace period run again elsewhere: say so.
    return 1 if stats.abandoned else 0


def _queue(args: argparse.Namespace) -> int:
    env = _env_from_args(args)
    if args.action == "create":
        redrive = env.redrive_policy(args.dlq, args.max_receive_count) if args.dlq else None
        options: dict[str, Any] = {
            "visibility_timeout": args.visibility_timeout,
            "message_retention_period": args.retention,
            "redrive_policy": redrive,
        }
        if args.name.endswith(".fifo"):
            url = create_fifo_queue(
                env, args.name, content_based_deduplication=args.content_based_dedup, **options
            )
        else:
            url = create_standard_queue(env, args.name, **options)
        print(url)
    elif args.action == "delete":
        delete_queue(env, args.name)
    elif args.action == "purge":
        env.queue(args.name).purge_queue()
    else:
        stats = queue_stats(env, args.name)
        print(" ".join(f"{k}={v}" for k, v in stats.items()))
    return 0


def _demo(args: argparse.Namespace) -> int:
    # The example app lives in the repository, next to the package, not inside it.
    sys.path.insert(0, os.getcwd())
    try:
        from examples.app import main as demo_main
    except ImportError:
        print(
            "run `sqs-contracts demo` from the repository root (it has examples/)", file=sys.stderr
        )
        return 1
    return demo_main()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sqs-contracts`` command."""
    parser = argparse.ArgumentParser(prog="sqs-contracts", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    worker = sub.add_parser("worker", help="process queues with an env's handlers")
    worker.add_argument("env_spec", metavar="module:env", help="where the SQSEnv lives")
    worker.add_argument("queues", nargs="+", help="queue names")
    worker.add_argument("--concurrency", type=int, default=8)
    worker.add_argument("--idle-shutdown", type=float, default=None, metavar="SECONDS")
    worker.add_argument("--max-tasks", type=int, default=None)
    worker.add_argument("--grace-period", type=float, default=30.0, metavar="SECONDS")
    worker.add_argument("--wait", type=int, default=10, help="long-poll seconds (0-20)")
    worker.add_argument(
        "--prefetch",
        type=int,
        default=None,
        help="messages held beyond the running ones (default: concurrency, at most 10)",
    )
    worker.add_argument("--log-level", default="info")
    worker.set_defaults(func=_worker)

    queue = sub.add_parser("queue", help="create, delete, purge or inspect a queue")
    queue.add_argument("action", choices=["create", "delete", "stats", "purge"])
    queue.add_argument("name")
    queue.add_argument("--env", default=None, metavar="module:env")
    queue.add_argument("--endpoint-url", default=None)
    queue.add_argument("--region", default=None)
    queue.add_argument("--prefix", default="")
    queue.add_argument("--visibility-timeout", type=int, default=None)
    queue.add_argument("--retention", type=int, default=None, metavar="SECONDS")
    queue.add_argument("--dlq", default=None, help="dead-letter queue name")
    queue.add_argument("--max-receive-count", type=int, default=5)
    queue.add_argument("--content-based-dedup", action="store_true")
    queue.set_defaults(func=_queue)

    demo = sub.add_parser("demo", help="run the example app on the in-memory SQS")
    demo.set_defaults(func=_demo)

    try:
        from sqs_contracts.schema.cli import register
    except ImportError:  # pragma: no cover - the schema tools ship with the package
        pass
    else:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
