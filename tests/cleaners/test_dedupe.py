"""Spec of the customer deduplication: must-merge and must-not-merge pairs, as small frames."""

import math

import polars as pl
import pytest

from crm_etl.cleaners.company import company_match_key
from crm_etl.cleaners.customer_matching import cluster_customers, customer_features
from crm_etl.cleaners.dedupe.clustering import connected_components, key_edges, split_chained_clusters
from crm_etl.cleaners.dedupe.engine import link
from crm_etl.cleaners.dedupe.settings import Comparison
from crm_etl.schemas import load_config
from tests.cleaners.test_customer_matching import NAME_MUST_MERGE, NAME_MUST_NOT_MERGE

SETTINGS = load_config().dedupe
COLUMNS = {
    "source_system": pl.String,
    "legacy_id": pl.String,
    "customer_name": pl.String,
    "company_key": pl.String,
    "contact_key": pl.String,
    "mobile": pl.String,
    "email": pl.String,
    "phone": pl.String,
    "industry_code": pl.String,
    "city": pl.String,
}


def _records(*rows: dict) -> pl.DataFrame:
    """Records as cleaning leaves them; a row with a full company name and no key gets its key."""
    frame = pl.DataFrame([{"source_system": "excel_ledger", **r} for r in rows], schema=COLUMNS)
    return frame.with_row_index("record_idx").with_columns(
        pl.col("record_idx").cast(pl.Int64),
        pl.coalesce("company_key", company_match_key(frame["customer_name"])),
    )


def _clusters(*rows: dict) -> list[int]:
    clusters, _ = cluster_customers(_records(*rows), SETTINGS)
    return clusters["cluster"].to_list()


HONGDA = {"company_key": "宏达机械制造", "contact_key": "jian guo chen", "mobile": "+8613816881234",
          "email": "chenjg@hongda-mach.com", "industry_code": "C"}  # fmt: skip

MUST_MERGE = [
    pytest.param(HONGDA, {**HONGDA, "company_key": "宏达机械", "email": None}, id="abbreviated-name-same-mobile"),
    pytest.param(HONGDA, {**HONGDA, "mobile": None, "email": None}, id="same-company-key-and-contact"),
    pytest.param(
        {**HONGDA, "company_key": "金桥物流", "mobile": None, "email": None},
        {**HONGDA, "company_key": "金侨物流", "mobile": None, "email": None},
        id="one-character-typo-same-contact",
    ),
    pytest.param(
        {**HONGDA, "company_key": "ningbohaitonginternationaltrading", "industry_code": "F"},
        {**HONGDA, "company_key": "海通国际贸易", "industry_code": "F"},
        id="english-name-same-contact-mobile-email",
    ),
    pytest.param(
        {"source_system": "legacy_crm", "legacy_id": "ACC-1", "company_key": "云帆网络科技", "contact_key": "min zhou"},
        {"source_system": "legacy_crm", "legacy_id": "ACC-1", "company_key": "云帆", "contact_key": "min zhou"},
        id="seed-rule-same-legacy-id-and-contact",
    ),
    pytest.param(HONGDA, {**HONGDA, "mobile": "+8613816881235", "email": None}, id="mobile-one-edit-same-company"),
]  # fmt: skip

