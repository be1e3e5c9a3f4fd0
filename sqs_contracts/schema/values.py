"""JSON values against single (resolved, one-branch) schemas: kinds, enum values, bounds."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

Schema = Mapping[str, Any]
"""A JSON Schema object, as parsed from JSON."""


def json_kind(value: Any) -> str:
    """The JSON type of a Python value decoded from JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def same_value(a: Any, b: Any) -> bool:
    """Equal as JSON values: 1 and 1.0 are, True and 1 are not."""
    numeric = {"integer", "number"}
    ka, kb = json_kind(a), json_kind(b)
    return (ka == kb or {ka, kb} <= numeric) and a == b


def listed_values(schema: Schema) -> list[Any] | None:
    """The values an enum or const schema allows, or None for other schemas."""
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    return None


def kind_of(schema: Schema) -> str:
    """The JSON type a resolved, single-branch schema accepts (``any`` when unconstrained)."""
    values = listed_values(schema)
    if values is not None:
        kinds = {json_kind(v) for v in values}
        return kinds.pop() if len(kinds) == 1 else "mixed"
    declared = schema.get("type")
    if isinstance(declared, str):
        return declared
    if {"properties", "additionalProperties", "propertyNames"} & schema.keys():
        return "object"
    if {"items", "prefixItems"} & schema.keys():
        return "array"
    return "any"


def _string_ok(schema: Schema, value: str) -> bool:
    if schema.get("format") is not None:
        return False  # a plain string may not parse as a date, a UUID...
    pattern = schema.get("pattern")
    return schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", math.inf) and (
        pattern is None or re.search(pattern, value) is not None
    )


def _number_ok(schema: Schema, value: float) -> bool:
    lo, lo_excl, hi, hi_excl = bounds(schema, integer=False)
    above = lo is None or value > lo or (value == lo and not lo_excl)
    below = hi is None or value < hi or (value == hi and not hi_excl)
    step = schema.get("multipleOf")
    multiple = step is None or (Fraction(str(value)) / Fraction(str(step))).denominator == 1
    return above and below and multiple


def value_ok(schema: Schema, value: Any) -> bool:
    """Whether a single-branch schema surely accepts a JSON value (unsure counts as no)."""
    values = listed_values(schema)
    if values is not None:
        return any(same_value(value, v) for v in values)
    kind, vkind = kind_of(schema), json_kind(value)
    if kind == "any":
        return True
    if not (vkind == kind or (vkind == "integer" and kind == "number")):
        return False
    if vkind == "string":
        return _string_ok(schema, value)
    if vkind in ("integer", "number"):
        return _number_ok(schema, value)
    # Enum members that are arrays or objects are too rare to be worth checking in depth.
    return vkind not in ("array", "object")


def bounds(schema: Schema, *, integer: bool) -> tuple[Any, bool, Any, bool]:
    """(lower, lower exclusive, upper, upper exclusive); exclusive integer bounds made inclusive."""

    def pick(inclusive: str, exclusive: str, tighter: Callable[[Any, Any], bool]) -> Any:
        bound: tuple[Any, bool] = (None, False)
        for key, excl in ((inclusive, False), (exclusive, True)):
            value = schema.get(key)
            if value is not None and (bound[0] is None or tighter(value, bound[0])):
                bound = (value, excl)
            elif value is not None and value == bound[0]:
                bound = (value, bound[1] or excl)
        return bound

    lo, lo_excl = pick("minimum", "exclusiveMinimum", lambda a, b: a > b)
    hi, hi_excl = pick("maximum", "exclusiveMaximum", lambda a, b: a < b)
    if integer:
        if lo is not None and (lo_excl or lo != math.floor(lo)):
            lo, lo_excl = math.floor(lo) + 1, False
        if hi is not None and (hi_excl or hi != math.ceil(hi)):
            hi, hi_excl = math.ceil(hi) - 1, False
    return lo, lo_excl, hi, hi_excl


def show_bound(value: Any, excl: bool, lower: bool) -> str:
    """A bound as pydantic spells it: ``ge=1``, ``lt=10``..."""
    if value is None:
        return "none"
    return f"{('gt' if excl else 'ge') if lower else ('lt' if excl else 'le')}={value}"
