"""Properties of the checker: self-compatibility, and soundness against real pydantic models.

Soundness: when the checker finds a direction compatible, every message the writer model
produces (dumped as producers do: JSON mode, by alias, every field) validates in the reader.
"""

from __future__ import annotations

import functools
import itertools
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field, create_model
from schema_builders import contract

from sqs_contracts.contracts.task import Task
from sqs_contracts.schema import check_compatibility, contract_schema

_queues = itertools.count()

TYPES: dict[str, tuple[Any, st.SearchStrategy[Any]]] = {
    "int": (int, st.integers()),
    "int 0..10": (Annotated[int, Field(ge=0, le=10)], st.integers(0, 10)),
    "int > 0": (Annotated[int, Field(gt=0)], st.integers(min_value=1)),
    "int multiple of 3": (Annotated[int, Field(multiple_of=3)], st.integers().map(lambda i: 3 * i)),
    "float": (float, st.floats(allow_nan=False, allow_infinity=False)),
    "str": (str, st.text(max_size=8)),
    "str max 5": (Annotated[str, Field(max_length=5)], st.text(max_size=5)),
    "str ^a": (Annotated[str, Field(pattern="^a")], st.text(max_size=4).map(lambda s: "a" + s)),
    "bool": (bool, st.booleans()),
    "int | None": (int | None, st.none() | st.integers()),
    "int | str": (int | str, st.integers() | st.text(max_size=5)),
    "Literal a b": (Literal["a", "b"], st.sampled_from(["a", "b"])),
    "Literal a": (Literal["a"], st.just("a")),
    "list[int]": (list[int], st.lists(st.integers(), max_size=3)),
    "list[float]": (
        list[float],
        st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=3),
    ),
    "set[int]": (set[int], st.sets(st.integers(), max_size=3)),
    "dict[str, int]": (
        dict[str, int],
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    ),
    "datetime": (datetime, st.datetimes()),
}


@functools.cache
def _model(type_name: str) -> type[Task]:
    model: type[Task] = create_model(
        "Prop",
        __base__=Task,
        __cls_kwargs__={"queue": f"prop-{next(_queues)}", "name": "job"},
        x=(TYPES[type_name][0], ...),
    )
    return model


@functools.cache
def _schema(type_name: str) -> dict[str, Any]:
    schema = contract_schema(_model(type_name))
    schema["x-sqs-contracts"]["queue"] = "prop"
    return schema


@functools.cache
def _ok(writer: str, reader: str) -> bool:
    # The backward check reads the old model's messages with the new one: writer=old.
    return check_compatibility({"o": _schema(writer)}, {"n": _schema(reader)}, "backward").ok


@st.composite
def _message(draw: st.DrawFn) -> tuple[str, str, Any]:
    writer = draw(st.sampled_from(sorted(TYPES)))
    reader = draw(st.sampled_from(sorted(TYPES)))
    return writer, reader, draw(TYPES[writer][1])


@settings(max_examples=400, deadline=None)
@given(_message())
def test_compatible_means_every_written_message_validates(case: tuple[str, str, Any]) -> None:
    writer, reader, value = case
    if not _ok(writer, reader):
        return
    body = json.loads(_model(writer).model_validate({"x": value}).model_dump_json(by_alias=True))
    _model(reader).model_validate(body)  # raises if the checker was wrong


def test_the_soundness_table_sees_both_verdicts() -> None:
    verdicts = {_ok(a, b) for a in TYPES for b in TYPES}
    assert verdicts == {True, False}


_LEAVES = st.sampled_from([int, str, float, bool, datetime, Literal["x", "y"]])


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        children.map(lambda t: list[t]),  # type: ignore[valid-type]
        children.map(lambda t: dict[str, t]),  # type: ignore[valid-type]
        children.map(lambda t: t | None),
        st.tuples(children, children).map(lambda ts: ts[0] | ts[1]),
    )


_FIELD_TYPES = st.recursive(_LEAVES, _extend, max_leaves=4)


@settings(max_examples=60, deadline=None)
@given(st.lists(_FIELD_TYPES, min_size=1, max_size=4), st.booleans())
def test_a_schema_is_always_compatible_with_itself(types: list[Any], optional: bool) -> None:
    fields = {f"f{i}": (t, None if optional else ...) for i, t in enumerate(types)}
    schema = contract(fields)
    assert check_compatibility({"a": schema}, {"b": schema}).findings == []


@settings(max_examples=60, deadline=None)
@given(st.lists(_FIELD_TYPES, min_size=1, max_size=3), _FIELD_TYPES)
def test_adding_a_field_with_a_default_is_always_safe(types: list[Any], added: Any) -> None:
    fields = {f"f{i}": (t, ...) for i, t in enumerate(types)}
    old = contract(fields)
    new = contract({**fields, "added": (added | None, None)})
    assert check_compatibility({"a": old}, {"b": new}).findings == []
