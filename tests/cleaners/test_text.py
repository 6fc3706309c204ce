"""Spec of cleaners/text.py: width folding, invisible characters, spacing, simplified script."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opencc import OpenCC

from crm_etl.cleaners.text import clean_text, normalise_text, to_simplified

CELLS = st.lists(st.none() | st.text(max_size=30), max_size=12)
CHINESE = st.lists(
    st.none()
    | st.text(alphabet="華為技術發展臺灣乾隆燥著名薴苧瞭解藉口覆 （）ABCａｂｃ\u200b\u3000", max_size=20),
    max_size=12,
)


def _normalise(values: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(normalise_text(pl.col("v"))).to_series().to_list()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  华为  ", "华为"),
        ("ＡＢＣ１２３", "ABC123"),
        ("（中国）", "(中国)"),
        ("华\u200b为", "华为"),
        ("\ufeff华为", "华为"),
        ("华\u2060为\u200c\u200d", "华为"),
        ("华为\u3000技术", "华为 技术"),
        ("a\tb\nc\r\nd", "a b c d"),
        ("a \t\n  b", "a b"),
        ("a\x00b\x07c", "abc"),
        ("\u00a0x\u2003y\u00a0", "x y"),
        ("   ", None),
        ("\u200b\u3000\t", None),
        ("", None),
        (None, None),
        ("e\u200b\u0301", "é"),
    ],
    ids=[
        "strip", "full-width-latin", "full-width-brackets", "zero-width-space", "bom",
        "word-joiner-and-joiners", "ideographic-space", "tabs-newlines", "whitespace-run",
        "control-chars", "nbsp-em-space", "only-spaces", "only-invisible", "empty", "null",
        "composes-after-removal",
    ],
)  # fmt: skip
def test_normalise_text(raw: str | None, expected: str | None) -> None:
    assert _normalise([raw]) == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("華為技術有限公司", "华为技术有限公司"),
        ("臺灣", "台湾"),
        ("乾隆皇帝", "乾隆皇帝"),
        ("乾燥", "干燥"),
        ("一目瞭然", "一目了然"),
        ("薴", "苎"),
        ("华为技术", "华为技术"),
        ("Huawei", "Huawei"),
        (None, None),
    ],
    ids=[
        "company",
        "place",
        "phrase-keeps-qian",
        "char-converts-qian",
        "phrase-only-change",
        "chained-entry-to-fixpoint",
        "already-simplified",
        "latin",
        "null",
    ],
)
def test_to_simplified(raw: str | None, expected: str | None) -> None:
    assert to_simplified(pl.Series([raw], dtype=pl.String)).to_list() == [expected]


def test_clean_text_keeps_name_and_length() -> None:
    s = pl.Series("customer_name", ["  華為（中國）\u200b", None, "", "abc"])
    out = clean_text(s)
    assert out.name == "customer_name"
    assert out.to_list() == ["华为(中国)", None, None, "abc"]


def test_clean_text_accepts_null_and_numeric_columns() -> None:
    assert clean_text(pl.Series([None, None])).to_list() == [None, None]
    assert clean_text(pl.Series([1, 2])).to_list() == ["1", "2"]


def test_one_megabyte_value() -> None:
    big = ("華為 技術（中國）\u200b有限公司, Huawei ＣＯ. ltd;\t" * 30_000)[:1_000_000]
    out = clean_text(pl.Series([big, None]))
    assert out.len() == 2
    assert out[0] is not None and out[0].startswith("华为 技术(中国)有限公司")


@settings(max_examples=100, deadline=None)
@given(CHINESE)
def test_to_simplified_matches_opencc(values: list[str | None]) -> None:
    converter = OpenCC("t2s")

    def fixpoint(value: str) -> str:
        while (converted := converter.convert(value)) != value:
            value = converted
        return value

    expected = [None if v is None else fixpoint(v) for v in values]
    assert to_simplified(pl.Series(values, dtype=pl.String)).to_list() == expected


@settings(max_examples=100, deadline=None)
@given(st.one_of(CELLS, CHINESE))
def test_clean_text_properties(values: list[str | None]) -> None:
    s = pl.Series(values, dtype=pl.String)
    # One call over the values and their reverse: same length, and order is kept row by row.
    both = clean_text(pl.concat([s, s.reverse()]))
    assert both.len() == 2 * s.len()
    once = both.head(s.len())
    assert both.tail(s.len()).to_list() == once.reverse().to_list()
    assert clean_text(once).to_list() == once.to_list()
    for value in once.drop_nulls():
        assert value == value.strip() and "  " not in value and value != ""
