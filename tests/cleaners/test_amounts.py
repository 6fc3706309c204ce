"""Spec of cleaners/amounts.py: money cells in CNY, their units, signs and separators; counts."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.amounts import AMOUNT_REASONS, parse_amounts, parse_counts

INVALID = "amount_invalid"

CASES = [
    ("56000", 56_000.0, None, "plain"),
    ("56000.00", 56_000.0, None, "decimals"),
    ("356,000.00", 356_000.0, None, "thousands-comma"),
    ("1,200,000.50", 1_200_000.5, None, "millions-comma"),
    ("1 200 000", 1_200_000.0, None, "thousands-space"),
    ("1\u00a0200\u00a0000", 1_200_000.0, None, "thousands-no-break-space"),
    ("1，200，000", 1_200_000.0, None, "thousands-full-width-comma"),
    ("１２，０００．５０", 12_000.5, None, "full-width-digits"),
    ("¥18000", 18_000.0, None, "yen-sign"),
    ("￥96,000", 96_000.0, None, "full-width-yen-sign"),
    ("RMB 3000元", 3_000.0, None, "rmb-and-yuan"),
    ("rmb3000", 3_000.0, None, "rmb-lower-case"),
    ("CNY 3,000.00", 3_000.0, None, "cny"),
    ("3000 RMB", 3_000.0, None, "rmb-after"),
    ("人民币3000元", 3_000.0, None, "renminbi"),
    ("3000元整", 3_000.0, None, "yuan-zheng"),
    ("3000块", 3_000.0, None, "kuai"),
    ("12.8万", 128_000.0, None, "wan"),
    ("12.8万元", 128_000.0, None, "wan-yuan"),
    ("12 万", 120_000.0, None, "wan-after-space"),
    ("1,200万", 12_000_000.0, None, "wan-with-separators"),
    ("人民币12万元", 120_000.0, None, "renminbi-wan-yuan"),
    ("3千", 3_000.0, None, "qian"),
    ("3.5千元", 3_500.0, None, "qian-yuan"),
    ("2百万", 2_000_000.0, None, "baiwan"),
    ("1.5千万", 15_000_000.0, None, "qianwan"),
    ("1.2亿", 120_000_000.0, None, "yi"),
    ("1.2亿元", 120_000_000.0, None, "yi-yuan"),
    ("1.2k", 1_200.0, None, "k"),
    ("1.2K", 1_200.0, None, "k-upper"),
    ("20w", 200_000.0, None, "w-for-wan"),
    ("(1,200)", -1_200.0, None, "accounting-parentheses"),
    ("（1,200）", -1_200.0, None, "accounting-full-width-parentheses"),
    ("(¥1,200.00)", -1_200.0, None, "parentheses-around-currency"),
    ("¥(1,200)", -1_200.0, None, "currency-before-parentheses"),
    ("(1,200)元", -1_200.0, None, "parentheses-then-yuan"),
    ("-1,200", -1_200.0, None, "minus"),
    ("－1,200", -1_200.0, None, "full-width-minus"),
    ("−1,200", -1_200.0, None, "unicode-minus"),
    ("-¥1,200", -1_200.0, None, "minus-before-currency"),
    ("¥-1,200", -1_200.0, None, "minus-after-currency"),
    ("1,200-", -1_200.0, None, "trailing-minus-sap"),
    ("+1,200", 1_200.0, None, "plus"),
    ("-3万", -30_000.0, None, "negative-wan"),
    (".5", 0.5, None, "leading-dot"),
    ("5.", 5.0, None, "trailing-dot"),
    ("0", 0.0, None, "zero"),
    ("1.1", 1.1, None, "decimal-exact"),
    ("1e5", 100_000.0, None, "exponent-of-a-float-cell"),
    ("1.5e+20", 1.5e20, None, "exponent-with-sign"),
    ("1.25", 1.25, None, "two-decimals"),
    ("0.125", 0.125, None, "three-decimals-below-one"),
    ("1234.567", 1234.567, None, "three-decimals-four-digit-integer"),
    ("1,234.567", 1234.567, None, "three-decimals-after-grouping"),
    ("1.200万", 12_000.0, None, "three-decimals-of-wan"),
    ("1.200", None, INVALID, "dot-then-three-digits-may-be-european"),
    ("¥12.500元", None, INVALID, "dot-then-three-digits-in-yuan"),
    ("1,20", None, INVALID, "comma-not-grouping-three"),
    ("1.200,50", None, INVALID, "european-decimal-comma"),
    ("12,34,567", None, INVALID, "indian-grouping"),
    ("1,200,00", None, INVALID, "last-group-short"),
    ("1 20", None, INVALID, "space-not-grouping-three"),
    ("1,200 000", None, INVALID, "mixed-separators"),
    ("1,200e3", None, INVALID, "exponent-with-separators"),
    ("1.2M", None, INVALID, "m-is-ambiguous"),
    ("-(1,200)", None, INVALID, "two-negatives"),
    ("(-1,200)", None, INVALID, "minus-inside-parentheses"),
    ("(1,200", None, INVALID, "unbalanced-parenthesis"),
    ("1000-2000", None, INVALID, "range"),
    ("约5万", None, INVALID, "approximate"),
    ("$1,200", None, INVALID, "dollars"),
    ("USD 1200", None, INVALID, "usd"),
    ("伍万元整", None, INVALID, "capital-numerals"),
    ("nan", None, INVALID, "nan"),
    ("inf", None, INVALID, "inf"),
    ("1e400", None, INVALID, "overflow"),
    ("无", None, INVALID, "placeholder"),
    ("-", None, INVALID, "dash"),
    ("¥", None, INVALID, "currency-alone"),
    (".", None, INVALID, "dot-alone"),
    ("", None, None, "empty"),
    ("   ", None, None, "blank"),
    (None, None, None, "null"),
]


@pytest.mark.parametrize(("cell", "amount", "reason"), [c[:3] for c in CASES], ids=[c[3] for c in CASES])
def test_parse_amounts(cell: str | None, amount: float | None, reason: str | None) -> None:
    out = parse_amounts(pl.Series([cell], dtype=pl.String))
    assert out.row(0) == (amount, reason)


SCALE_CASES = [
    ("12.8", 10_000, 128_000.0, "plain-times-scale"),
    ("1,200", 1_000, 1_200_000.0, "separators-times-scale"),
    ("(3)", 10_000, -30_000.0, "negative-times-scale"),
    ("¥12", 10_000, 120_000.0, "currency-alone-keeps-scale"),
    ("RMB 1.5", 100_000_000, 150_000_000.0, "rmb-alone-keeps-scale"),
    ("12万", 10_000, 120_000.0, "own-wan-wins"),
    ("¥3,000元", 10_000, 3_000.0, "own-yuan-wins"),
    ("3千", 10_000, 3_000.0, "own-qian-wins"),
    ("1.2k", 10_000, 1_200.0, "own-k-wins"),
    ("0.5", 0.01, 0.005, "fractional-scale"),
    ("1.200", 10_000, 12_000.0, "three-decimals-under-column-scale"),
    ("abc", 10_000, None, "not-a-number"),
]


@pytest.mark.parametrize(
    ("cell", "scale", "amount"), [c[:3] for c in SCALE_CASES], ids=[c[3] for c in SCALE_CASES]
)
def test_column_scale(cell: str, scale: float, amount: float | None) -> None:
    out = parse_amounts(pl.Series([cell]), scale=scale)
    assert out["amount"][0] == pytest.approx(amount) if amount is not None else out["amount"][0] is None
    assert out["amount_reason"][0] == (None if amount is not None else INVALID)


def test_scale_per_value_null_means_none_stated() -> None:
    values = pl.Series(["12.8", "12.8", "12万", "7"])
    scale = pl.Series([10_000, None, 1_000, 1_000], dtype=pl.Int64)
    assert parse_amounts(values, scale=scale)["amount"].to_list() == [128_000.0, 12.8, 120_000.0, 7_000.0]


@pytest.mark.parametrize(
    ("scale", "message"),
    [
        (0, "positive"),
        (-10_000, "positive"),
        (float("nan"), "positive"),
        (pl.Series([1.0, 0.0]), "positive"),
        (pl.Series([1.0, 2.0, 3.0]), "3 values for 2 amounts"),
    ],
    ids=["zero", "negative", "nan", "zero-in-series", "misaligned-series"],
)
def test_bad_scale_is_a_programming_error(scale: float | pl.Series, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_amounts(pl.Series(["1", "2"]), scale=scale)


def test_numeric_series_and_schema() -> None:
    out = parse_amounts(pl.Series("amount_cny", [56_000.0, 1.5e20, None, -3.25]))
    assert out.schema == {"amount": pl.Float64, "amount_reason": pl.String}
    assert out["amount"].to_list() == [56_000.0, 1.5e20, None, -3.25]
    assert parse_amounts(pl.Series([], dtype=pl.String)).height == 0


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

PREFIXES = ["", "¥", "￥", "¥ ", "RMB", "RMB ", "rmb ", "CNY", "人民币"]
SUFFIXES = ["", "元", " 元", "元整", " RMB", "CNY", "块"]
SEPARATORS = ["", ",", " ", "，", "\u00a0"]


def _grouped(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    return separator.join([digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))])


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


@st.composite
def written_integers(draw: st.DrawFn) -> tuple[int, str]:
    n = draw(st.integers(min_value=-(10**15), max_value=10**15))
    body = _grouped(str(abs(n)), draw(st.sampled_from(SEPARATORS)))
    prefix, suffix = draw(st.sampled_from(PREFIXES)), draw(st.sampled_from(SUFFIXES))
    if n < 0:
        style = draw(
            st.sampled_from(["-{p}{b}{s}", "{p}-{b}{s}", "({p}{b}{s})", "{p}({b}){s}", "{p}{b}{s}-"])
        )
    else:
        style = draw(st.sampled_from(["{p}{b}{s}", "+{p}{b}{s}", " {p}{b}{s} "]))
    cell = style.format(p=prefix, b=body, s=suffix)
    return n, _full_width(cell) if draw(st.booleans()) else cell


@settings(max_examples=300, deadline=None)
@given(st.lists(written_integers(), min_size=1, max_size=20))
def test_any_written_integer_parses_to_itself(cells: list[tuple[int, str]]) -> None:
    out = parse_amounts(pl.Series([cell for _, cell in cells]))
    assert out["amount"].to_list() == [float(n) for n, _ in cells], [cell for _, cell in cells]
    assert out["amount_reason"].null_count() == len(cells)


PLAIN_NUMBERS = st.decimals(
    min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
)
SCALES = st.sampled_from([1, 10, 100, 1_000, 10_000, 100_000_000]) | st.floats(min_value=1e-3, max_value=1e9)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(PLAIN_NUMBERS, SCALES), min_size=1, max_size=20))
def test_plain_number_times_scale(rows: list[tuple[Decimal, float]]) -> None:
    values = pl.Series([str(number) for number, _ in rows])
    scales = pl.Series([float(scale) for _, scale in rows])
    per_row = parse_amounts(values, scale=scales)["amount"].to_list()
    for (number, scale), amount in zip(rows, per_row, strict=True):
        assert amount == pytest.approx(float(number * Decimal(scale)), rel=1e-12, abs=1e-9)
        if number == number.to_integral_value() and scale == int(scale):
            assert amount == float(int(number) * int(scale))  # exact: one integer product
    # One number for the column gives what the same number per value gives.
    first = rows[0][1]
    column = parse_amounts(values, scale=first)["amount"].to_list()
    assert [a for a, (_, s) in zip(column, rows, strict=True) if s == first] == [
        a for a, (_, s) in zip(per_row, rows, strict=True) if s == first
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.none() | st.text(alphabet="0123456789,. -()¥元万千亿kKwe+，（）", max_size=12), max_size=20)
)
def test_every_cell_is_an_amount_or_has_a_reason(cells: list[str | None]) -> None:
    out = parse_amounts(pl.Series(cells, dtype=pl.String))
    assert out.height == len(cells)
    assert set(out["amount_reason"].drop_nulls()) <= AMOUNT_REASONS
    for cell, (amount, reason) in zip(cells, out.rows(), strict=True):
        blank = cell is None or not cell.strip()
        assert (amount is None) == (blank or reason is not None)
        assert amount is None or abs(amount) < float("inf")


COUNT_CASES = [
    ("200-500", 200, "range"),
    ("1000+", 1000, "plus"),
    ("约80人", 80, "approximate"),
    ("1,200人", 1200, "separator"),
    ("１５０", 150, "full-width"),
    ("不详", None, "no-number"),
    (None, None, "null"),
]


@pytest.mark.parametrize(("cell", "count"), [c[:2] for c in COUNT_CASES], ids=[c[2] for c in COUNT_CASES])
def test_parse_counts(cell: str | None, count: int | None) -> None:
    assert parse_counts(pl.Series([cell], dtype=pl.String)).to_list() == [count]
