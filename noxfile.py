"""Developer sessions: tests, typecheck, lint, schemas and bench (`nox -s NAME`)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "schemas"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite, against MemorySession and a moto server it starts itself."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, and the tests/typing cases it must accept or reject."""
    session.install("-e", ".[test]")
    session.run("mypy", "sqs_contracts")
    session.run("mypy", "tests/typing/pass_task.py")
    session.run("pytest", "tests/test_typing.py", "-q")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def schemas(session: nox.Session) -> None:
    """The committed schemas/ match the example contracts, and no change breaks them."""
    session.install("-e", ".[test]")
    session.run("sqs-contracts", "schema", "check", "examples.contracts", "--against", "schemas")
    session.run(
        "sqs-contracts", "schema", "export", "examples.contracts", "--out", "schemas", "--check"
    )


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks (``-- --quick`` for a short run)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "benchmarks", *session.posargs)
