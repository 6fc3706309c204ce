"""Spec of cleaners/company.py: display names, matching keys and placeholder names."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.company import (
    PLACES,
    PREFECTURES,
    company_display_name,
    company_key_reasons,
    company_match_key,
)

# Fragments real names are made of, so that generated names reach the place, legal-form
# and branch rules and not only the "no rule applies" path.
FRAGMENTS = [
    "华为", "華為", "技术", "有限公司", "股份有限公司", "集团", "公司", "厂", "北京", "上海市",
    "广东省", "深圳", "分公司", "办事处", "营业部", "（中国）", "(上海)", "【", "】", " ", "-", ".",
    "Co.", "Ltd", " Inc.", "GmbH", " branch", "银行", "大学", "\u200b", "\u3000", "ＡＢＣ", "（",
    ")", "自治区", "有限合伙", "总公司", "分",
]  # fmt: skip
NAMES = st.one_of(
    st.text(max_size=20),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=2), max_size=8).map("".join),
)
CELLS = st.lists(st.none() | NAMES, max_size=12)

SAME_COMPANY = [
    pytest.param("华为技术有限公司", "华为技术", id="suffix-dropped"),
    pytest.param("华为技术有限公司", "华为技术股份有限公司", id="gufen-suffix"),
    pytest.param("华为技术有限公司", "华为技术有限责任公司", id="zeren-suffix"),
    pytest.param("华为技术有限公司", "華為技術有限公司", id="traditional"),
    pytest.param("华为技术有限公司", "  华为 技术 有限公司 ", id="spaces"),
    pytest.param("华为技术有限公司", "深圳市华为技术有限公司", id="city-prefix"),
    pytest.param("华为技术有限公司", "广东省深圳市华为技术有限公司", id="province-and-city-prefix"),
    pytest.param("华为技术有限公司", "华为技术（中国）有限公司", id="region-tag-fullwidth"),
    pytest.param("华为技术有限公司", "华为技术(中国)有限公司", id="region-tag-halfwidth"),
    pytest.param("华为技术有限公司", "华为技术（深圳）有限公司", id="city-tag"),
    pytest.param("华为技术有限公司", "【华为】技术有限公司", id="square-brackets"),
    pytest.param("华为技术有限公司", "*华为技术有限公司。", id="stray-punctuation"),
    pytest.param("华为技术有限公司", "华为技术集团有限公司", id="group-and-suffix"),
    pytest.param("ABB（中国）有限公司", "ＡＢＢ有限公司", id="fullwidth-latin"),
    pytest.param("阿里巴巴集团", "阿里巴巴（中国）有限公司", id="group-vs-china-entity"),
    pytest.param("Huawei Technologies Co., Ltd.", "HUAWEI TECHNOLOGIES CO.,LTD", id="latin-co-ltd"),
    pytest.param("Huawei Technologies Co., Ltd.", "huawei technologies (china) co ltd", id="latin-tag"),
    pytest.param("Apple Inc.", "APPLE", id="latin-inc"),
    pytest.param("Siemens AG", "siemens", id="latin-ag"),
    pytest.param("A.O. Smith Corp.", "AO Smith Corporation", id="latin-dots"),
    pytest.param("华为技术有限公司北京分公司", "华为技术有限公司（北京分公司）", id="branch-in-brackets"),
    pytest.param("华为技术有限公司北京分公司", "华为技术有限公司北京市分公司", id="branch-city-suffix"),
    pytest.param("某某投资中心（有限合伙）", "某某投资中心", id="partnership-form"),
]
DIFFERENT_COMPANIES = [
    pytest.param("华为技术有限公司", "华为技术有限公司北京分公司", id="hq-vs-branch"),
    pytest.param("华为技术有限公司北京分公司", "华为技术有限公司上海分公司", id="branch-vs-branch"),
    pytest.param("华为技术有限公司", "华为技术有限公司北京办事处", id="hq-vs-office"),
    pytest.param("某某机械厂", "某某机械厂第二分厂", id="factory-vs-branch-factory"),
    pytest.param("华为技术有限公司", "华伟技术有限公司", id="huawei-vs-lookalike"),
    pytest.param("北京银行股份有限公司", "上海银行股份有限公司", id="city-banks"),
    pytest.param("北京大学", "上海大学", id="city-universities"),
    pytest.param("上海国际贸易有限公司", "北京国际贸易有限公司", id="generic-trade-name"),
    pytest.param("中国银行上海分行", "中国银行北京分行", id="bank-branches"),
    pytest.param("某某机械厂", "某某机械有限公司", id="factory-is-distinctive"),
    pytest.param("广州安康医疗科技有限公司", "广州医疗科技有限公司", id="trade-name-is-a-place-name"),
    pytest.param("Huawei Technologies Co., Ltd.", "Huawei Technologies Co., Ltd. Beijing Branch",
                 id="latin-branch"),
]  # fmt: skip
KEYS = [
    pytest.param("华为技术有限公司北京分公司", "华为技术北京分公司", id="branch-kept"),
    pytest.param("Huawei Technologies Co., Ltd.", "huaweitechnologies", id="latin"),
    pytest.param("有限公司", "有限公司", id="only-legal-form-kept"),
    pytest.param("北京市", "北京市", id="only-place-kept"),
    pytest.param("---", "---", id="only-punctuation"),
    pytest.param("广州市番禺区美嘉电器有限公司", "美嘉电器", id="city-and-district"),
    pytest.param("苏州工业园区博思电子有限公司", "博思电子", id="city-and-zone"),
    pytest.param("江苏南京银河科技有限公司", "银河科技", id="province-and-city-bare"),
    pytest.param("广州安康医疗科技有限公司", "广州安康医疗科技", id="trade-name-starting-with-a-place"),
    pytest.param("上海吉林路餐厅", "上海吉林路餐厅", id="street-named-after-a-province"),
    pytest.param("安康医疗科技有限公司", "安康医疗科技", id="place-before-generic-words-kept"),
    pytest.param("   ", None, id="blank"),
    pytest.param(None, None, id="null"),
    pytest.param("", None, id="empty"),
]
DISPLAY_NAMES = [
    pytest.param("  華為技術（中國）有限公司 ", "华为技术（中国）有限公司", id="traditional-fullwidth"),
    pytest.param("华为技术(中国)有限公司", "华为技术（中国）有限公司", id="halfwidth-to-fullwidth"),
    pytest.param("【华为】技术有限公司", "（华为）技术有限公司", id="square-brackets"),
    pytest.param("华为 技术 有限公司", "华为技术有限公司", id="spaces-in-chinese"),
    pytest.param("*华为技术有限公司。", "华为技术有限公司", id="stray-punctuation"),
    pytest.param('"华为技术有限公司",', "华为技术有限公司", id="quotes-and-comma"),
    pytest.param("ABB (China) Ltd.", "ABB (China) Ltd.", id="latin-keeps-case-and-dot"),
    pytest.param("  Huawei   Technologies Co., Ltd.,", "Huawei Technologies Co., Ltd.",
                 id="latin-spaces-trailing-comma"),
    pytest.param("ＡＢＢ（中国）有限公司", "ABB（中国）有限公司", id="mixed-latin-chinese"),
    pytest.param("---", "---", id="only-punctuation-kept"),
    pytest.param(None, None, id="null"),
]  # fmt: skip
REASONS = [
    pytest.param("个人", "company_placeholder", id="individual"),
    pytest.param("无", "company_placeholder", id="none"),
    pytest.param("测试", "company_placeholder", id="test-zh"),
    pytest.param("测试公司123", "company_placeholder", id="test-company-numbered"),
    pytest.param("test", "company_placeholder", id="test-en"),
    pytest.param("TEST Co., Ltd.", "company_placeholder", id="test-with-suffix"),
    pytest.param("待定", "company_placeholder", id="tbd"),
    pytest.param("未知", "company_placeholder", id="unknown"),
    pytest.param("XX集团有限公司", "company_placeholder", id="xx-group"),
    pytest.param("12345", "company_placeholder", id="digits-only"),
    pytest.param("华为技术有限公司", None, id="real-company"),
    pytest.param(None, None, id="null"),
]
TABLE_VALUES = [case.values for case in SAME_COMPANY + DIFFERENT_COMPANIES + KEYS + DISPLAY_NAMES + REASONS]


def _batched(cleaner: Callable[[pl.Series], pl.Series]) -> Callable[[str | None], str | None]:
    """Run `cleaner` once over every value of this module's tables, then look values up."""
    values = [v for case in TABLE_VALUES for v in case]

    @cache
    def results() -> dict[str | None, str | None]:
        cleaned = cleaner(pl.Series(values, dtype=pl.String)).to_list()
        return dict(zip(values, cleaned, strict=True))

    return lambda value: results()[value]


