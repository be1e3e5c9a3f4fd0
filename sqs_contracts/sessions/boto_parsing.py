"""A faster reader of SQS's JSON responses for the boto3 client, with botocore's results.

botocore reads a JSON response by walking its shape member by member on every response: 15 us
per received message at ten messages a call, more than the rest of a job's processing. This
parser compiles each output shape once into a plain converter that gives the same result,
and reads the body with orjson. Errors, event streams, documents and tagged unions stay
with botocore's own code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import orjson
from botocore.model import Shape
from botocore.parsers import JSONParser, ResponseParser, ResponseParserFactory

__all__ = ["FastJSONParserFactory"]

_BOTOCORE_JSON: Any = JSONParser
"""botocore's JSON parser, whose private methods this one falls back on."""

_SUPPORTED = hasattr(_BOTOCORE_JSON, "_handle_json_body")
"""False with a botocore whose parser changed shape: its own parser is then used as is."""

Converter = Callable[[Any], Any]
"""Turns one JSON value of a shape into what botocore's parser returns for it."""


class _ReadAgain(Exception):
    """Raised by a converter given a value that orjson may have read unlike ``json``."""


_COMPILED_LIMIT = 1024
"""Converters one factory keeps: a service's output shapes, with room to spare."""

_HANDLED_BY_BOTOCORE = object()
"""The compiled form of a shape this module leaves to botocore's parser."""


class FastJSONParserFactory(ResponseParserFactory):
    """botocore's parser factory, whose ``json`` parsers use compiled converters."""

    def __init__(self) -> None:
        super().__init__()
        self._compiled: dict[int, tuple[Shape, Any]] = {}
        self._lock = threading.Lock()

    def create_parser(self, protocol_name: str) -> ResponseParser:
        """A parser for the protocol; for ``json``, one sharing this factory's converters."""
        if protocol_name != "json" or not _SUPPORTED:
            return super().create_parser(protocol_name)
        defaults: dict[str, Any] = getattr(self, "_defaults", {})
        return _FastJSONParser(self, **defaults)

    def converter(self, shape: Shape, parser: Any) -> Any:
        """The shape's converter, compiled on first use; ``_HANDLED_BY_BOTOCORE`` when the
        shape needs botocore's parser."""
        # Keyed by id() with the shape kept alive in the value, so that an id is never reused.
        entry = self._compiled.get(id(shape))
        if entry is None:
            with self._lock:
                if len(self._compiled) >= _COMPILED_LIMIT:
                    # botocore keeps its shapes; were it to make new ones, memory stays bounded.
                    self._compiled.clear()
                compiled = _compile(shape, parser)
                entry = self._compiled.setdefault(
                    id(shape),
                    (shape, _HANDLED_BY_BOTOCORE if compiled is None else compiled),
                )
        return entry[1]


class _FastJSONParser(JSONParser):
    def __init__(self, factory: FastJSONParserFactory, **defaults: Any) -> None:
        super().__init__(**defaults)
        self._factory = factory

    def _handle_json_body(self, raw_body: bytes, shape: Shape) -> Any:
        convert = self._factory.converter(shape, self)
        if convert is _HANDLED_BY_BOTOCORE:
            return _BOTOCORE_JSON._handle_json_body(self, raw_body, shape)
        if not raw_body:
            return convert({})
        try:
            return convert(orjson.loads(raw_body))
        except (orjson.JSONDecodeError, _ReadAgain):
            # What orjson refuses (NaN...) or reads otherwise gets botocore's reading.
            return _BOTOCORE_JSON._handle_json_body(self, raw_body, shape)


def _identity(value: Any) -> Any:
    return value


def _compile(shape: Any, parser: Any, within: frozenset[str] = frozenset()) -> Converter | None:
    """The converter of a shape, or None when botocore must read it (a recursive shape too)."""
    if shape.name in within:
        return None
    within = within | {shape.name}
    kind = shape.type_name
    if kind in _COMPILERS:
        return _COMPILERS[kind](shape, parser, within)
    if kind == "blob":
        blob: Converter = parser._blob_parser
        return blob
    if kind == "timestamp":
        timestamp: Converter = parser._timestamp_parser
        return timestamp
    # Scalars: botocore's JSON parser returns them as read, unless a handler says otherwise.
    if hasattr(type(parser), f"_handle_{kind}"):
        return None
    return _integer if kind in ("integer", "long") else _identity


def _integer(value: Any) -> Any:
    # orjson reads an integer beyond 64 bits as a float, where json keeps an int.
    if type(value) is float:
        raise _ReadAgain
    return value


def _compile_list(shape: Any, parser: Any, within: frozenset[str]) -> Converter | None:
    member = _compile(shape.member, parser, within)
    if member is None:
        return None
    if member is _identity:
        return list
    return lambda items: [None if item is None else member(item) for item in items]


def _compile_map(shape: Any, parser: Any, within: frozenset[str]) -> Converter | None:
    key, value = _compile(shape.key, parser, within), _compile(shape.value, parser, within)
    if key is not _identity or value is None:
        return None
    if value is _identity:
        return dict
    return lambda entries: {k: value(v) for k, v in entries.items()}


def _compile_structure(shape: Any, parser: Any, within: frozenset[str]) -> Converter | None:
    if shape.is_document_type or shape.is_tagged_union:
        return None
    members: dict[str, tuple[str, Converter]] = {}
    for name, member_shape in shape.members.items():
        convert = _compile(member_shape, parser, within)
        if convert is None:
            return None
        members[member_shape.serialization.get("name", name)] = (name, convert)
    renamed = any(wire != name for wire, (name, _) in members.items())
    plain = not renamed and all(c is _identity for _, c in members.values())

    def structure(value: Any) -> Any:
        if value is None:
            return None
        if plain:
            return {k: v for k, v in value.items() if v is not None and k in members}
        parsed = {}
        for key, raw in value.items():
            if raw is None:
                continue
            member = members.get(key)
            if member is not None:
                name, convert = member
                parsed[name] = raw if convert is _identity else convert(raw)
        return parsed

    return structure


_COMPILERS: dict[str, Callable[[Any, Any, frozenset[str]], Converter | None]] = {
    "structure": _compile_structure,
    "list": _compile_list,
    "map": _compile_map,
}
