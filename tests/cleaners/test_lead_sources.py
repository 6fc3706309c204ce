"""Spec of cleaners/lead_sources.py against the real vocabulary in schemas/lead_sources.yaml."""

from __future__ import annotations

from functools import cache

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.lead_sources import (
    LEAD_SOURCE_REASONS,
    OUTPUT_SCHEMA,
    LeadSourceVocabulary,
    lead_source_keys,
    normalise_lead_source,
)
from crm_etl.cleaners.text import clean_text
from crm_etl.schemas import SCHEMAS_DIR, load_config
from crm_etl.schemas.config import load_lead_sources
from tests.conftest import SAMPLES

VOCABULARY = load_lead_sources()
YAML_TEXT = (SCHEMAS_DIR / "lead_sources.yaml").read_text(encoding="utf-8")
UNKNOWN = "source_channel_unknown"

# Spellings listed in the vocabulary, as exports write them (case, width, script, spacing vary).
LISTED = [
    ("展会", "展会", "expo-canonical"),
    ("Trade Show", "展会", "trade-show"),
    ("trade-show", "展会", "trade-show-hyphen"),
    ("TRADESHOW", "展会", "tradeshow-upper"),
    ("工博会", "展会", "gongbohui"),
    ("Expo", "展会", "expo"),
    ("展會", "展会", "expo-traditional"),
    ("官网", "官网", "web-canonical"),
    ("Web", "官网", "web"),
    ("ＷＥＢ", "官网", "web-full-width"),
    ("官网表单", "官网", "web-form-zh"),
    ("website", "官网", "website"),
    ("  Web   Form ", "官网", "web-form-spacing"),
    ("网站", "官网", "wangzhan"),
    ("转介绍", "转介绍", "referral-canonical"),
    ("老客户介绍", "转介绍", "old-customer-introduction-is-referral"),
    ("Referral", "转介绍", "referral"),
    ("电话营销", "电话营销", "telemarketing-canonical"),
    ("陌拜", "电话营销", "cold-visit"),
    ("Cold Call", "电话营销", "cold-call"),
    ("广告", "广告", "ads-canonical"),
    ("百度推广", "广告", "baidu-promotion"),
    ("SEM", "广告", "sem"),
    ("搜索引擎", "广告", "search-engine"),
    ("社交媒体", "社交媒体", "social-canonical"),
    ("微信公众号", "社交媒体", "wechat-official-account"),
    ("抖音", "社交媒体", "douyin"),
    ("LinkedIn", "社交媒体", "linkedin"),
    ("合作伙伴", "合作伙伴", "partner-canonical"),
    ("渠道商", "合作伙伴", "channel-dealer"),
    ("Partner", "合作伙伴", "partner"),
    ("老客户", "老客户", "existing-canonical"),
    ("复购", "老客户", "repurchase"),
    ("其他", "其他", "other-canonical"),
    ("Other", "其他", "other"),
    ("研讨会", "市场活动", "seminar"),
]

# Spellings deliberately NOT in lead_sources.yaml: they test the patterns, not the lists.
HELD_OUT = [
    ("2024上海工博会", "展会", "named-gongbohui"),
    ("2024华东工业博览会", "展会", "named-expo-from-the-web-form-sample"),
    ("第135届广交会", "展会", "canton-fair-zh"),
    ("Canton Fair 2024", "展会", "canton-fair"),
    ("CIIF 2023 Expo", "展会", "named-expo"),
    ("深圳电子展", "展会", "named-zhan"),
    ("Hannover Messe", "展会", "messe"),
    ("ProMat Exhibition 2023", "展会", "named-exhibition"),
    ("官网在线留言", "官网", "website-message"),
    ("www.hongda-mach.com", "官网", "url"),
    ("Website Inquiry", "官网", "website-inquiry"),
    ("老客户转介绍", "转介绍", "referral-wins-over-existing-customer"),
    ("Partner Referral", "合作伙伴", "partner-wins-over-referral"),
    ("经销商推荐", "合作伙伴", "dealer-recommendation-is-partner"),
    ("张总推荐", "转介绍", "named-recommendation"),
    ("抖音直播间", "社交媒体", "douyin-live-room"),
    ("百度SEM竞价", "广告", "baidu-sem-bidding"),
    ("LinkedIn InMail", "社交媒体", "linkedin-inmail"),
    ("Cold-Calling campaign", "电话营销", "cold-calling-campaign"),
    ("2023年度复购", "老客户", "yearly-repurchase"),
    ("行业技术研讨会", "市场活动", "named-seminar"),
    ("其他（客户自己找来）", "其他", "other-with-a-note"),
]