_key = _batched(company_match_key)
_display = _batched(company_display_name)
_reason = _batched(company_key_reasons)


@pytest.mark.parametrize(("a", "b"), SAME_COMPANY)
def test_same_company_same_key(a: str, b: str) -> None:
    assert _key(a) == _key(b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT_COMPANIES)
def test_different_companies_different_keys(a: str, b: str) -> None:
    assert _key(a) != _key(b)


@pytest.mark.parametrize(("raw", "key"), KEYS)
def test_match_key_values(raw: str | None, key: str | None) -> None:
    assert _key(raw) == key


@pytest.mark.parametrize(("raw", "display"), DISPLAY_NAMES)
def test_display_name(raw: str | None, display: str | None) -> None:
    assert _display(raw) == display


@pytest.mark.parametrize(("raw", "reason"), REASONS)
def test_key_reasons(raw: str | None, reason: str | None) -> None:
    assert _reason(raw) == reason


def test_place_list_covers_provinces_and_prefectures() -> None:
    prefectures = {c for cities in PREFECTURES.values() for c in cities.split()}
    assert len(prefectures) >= 330
    assert {"北京", "上海", "广东", "新疆", "深圳", "杭州", "延边", "西双版纳"} <= set(PLACES)
    assert list(PLACES) == sorted(PLACES, key=lambda p: (-len(p), p))


