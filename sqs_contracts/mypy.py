"""A mypy plugin for the function API: typed ``delay()`` options without touching the handler.

``AsyncTask.delay`` and ``.bake`` are typed with the handler's ``ParamSpec``, and PEP 612 has
no way to add keyword arguments to one; this plugin adds ``_content_type``,
``_delay_seconds``, ``_deduplication_id`` and ``_group_id`` to their signatures at each call,
and drops a parameter typed as the job context, which the worker passes, not the caller.
Enable it next to pydantic's: ``plugins = pydantic.mypy, sqs_contracts.mypy``.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import ARG_NAMED_OPT, ARG_STAR2, ArgKind
from mypy.plugin import MethodSigContext, Plugin
from mypy.types import (
    CallableType,
    FunctionLike,
    Instance,
    NoneType,
    Type,
    UnionType,
    get_proper_type,
)

_ASYNC_TASK = "sqs_contracts.queues.function_api.AsyncTask"
_CONTEXT_TYPES = frozenset(
    {
        "sqs_contracts.wire.context.JobContext",
        "sqs_contracts.wire.context.SQSContext",
        "sqs_workers.context.SQSContext",
    }
)
CONTROL_ARGUMENTS: dict[str, tuple[str, bool]] = {
    # name: (builtin type, accepts None); mirrors function_api.AsyncTaskDelayArgs
    "_content_type": ("builtins.str", False),
    "_delay_seconds": ("builtins.float", True),
    "_deduplication_id": ("builtins.str", True),
    "_group_id": ("builtins.str", True),
}


def _is_context(typ: Type) -> bool:
    proper = get_proper_type(typ)
    items = proper.items if isinstance(proper, UnionType) else [proper]
    found = False
    for item in map(get_proper_type, items):
        if isinstance(item, NoneType):
            continue
        if not (isinstance(item, Instance) and item.type.fullname in _CONTEXT_TYPES):
            return False
        found = True
    return found


def _without_context(signature: CallableType) -> CallableType:
    keep = [
        i
        for i, (kind, typ) in enumerate(zip(signature.arg_kinds, signature.arg_types, strict=True))
        if kind.is_star() or not _is_context(typ)
    ]
    if len(keep) == len(signature.arg_kinds):
        return signature
    return signature.copy_modified(
        arg_types=[signature.arg_types[i] for i in keep],
        arg_kinds=[signature.arg_kinds[i] for i in keep],
        arg_names=[signature.arg_names[i] for i in keep],
    )


def _run_signature(ctx: MethodSigContext) -> FunctionLike:
    return _without_context(ctx.default_signature)


def _delay_signature(ctx: MethodSigContext) -> FunctionLike:
    signature = _without_context(ctx.default_signature)
    if signature.unpack_kwargs:
        return signature  # **_: Unpack[AsyncTaskDelayArgs] declared, as sqs-workers required
    names: list[str | None] = list(signature.arg_names)
    kinds: list[ArgKind] = list(signature.arg_kinds)
    types: list[Type] = list(signature.arg_types)
    at = len(kinds) - 1 if kinds and kinds[-1] == ARG_STAR2 else len(kinds)
    for name, (type_name, optional) in CONTROL_ARGUMENTS.items():
        if name in names:
            continue
        typ: Type = ctx.api.named_generic_type(type_name, [])
        if optional:
            typ = UnionType.make_union([typ, NoneType()])
        names.insert(at, name)
        kinds.insert(at, ARG_NAMED_OPT)
        types.insert(at, typ)
        at += 1
    return signature.copy_modified(arg_names=names, arg_kinds=kinds, arg_types=types)


class AsyncTaskPlugin(Plugin):
    """Adjusts the signatures of ``AsyncTask.delay``, ``.bake`` and ``.run`` at each call."""

    def get_method_signature_hook(
        self, fullname: str
    ) -> Callable[[MethodSigContext], FunctionLike] | None:
        """The signature hook for AsyncTask's methods."""
        if fullname in (f"{_ASYNC_TASK}.delay", f"{_ASYNC_TASK}.bake"):
            return _delay_signature
        if fullname in (f"{_ASYNC_TASK}.run", f"{_ASYNC_TASK}.arun"):
            return _run_signature
        return None


def plugin(version: str) -> type[Plugin]:
    """The entry point mypy calls."""
    return AsyncTaskPlugin
