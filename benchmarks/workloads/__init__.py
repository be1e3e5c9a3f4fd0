"""Workload modules: every module here registers its workloads with ``@workload`` on import."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> dict[str, str]:
    """Import every workload module; returns ``{module: error}`` for those that failed."""
    errors: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        name = f"{__name__}.{info.name}"
        try:
            importlib.import_module(name)
        except Exception as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
    return errors
