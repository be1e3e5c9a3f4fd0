"""``sqs-contracts dlq peek|redrive|purge``: look at dead letters, send them back, drop them."""

from __future__ import annotations

import argparse
import json
import sys
import time

from sqs_contracts.cli.errors import HelpFormatter
from sqs_contracts.cli.loading import add_env_options, confirm, env_from_args
from sqs_contracts.cli.queues import queue_url
from sqs_contracts.env import SQSEnv
from sqs_contracts.queues.dead_letters import (
    DeadLetter,
    contracts_of,
    move_messages,
    native_move_status,
    read_dead_letters,
    resolve_target,
    start_native_move,
)

_NATIVE_DONE = ("COMPLETED", "FAILED", "CANCELLED")


def format_dead_letter(letter: DeadLetter) -> str:
    """A dead letter as a few readable lines."""
    job = letter.job_name or "(no JobName: not a job)"
    contract = f" ({letter.contract})" if letter.contract else ""
    sent = letter.sent_at.strftime("%Y-%m-%d %H:%M:%S UTC") if letter.sent_at else "unknown"
    lines = [
        f"message {letter.message_id}: job {job}{contract}, "
        f"received {letter.receive_count} time(s), sent {sent}"
    ]
    if letter.payload is not None:
        lines.append(f"  payload: {json.dumps(letter.payload, default=str)}")
        if letter.context:
            lines.append(f"  context: {json.dumps(letter.context, default=str)}")
    else:
        lines.append(f"  body: {letter.body[:200]!r}")
    if letter.invalid_reason:
        lines.append(f"  InvalidReason: {letter.invalid_reason}")
    if letter.valid:
        lines.append("  valid against today's contract")
    else:
        lines += [f"  invalid today: {error}" for error in letter.errors]
    return "\n".join(lines)


def _peek(env: SQSEnv, args: argparse.Namespace) -> int:
    url = queue_url(env, args.name)
    letters = list(
        read_dead_letters(
            env.session,
            url,
            allowed_content_types=env.allowed_content_types,
            contracts=contracts_of(env.queues.values()),
            limit=args.limit,
        )
    )
    if args.json:
        print(json.dumps([letter.to_json() for letter in letters], indent=2, default=str))
        return 0
    for letter in letters:
        print(format_dead_letter(letter))
    invalid = sum(not letter.valid for letter in letters)
    print(
        f"{len(letters)} message(s) shown, {invalid} invalid today; "
        f"they stay in {env.get_sqs_queue_name(args.name)}"
    )
    return 0


def _progress(moved: int) -> None:
    if sys.stderr.isatty():
        print(f"\rmoved {moved} message(s)...", end="", file=sys.stderr, flush=True)


def _redrive(env: SQSEnv, args: argparse.Namespace) -> int:
    dead_url = queue_url(env, args.name)
    to_url = queue_url(env, args.to) if args.to else None
    target = resolve_target(env.session, dead_url, env.queue_prefix, to_url)
    target_name = target.rsplit("/", 1)[-1]
    how = "client-side"
    moved = 0
    # The native task moves everything, so it serves only an unfiltered redrive.
    handle = None
    if args.job is None and args.limit is None:
        handle = start_native_move(env.session, dead_url, target)
    if handle is not None:
        how = "StartMessageMoveTask"
        status = "RUNNING"
        while status not in _NATIVE_DONE:
            time.sleep(1)
            status, moved = native_move_status(env.session, dead_url)
            _progress(moved)
    else:
        moved = move_messages(
            env.session, dead_url, target, job_name=args.job, limit=args.limit, progress=_progress
        )
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(
        f"moved {moved} message(s) from {env.get_sqs_queue_name(args.name)} "
        f"to {target_name} ({how})"
    )
    return 0


def _purge(env: SQSEnv, args: argparse.Namespace) -> int:
    url = queue_url(env, args.name)
    name = env.get_sqs_queue_name(args.name)
    confirm(f"delete every dead letter in {name}?", args.yes)
    env.session.purge_queue(QueueUrl=url)
    print(f"purged {name}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run a ``dlq`` subcommand."""
    env = env_from_args(args)
    return {"peek": _peek, "redrive": _redrive, "purge": _purge}[args.action](env, args)


def _limit(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    parent: argparse.ArgumentParser,
) -> None:
    """Add the ``dlq`` command and its subcommands."""
    dlq = subparsers.add_parser("dlq", help="inspect, redrive or purge a dead-letter queue")
    actions = dlq.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(
            name,
            parents=[parent],
            help=text,
            description=text,
            formatter_class=HelpFormatter,
        )
        sub.add_argument("name", metavar="QUEUE", help="dead-letter queue name without the prefix")
        add_env_options(sub)
        sub.set_defaults(func=run)
        return sub

    peek = action(
        "peek", "show messages decoded and validated against today's contracts; they stay"
    )
    peek.add_argument("--limit", type=_limit, default=10, help="messages to show")
    peek.add_argument("--json", action="store_true", help="print a JSON array")
    redrive = action("redrive", "move messages back to their source queue")
    redrive.add_argument(
        "--to", default=None, metavar="QUEUE", help="destination (default: from redrive policies)"
    )
    redrive.add_argument("--job", default=None, metavar="NAME", help="only this job name")
    redrive.add_argument("--limit", type=_limit, default=None, help="move at most N messages")
    purge = action("purge", "delete every message of a dead-letter queue")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
