"""The layers of DESIGN section 2: every module in one layer, imports only downward, no cycle.

Every import counts: at module level, inside functions and under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "sqs_contracts"

LAYERS = ["sessions", "wire", "contracts", "dispatch", "queues", "runners", "env", "top"]
"""Bottom to top; a module may import from its own layer and the ones below."""

REEXPORTS = {
    "sqs_contracts",
    "sqs_contracts.async_task",
    "sqs_contracts.backoff_policies",
    "sqs_contracts.batching",
    "sqs_contracts.codecs",
    "sqs_contracts.context",
    "sqs_contracts.core",
    "sqs_contracts.deadletter_queue",
    "sqs_contracts.errors",
    "sqs_contracts.exceptions",
    "sqs_contracts.large_payloads",
    "sqs_contracts.memory_sqs",
    "sqs_contracts.processors",
    "sqs_contracts.queue",
    "sqs_contracts.shutdown_policies",
    "sqs_contracts.sqs_env",
    "sqs_contracts.sqs_manage",
}
"""The public and sqs-workers import paths: modules that re-export and hold no logic."""

TOP = {"sqs_contracts.env": "env"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> str:
    """The layer of a module: its subpackage, ``env``, or the top (cli, schema, re-exports)."""
    parts = module.split(".")
    if module in TOP:
        return TOP[module]
    if len(parts) > 1 and parts[1] in LAYERS[:6]:
        return parts[1]
    return "top"


def _resolve(name: str) -> str | None:
    """The module of the package an imported name refers to (a module, else its package)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    """Every module of the package that ``module`` imports, by any kind of import."""
    tree = ast.parse(MODULES[module].read_text())
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for name in names:
            if name.startswith("sqs_contracts"):
                target = _resolve(name)
                if target is not None and target != module:
                    found.add(target)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_is_in_a_layer() -> None:
    assert {layer_of(m) for m in MODULES} <= set(LAYERS)
    assert {layer_of(m) for m in MODULES if m not in REEXPORTS} >= set(LAYERS[:7])


def test_imports_only_point_down_the_layers() -> None:
    upward = [
        f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})"
        for module, targets in GRAPH.items()
        for target in targets
        if LAYERS.index(layer_of(target)) > LAYERS.index(layer_of(module))
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycle() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert not cycles, cycles


def test_reexport_modules_hold_no_logic() -> None:
    for module in REEXPORTS:
        tree = ast.parse(MODULES[module].read_text())
        logic = [
            type(node).__name__
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If))
        ]
        assert not logic, (module, logic)


def test_no_two_modules_differ_by_a_plural_or_a_synonym() -> None:
    synonyms = [{"errors", "exceptions"}, {"processing", "processors"}, {"worker", "runner"}]
    names: dict[str, list[str]] = {}
    for module in MODULES:
        if module not in REEXPORTS:
            names.setdefault(module.rpartition(".")[2], []).append(module)
    clashes = [
        (a, b)
        for a in names
        for b in names
        if a < b and (a + "s" == b or b + "s" == a or {a, b} in synonyms)
    ]
    assert not clashes, clashes


def test_the_checker_sees_every_kind_of_import() -> None:
    # The worker imports the dispatcher at module level, and the dispatch errors module
    # imports the backoff policies only under TYPE_CHECKING: both must be seen.
    assert "sqs_contracts.dispatch.dispatcher" in GRAPH["sqs_contracts.runners.worker"]
    assert "sqs_contracts.dispatch.backoff" in GRAPH["sqs_contracts.dispatch.errors"]
    assert layer_of("sqs_contracts.queues.base") == "queues"
    assert layer_of("sqs_contracts.cli") == "top"


def test_only_the_sessions_layer_imports_botocore_or_boto3() -> None:
    offenders = []
    for module, path in MODULES.items():
        if layer_of(module) == "sessions":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            offenders += [(module, n) for n in names if n.split(".")[0] in {"botocore", "boto3"}]
    assert not offenders, offenders
