"""The ``schema export``, ``schema check`` and ``asyncapi`` subcommands of ``sqs-contracts``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from sqs_contracts.schema.asyncapi import asyncapi_document, parse_queue_option, write_asyncapi
from sqs_contracts.schema.compat import SchemaSource, check_compatibility
from sqs_contracts.schema.discover import Target
from sqs_contracts.schema.export import contract_schemas, export_schemas, outdated_files
from sqs_contracts.schema.git import GIT_PREFIX, schemas_at_ref
from sqs_contracts.schema.report import format_report, yaml_available

Handler = Callable[[argparse.Namespace], int]

_MODULES_HELP = "dotted module or package names holding the contracts (packages are walked)"


def _modules(args: argparse.Namespace) -> list[Target]:
    # A console script does not put the working directory on sys.path; `python -m` does.
    cwd = os.getcwd()
    if "" not in sys.path and cwd not in sys.path:
        sys.path.insert(0, cwd)
    return list(args.modules)


def _guarded(handler: Handler) -> Handler:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (ImportError, ValueError, TypeError, OSError) as exc:
            print(f"sqs-contracts: error: {exc}", file=sys.stderr)
            return 2

    return run


def _export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if args.check:
        outdated = outdated_files(_modules(args), out)
        if outdated:
            print(f"{out} is out of date; run `sqs-contracts schema export` to update:")
            print("\n".join(f"  {rel}" for rel in outdated))
            return 1
        print(f"{out} is up to date")
        return 0
    paths = export_schemas(_modules(args), out)
    print(f"wrote {len(paths)} schema file(s) to {out}")
    return 0


def _check(args: argparse.Namespace) -> int:
    new = contract_schemas(_modules(args))
    old: SchemaSource = (
        schemas_at_ref(args.against) if args.against.startswith(GIT_PREFIX) else Path(args.against)
    )
    report = check_compatibility(old, new, args.mode)
    print(format_report(report, args.format, args.against))
    return 0 if report.ok else 1


def _asyncapi(args: argparse.Namespace) -> int:
    out = Path(args.out or ("asyncapi.yaml" if yaml_available() else "asyncapi.json"))
    if out.suffix.lower() != ".json" and not yaml_available():
        raise ValueError(
            f"writing YAML ({out}) needs PyYAML: pip install 'sqs-contracts[yaml]', "
            "or write JSON with --out asyncapi.json"
        )
    queues = dict(parse_queue_option(text) for text in args.queue)
    document = asyncapi_document(_modules(args), queues, title=args.title, version=args.app_version)
    path = write_asyncapi(document, out)
    print(f"wrote {path}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``schema export``, ``schema check`` and ``asyncapi`` to a set of subcommands."""
    schema = subparsers.add_parser("schema", help="JSON Schemas of the contracts, and CI checks")
    schema_commands = schema.add_subparsers(dest="schema_command", metavar="COMMAND")

    def usage(_: argparse.Namespace) -> int:
        schema.print_help(sys.stderr)
        return 2

    schema.set_defaults(func=usage)

    export = schema_commands.add_parser(
        "export", help="write one JSON Schema per contract, plus envelope.json"
    )
    export.add_argument("modules", nargs="+", metavar="MODULE", help=_MODULES_HELP)
    export.add_argument("--out", default="schemas", help="output directory (default: schemas)")
    export.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the directory differs from a fresh export",
    )
    export.set_defaults(func=_guarded(_export))

    check = schema_commands.add_parser(
        "check", help="check the contracts against a previous export; exit 1 on a break"
    )
    check.add_argument("modules", nargs="+", metavar="MODULE", help=_MODULES_HELP)
    check.add_argument(
        "--against",
        required=True,
        metavar="DIR | git:REF[:PATH]",
        help="the previous export: a directory, or a git ref and path read without a checkout "
        "(PATH defaults to schemas), e.g. git:v1.4.0",
    )
    check.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="text (default), json, or github workflow annotations",
    )
    check.add_argument(
        "--mode",
        choices=("full", "backward", "forward"),
        default="full",
        help="backward: new consumers read old messages; forward: old consumers read new "
        "messages; full: both (default)",
    )
    check.set_defaults(func=_guarded(_check))

    asyncapi = subparsers.add_parser("asyncapi", help="write an AsyncAPI 3.0 document")
    asyncapi.add_argument("modules", nargs="+", metavar="MODULE", help=_MODULES_HELP)
    asyncapi.add_argument(
        "--out",
        default=None,
        help="output file, .yaml (needs the sqs-contracts[yaml] extra) or .json "
        "(default: asyncapi.yaml with PyYAML installed, else asyncapi.json)",
    )
    asyncapi.add_argument(
        "--queue",
        action="append",
        default=[],
        metavar="NAME:Attr=Value,...",
        help="queue attributes for the SQS binding, e.g. "
        "emails:VisibilityTimeout=60,DeadLetterQueue=emails_dead,MaxReceiveCount=3 (repeatable)",
    )
    asyncapi.add_argument("--title", default="sqs-contracts", help="info.title of the document")
    asyncapi.add_argument("--app-version", default="1.0.0", help="info.version of the document")
    asyncapi.set_defaults(func=_guarded(_asyncapi))
