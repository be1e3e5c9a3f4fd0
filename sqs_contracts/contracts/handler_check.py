"""Handler annotations checked at registration: the contract, or a list of it on batch queues.

A handler annotated with another contract fails when it is registered, not at its first
message. Batch queues (``BatchMessages``) hand a list: ``list``, ``list[Model]`` and
``Sequence[Model]`` are accepted there. Generic aliases are never passed to ``issubclass``
(on Python 3.10 ``list[Model]`` passes ``isinstance(..., type)`` and ``issubclass`` raises).
"""

from __future__ import annotations

import collections.abc
import inspect
import typing
from collections.abc import Callable
from typing import Any

from sqs_contracts.contracts.errors import HandlerError


def check_handler(
    fn: Callable[..., Any],
    model: type[Any],
    pass_context: bool,
    *,
    batching: bool = False,
    queue_name: str = "",
) -> None:
    """Refuse at registration a handler whose first parameter is annotated with another type
    (on a batch queue: a list or sequence of another type)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    needed = 2 if pass_context else 1
    has_varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    if len(positional) < needed and not has_varargs:
        raise HandlerError(
            f"handler {fn.__qualname__} for {model.__name__} must take "
            f"{'(task, context)' if pass_context else '(task)'}"
        )
    if not positional:
        return
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        return
    annotation = hints.get(positional[0].name)
    problem = _annotation_problem(annotation, model, batching)
    if problem is not None:
        raise HandlerError(
            f"handler {fn.__qualname__} takes {problem} but is registered for "
            f"{model.__name__} on queue {queue_name!r}, which "
            + (
                f"hands it a list of {model.__name__}: annotate it list[{model.__name__}]"
                if batching
                else f"hands it one {model.__name__}: fix its annotation or the contract in "
                f"@env.handler(...), or read the queue in batches with "
                f"env.queue({queue_name!r}, batching_policy=BatchMessages(n)) first"
            )
        )


_BATCH_CONTAINERS: tuple[Any, ...] = (
    list,
    collections.abc.Sequence,
    collections.abc.Collection,
    collections.abc.Iterable,
    typing.Sequence,
    typing.Collection,
    typing.Iterable,
    typing.List,  # noqa: UP006
)


def _is_class(annotation: Any) -> bool:
    # On Python 3.10 list[X] passes isinstance(..., type) but breaks issubclass.
    return typing.get_origin(annotation) is None and isinstance(annotation, type)


def _accepts(annotation: Any, model: type[Any]) -> bool:
    if annotation is Any or not _is_class(annotation):
        return True  # a Union, a TypeVar, Any...: not judged here
    try:
        return issubclass(model, annotation)
    except TypeError:
        return True


def _annotation_problem(annotation: Any, model: type[Any], batching: bool) -> str | None:
    """What is wrong with a handler's first annotation for the model, or None."""
    origin = typing.get_origin(annotation)
    container = origin if origin is not None else annotation
    if any(container is c for c in _BATCH_CONTAINERS):
        if not batching:
            return "a list"
        args = typing.get_args(annotation)
        item = args[0] if args else Any
        return None if _accepts(item, model) else f"a list of {_name(item)}"
    if annotation is None or _accepts(annotation, model):
        return None
    return _name(annotation)


def _name(annotation: Any) -> str:
    return str(getattr(annotation, "__name__", annotation))
