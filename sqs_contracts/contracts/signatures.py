"""Signature models: the pydantic model of a plain function's keyword arguments.

A job sent to a function handler carries keyword arguments only, so each parameter that can
be passed by keyword becomes a field (its annotation, ``Any`` when unannotated, and its
default); a ``**kwargs`` handler receives its extra arguments flat (``extra="allow"``).
"""

from __future__ import annotations

import collections.abc
import contextlib
import inspect
import sys
import typing
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model
from typing_extensions import Unpack, is_typeddict

__all__ = ["FunctionSignature", "batch_item_type", "signature_of"]

_RESERVED_NAMES = frozenset({"model_config"})
_SEQUENCE_ORIGINS = (list, collections.abc.Sequence, collections.abc.Iterable)


@dataclass(frozen=True)
class FunctionSignature:
    """What a handler accepts: its argument model and how positional arguments map to names."""

    name: str
    model: type[BaseModel]
    positional: tuple[str, ...]
    """Parameters that can be given positionally, in order, without the context parameter."""
    fields: frozenset[str]
    var_keyword: bool
    context_var: str | None
    """The parameter that receives the job context, when ``pass_context`` is set."""
    inspected: bool = True
    """False for callables without a signature (a Mock): everything is accepted."""

    def bind(self, args: Sequence[Any], kwargs: Mapping[str, Any], where: str) -> dict[str, Any]:
        """Map positional arguments to their names and refuse unknown ones (``TypeError``).

        Missing or ill-typed arguments are left to the model's validation.
        """
        if len(args) > len(self.positional):
            names = ", ".join(self.positional) or "none"
            raise TypeError(
                f"{where}: takes {len(self.positional)} positional argument(s) ({names}) but "
                f"{len(args)} were given"
            )
        bound: dict[str, Any] = {}
        for name, value in zip(self.positional, args, strict=False):
            if name in kwargs:
                raise TypeError(f"{where}: got multiple values for argument {name!r}")
            bound[name] = value
        bound.update(kwargs)
        if self.context_var is not None and self.context_var in bound:
            raise TypeError(
                f"{where}: {self.context_var!r} receives the job context from the worker; "
                f"do not pass it (set values with env.context instead)"
            )
        if self.inspected and not self.var_keyword:
            unknown = sorted(set(bound) - self.fields)
            if unknown:
                raise TypeError(
                    f"{where}: unexpected argument(s) {', '.join(map(repr, unknown))}; the "
                    f"handler takes {', '.join(sorted(self.fields)) or 'no arguments'}"
                )
        return bound


def _is_mock(fn: object) -> bool:
    # A Mock claims any signature; only look when unittest.mock is loaded at all.
    mock = sys.modules.get("unittest.mock")
    return mock is not None and isinstance(fn, mock.NonCallableMock)


def _permissive(name: str, context_var: str | None) -> FunctionSignature:
    model = create_model(
        f"arguments of {name}", __config__=ConfigDict(extra="allow", arbitrary_types_allowed=True)
    )
    return FunctionSignature(name, model, (), frozenset(), True, context_var, inspected=False)


def _hint_target(fn: Callable[..., Any]) -> Any:
    target = inspect.unwrap(fn)
    if not (inspect.isfunction(target) or inspect.ismethod(target) or inspect.isclass(target)):
        target = getattr(target, "__call__", target)  # noqa: B004 - a callable object's method
    return target


def _resolve_hints(fn: Callable[..., Any], signature: inspect.Signature) -> dict[str, Any]:
    """The evaluated annotations (``from __future__ import annotations`` gives strings)."""
    target = _hint_target(fn)
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:
        pass
    # One unresolvable name (a TYPE_CHECKING-only import, a class local to a test function)
    # must not cost the others their validation: resolve each parameter on its own.
    namespace: dict[str, Any] = dict(getattr(target, "__globals__", {}))
    with contextlib.suppress(TypeError, ValueError):
        namespace.update(inspect.getclosurevars(target).nonlocals)
    hints: dict[str, Any] = {}
    for param in signature.parameters.values():
        annotation = param.annotation
        if annotation is inspect.Parameter.empty:
            continue
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)  # the handler's own annotation text
            except Exception as exc:
                warnings.warn(
                    f"handler {getattr(fn, '__qualname__', fn)!r}: cannot resolve the annotation "
                    f"{param.annotation!r} of parameter {param.name!r} ({exc}); it is not "
                    f"validated (define the type at module level to validate it)",
                    stacklevel=4,
                )
                annotation = Any
        hints[param.name] = annotation
    return hints


