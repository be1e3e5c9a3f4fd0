"""Finding the application: import ``MODULE[:ATTR]`` from the current directory, or build an env."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from sqs_contracts.cli.errors import CommandError
from sqs_contracts.env import SQSEnv


def add_cwd_to_path() -> None:
    """Put the current directory first on ``sys.path``, as ``python -m`` and Celery do."""
    cwd = os.getcwd()
    if "" not in sys.path and cwd not in sys.path:
        sys.path.insert(0, cwd)


def load_env(spec: str) -> SQSEnv:
    """Import ``module[:attribute]`` and return the ``SQSEnv`` it names.

    Without an attribute: the module's ``env``, else its only ``SQSEnv``.
    """
    add_cwd_to_path()
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise CommandError(f"{spec!r}: expected MODULE[:ATTR], e.g. myapp.tasks:env")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise CommandError(
                f"cannot import {module_name!r}: {exc} (looked in {os.getcwd()} and sys.path; "
                "run from your project's directory or set PYTHONPATH)"
            ) from exc
        raise CommandError(f"importing {module_name!r} failed: {exc}") from exc
    except Exception as exc:
        raise CommandError(
            f"importing {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    envs = {name: value for name, value in vars(module).items() if isinstance(value, SQSEnv)}
    if attribute:
        env = getattr(module, attribute, None)
        if callable(env) and not isinstance(env, SQSEnv):
            env = env()
    elif "env" in envs or len(envs) != 1:
        env = envs.get("env")
    else:
        [env] = envs.values()
    if not isinstance(env, SQSEnv):
        found = ", ".join(f"{module_name}:{name}" for name in sorted(envs)) or "none"
        raise CommandError(
            f"{spec!r} does not name an SQSEnv (SQSEnv objects in {module_name}: {found})"
        )
    return env


def add_env_options(parser: argparse.ArgumentParser) -> None:
    """Options that say which SQS to talk to: an app's env, or an endpoint and a prefix."""
    group = parser.add_argument_group("where")
    group.add_argument(
        "--env",
        default=None,
        metavar="MODULE[:ATTR]",
        help="take endpoint, region and prefix from the app's SQSEnv",
    )
    group.add_argument(
        "--endpoint-url", default=None, help="SQS endpoint (default: boto3's, or AWS_ENDPOINT_URL)"
    )
    group.add_argument("--region", default=None, help="AWS region (default: boto3's)")
    group.add_argument("--prefix", default="", help="queue name prefix (default: none)")


def env_from_args(args: argparse.Namespace) -> SQSEnv:
    """The env an admin command works on: ``--env``, else one built from the options."""
    if args.env:
        return load_env(args.env)
    return SQSEnv(endpoint_url=args.endpoint_url, region_name=args.region, queue_prefix=args.prefix)


def confirm(question: str, assume_yes: bool) -> None:
    """Ask on a terminal; without one, ``--yes`` is required. Raises when not confirmed."""
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise CommandError(f"{question}: refusing without confirmation; pass --yes")
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise CommandError("cancelled", 1)