UNKNOWN_CASES = [
    ("业务拓展", "业务拓展", "tuozhan-is-no-expo"),
    ("发展客户", "发展客户", "fazhan-is-no-expo"),
    ("產品展示", "产品展示", "zhanshi-is-no-expo-simplified"),
    ("=2+3", "=2+3", "formula-like-kept"),
    ("无", "无", "placeholder-kept"),
    ("2360", "2360", "digits-are-no-360-ads"),
    ("  阿里巴巴　国际站 ", "阿里巴巴 国际站", "b2b-platform-cleaned"),
]


@cache
def _mapped() -> dict[str | None, tuple[str | None, str | None]]:
    cells = [c[0] for c in LISTED + HELD_OUT + UNKNOWN_CASES]
    out = normalise_lead_source(pl.Series(cells, dtype=pl.String), VOCABULARY)
    return dict(zip(cells, out.select("source_channel", "source_channel_reason").rows(), strict=True))


@pytest.mark.parametrize(("cell", "channel"), [c[:2] for c in LISTED], ids=[c[2] for c in LISTED])
def test_listed_spellings(cell: str, channel: str) -> None:
    assert _mapped()[cell] == (channel, None)


@pytest.mark.parametrize(("cell", "channel"), [c[:2] for c in HELD_OUT], ids=[c[2] for c in HELD_OUT])
def test_held_out_spellings_map_by_pattern(cell: str, channel: str) -> None:
    assert cell not in YAML_TEXT
    assert lead_source_keys(pl.Series([cell]))[0] not in VOCABULARY.spellings
    assert _mapped()[cell] == (channel, None)


@pytest.mark.parametrize(("cell", "kept"), [c[:2] for c in UNKNOWN_CASES], ids=[c[2] for c in UNKNOWN_CASES])
def test_unknown_values_are_other_and_keep_their_cleaned_text(cell: str, kept: str) -> None:
    assert VOCABULARY.unknown == "其他"
    assert _mapped()[cell] == ("其他", UNKNOWN)
    out = normalise_lead_source(pl.Series([cell]), VOCABULARY)
    assert out["source_channel_text"].to_list() == [kept]


def test_nulls_and_blanks_stay_null_without_a_reason() -> None:
    out = normalise_lead_source(pl.Series("source_channel", [None, "", "   ", "\u3000"]), VOCABULARY)
    assert out.schema == OUTPUT_SCHEMA
    assert out.rows() == [(None, None, None)] * 4


def test_every_canonical_name_is_its_own_spelling() -> None:
    names = list(VOCABULARY.channels)
    assert normalise_lead_source(pl.Series(names), VOCABULARY)["source_channel"].to_list() == names


def test_every_channel_value_in_the_bundled_samples_is_known() -> None:
    from crm_etl.flows.extract import extract_inbox

    customers = extract_inbox(SAMPLES, load_config()).records["customers"]
    values = customers["source_channel"].drop_nulls().unique().sort()
    out = normalise_lead_source(values, VOCABULARY)
    unknown = values.filter(out["source_channel_reason"].is_not_null()).to_list()
    assert unknown == []
    assert {"Trade Show", "展会", "2024华东工业博览会"} <= set(values)


