"""The compatibility checker against a table of labelled model changes.

Each case is a before/after pair of contracts and the expected verdict per direction:
``ok`` (no finding), ``warn`` (warnings only) or ``break`` (at least one error).
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import pytest
from pydantic import BaseModel, ConfigDict, Field
from schema_builders import AllowTask, ForbidTask, contract

from sqs_contracts.schema import Finding, check_compatibility


class Color(str, enum.Enum):
    """Three colours."""

    red = "red"
    green = "green"
    blue = "blue"


class ColorFewer(str, enum.Enum):
    """The colours without blue."""

    red = "red"
    green = "green"


class Line(BaseModel):
    """An order line."""

    sku: str
    qty: int


class LineWithPrice(BaseModel):
    """An order line that requires a price."""

    sku: str
    qty: int
    price: float


class LineWithNote(BaseModel):
    """An order line with an optional note."""

    sku: str
    qty: int
    note: str = ""


class LineSkuOnly(BaseModel):
    """An order line that lost its quantity."""

    sku: str


class LineStrQty(BaseModel):
    """An order line whose quantity became a string."""

    sku: str
    qty: str


class StrictLine(BaseModel):
    """An order line that forbids unknown keys."""

    model_config = ConfigDict(extra="forbid")
    sku: str


class StrictLineWithQty(BaseModel):
    """The strict line before it lost its quantity."""

    model_config = ConfigDict(extra="forbid")
    sku: str
    qty: int = 1


class Node(BaseModel):
    """A recursive tree."""

    name: str
    children: list[Node] = []


class NodeWithWeight(BaseModel):
    """The tree whose nodes require a weight."""

    name: str
    weight: int
    children: list[NodeWithWeight] = []


class Cat(BaseModel):
    """A cat."""

    kind: Literal["cat"] = "cat"
    lives: int = 9


class Dog(BaseModel):
    """A dog."""

    kind: Literal["dog"] = "dog"
    good: bool = True


class Bird(BaseModel):
    """A bird."""

    kind: Literal["bird"] = "bird"
    wings: int = 2


Pet = Annotated[Cat | Dog, Field(discriminator="kind")]
MorePets = Annotated[Cat | Dog | Bird, Field(discriminator="kind")]


@dataclasses.dataclass
class Case:
    """One labelled change, the expected verdict per direction and the field it concerns."""

    label: str
    old: dict[str, Any]
    new: dict[str, Any]
    backward: str
    forward: str
    field: str | None = None
    old_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    new_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    forward_alone: str | None = None
    """The forward verdict in ``forward`` mode, when it differs (default changes warn there)."""


FORBID = {"base": ForbidTask}
ALLOW = {"base": AllowTask}
X_INT = {"x": (int, ...)}

CASES = [
    Case("unchanged", X_INT, X_INT, "ok", "ok"),
    Case(
        "docs only: title and description", X_INT, {"x": (int, Field(description="x"))}, "ok", "ok"
    ),
    Case("field added with default", X_INT, {**X_INT, "y": (int, 0)}, "ok", "ok"),
    Case(
        "optional field added, default None", X_INT, {**X_INT, "y": (int | None, None)}, "ok", "ok"
    ),
    Case("field added without default", X_INT, {**X_INT, "y": (int, ...)}, "break", "ok", "y"),
    Case("required field removed", {**X_INT, "y": (int, ...)}, X_INT, "ok", "break", "y"),
    Case("field with default removed", {**X_INT, "y": (int, 0)}, X_INT, "ok", "ok"),
    Case(
        "field removed while new model forbids extra",
        {**X_INT, "y": (int, 0)},
        X_INT,
        "break",
        "ok",
        "y",
        new_options=FORBID,
    ),
    Case(
        "field added while old model forbids extra",
        X_INT,
        {**X_INT, "y": (int, 0)},
        "ok",
        "break",
        "y",
        old_options=FORBID,
    ),
    Case("new model forbids extra, same fields", X_INT, X_INT, "ok", "ok", new_options=FORBID),
    Case(
        "old model allowed extra, new forbids",
        X_INT,
        X_INT,
        "break",
        "ok",
        "{}",
        old_options=ALLOW,
        new_options=FORBID,
    ),
    Case("int to str", X_INT, {"x": (str, ...)}, "break", "break", "x"),
    Case("str to int", {"x": (str, ...)}, X_INT, "break", "break", "x"),
    # pydantic reads true/false as 1/0: booleans written, integers read is a coercion.
    Case("int to bool", X_INT, {"x": (bool, ...)}, "break", "ok", "x"),
    Case("int widened to float", X_INT, {"x": (float, ...)}, "ok", "break", "x"),
    Case("float narrowed to int", {"x": (float, ...)}, X_INT, "break", "ok", "x"),
    Case("union widened int to int|str", X_INT, {"x": (int | str, ...)}, "ok", "break", "x"),
    Case("union narrowed int|str to int", {"x": (int | str, ...)}, X_INT, "break", "ok", "x"),
    Case("Decimal to float", {"x": (Decimal, ...)}, {"x": (float, ...)}, "break", "ok", "x"),
    Case("optional (no default) to required", {"x": (int | None, ...)}, X_INT, "break", "ok", "x"),
    Case("required to optional (no default)", X_INT, {"x": (int | None, ...)}, "ok", "break", "x"),
    Case(
        "required to optional, default None", X_INT, {"x": (int | None, None)}, "ok", "break", "x"
    ),
    Case("required gains a non-null default", X_INT, {"x": (int, 5)}, "ok", "ok"),
    Case("default dropped: field becomes required", {"x": (int, 0)}, X_INT, "ok", "ok"),
    Case(
        "default changed", {"x": (int, 1)}, {"x": (int, 2)}, "warn", "ok", "x", forward_alone="warn"
    ),
    Case(
        "optional with None default to int with default",
        {"x": (int | None, None)},
        {"x": (int, 0)},
        "break",
        "ok",
        "x",
        forward_alone="warn",
    ),
    Case("enum value removed", {"c": (Color, ...)}, {"c": (ColorFewer, ...)}, "break", "ok", "c"),
    Case("enum value added", {"c": (ColorFewer, ...)}, {"c": (Color, ...)}, "ok", "break", "c"),
    Case(
        "Literal narrowed",
        {"m": (Literal["a", "b"], ...)},
        {"m": (Literal["a"], ...)},
        "break",
        "ok",
        "m",
    ),
    Case(
        "str restricted to a Literal",
        {"m": (str, ...)},
        {"m": (Literal["a"], ...)},
        "break",
        "ok",
        "m",
    ),
    Case(
        "Literal opened to str", {"m": (Literal["a"], ...)}, {"m": (str, ...)}, "ok", "break", "m"
    ),
    Case(
        "list of enums gains a value",
        {"cs": (list[ColorFewer], ...)},
        {"cs": (list[Color], ...)},
        "ok",
        "break",
        "cs[]",
    ),
    Case(
        "max_length tightened",
        {"s": (str, Field(max_length=10))},
        {"s": (str, Field(max_length=5))},
        "break",
        "ok",
        "s",
    ),
    Case(
        "max_length loosened",
        {"s": (str, Field(max_length=5))},
        {"s": (str, Field(max_length=10))},
        "ok",
        "break",
        "s",
    ),
    Case(
        "max_length added", {"s": (str, ...)}, {"s": (str, Field(max_length=5))}, "break", "ok", "s"
    ),
    Case(
        "min_length tightened",
        {"s": (str, ...)},
        {"s": (str, Field(min_length=2))},
        "break",
        "ok",
        "s",
    ),
    Case("pattern added", {"s": (str, ...)}, {"s": (str, Field(pattern="^a"))}, "break", "ok", "s"),
    Case(
        "pattern removed", {"s": (str, Field(pattern="^a"))}, {"s": (str, ...)}, "ok", "break", "s"
    ),
    Case("ge tightened", {"n": (int, Field(ge=0))}, {"n": (int, Field(ge=1))}, "break", "ok", "n"),
    Case(
        "ge to gt at same bound",
        {"n": (int, Field(ge=0))},
        {"n": (int, Field(gt=0))},
        "break",
        "ok",
        "n",
    ),
    Case(
        "gt 0 to ge 1 on int is equal",
        {"n": (int, Field(gt=0))},
        {"n": (int, Field(ge=1))},
        "ok",
        "ok",
    ),
    Case("le loosened", {"n": (int, Field(le=10))}, {"n": (int, Field(le=20))}, "ok", "break", "n"),
    Case("lt added", {"n": (float, ...)}, {"n": (float, Field(lt=1.5))}, "break", "ok", "n"),
    Case(
        "multiple_of 2 to 4",
        {"n": (int, Field(multiple_of=2))},
        {"n": (int, Field(multiple_of=4))},
        "break",
        "ok",
        "n",
    ),
    Case(
        "multiple_of 4 to 2",
        {"n": (int, Field(multiple_of=4))},
        {"n": (int, Field(multiple_of=2))},
        "ok",
        "break",
        "n",
    ),
    Case(
        "min_items added",
        {"xs": (list[int], ...)},
        {"xs": (list[int], Field(min_length=1))},
        "break",
        "ok",
        "xs",
    ),
    Case(
        "max_items loosened",
        {"xs": (list[int], Field(max_length=3))},
        {"xs": (list[int], Field(max_length=5))},
        "ok",
        "break",
        "xs",
    ),
    Case(
        "list item type changed",
        {"xs": (list[int], ...)},
        {"xs": (list[str], ...)},
        "break",
        "break",
        "xs[]",
    ),
    Case(
        "list item type widened",
        {"xs": (list[int], ...)},
        {"xs": (list[float], ...)},
        "ok",
        "break",
        "xs[]",
    ),
    Case("list to set", {"xs": (list[str], ...)}, {"xs": (set[str], ...)}, "break", "ok", "xs"),
    Case(
        "tuple member changed",
        {"p": (tuple[int, str], ...)},
        {"p": (tuple[int, int], ...)},
        "break",
        "break",
        "p[1]",
    ),
    Case(
        "dict value type changed",
        {"d": (dict[str, int], ...)},
        {"d": (dict[str, str], ...)},
        "break",
        "break",
        "d{}",
    ),
    Case(
        "dict value type widened",
        {"d": (dict[str, int], ...)},
        {"d": (dict[str, float], ...)},
        "ok",
        "break",
        "d{}",
    ),
    Case(
        "dict keys restricted",
        {"d": (dict[str, int], ...)},
        {"d": (dict[Literal["a"], int], ...)},
        "break",
        "ok",
        "d{key}",
    ),
    Case("str to datetime", {"t": (str, ...)}, {"t": (datetime, ...)}, "break", "ok", "t"),
    Case("datetime to str", {"t": (datetime, ...)}, {"t": (str, ...)}, "ok", "break", "t"),
    Case("str to UUID", {"u": (str, ...)}, {"u": (UUID, ...)}, "break", "ok", "u"),
    Case(
        "nested field added without default",
        {"line": (Line, ...)},
        {"line": (LineWithPrice, ...)},
        "break",
        "ok",
        "line.price",
    ),
    Case(
        "nested field added with default",
        {"line": (Line, ...)},
        {"line": (LineWithNote, ...)},
        "ok",
        "ok",
    ),
    Case(
        "nested required field removed",
        {"line": (Line, ...)},
        {"line": (LineSkuOnly, ...)},
        "ok",
        "break",
        "line.qty",
    ),
    Case(
        "nested type changed inside a list",
        {"lines": (list[Line], ...)},
        {"lines": (list[LineStrQty], ...)},
        "break",
        "break",
        "lines[].qty",
    ),
    Case(
        "nested model forbids extra and drops a field",
        {"line": (StrictLineWithQty, ...)},
        {"line": (StrictLine, ...)},
        "break",
        "ok",
        "line.qty",
    ),
    Case(
        "optional nested model becomes required",
        {"line": (Line | None, ...)},
        {"line": (Line, ...)},
        "break",
        "ok",
        "line",
    ),
    Case("recursive model unchanged", {"tree": (Node, ...)}, {"tree": (Node, ...)}, "ok", "ok"),
    Case(
        "recursive model requires a new field",
        {"tree": (Node, ...)},
        {"tree": (NodeWithWeight, ...)},
        "break",
        "ok",
        "tree.weight",
    ),
    Case(
        "discriminated union gains a member",
        {"pet": (Pet, ...)},
        {"pet": (MorePets, ...)},
        "ok",
        "break",
        "pet.kind",
    ),
    Case(
        "discriminated union loses a member",
        {"pet": (MorePets, ...)},
        {"pet": (Pet, ...)},
        "break",
        "ok",
        "pet.kind",
    ),
    Case(
        "field renamed (new python name)",
        {"email": (str, ...)},
        {"address": (str, ...)},
        "break",
        "break",
        "address",
    ),
    Case(
        "field renamed to one with a default",
        {"email": (str, ...)},
        {"address": (str, "")},
        "warn",
        "break",
        "address",
    ),
    Case(
        "wire name changed by an alias",
        {"email": (str, ...)},
        {"email": (str, Field(alias="to"))},
        "break",
        "break",
        "to",
    ),
    Case(
        "alias keeps the wire name",
        {"to": (str, ...)},
        {"email": (str, Field(alias="to"))},
        "ok",
        "ok",
    ),
    Case(
        "version bump with upcaster makes a new required field a warning",
        X_INT,
        {**X_INT, "y": (int, ...)},
        "warn",
        "break",
        "y",
        new_options={"version": 2, "upcaster_from": 1},
    ),
    Case(
        "version bump without upcaster",
        X_INT,
        {**X_INT, "y": (int, ...)},
        "break",
        "break",
        "y",
        new_options={"version": 2},
    ),
    Case(
        "version bump with upcaster, no field change",
        X_INT,
        X_INT,
        "ok",
        "break",
        new_options={"version": 2, "upcaster_from": 1},
    ),
    Case(
        "version bump with upcaster from a later version only",
        X_INT,
        {"x": (str, ...)},
        "break",
        "break",
        "x",
        new_options={"version": 3, "upcaster_from": 2},
    ),
]


def verdict(findings: list[Finding]) -> str:
    """``break`` if any error, ``warn`` if only warnings, ``ok`` if nothing."""
    if any(f.severity == "error" for f in findings):
        return "break"
    return "warn" if findings else "ok"


def test_the_table_has_at_least_40_distinct_cases() -> None:
    labels = [case.label for case in CASES]
    assert len(labels) >= 40
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize("case", CASES, ids=[case.label for case in CASES])
def test_checker_verdict(case: Case) -> None:
    old = contract(case.old, **case.old_options)
    new = contract(case.new, **case.new_options)
    report = check_compatibility({"old": old}, {"new": new}, mode="full")
    by_direction = {
        d: [f for f in report.findings if f.direction == d] for d in ("backward", "forward")
    }
    got = {d: verdict(by_direction[d]) for d in by_direction}
    assert got == {"backward": case.backward, "forward": case.forward}, report.format()
    for finding in report.findings:
        assert finding.contract == "cases/job"
        assert finding.message.startswith(f"cases/job{' field ' if finding.field else ''}")
        assert f"[{finding.direction}]" in finding.message
        if finding.field:
            assert f"'{finding.field}'" in finding.message
        assert "Fix:" in finding.message
    if case.field is not None:
        assert case.field in {f.field for f in report.findings}, report.format()
    assert report.ok is (case.backward != "break" and case.forward != "break")


@pytest.mark.parametrize("mode", ["backward", "forward"])
@pytest.mark.parametrize("case", CASES, ids=[case.label for case in CASES])
def test_single_direction_modes_keep_their_direction_only(case: Case, mode: str) -> None:
    old = contract(case.old, **case.old_options)
    new = contract(case.new, **case.new_options)
    report = check_compatibility({"old": old}, {"new": new}, mode=mode)  # type: ignore[arg-type]
    assert {f.direction for f in report.findings} <= {mode}
    expected = case.backward if mode == "backward" else case.forward_alone or case.forward
    assert verdict(report.findings) == expected, report.format()
