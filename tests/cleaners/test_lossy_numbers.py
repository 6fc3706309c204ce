"""Spec of lossy spreadsheet numbers: which float renderings lost digits, and what an ID becomes then."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.lossy_numbers import (
    ID_REASONS,
    clean_source_ids,
    is_lossy_number,
    lossy_cells,
    lossy_numbers,
)

CASES = [
    # Excel's General format: 6 digits kept, the rest gone
    ("1.39123E+10", True, "general-mobile"),
    ("1.39123e10", True, "general-lower-no-plus"),
    ("1.4E+10", True, "general-two-digits"),
    ("1E+10", True, "general-one-digit"),
    ("1.10105E+17", True, "general-id-card"),
    ("'1.39123E+10", True, "text-marked-copy"),
    (" １.３９１２３Ｅ+10 ", True, "full-width-and-spaces"),
    # more than Excel's 15 digits from a float: the tail was zeroed or is float noise
    ("1.10105199001011e+17", True, "python-repr-of-an-18-digit-cell"),
    ("1e+16", True, "python-repr-of-1e16"),
    ("110105199001011000.0", True, "integral-float-18-digits"),
    # exact renderings
    ("1.3800138E+10", False, "shortest-exact-8-digits"),
    ("1.395712E10", False, "shortest-exact-7-digits"),
    ("1.3912345678E+10", False, "all-11-digits"),
    ("1.3912300000E+10", False, "all-digits-with-zeros"),
    ("13912300000.0", False, "integral-float-11-digits"),
    ("139123000000000.0", False, "integral-float-15-digits"),
    ("1.39123E+05", False, "general-exact-6-digit-integer"),
    # no integer in float form at all
    ("13912300000", False, "plain-digits"),
    ("110105199001011000", False, "plain-18-digits-text"),
    ("1.39123456789E+10", False, "not-an-integer"),
    ("1.5E-3", False, "negative-exponent"),
    ("ACC-100219", False, "text-id"),
    ("0.39123E+10", False, "unnormalised-mantissa"),
    ("", False, "empty"),
]


@pytest.mark.parametrize(("cell", "lossy"), [c[:2] for c in CASES], ids=[c[2] for c in CASES])
def test_is_lossy_number(cell: str, lossy: bool) -> None:
    assert is_lossy_number(cell) is lossy


def test_the_vectorised_rule_is_the_same_rule() -> None:
    cells = pl.Series([c[0] for c in CASES] + [None])
    vectorised = cells.to_frame("c").select(lossy_numbers(pl.col("c"))).to_series()
    assert vectorised.to_list() == [c[1] for c in CASES] + [False]
    assert lossy_cells(cells).to_list() == vectorised.to_list()


float_texts = st.one_of(
    st.builds(
        lambda lead, fraction, power, mark: (
            f"{lead}.{fraction}{mark}{power}" if fraction else f"{lead}{mark}{power}"
        ),
        st.integers(1, 9),
        st.text(alphabet="0123456789", max_size=20),
        st.integers(0, 25),
        st.sampled_from(["E+", "e+", "E", "e"]),
    ),
    st.builds(
        lambda digits, zeros: f"{digits}.{'0' * zeros}",
        st.from_regex(r"[0-9]{1,22}", fullmatch=True),
        st.integers(1, 3),
    ),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(float_texts, max_size=20))
def test_the_vectorised_rule_agrees_with_the_scalar_one(cells: list[str]) -> None:
    vectorised = (
        pl.Series(cells, dtype=pl.String).to_frame("c").select(lossy_numbers(pl.col("c"))).to_series()
    )
    assert vectorised.to_list() == [is_lossy_number(c) for c in cells]
    assert lossy_cells(pl.Series(cells, dtype=pl.String)).to_list() == vectorised.to_list()


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[1-9][0-9]{15,19}", fullmatch=True))
def test_no_long_id_survives_a_float(digits: str) -> None:
    # What any float rendering of a 16–20 digit number looks like: repr (exponent or `.0`).
    number = float(digits)
    assert is_lossy_number(repr(number)) or int(number) == int(digits)


IDS = [
    ("1.10105E+17", None, "id_lossy_number", "csv-exponent"),
    ("1.10105199001011e+17", None, "id_lossy_number", "xlsx-number-cell"),
    (" ACC-100219 ", "ACC-100219", None, "text-id-cleaned"),
    ("100219", "100219", None, "numeric-id"),
    (None, None, None, "null"),
]


@pytest.mark.parametrize(("cell", "value", "reason"), [c[:3] for c in IDS], ids=[c[3] for c in IDS])
def test_clean_source_ids(cell: str | None, value: str | None, reason: str | None) -> None:
    out = clean_source_ids(pl.Series([cell], dtype=pl.String))
    assert out.row(0) == (value, reason)
    assert reason is None or reason in ID_REASONS