MUST_NOT_MERGE = [
    pytest.param(
        {"company_key": "锦华商贸", "contact_key": "li hua huang", "phone": "+862162345678"},
        {"company_key": "瑞丰包装材料", "contact_key": "tao wu", "phone": "+862162345678"},
        id="only-a-shared-landline",
    ),
    pytest.param(
        {"company_key": "鹏程科技", "contact_key": "hao zheng", "email": "zh@pengcheng.com"},
        {"company_key": "鹏程科技广州分公司", "contact_key": "hao zheng", "email": "zh@pengcheng.com"},
        id="branch-vs-headquarters-even-with-the-same-contact",
    ),
    pytest.param(
        {"company_key": "华为技术", "contact_key": "wei zhang", "industry_code": "I"},
        {"company_key": "华伟技术", "contact_key": "qiang li", "industry_code": "I"},
        id="distinctive-character-differs",
    ),
    pytest.param(
        {"company_key": "宏达机械制造", "contact_key": "jian guo chen", "mobile": "+8613816881234"},
        {"company_key": "宏大机械设备", "contact_key": "ming dai", "mobile": "+8613916881234"},
        id="same-pinyin-different-company",
    ),
    pytest.param(
        {"source_system": "legacy_crm", "legacy_id": "1", "company_key": "甲"},
        {"source_system": "web_form", "legacy_id": "1", "company_key": "乙"},
        id="same-id-in-two-systems-means-nothing",
    ),
    pytest.param(
        {"source_system": "legacy_crm", "legacy_id": "ACC-1", "company_key": "博远咨询", "mobile": "+8613800138000"},
        {"source_system": "legacy_crm", "legacy_id": "ACC-2", "company_key": "燕山环境工程", "mobile": "+8613800138000"},
        id="two-ids-of-one-system-with-different-names",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("left", "right"), MUST_MERGE + NAME_MUST_MERGE)
def test_must_merge(left: dict, right: dict) -> None:
    assert _clusters(left, right) == [0, 0]


@pytest.mark.parametrize(("left", "right"), MUST_NOT_MERGE + NAME_MUST_NOT_MERGE)
def test_must_not_merge(left: dict, right: dict) -> None:
    assert _clusters(left, right) == [0, 1]


def test_chained_cluster_is_split_between_the_records_that_conflict() -> None:
    headquarters = {"company_key": "鹏程科技", "contact_key": "san zhang", "mobile": "+8613800138000"}
    bridge = {"contact_key": "san zhang", "mobile": "+8613800138000", "email": "zs@pc.com"}
    branch = {"company_key": "鹏程科技广州分公司", "contact_key": "san zhang", "email": "zs@pc.com"}
    clusters = _clusters(headquarters, bridge, branch)
    assert clusters[0] != clusters[2]


def test_lineage_explains_each_merge() -> None:
    clusters, _ = cluster_customers(
        _records(HONGDA, {**HONGDA, "company_key": "宏达机械"}, {"company_key": "别的"}), SETTINGS
    )
    reasons = clusters["match_reason"].to_list()
    assert "mobile exact" in reasons[0] and "contact exact" in reasons[0] and "company 0.9" in reasons[0]
    assert reasons[2] == "no duplicate found"
    assert clusters["match_score"][0] >= SETTINGS.model.match_probability
    assert clusters["match_score"][2] is None


def _unrelated_names(n: int) -> list[str]:
    """Names sharing no character, so that only the field under test carries evidence."""
    return [chr(0x4E00 + 3 * i) + chr(0x4E01 + 3 * i) + chr(0x4E02 + 3 * i) for i in range(n)]


def test_a_common_landline_counts_for_less_than_a_rare_one() -> None:
    names = _unrelated_names(17)
    rows = [{"company_key": names[i], "phone": "+862162345678"} for i in range(15)]
    rows += [
        {"company_key": names[15], "phone": "+862188887777"},
        {"company_key": names[16], "phone": "+862188887777"},
    ]
    result = link(customer_features(_records(*rows)), SETTINGS)
    # The landline's term frequency tells the two groups apart: 15 records vs 2.
    weight = result.pairs.group_by("landline_tf").agg(pl.col("weight").mean()).sort("landline_tf")
    rare, common = weight["weight"].to_list()
    # Everything else differs alike, so the gap is the frequency ratio: log2(15 / 2) bits.
    assert rare - common == pytest.approx(math.log2(15 / 2), abs=0.01)


def test_candidate_pairs_skip_blocks_that_are_too_common() -> None:
    rows = [{"company_key": name, "phone": "+862162345678"} for name in _unrelated_names(60)]
    result = link(customer_features(_records(*rows)), SETTINGS)
    # 60 records on one switchboard would be 1,770 pairs; the landline block (max 20) makes none.
    assert result.stats["candidate_pairs"] < 200


def test_split_cuts_the_weakest_edge() -> None:
    ids = pl.Series([0, 1, 2], dtype=pl.Int64)
    edges = pl.DataFrame({"l": [0, 1], "r": [1, 2], "weight": [20.0, 5.0]})
    conflicts = pl.DataFrame({"l": [0], "r": [2]})
    components, kept, cut = split_chained_clusters(ids, edges, conflicts, max_rounds=5)
    assert components["component"].to_list() == [0, 0, 2]
    assert kept.height == 1 and cut == 1


def test_connected_components_long_chain() -> None:
    n = 50
    ids = pl.Series(range(n), dtype=pl.Int64)
    frame = pl.DataFrame(
        {
            "record_idx": list(range(n)),
            "k": [f"{i // 2}" for i in range(n)],
            "j": [f"{(i + 1) // 2}" for i in range(n)],
        }
    )
    edges = key_edges(frame, {"k": pl.col("k"), "j": pl.col("j")})
    assert set(connected_components(ids, edges)["component"].to_list()) == {0}


@pytest.mark.parametrize("thresholds", [[], [0.9], [0.9, 0.8, 0.7]])
def test_default_priors_are_distributions_over_every_level(thresholds: list[float]) -> None:
    comparison = Comparison(name="x", column="x", metric="jaro_winkler", thresholds=thresholds)
    for prior in (comparison.m_start(), comparison.u_start()):
        assert len(prior) == comparison.levels and sum(prior) == pytest.approx(1)
