"""Which values survive the JSON round trip from a producer to an SQS consumer.

SQS consumers decode with orjson, which refuses ``NaN``/``Infinity`` and lone surrogates, and
SQS refuses the noncharacters U+FFFE and U+FFFF in a body. Encoders screen their output
cheaply and walk the value only when the screen hits, to name the field that cannot be sent.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from sqs_contracts.wire.errors import UnsendableValue

_SEQUENCES = (list, tuple, set, frozenset)
_NOT_JSON = (
    "JSON has no NaN or Infinity (consumers decoding with orjson refuse them); "
    "send None, a string or a finite number instead"
)
_FIX_STR = "lone surrogates cannot be written as UTF-8: fix how the string was decoded"


def _bad_str(value: str) -> bool:
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


_LEAVES = frozenset({int, bool, type(None), bytes})


def _items(value: Any) -> Any:
    """The (key, child) pairs of a container, or None for a leaf."""
    kind = type(value)
    items: Any = None
    if kind is dict or isinstance(value, Mapping):
        items = value.items()
    elif kind is list or kind is tuple or isinstance(value, _SEQUENCES):
        items = enumerate(value)
    elif isinstance(value, BaseModel):
        fields, extra = value.__dict__, value.__pydantic_extra__
        items = [*fields.items(), *extra.items()] if extra else fields.items()
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    return items


def _leaf_error(value: Any, path: str) -> UnsendableValue | None:
    if isinstance(value, str):
        if _bad_str(value):
            return UnsendableValue(path, value, f"it holds a lone surrogate; {_FIX_STR}")
    elif isinstance(value, float) and not math.isfinite(value):
        return UnsendableValue(path, value, _NOT_JSON)
    return None


def find_unsendable(value: Any, path: str = "") -> UnsendableValue | None:
    """The first value under ``value`` that a JSON consumer cannot read back, as an error."""
    return _find(value, path, set())


def _find(value: Any, path: str, on_path: set[int]) -> UnsendableValue | None:
    if type(value) in _LEAVES:
        return None
    items = _items(value)
    if items is None:
        return _leaf_error(value, path)
    if id(value) in on_path:
        return None  # a cycle: the encoder reports it, this walk must not recurse forever
    on_path.add(id(value))
    try:
        for key, child in items:
            if isinstance(key, str) and _bad_str(key):
                return UnsendableValue(path, key, f"a key holds a lone surrogate; {_FIX_STR}")
            kind = type(child)
            if kind in _LEAVES or (kind is str and child.isascii()):
                continue
            found = _find(child, _join(path, key), on_path)
            if found is not None:
                return found
    finally:
        on_path.discard(id(value))
    return None


def check_sendable(value: Any) -> None:
    """Raise :class:`UnsendableValue` naming the first field a JSON consumer cannot read back."""
    found = find_unsendable(value)
    if found is not None:
        raise found


def escape_noncharacters(body: str) -> str:
    """Write U+FFFE and U+FFFF as JSON escapes: SQS refuses them raw, JSON decoders read both.

    Only valid on JSON text, where these characters can appear inside strings only.
    """
    if "\ufffe" in body or "\uffff" in body:
        return body.replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")
    return body
