"""Structural comparison of two payload schemas: can a reader take everything a writer writes?

The writer is the model of a producer, the reader that of a consumer. The rules come from the
wire format: a producer writes every field of its model (defaults and null included), and a
consumer ignores fields it does not know unless its model forbids extra fields.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqs_contracts.schema.values import (
    Schema,
    bounds,
    kind_of,
    listed_values,
    show_bound,
    value_ok,
)

_ANY: Schema = {}
_IGNORED_KEYS = frozenset({"title", "description", "default", "examples", "deprecated"})


@dataclass(frozen=True)
class Issue:
    """One way a writer's messages can fail a reader, before it is phrased for a direction.

    ``kind`` is one of ``missing``, ``renamed``, ``renamed_default``, ``forbidden_extra``,
    ``type``, ``null``, ``enum``, ``restricted``, ``constraint``, ``format`` or ``default``
    (the last two are warnings: nothing fails validation); ``writer`` and
    ``reader`` hold what each side declares (a type, values, a bound or a field name).
    """

    path: str
    kind: str
    writer: Any = None
    reader: Any = None
    keyword: str = ""


# Strings of the first format that pydantic accepts for the second (a date is a datetime).
_COERCED_FORMATS = frozenset({("date", "date-time")})


def _numbers_take_booleans(reader_branches: Sequence[tuple[Schema, str | None]]) -> bool:
    """True when a numeric reader branch accepts both booleans, as pydantic's lax mode does."""
    numeric = [b for b, _ in reader_branches if kind_of(b) in ("integer", "number")]
    # pydantic reads true/false as 1/0 in int and float fields: bounds apply to those.
    return all(any(value_ok(b, v) for b in numeric) for v in (0, 1))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _Side:
    """One schema document, resolving ``#/$defs/...`` references within it."""

    def __init__(self, document: Schema) -> None:
        self.defs: Mapping[str, Schema] = document.get("$defs", {})

    def resolve(self, schema: Schema) -> tuple[Schema, str | None]:
        """Follow ``$ref`` and merge ``allOf``; returns the schema and its model name, if any."""
        name: str | None = None
        for _ in range(64):
            if "$ref" in schema:
                ref = str(schema["$ref"])
                name = ref.rsplit("/", 1)[-1]
                if not ref.startswith("#/$defs/") or name not in self.defs:
                    raise ValueError(f"cannot resolve $ref {ref!r}: only #/$defs/... is supported")
                siblings = {k: v for k, v in schema.items() if k != "$ref"}
                schema = {**self.defs[name], **siblings}
            elif "allOf" in schema:
                merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
                for part in schema["allOf"]:
                    merged.update(self.resolve(part)[0])
                schema = merged
            else:
                return schema, name
        raise ValueError("$ref chain too long (a reference cycle?)")

    def branches(self, schema: Schema) -> list[tuple[Schema, str | None]]:
        """The alternatives of a schema: anyOf/oneOf members and type lists, flattened."""
        resolved, name = self.resolve(schema)
        for key in ("anyOf", "oneOf"):
            if key in resolved:
                return [b for member in resolved[key] for b in self.branches(member)]
        declared = resolved.get("type")
        if isinstance(declared, list):
            return [({**resolved, "type": t}, name) for t in declared]
        return [(resolved, name)]

    def fingerprint(self, schema: Schema, depth: int = 0) -> Any:
        """A comparable form of a schema: references inlined, documentation keys dropped."""
        if depth > 8:
            return "..."
        resolved, _ = self.resolve(schema)
        out: dict[str, Any] = {}
        for key, value in resolved.items():
            if key in _IGNORED_KEYS:
                continue
            if isinstance(value, Mapping):
                out[key] = self.fingerprint(value, depth + 1)
            elif isinstance(value, list):
                out[key] = [
                    self.fingerprint(v, depth + 1) if isinstance(v, Mapping) else v for v in value
                ]
            else:
                out[key] = value
        return out

    def describe(self, schema: Schema, depth: int = 0) -> str:
        """A short human form of a schema's type: ``integer | null``, ``list[Line]``..."""
        parts = [self._describe_branch(b, name, depth) for b, name in self.branches(schema)]
        return " | ".join(dict.fromkeys(parts))

    def _describe_branch(self, schema: Schema, name: str | None, depth: int) -> str:
        values = listed_values(schema)
        if values is not None:
            listed = ", ".join(json.dumps(v) for v in values)
            return f"{name} ({listed})" if name else listed
        kind = kind_of(schema)
        if name and kind == "object":
            return name
        if depth > 3:
            return kind
        if kind == "array":
            return f"list[{self.describe(schema.get('items', _ANY), depth + 1)}]"
        if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
            return f"dict[str, {self.describe(schema['additionalProperties'], depth + 1)}]"
        fmt = schema.get("format")
        return f"{kind} ({fmt})" if fmt else kind


