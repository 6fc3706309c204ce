"""cleaners/spreadsheet.py: cells cut to Excel's limit with a visible marker."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.spreadsheet import (
    XLSX_MAX_CELL,
    truncate_cell,
    truncate_cells,
    truncation_marker,
    utf16_length,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x" * XLSX_MAX_CELL, "x" * XLSX_MAX_CELL),
        ("x" * 40_000, "x" * 32_742 + "…[truncated 7,258 chars]"),
        ("😀" * 16_384, "😀" * 16_371 + "…[truncated 13 chars]"),  # 32,768 UTF-16 units
        ("短", "短"),
    ],
    ids=["at-the-limit", "over", "astral-over-by-one-unit", "short"],
)
def test_truncate_cell(text, expected):
    assert truncate_cell(text) == expected


def test_marker_counts_what_was_left_out():
    assert truncation_marker(7_233) == "…[truncated 7,233 chars]"


@settings(max_examples=60, deadline=None)
@given(
    st.text(st.sampled_from("a张😀"), min_size=1, max_size=40),
    st.integers(min_value=30, max_value=80),
)
def test_cut_values_fit_and_keep_their_start(text, limit):
    cut = truncate_cell(text, limit)
    assert utf16_length(cut) <= limit
    if cut != text:
        kept = cut[: cut.rindex("…[truncated ")]
        assert text.startswith(kept)
        assert cut.endswith(truncation_marker(len(text) - len(kept)))


def test_a_column_is_cut_only_where_it_must_be_and_counted():
    values = pl.Series("notes", ["x" * 40_000, "ok", None, "x" * 40_000, "y" * 33_000])
    fitted, cut = truncate_cells(values)
    assert cut == 3 and fitted.name == "notes"
    assert fitted.to_list()[1:3] == ["ok", None]
    assert fitted[0] == fitted[3] and fitted[0].endswith("…[truncated 7,258 chars]")
    assert (fitted.str.len_chars().max() or 0) <= XLSX_MAX_CELL
    same, none = truncate_cells(pl.Series(["ok", None]))
    assert none == 0 and same.to_list() == ["ok", None]
    # 60,000 bytes of UTF-8 but 20,000 UTF-16 units: within the limit, kept whole.
    chinese, kept = truncate_cells(pl.Series(["长" * 20_000]))
    assert kept == 0 and chinese[0] == "长" * 20_000
