"""Spec of the steward review: which pairs are queued, and decisions honoured by the engine."""

import datetime as dt

import polars as pl
import pytest
from pydantic import ValidationError

from crm_etl.cleaners.customer_matching import cluster_customers, customer_features
from crm_etl.cleaners.customers import record_identity
from crm_etl.cleaners.dedupe.engine import link
from crm_etl.cleaners.dedupe.review import decision_pairs, latest_decisions, pair_id, review_queue
from crm_etl.cleaners.dedupe.settings import DedupeSettings, ReviewSettings
from tests.cleaners.test_dedupe import HONGDA, SETTINGS, _records

# Similar names with nothing else shared: an `insufficient` rule keeps them apart.
HUAWEI = {"company_key": "华为技术", "contact_key": "wei zhang", "industry_code": "I"}
HUAWEI_TYPO = {"company_key": "华伟技术", "contact_key": "qiang li", "industry_code": "I"}


def _decide(*pairs: tuple[int, int, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"l": left, "r": right, "decision": d, "reason": f"steward: review.xlsx row {3 + i}"}
            for i, (left, right, d) in enumerate(pairs)
        ]
    )


def _cluster_of(records: pl.DataFrame, decisions: pl.DataFrame | None = None) -> list[int]:
    clusters, _ = cluster_customers(records, SETTINGS, decisions)
    return clusters["cluster"].to_list()


def test_cannot_link_splits_a_cluster_the_model_would_join() -> None:
    records = _records(HONGDA, {**HONGDA, "email": None}, {**HONGDA, "mobile": None})
    assert len(set(_cluster_of(records))) == 1
    clusters = _cluster_of(records, _decide((0, 2, "cannot_link")))
    assert clusters[0] != clusters[2]


def test_must_link_joins_a_pair_the_model_keeps_apart() -> None:
    records = _records(HUAWEI, HUAWEI_TYPO)
    assert _cluster_of(records) == [0, 1]
    clusters, result = cluster_customers(records, SETTINGS, _decide((1, 0, "must_link")))
    assert clusters["cluster"].to_list() == [0, 0]
    assert clusters["match_reason"][0].endswith("steward: review.xlsx row 3")
    assert result.stats["steward_decisions"] == 1


def test_a_decided_pair_no_blocking_rule_pairs_is_still_scored_and_honoured() -> None:
    records = _records({"company_key": "宏达机械制造"}, {"company_key": "星辰软件开发"})
    _, plain = cluster_customers(records, SETTINGS)
    assert plain.pairs.is_empty()
    clusters, result = cluster_customers(records, SETTINGS, _decide((0, 1, "must_link")))
    assert clusters["cluster"].to_list() == [0, 0]
    assert result.pairs.select("l", "r", "steward").rows() == [(0, 1, True)]


def test_a_steward_wins_over_a_cannot_link_rule() -> None:
    head = {**HONGDA, "company_key": "鹏程科技"}
    records = _records(head, {**head, "company_key": "鹏程科技广州分公司"})
    assert _cluster_of(records) == [0, 1]
    assert _cluster_of(records, _decide((0, 1, "must_link"))) == [0, 0]


def test_unknown_decision_is_refused() -> None:
    records = _records(HUAWEI, HUAWEI_TYPO)
    with pytest.raises(ValueError, match="must_link or cannot_link"):
        link(customer_features(records), SETTINGS, decisions=_decide((0, 1, "maybe")))


def test_held_pair_is_queued_and_a_decided_pair_never_again() -> None:
    records = _records(HUAWEI, HUAWEI_TYPO, HONGDA, {**HONGDA, "email": None})
    _, result = cluster_customers(records, SETTINGS)
    queue = review_queue(result.pairs, SETTINGS.review)
    assert queue.select("l", "r").rows() == [(0, 1)]
    assert queue["match_probability"][0] >= SETTINGS.review.lower
    _, decided = cluster_customers(records, SETTINGS, _decide((0, 1, "cannot_link")))
    assert review_queue(decided.pairs, SETTINGS.review).is_empty()


def _pairs(probabilities: list[float], insufficient: list[bool] | None = None) -> pl.DataFrame:
    import math

    n = len(probabilities)
    weights = [math.log2(p / (1 - p)) for p in probabilities]
    return pl.DataFrame(
        {
            "l": list(range(n)),
            "r": [i + 100 for i in range(n)],
            "match_weight": weights,
            "match_probability": probabilities,
            "must_link": [False] * n,
            "cannot_link": [False] * n,
            "steward": [False] * n,
            "insufficient": insufficient or [False] * n,
            "insufficient_rule": ["similar names"] * n,
        }
    )


@pytest.mark.parametrize(
    ("settings", "queued"),
    [
        pytest.param(ReviewSettings(), [2, 1, 3, 4], id="band-then-held-most-uncertain-first"),
        pytest.param(ReviewSettings(held_by_insufficient=False), [2, 1, 3], id="band-only"),
        pytest.param(ReviewSettings(max_pairs=2), [2, 1], id="capped"),
        pytest.param(ReviewSettings(lower=0.1, upper=0.95), [2, 1, 0, 3, 4], id="wider-band"),
    ],
)
def test_review_queue_selection(settings: ReviewSettings, queued: list[int]) -> None:
    pairs = _pairs([0.2, 0.6, 0.5, 0.85, 0.93, 0.99], insufficient=[False, False, False, False, True, False])
    assert review_queue(pairs, settings)["l"].to_list() == queued


@pytest.mark.parametrize(
    "review",
    [
        pytest.param({"lower": 0.9, "upper": 0.5}, id="lower-above-upper"),
        pytest.param({"lower": 0.5, "upper": 0.8}, id="upper-below-merge-threshold"),
        pytest.param({"max_pairs": 0}, id="no-pairs"),
    ],
)
def test_review_settings_are_checked(review: dict) -> None:
    with pytest.raises(ValidationError, match="review"):
        DedupeSettings.model_validate({**SETTINGS.model_dump(), "review": review})


def test_pair_id_is_symmetric_and_stable() -> None:
    assert pair_id("a", "b") == pair_id("b", "a") != pair_id("a", "c")
    assert len(pair_id("a", "b")) == 16


def test_latest_decision_wins_and_identities_map_to_records() -> None:
    at = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
    history = pl.DataFrame(
        {
            "left_identity": ["crm\x1fA-1", "crm\x1fB-2"],
            "right_identity": ["crm\x1fB-2", "crm\x1fA-1"],
            "decision": ["must_link", "cannot_link"],
            "reason": ["steward: a.xlsx row 3", "steward: b.xlsx row 5"],
            "decided_at": [at, at + dt.timedelta(days=1)],
        }
    )
    latest = latest_decisions(history)
    assert latest.select("decision", "reason").rows() == [("cannot_link", "steward: b.xlsx row 5")]
    records = pl.DataFrame({"source_system": ["crm", "crm", "crm"], "source_key": ["A-1", "B-2", "A-1"]})
    records = records.with_row_index("record_idx").with_columns(
        record_identity(pl.col("source_system"), pl.col("source_key")).alias("identity")
    )
    pairs = decision_pairs(records, latest).sort("l", "r")
    assert pairs.select("l", "r").rows() == [(1, 0), (1, 2)]
