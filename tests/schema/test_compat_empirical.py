"""The checker's verdicts against what pydantic does on the wire, found by trying.

For each pair of field types: messages generated from the old model, dumped as producers
dump them, are validated by the new model. The checker must call a pair a break exactly when
some message fails: a coercion pydantic accepts (a bool read as an int, a date as a
datetime, an int as a float) is no break.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample
from pydantic import ValidationError, create_model
from schema_builders import contract

from sqs_contracts.schema import check_compatibility

TYPES: dict[str, tuple[Any, st.SearchStrategy[Any]]] = {
    "int": (int, st.integers()),
    "float": (float, st.floats(allow_nan=False, allow_infinity=False)),
    "str": (str, st.text(max_size=5) | st.sampled_from(["1", "2.5", "true", "2024-01-01"])),
    "bool": (bool, st.booleans()),
    "int | None": (int | None, st.none() | st.integers()),
    "date": (date, st.dates()),
    "datetime": (datetime, st.datetimes()),
    "Literal a b": (Literal["a", "b"], st.sampled_from(["a", "b"])),
    "list[int]": (list[int], st.lists(st.integers(), max_size=3)),
}


def _pydantic_breaks(old: str, new: str) -> bool:
    writer = create_model("Writer", x=(TYPES[old][0], ...))
    reader = create_model("Reader", x=(TYPES[new][0], ...))

    def rejected(value: Any) -> bool:
        payload = writer(x=value).model_dump(mode="json", by_alias=True)
        try:
            reader.model_validate(payload)
        except ValidationError:
            return True
        return False

    try:
        find(
            TYPES[old][1],
            rejected,
            settings=settings(
                max_examples=100,
                database=None,
                derandomize=True,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            ),
        )
    except NoSuchExample:
        return False
    return True


@pytest.mark.parametrize(("old", "new"), list(itertools.permutations(TYPES, 2)))
def test_checker_agrees_with_pydantic(old: str, new: str) -> None:
    report = check_compatibility(
        {"q/j": contract({"x": (TYPES[old][0], ...)})},
        {"q/j": contract({"x": (TYPES[new][0], ...)})},
        mode="backward",
    )
    assert (not report.ok) is _pydantic_breaks(old, new), report.format()
