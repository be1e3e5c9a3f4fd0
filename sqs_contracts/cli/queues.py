"""``sqs-contracts queue list|create|delete|stats|purge``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqs_contracts.cli.errors import CommandError, HelpFormatter
from sqs_contracts.cli.loading import add_env_options, confirm, env_from_args
from sqs_contracts.cli.stats import list_queue_urls, queue_figures
from sqs_contracts.env import SQSEnv
from sqs_contracts.errors import QueueNotFound
from sqs_contracts.queues.management import create_fifo_queue, create_standard_queue, delete_queue
from sqs_contracts.sessions.errors import is_nonexistent_queue

_COLUMNS = (
    ("NAME", "name"),
    ("VISIBLE", "visible"),
    ("IN FLIGHT", "in_flight"),
    ("DELAYED", "delayed"),
    ("OLDEST", "oldest_age"),
    ("DEAD-LETTER QUEUE", "dead_letter_queue"),
)


def queue_url(env: SQSEnv, name: str) -> str:
    """The URL of a queue of the env, or a one-line error naming the queue and the endpoint."""
    try:
        return str(env.session.get_queue_url(QueueName=env.get_sqs_queue_name(name))["QueueUrl"])
    except QueueNotFound as exc:
        raise QueueNotFound(
            exc.response,
            exc.operation_name,
            f"no queue {env.get_sqs_queue_name(name)!r} on {env.describe_endpoint()}; "
            f"`sqs-contracts queue list` shows the queues there",
        ) from exc


def _list(env: SQSEnv, args: argparse.Namespace) -> int:
    prefix = env.queue_prefix
    rows = []
    for url in list_queue_urls(env.session, prefix):
        sqs_name = url.rsplit("/", 1)[-1]
        try:
            figures = queue_figures(env.session, url, display_name=sqs_name)
        except Exception as exc:
            if is_nonexistent_queue(exc):  # deleted between the listing and the read
                continue
            raise
        fields = figures.fields()
        fields["name"] = sqs_name
        rows.append([fields[key] for _, key in _COLUMNS])
    if not rows:
        print(f"no queues named {prefix}* on {env.describe_endpoint()}")
        return 0
    header = [title for title, _ in _COLUMNS]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _stats(env: SQSEnv, args: argparse.Namespace) -> int:
    fields = queue_figures(env.session, queue_url(env, args.name)).fields()
    wanted = args.fields.split(",") if args.fields else list(fields)
    unknown = [name for name in wanted if name not in fields]
    if unknown:
        raise CommandError(f"unknown field(s) {unknown}; choose from {list(fields)}")
    print(" ".join(f"{name}={fields[name]}" for name in wanted))
    return 0


def _create(env: SQSEnv, args: argparse.Namespace) -> int:
    sqs_name = env.get_sqs_queue_name(args.name)
    try:
        existing = env.session.get_queue_url(QueueName=sqs_name)["QueueUrl"]
    except Exception as exc:
        if not is_nonexistent_queue(exc):
            raise
    else:
        raise CommandError(f"queue {sqs_name!r} already exists: {existing}")
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
    return 0


def _delete(env: SQSEnv, args: argparse.Namespace) -> int:
    queue_url(env, args.name)
    confirm(f"delete queue {env.get_sqs_queue_name(args.name)} and every message in it?", args.yes)
    delete_queue(env, args.name)
    print(f"deleted {env.get_sqs_queue_name(args.name)}", file=sys.stderr)
    return 0


def _purge(env: SQSEnv, args: argparse.Namespace) -> int:
    url = queue_url(env, args.name)
    confirm(f"delete every message of {env.get_sqs_queue_name(args.name)}?", args.yes)
    env.session.purge_queue(QueueUrl=url)
    # Status on stderr: stdout stays empty for scripts, as before confirmations existed.
    print(f"purged {env.get_sqs_queue_name(args.name)}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run a ``queue`` subcommand."""
    env = env_from_args(args)
    actions = {
        "list": _list,
        "stats": _stats,
        "create": _create,
        "delete": _delete,
        "purge": _purge,
    }
    return actions[args.action](env, args)


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    parent: argparse.ArgumentParser,
) -> None:
    """Add the ``queue`` command and its subcommands."""
    queue = subparsers.add_parser("queue", help="list, create, delete, inspect or purge queues")
    actions = queue.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, text: str, *, named: bool = True) -> argparse.ArgumentParser:
        sub = actions.add_parser(
            name,
            parents=[parent],
            help=text,
            description=text,
            formatter_class=HelpFormatter,
        )
        if named:
            sub.add_argument("name", metavar="QUEUE", help="queue name without the prefix")
        add_env_options(sub)
        sub.set_defaults(func=run)
        return sub

    action("list", "queues whose name starts with --prefix, with their figures", named=False)
    stats = action("stats", "message counts, oldest message age, dead-letter depth")
    stats.add_argument(
        "--fields",
        default=None,
        help="comma-separated fields to print, e.g. visible,in_flight (default: all)",
    )
    create = action("create", "create a queue (.fifo names make FIFO queues)")
    create.add_argument("--visibility-timeout", type=int, default=None, metavar="SECONDS")
    create.add_argument("--retention", type=int, default=None, metavar="SECONDS")
    create.add_argument("--dlq", default=None, metavar="QUEUE", help="dead-letter queue name")
    create.add_argument(
        "--max-receive-count", type=int, default=5, help="receives before dead-lettering"
    )
    create.add_argument(
        "--content-based-dedup", action="store_true", help="FIFO: deduplicate by body"
    )
    for name, text in (("delete", "delete a queue"), ("purge", "delete every message")):
        sub = action(name, text)
        sub.add_argument("--yes", action="store_true", help="do not ask for confirmation")