def test_one_megabyte_name() -> None:
    big = ("华为技术（中国）有限公司, Huawei Co. Ltd; " * 40_000)[:1_000_000] + "北京分公司"
    s = pl.Series([big, None, "华为技术有限公司"])
    keys = company_match_key(s)
    assert keys[1:].to_list() == [None, "华为技术"]
    assert keys[0] is not None and keys[0].startswith("华为技术")
    assert company_display_name(s).len() == 3


@settings(max_examples=40, deadline=None)
@given(CELLS)
def test_match_key_properties(values: list[str | None]) -> None:
    s = pl.Series(values, dtype=pl.String)
    # One call over the values and their reverse: same length, and order is kept row by row.
    both = company_match_key(pl.concat([s, s.reverse()]))
    assert both.len() == 2 * s.len()
    keys = both.head(s.len())
    assert both.tail(s.len()).to_list() == keys.reverse().to_list()
    assert company_match_key(keys).to_list() == keys.to_list()
    assert "" not in keys.to_list()


@settings(max_examples=50, deadline=None)
@given(CELLS)
def test_display_name_properties(values: list[str | None]) -> None:
    s = pl.Series(values, dtype=pl.String)
    both = company_display_name(pl.concat([s, s.reverse()]))
    assert both.len() == 2 * s.len()
    names = both.head(s.len())
    assert both.tail(s.len()).to_list() == names.reverse().to_list()
    assert company_display_name(names).to_list() == names.to_list()


@settings(max_examples=20, deadline=None)
@given(CELLS)
def test_key_reasons_properties(values: list[str | None]) -> None:
    s = pl.Series(values, dtype=pl.String)
    both = company_key_reasons(pl.concat([s, s.reverse()]))
    assert both.len() == 2 * s.len()
    assert both.tail(s.len()).to_list() == both.head(s.len()).reverse().to_list()
    assert set(both.drop_nulls().to_list()) <= {"company_placeholder"}