def _unpacked_typeddict(annotation: Any) -> Any | None:
    if typing.get_origin(annotation) is Unpack:
        (inner,) = typing.get_args(annotation)
        if is_typeddict(inner):
            return inner
    return None


def _check_name(handler: str, name: str) -> None:
    if name.startswith("_") or name in _RESERVED_NAMES:
        raise TypeError(
            f"handler {handler}: parameter {name!r} cannot be a job argument (names starting "
            f"with '_' are reserved for delay() options); rename it"
        )


def signature_of(
    fn: Callable[..., Any],
    *,
    pass_context: bool = False,
    context_var: str = "context",
    skip: Sequence[str] = (),
) -> FunctionSignature:
    """Build the argument model of a handler; raise ``TypeError`` for what a job cannot carry.

    ``skip`` names keyword arguments that never reach the handler (the ``delay`` controls).
    """
    name = getattr(fn, "__qualname__", None) or repr(fn)
    ctx = context_var if pass_context else None
    if _is_mock(fn):
        return _permissive(name, ctx)
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return _permissive(name, ctx)
    hints = _resolve_hints(fn, signature)
    fields: dict[str, Any] = {}
    positional: list[str] = []
    var_keyword = False
    for param in signature.parameters.values():
        annotation = hints.get(param.name, Any)
        if param.kind is param.VAR_POSITIONAL:
            raise TypeError(
                f"handler {name}: *{param.name} cannot receive a job, which carries keyword "
                f"arguments only; declare the parameters by name (a decorator should use "
                f"functools.wraps so the handler's own signature shows)"
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise TypeError(
                f"handler {name}: parameter {param.name!r} is positional-only, but a job "
                f"passes its arguments by keyword; remove the '/' from the signature"
            )
        if param.kind is param.VAR_KEYWORD:
            typed_dict = _unpacked_typeddict(annotation)
            if typed_dict is None:
                var_keyword = True
                continue
            # **kw: Unpack[SomeTypedDict] accepts exactly the TypedDict's keys.
            required = typed_dict.__required_keys__
            for key, key_type in typing.get_type_hints(typed_dict, include_extras=True).items():
                if key not in skip:
                    _check_name(name, key)
                    fields[key] = (key_type, ... if key in required else None)
            continue
        if param.name == ctx:
            continue
        _check_name(name, param.name)
        if param.kind is param.POSITIONAL_OR_KEYWORD:
            positional.append(param.name)
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (annotation, default)
    if ctx is not None and ctx not in signature.parameters and not var_keyword:
        raise TypeError(
            f"handler {name}: pass_context=True passes the job context as the keyword argument "
            f"{ctx!r}, but the handler has no such parameter; add it or set context_var="
        )
    config = ConfigDict(
        extra="allow" if var_keyword else "ignore",
        arbitrary_types_allowed=True,
        protected_namespaces=(),
    )
    with warnings.catch_warnings():
        # A parameter named like a BaseModel method ("json", "copy") works as a field.
        warnings.filterwarnings("ignore", message="Field name .* shadows an attribute")
        model = create_model(
            f"arguments of {name}",
            __config__=config,
            __module__=getattr(fn, "__module__", None) or __name__,
            **fields,
        )
    return FunctionSignature(
        name, model, tuple(positional), frozenset(fields), var_keyword, ctx, inspected=True
    )


def batch_item_type(fn: Callable[..., Any], context_var: str | None = None) -> Any | None:
    """The item type of a batch handler annotated ``list[X]`` (``Sequence[X]``...), if any."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    params = [p for p in signature.parameters.values() if p.name != context_var]
    if not params or _is_mock(fn):
        return None
    hints = _resolve_hints(fn, signature)
    annotation = hints.get(params[0].name)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in _SEQUENCE_ORIGINS and len(args) == 1 and args[0] is not Any:
        return args[0]
    return None