class Comparator:
    """Checks that every message a writer schema allows is accepted by a reader schema."""

    def __init__(self, writer: Schema, reader: Schema) -> None:
        self.writer_doc, self.reader_doc = writer, reader
        self.writer, self.reader = _Side(writer), _Side(reader)
        self._active: set[tuple[str, str]] = set()

    def run(self) -> list[Issue]:
        """Compare the two documents from their root."""
        return self.check(self.writer_doc, self.reader_doc, "")

    def check(self, writer: Schema, reader: Schema, path: str) -> list[Issue]:
        """Issues of a writer value schema against a reader value schema at ``path``."""
        reader_branches = self.reader.branches(reader)
        if any(kind_of(b) == "any" for b, _ in reader_branches):
            return []
        issues: list[Issue] = []
        for branch, name in self.writer.branches(writer):
            values = listed_values(branch)
            if values is not None:
                bad = [v for v in values if not any(value_ok(b, v) for b, _ in reader_branches)]
                if bad == [None]:
                    issues.append(Issue(path, "null"))
                elif bad:
                    issues.append(Issue(path, "enum", bad, self.reader.describe(reader)))
                continue
            kind = kind_of(branch)
            if kind == "null":
                if not any(value_ok(b, None) for b, _ in reader_branches):
                    issues.append(Issue(path, "null"))
                continue
            if kind == "boolean" and _numbers_take_booleans(reader_branches):
                continue
            candidates = [
                (b, n)
                for b, n in reader_branches
                if listed_values(b) is not None
                or kind_of(b) in (kind, "number" if kind == "integer" else kind)
            ]
            if kind == "any" or not candidates:
                writer_type = self.writer.describe(branch) if kind != "any" else "any value"
                issues.append(Issue(path, "type", writer_type, self.reader.describe(reader)))
                continue
            # A union reader: the writer's branch must fit one member; report the closest one.
            results = [self._same_kind(branch, name, b, n, path) for b, n in candidates]
            best: list[Issue] = min(results, key=lambda found: (_errors(found), len(found)))
            if len(results) > 1 and _errors(best):
                # A mismatched pairing of union members: its warnings are noise.
                best = [i for i in best if i.kind not in ("default", "renamed_default")]
            issues += best
        return issues

    def _same_kind(
        self, writer: Schema, wname: str | None, reader: Schema, rname: str | None, path: str
    ) -> list[Issue]:
        values = listed_values(reader)
        if values is not None:
            return [Issue(path, "restricted", self.writer.describe(writer), values)]
        pair = (wname or "", rname or "")
        if wname and rname:
            if pair in self._active:
                return []  # a recursive model: its body is being compared further up
            self._active.add(pair)
        kind = kind_of(writer)
        try:
            if kind in ("integer", "number"):
                return self._number(writer, reader, path, integer=kind == "integer")
            compare = {"string": self._string, "array": self._array, "object": self._object}
            return compare[kind](writer, reader, path) if kind in compare else []
        finally:
            self._active.discard(pair)

    @staticmethod
    def _limits(
        writer: Schema, reader: Schema, path: str, keys: Iterable[tuple[str, str, bool]]
    ) -> list[Issue]:
        issues = []
        for key, label, is_max in keys:
            w, r = writer.get(key), reader.get(key)
            if r is None:
                continue
            if w is None or (w > r if is_max else w < r):
                issues.append(Issue(path, "constraint", w, r, label))
        return issues

    def _string(self, writer: Schema, reader: Schema, path: str) -> list[Issue]:
        keys = [("maxLength", "max_length", True), ("minLength", "min_length", False)]
        issues = self._limits(writer, reader, path, keys)
        if reader.get("pattern") is not None and reader.get("pattern") != writer.get("pattern"):
            issues.append(
                Issue(path, "constraint", writer.get("pattern"), reader["pattern"], "pattern")
            )
        formats = (writer.get("format"), reader.get("format"))
        if formats[1] is not None and formats[0] != formats[1] and formats not in _COERCED_FORMATS:
            issues.append(Issue(path, "format", writer.get("format"), reader["format"]))
        return issues

    def _number(self, writer: Schema, reader: Schema, path: str, *, integer: bool) -> list[Issue]:
        issues = []
        w = bounds(writer, integer=integer)
        r = bounds(reader, integer=integer)
        for lower, (wv, wx), (rv, rx) in ((True, w[:2], r[:2]), (False, w[2:], r[2:])):
            if rv is None:
                continue
            tighter = (rv > wv if lower else rv < wv) if wv is not None else True
            if tighter or (wv == rv and rx and not wx):
                label = "lower bound" if lower else "upper bound"
                shown = (show_bound(wv, wx, lower), show_bound(rv, rx, lower))
                issues.append(Issue(path, "constraint", shown[0], shown[1], label))
        step = reader.get("multipleOf")
        if step is not None:
            have = writer.get("multipleOf")
            ratio = Fraction(str(have)) / Fraction(str(step)) if have is not None else None
            if ratio is None or ratio.denominator != 1:
                issues.append(Issue(path, "constraint", have, step, "multiple_of"))
        return issues

    def _array(self, writer: Schema, reader: Schema, path: str) -> list[Issue]:
        keys = [("maxItems", "max_length", True), ("minItems", "min_length", False)]
        issues = self._limits(writer, reader, path, keys)
        if reader.get("uniqueItems") and not writer.get("uniqueItems"):
            issues.append(Issue(path, "constraint", "list", "set", "unique items"))
        w_prefix: Sequence[Schema] = writer.get("prefixItems", ())
        r_prefix: Sequence[Schema] = reader.get("prefixItems", ())
        w_items, r_items = writer.get("items", _ANY), reader.get("items", _ANY)
        if not w_prefix and not r_prefix:
            return issues + self.check(w_items, r_items, f"{path}[]")
        longest = max(len(w_prefix), len(r_prefix))
        for i in range(longest):
            if i >= len(w_prefix) and writer.get("maxItems", math.inf) <= i:
                break
            w = w_prefix[i] if i < len(w_prefix) else w_items
            r = r_prefix[i] if i < len(r_prefix) else r_items
            issues += self.check(w, r, f"{path}[{i}]")
        return issues

    def _object(self, writer: Schema, reader: Schema, path: str) -> list[Issue]:
        w_props: Mapping[str, Schema] = writer.get("properties", {})
        r_props: Mapping[str, Schema] = reader.get("properties", {})
        required = set(reader.get("required", ()))
        writer_only = [(name, w_props[name]) for name in w_props if name not in r_props]
        issues: list[Issue] = []
        for name, r_field in r_props.items():
            sub = _join(path, name)
            if name in w_props:
                issues += self.check(w_props[name], r_field, sub)
                w_field = w_props[name]
                both = "default" in w_field and "default" in r_field
                if both and not _same_json(w_field["default"], r_field["default"]):
                    issues.append(Issue(sub, "default", w_field["default"], r_field["default"]))
                continue
            twin = self._twin(r_field, writer_only)
            if name in required:
                issues.append(Issue(sub, "renamed", twin) if twin else Issue(sub, "missing"))
            elif twin:
                # Safe on the wire, but the value under the old name is silently dropped.
                issues.append(Issue(sub, "renamed_default", twin))
        return issues + self._extra_keys(writer, reader, path, writer_only)

    def _extra_keys(
        self, writer: Schema, reader: Schema, path: str, writer_only: list[tuple[str, Schema]]
    ) -> list[Issue]:
        """Keys the writer writes beyond the reader's fields: dict values, extra fields."""
        r_extra = reader.get("additionalProperties", True)
        # A model lists its fields and writes nothing else; a bare object is a free-form dict.
        w_extra = writer.get("additionalProperties", "properties" not in writer)
        issues: list[Issue] = []
        for name, w_field in writer_only:
            if r_extra is False:
                issues.append(Issue(_join(path, name), "forbidden_extra"))
            elif isinstance(r_extra, Mapping):
                issues += self.check(w_field, r_extra, _join(path, name))
        if w_extra is not False:
            w_values = w_extra if isinstance(w_extra, Mapping) else _ANY
            if r_extra is False:
                issues.append(Issue(f"{path}{{}}", "forbidden_extra"))
            elif isinstance(r_extra, Mapping):
                issues += self.check(w_values, r_extra, f"{path}{{}}")
        if "propertyNames" in reader:
            w_names = writer.get("propertyNames", {"type": "string"})
            issues += self.check(w_names, reader["propertyNames"], f"{path}{{key}}")
        keys = [("maxProperties", "max_length", True), ("minProperties", "min_length", False)]
        return issues + self._limits(writer, reader, path, keys)

    def _twin(self, reader_field: Schema, candidates: list[tuple[str, Schema]]) -> str | None:
        """The writer-only field that looks like this reader field under another wire name."""
        wanted = self.reader.fingerprint(reader_field)
        matches = [name for name, s in candidates if self.writer.fingerprint(s) == wanted]
        return matches[0] if len(matches) == 1 else None


def _errors(issues: list[Issue]) -> int:
    return sum(issue.kind not in ("default", "renamed_default") for issue in issues)


def _same_json(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def compare_payloads(writer: Schema, reader: Schema) -> list[Issue]:
    """Every issue a reader has with messages written by a writer (both full schema documents)."""
    return Comparator(writer, reader).run()
