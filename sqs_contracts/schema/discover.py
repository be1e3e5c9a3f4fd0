"""Find task contracts: import modules (walking packages) and collect their ``Task`` classes."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Sequence
from types import ModuleType

from sqs_contracts.contracts.task import Task

Target = str | ModuleType | type[Task]
"""What the schema tools accept: a dotted module or package name, a module, or a contract."""


def import_modules(names: Iterable[str | ModuleType]) -> list[ModuleType]:
    """Import each module; for a package, import every submodule as well."""
    modules: dict[str, ModuleType] = {}
    for name in names:
        module = importlib.import_module(name) if isinstance(name, str) else name
        modules[module.__name__] = module
        path = getattr(module, "__path__", None)
        if path is None:
            continue
        for info in pkgutil.walk_packages(path, prefix=module.__name__ + "."):
            modules[info.name] = importlib.import_module(info.name)
    return list(modules.values())


def _is_contract(obj: object) -> bool:
    return (
        isinstance(obj, type)
        and issubclass(obj, Task)
        and obj is not Task
        and obj.__task_queue__ is not None
    )


def find_tasks(targets: Sequence[Target]) -> list[type[Task]]:
    """The contracts (``Task`` subclasses with a queue) of the targets, sorted by queue and job.

    Modules are scanned by their namespace rather than through the global registry, so a
    contract deleted from a module that is imported again no longer counts.
    """
    found: dict[tuple[str, str], type[Task]] = {}
    classes: list[type[Task]] = []
    names: list[str | ModuleType] = []
    for target in targets:
        if isinstance(target, type):
            if not _is_contract(target):
                raise TypeError(f"{target!r} is not a Task subclass with a queue")
            classes.append(target)
        else:
            names.append(target)
    for module in import_modules(names):
        classes.extend(obj for obj in vars(module).values() if _is_contract(obj))
    for cls in classes:
        key = (cls.queue_name(), cls.job_name())
        other = found.setdefault(key, cls)
        if other is not cls:
            raise ValueError(
                f"two contracts claim job {key[1]!r} on queue {key[0]!r}: "
                f"{other.__module__}.{other.__qualname__} and {cls.__module__}.{cls.__qualname__};"
                " give one of them another name= or queue="
            )
    return [found[key] for key in sorted(found)]
