"""Spec of flows/cells.py: a column of cells converts as raw_text, json_cell and str() convert each cell."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.flows.cells import cell_columns, column_cells, json_arrays, json_objects
from crm_etl.flows.readers import json_cell, raw_text

_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
_CELLS = st.one_of(
    st.none(),
    _TEXT,
    st.sampled_from(["", " ", "\u3000", "\x1c", 'a"b\\c', "line\nbreak", "\x00\x1f", "客户名称", "😀"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-4, 9.99e-5, 1e16, 9999999999999998.0, 13800138000.0, 0.1 + 0.2]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.sampled_from([dt.datetime(2024, 5, 1), dt.timedelta(days=1, seconds=5)]),
)


def _json(cell: Any) -> str | None:
    return None if cell in (None, "") else json.dumps(json_cell(cell), ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CELLS, max_size=12))
def test_a_column_converts_as_each_of_its_cells(cells):
    column = column_cells(cells)
    assert column.text.to_list() == [raw_text(c) for c in cells]
    assert column.json.to_list() == [_json(c) for c in cells]
    assert column.plain.to_list() == [None if c is None else str(c) for c in cells]


@pytest.mark.parametrize(
    ("cell", "text", "as_json", "plain"),
    [
        pytest.param(13800138000.0, "13800138000", "13800138000", "13800138000.0", id="integral-float"),
        pytest.param(-0.0, "0", "0", "-0.0", id="negative-zero"),
        pytest.param(1e-5, "1e-05", "1e-05", "1e-05", id="tiny-float"),
        pytest.param(1e16, "1e+16", "1e+16", "1e+16", id="huge-float"),
        pytest.param(float("nan"), None, '"nan"', "nan", id="nan"),
        pytest.param(
            2**64, "18446744073709551616", "18446744073709551616", "18446744073709551616", id="big-int"
        ),
        pytest.param(True, "TRUE", "true", "True", id="bool"),
        pytest.param(
            dt.datetime(2024, 5, 1),
            "2024-05-01",
            '"2024-05-01T00:00:00"',
            "2024-05-01 00:00:00",
            id="midnight",
        ),
        pytest.param("  ", None, '"  "', "  ", id="spaces"),
        pytest.param('say "hi"\n', 'say "hi"\n', '"say \\"hi\\"\\n"', 'say "hi"\n', id="escapes"),
    ],
)
def test_cells_of_every_type(cell, text, as_json, plain):
    column = column_cells(["x", cell, None])
    assert (column.text[1], column.json[1], column.plain[1]) == (text, as_json, plain)


def test_short_rows_are_padded_and_long_ones_widen_the_columns():
    columns = cell_columns([["a"], ["b", "c", "d"], []], 2)
    assert [c.plain.to_list() for c in columns] == [["a", "b", None], [None, "c", None], [None, "d", None]]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["A", "B", "A (2)", "(beyond header)"]), st.one_of(st.none(), _TEXT)))
)
def test_json_objects_are_json_dumps_of_the_dict_built_in_order(pairs):
    row = pl.DataFrame(
        {str(i): [_json(v)] for i, (_, v) in enumerate(pairs)},
        schema=dict.fromkeys(map(str, range(len(pairs))), pl.String),
    )
    built = row.select(
        json_objects([k for k, _ in pairs], [pl.col(str(i)) for i in range(len(pairs))])
    ).item()
    expected: dict[str, Any] = {}
    for key, value in pairs:
        if value not in (None, ""):
            expected[key] = value
    assert built == json.dumps(expected, ensure_ascii=False)


def test_json_arrays_leave_out_nulls_and_are_null_when_empty():
    frame = pl.DataFrame({"a": ["1", None], "b": ['"x"', None]})
    assert frame.select(json_arrays([pl.col("a"), pl.col("b")])).to_series().to_list() == ['[1, "x"]', None]
