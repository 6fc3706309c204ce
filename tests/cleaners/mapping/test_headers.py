"""Spec of the column forms in cleaners/mapping/headers.py and composite.py: the same as cell by cell."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.mapping.composite import composed
from crm_etl.cleaners.mapping.headers import (
    _POLARS_BLOCKS,
    STR_WHITESPACE,
    has_cjk,
    header_may_match,
    normalise_header,
    normalised_headers,
)

_EVERY_CHARACTER = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
_BLOCK_CHARACTERS = "".join(chr(c) for start, end in _POLARS_BLOCKS for c in range(start, end + 1))
_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("客户名称手机ＡａAa1１①½İKｶﾞ：*（） \u3000\x1c"),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=8,
)


def test_str_whitespace_is_what_str_isspace_says():
    assert "".join(c for c in _EVERY_CHARACTER if c.isspace()) == STR_WHITESPACE


def test_every_character_normalises_as_in_python():
    # Characters of the blocks polars normalises itself, and those left to Python (newer in polars).
    keys = normalised_headers(pl.Series(_EVERY_CHARACTER)).to_list()
    assert [k for c, k in zip(_EVERY_CHARACTER, keys, strict=True) if k != normalise_header(c)] == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), _TEXT, st.text(alphabet=_BLOCK_CHARACTERS, max_size=6)), max_size=10))
def test_normalised_headers_are_normalise_header_of_each(texts):
    expected = [normalise_header(t) if t is not None else "" for t in texts]
    assert normalised_headers(pl.Series(texts, dtype=pl.String)).to_list() == expected


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["客户名称", "mobile", "accountname", "1", "i", "k", "ガ", "ß"]),
    st.lists(st.one_of(st.none(), _TEXT), max_size=10),
)
def test_header_may_match_never_misses_a_text_that_does(key, texts):
    may = header_may_match(pl.Series(texts, dtype=pl.String), key).to_list()
    assert all(may[i] for i, t in enumerate(texts) if t is not None and normalise_header(t) == key)


def _composed_by_cell(target: str, parts: list[tuple[str, str | None]]) -> str | None:
    """compose_field as written for one row of cells, the rule the column form follows."""
    values = {p: v.strip() for p, v in parts if v is not None and v.strip()}
    if not values:
        return None
    if target == "contact_name":
        family, given = values.get("family", ""), values.get("given", "")
        if has_cjk(family + given):
            return (family + given) or None
        return " ".join(p for p in (given, family) if p) or None
    if target == "city":
        return values.get("city") or values.get("province")
    joined = ""
    for part in ("province", "city", "district", "street"):
        text = values.get(part)
        if not text or text in joined:
            continue
        joined = text if text.startswith(joined) and joined else joined + text
    return joined or None


_PART_TEXT = st.one_of(
    st.none(),
    st.sampled_from(["广东省", "广东省深圳市", "深圳市", "南山区", " ", "张", "伟", "John", "Smith"]),
    _TEXT,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            ("contact_name", ["family", "given"]),
            ("contact_name", ["given", "family"]),
            ("address", ["province", "city", "district", "street"]),
            ("address", ["city", "street"]),
            ("city", ["province", "city"]),
        ]
    ),
    st.lists(st.lists(_PART_TEXT, min_size=4, max_size=4), min_size=1, max_size=6),
)
def test_composed_columns_are_composed_cells(layout, rows):
    target, parts = layout
    frame = pl.DataFrame(
        {p: [r[i] for r in rows] for i, p in enumerate(parts)}, schema=dict.fromkeys(parts, pl.String)
    )
    got = frame.select(composed(target, [(p, pl.col(p)) for p in parts])).to_series().to_list()
    assert got == [_composed_by_cell(target, list(zip(parts, r, strict=False))) for r in rows]
