"""The ``sqs-contracts`` command: run workers, manage queues and dead letters, check contracts."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from sqs_contracts.cli import dlq, queues, worker
from sqs_contracts.cli.banner import package_version
from sqs_contracts.cli.errors import guarded
from sqs_contracts.cli.loading import load_env

__all__ = ["build_parser", "load_env", "main"]


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


def _common_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--traceback",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the Python traceback of an error instead of one line",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sqs-contracts`` command."""
    parser = argparse.ArgumentParser(
        prog="sqs-contracts",
        description="Run workers, manage queues and dead letters, check contracts.",
    )
    parser.add_argument("--version", action="version", version=f"sqs-contracts {package_version()}")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="show the Python traceback of an error instead of one line",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parent = _common_options()
    worker.register(sub, parent)
    queues.register(sub, parent)
    dlq.register(sub, parent)

    demo = sub.add_parser("demo", help="run the example app on the in-memory SQS")
    demo.set_defaults(func=_demo)

    from sqs_contracts.schema.cli import register

    register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    command = guarded(args.func, lambda a: bool(getattr(a, "traceback", False)))
    return int(command(args))
