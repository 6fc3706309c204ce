"""Spec of cleaners/codes.py against the real code tables in schemas/."""

from __future__ import annotations

from functools import cache
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.codes import (
    code_lookup_keys,
    map_customer_type,
    map_industry,
    matched_synonyms,
    unmapped_counts,
)
from crm_etl.schemas.codes import load_customer_types, load_industry_table

INDUSTRIES = load_industry_table()
CUSTOMER_TYPES = load_customer_types()
CELLS = st.lists(
    st.none() | st.text(max_size=12) | st.sampled_from(["制造业", "IT", "軟件", "意向客户", "其他"]),
    max_size=10,
)


INDUSTRY_CASES = [
    ("制造业", "C"),
    ("製造業", "C"),
    ("精密机械制造", "C"),
    ("机械", "C"),
    ("汽车零部件", "C"),
    ("Manufacturing", "C"),
    ("IT", "I"),
    ("IT/互联网", "I"),
    ("软件开发", "I"),
    ("SaaS", "I"),
    ("互联网金融", "J"),
    ("贸易", "F"),
    ("外贸 ", "F"),
    ("电商", "F"),
    ("Trading", "F"),
    ("金融", "J"),
    ("房地产开发", "K"),
    ("管理咨询", "L"),
    ("检测认证", "M"),
    ("建筑工程", "E"),
    ("物流", "G"),
    ("餐饮", "H"),
    ("教育培训", "P"),
    ("医疗", "Q"),
    ("文化传媒", "R"),
    ("文化工作室", "R"),
    ("政府机关", "S"),
    ("农业", "A"),
    ("煤矿", "B"),
    ("电力", "D"),
]
UNMAPPED_INDUSTRIES = [
    pytest.param("其他", "industry_unmapped", id="other"),
    pytest.param("capital", "industry_unmapped", id="latin-short-synonym-not-contained"),
    pytest.param("", None, id="empty"),
    pytest.param(None, None, id="null"),
    pytest.param("---", None, id="only-punctuation"),
]
CUSTOMER_TYPE_CASES = [
    ("潜在客户", "prospect", "lead"),
    ("线索", "prospect", "lead"),
    ("Lead", "prospect", "lead"),
    ("意向客户", "prospect", "intent"),
    ("Prospect", "prospect", "intent"),
    ("Opportunity", "prospect", "intent"),
    ("商机", "prospect", "intent"),
    ("未成交", "prospect", "intent"),
    ("成交客户", "customer", "deal"),
    ("已成交客户", "customer", "deal"),
    ("老客户", "customer", "deal"),
    ("Customer", "customer", "deal"),
    ("签约客户", "customer", "deal"),
    ("VIP", "customer", "deal"),
    ("流失客户", "churned", "churned"),
    ("Churned", "churned", "churned"),
    ("Lost", "churned", "churned"),
    ("已流失", "churned", "churned"),
    ("停止合作", "churned", "churned"),
]


@cache
def _industries() -> dict[str | None, tuple[Any, ...]]:
    """Every industry cell of the tables, mapped in one call."""
    cells = [case[0] for case in INDUSTRY_CASES] + [case.values[0] for case in UNMAPPED_INDUSTRIES]
    out = map_industry(pl.Series(cells, dtype=pl.String), INDUSTRIES)
    return dict(zip(cells, out.rows(), strict=True))


@pytest.mark.parametrize(("raw", "code"), INDUSTRY_CASES, ids=str)
def test_map_industry(raw: str, code: str) -> None:
    assert _industries()[raw] == (code, None)


@pytest.mark.parametrize(("raw", "reason"), UNMAPPED_INDUSTRIES)
def test_map_industry_unmapped(raw: str | None, reason: str | None) -> None:
    assert _industries()[raw] == (None, reason)


@cache
def _customer_types() -> dict[str, tuple[Any, ...]]:
    """Every customer-type cell of the table, mapped in one call."""
    cells = [case[0] for case in CUSTOMER_TYPE_CASES]
    out = map_customer_type(pl.Series(cells, dtype=pl.String), CUSTOMER_TYPES)
    return dict(zip(cells, out.rows(), strict=True))


@pytest.mark.parametrize(("raw", "customer_type", "stage"), CUSTOMER_TYPE_CASES, ids=str)
def test_map_customer_type(raw: str, customer_type: str, stage: str) -> None:
    assert _customer_types()[raw] == (customer_type, stage, None)


def test_map_customer_type_unmapped() -> None:
    out = map_customer_type(pl.Series(["A类", None, " "], dtype=pl.String), CUSTOMER_TYPES)
    assert out.rows() == [(None, None, "customer_type_unmapped"), (None, None, None), (None, None, None)]


def test_plain_mapping_tables_are_normalised() -> None:
    out = map_industry(pl.Series(["ＩＴ服务", "Machine Tools"]), {"IT": "I", "machine tools": "C"})
    assert out["industry_code"].to_list() == [None, "C"]
    types = map_customer_type(pl.Series(["Hot Lead"]), {"hot lead": ("prospect", "intent")})
    assert types.row(0) == ("prospect", "intent", None)


def test_longest_then_leftmost_synonym_wins() -> None:
    keys = code_lookup_keys(pl.Series(["精密机械制造", "文化工作室", "机械", None]))
    matched = matched_synonyms(keys, ["机械", "机械制造", "制造", "文化", "化工"])
    assert matched.to_list() == ["机械制造", "文化", "机械", None]


def test_unmapped_counts() -> None:
    raw = pl.Series(["其他", "制造业", "其它", "其他 ", None, "待定"])
    reasons = map_industry(raw, INDUSTRIES)["industry_reason"]
    counts = unmapped_counts(raw, reasons)
    assert counts.columns == ["value", "reason", "count"]
    assert counts.rows() == [
        ("其他", "industry_unmapped", 2),
        ("其它", "industry_unmapped", 1),
        ("待定", "industry_unmapped", 1),
    ]


def test_one_megabyte_value() -> None:
    big = ("精密机械制造 IT 贸易 " * 80_000)[:1_000_000]
    assert map_industry(pl.Series([big, None]), INDUSTRIES)["industry_code"].to_list() == ["C", None]
    assert map_customer_type(pl.Series([big]), CUSTOMER_TYPES).height == 1


@settings(max_examples=50, deadline=None)
@given(CELLS)
def test_properties(values: list[str | None]) -> None:
    s = pl.Series(values, dtype=pl.String)
    # One call over the values and their reverse: same length, and order is kept row by row.
    both = pl.concat([s, s.reverse()])
    industry = map_industry(both, INDUSTRIES)
    types = map_customer_type(both, CUSTOMER_TYPES)
    assert industry.height == types.height == 2 * s.len()
    assert industry.tail(s.len()).rows() == industry.head(s.len()).reverse().rows()
    assert types.tail(s.len()).rows() == types.head(s.len()).reverse().rows()
    assert set(industry["industry_code"].drop_nulls()) <= set(INDUSTRIES.names)
    # A value is mapped or has a reason, never both.
    assert (industry["industry_code"].is_null() | industry["industry_reason"].is_null()).all()
    assert (types["customer_type"].is_null() | types["customer_type_reason"].is_null()).all()
    keys = code_lookup_keys(s)
    assert code_lookup_keys(keys).to_list() == keys.to_list()
    # Mapping the code table's own words again gives the same codes (idempotent lookup form).
    assert map_industry(keys, INDUSTRIES).rows() == industry.head(s.len()).rows()
