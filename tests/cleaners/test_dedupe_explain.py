"""Spec of cleaners/dedupe/explain.py: per-field bits that add up to the weight, and each pair's outcome."""

import dataclasses

import numpy as np
import polars as pl
import pytest

from crm_etl.cleaners.customer_matching import customer_features
from crm_etl.cleaners.dedupe.engine import LinkageResult, link
from crm_etl.cleaners.dedupe.explain import evidence_columns, pair_evidence, waterfall
from tests.cleaners.test_dedupe import HONGDA, SETTINGS, _records

NAMES = [c.name for c in SETTINGS.model_comparisons]
# A duplicate with an abbreviated name; a look-alike with another person; a headquarters, a record
# sharing its mobile and a branch's e-mail, and the branch (which a rule keeps apart from both).
FRAME = _records(
    HONGDA,
    {**HONGDA, "company_key": "宏达机械", "email": None},
    {**HONGDA, "company_key": "宏伟机械", "mobile": None, "email": None, "contact_key": "wei li"},
    {"company_key": "鹏程科技", "contact_key": "san zhang", "mobile": "+8613800138000"},
    {"contact_key": "san zhang", "mobile": "+8613800138000", "email": "zs@pc.com"},
    {"company_key": "鹏程科技广州分公司", "contact_key": "san zhang", "email": "zs@pc.com"},
)


@pytest.fixture(scope="module")
def linked() -> LinkageResult:
    return link(customer_features(FRAME), SETTINGS)


@pytest.fixture(scope="module")
def evidence(linked: LinkageResult) -> pl.DataFrame:
    return pair_evidence(linked)


def test_the_bits_of_every_field_add_up_to_the_match_weight(linked, evidence) -> None:
    total = evidence.select(
        pl.col("prior_bits").cast(pl.Float64)
        + pl.sum_horizontal(pl.col([f"{n}_bits" for n in NAMES]).cast(pl.Float64))
    ).to_series()
    np.testing.assert_allclose(total.to_numpy(), linked.pairs["match_weight"].to_numpy(), atol=1e-4)
    # Term-frequency comparisons agreeing exactly count: mobile is shared by the Hongda duplicates.
    assert (evidence["mobile_level"] == 2).any()


def test_a_missing_value_is_null_level_and_no_bits(evidence) -> None:
    missing = evidence.filter(pl.col("landline_level").is_null())
    assert missing.height > 0 and (missing["landline_bits"] == 0).all()


def test_the_waterfall_runs_from_the_prior_to_the_weight(evidence) -> None:
    for pair in evidence.iter_rows(named=True):
        steps = waterfall(pair, NAMES)
        assert steps[0].comparison == "prior" and steps[0].total == pytest.approx(pair["prior_bits"])
        assert [s.comparison for s in steps[1:]] == NAMES
        assert steps[-1].total == pytest.approx(pair["match_weight"], abs=1e-4)


def _pair(evidence: pl.DataFrame, left: int, right: int) -> dict:
    return evidence.filter((pl.col("l") == left) & (pl.col("r") == right)).row(0, named=True)


def test_each_pair_says_what_decided_it_and_what_came_of_it(evidence) -> None:
    duplicate = _pair(evidence, 0, 1)
    assert (duplicate["link"], duplicate["decided_by"], duplicate["merged"]) == ("kept", "threshold", True)
    look_alike = _pair(evidence, 1, 2)
    assert look_alike["link"] == "below_threshold" and not look_alike["merged"]
    branch = _pair(evidence, 3, 5)
    assert (branch["link"], branch["decided_by"], branch["rule"]) == (
        "held_apart",
        "cannot_link",
        "branch differs",
    )
    assert not branch["merged"]
    assert set(evidence["link"]) <= {"kept", "cut", "held_apart", "below_threshold"}


def test_an_accepted_pair_the_clusters_do_not_keep_was_cut(linked) -> None:
    # As split_chained_clusters leaves it: accepted, but not among the links that hold the clusters.
    without = dataclasses.replace(
        linked, links=linked.links.filter(~((pl.col("l") == 0) & (pl.col("r") == 1)))
    )
    assert _pair(pair_evidence(without), 0, 1)["link"] == "cut"


def test_every_evidence_column_has_a_type_and_a_comment(evidence) -> None:
    columns = evidence_columns(SETTINGS.model_comparisons)
    assert [name for name, _, _ in columns] == [
        f"{n}_{part}" for n in NAMES for part in ("level", "sim", "bits")
    ]
    assert all(comment for _, _, comment in columns)
    assert {name for name, _, _ in columns} <= set(evidence.columns)