# ---------------------------------------------------------------------------------------------
# The mechanism, on a vocabulary of its own
# ---------------------------------------------------------------------------------------------

TOY = LeadSourceVocabulary(
    channels=("甲", "乙", "丙"),
    spellings={"甲": "甲", "alpha": "甲", "乙": "乙", "both": "丙", "丙": "丙"},
    patterns={"甲": ("^a", "x$"), "乙": ("b", r"\bab\b"), "丙": ()},
)

MECHANISM = [
    ("Alpha", "甲", None, "spelling-case-folded"),
    ("both", "丙", None, "spelling-wins-over-every-pattern"),
    ("abc", "甲", None, "first-channel-in-order-wins"),
    ("cab", "乙", None, "pattern-anywhere"),
    ("AB", "甲", None, "patterns-see-lower-case"),
    ("box", "甲", None, "later-pattern-of-an-earlier-channel-wins"),
    ("ｂ", "乙", None, "patterns-see-full-width-folded"),
    ("zzz", "zzz", UNKNOWN, "unknown-without-an-unknown-channel"),
]


@pytest.mark.parametrize(
    ("cell", "channel", "reason"), [c[:3] for c in MECHANISM], ids=[c[3] for c in MECHANISM]
)
def test_mechanism(cell: str, channel: str, reason: str | None) -> None:
    out = normalise_lead_source(pl.Series([cell]), TOY)
    assert out.select("source_channel", "source_channel_reason").row(0) == (channel, reason)
    assert out["source_channel_text"].to_list() == clean_text(pl.Series([cell])).to_list()


@pytest.mark.parametrize(
    ("cell", "channel", "reason"),
    [("zzz", "丙", UNKNOWN), ("Ｑｕｉｘ  7", "丙", UNKNOWN), ("Alpha", "甲", None), ("丙", "丙", None)],
    ids=["unknown", "unknown-full-width", "known", "the-unknown-channel-by-name"],
)
def test_unknown_channel_takes_what_no_spelling_or_pattern_knows(cell, channel, reason) -> None:
    toy = LeadSourceVocabulary(TOY.channels, TOY.spellings, TOY.patterns, unknown="丙")
    out = normalise_lead_source(pl.Series([cell, None]), toy)
    assert out.select("source_channel", "source_channel_reason").rows() == [(channel, reason), (None, None)]
    assert out["source_channel_text"].to_list() == clean_text(pl.Series([cell, None])).to_list()


def test_empty_vocabulary_keeps_every_value() -> None:
    empty = LeadSourceVocabulary(channels=(), spellings={})
    out = normalise_lead_source(pl.Series(["展会", None]), empty)
    assert out.rows() == [("展会", "展会", UNKNOWN), (None, None, None)]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.none() | st.text(max_size=12) | st.sampled_from([c[0] for c in LISTED + HELD_OUT]), max_size=12
    )
)
def test_properties(values: list[str | None]) -> None:
    s = pl.Series(values, dtype=pl.String)
    out = normalise_lead_source(s, VOCABULARY)
    assert out.height == s.len() and out.schema == OUTPUT_SCHEMA
    assert set(out["source_channel_reason"].drop_nulls()) <= LEAD_SOURCE_REASONS
    channels = set(VOCABULARY.channels)
    for channel, text, reason in out.rows():
        # Only channels of the vocabulary; an unknown value is 其他, flagged, its text kept.
        assert channel is None or channel in channels
        assert (channel is None) == (text is None)
        assert reason is None or channel == VOCABULARY.unknown
    assert out["source_channel_text"].to_list() == clean_text(s).to_list()
    # Idempotent: a channel maps to itself.
    again = normalise_lead_source(out["source_channel"], VOCABULARY)
    assert again["source_channel"].to_list() == out["source_channel"].to_list()
    assert again["source_channel_reason"].drop_nulls().is_empty()
