"""Candidate pairs compared and scored chunk by chunk give, to the bit, what all pairs at once give.

The cluster run (flows/cluster_stages.py) relies on this: its chunks are compared and scored on
other processes, and EM reads only the chunks' summed `PairSummary`. Here the chunks stay in
this process (`ChunkedScoring`, a second real `PairScoring`), so every chunk size is cheap to try.
"""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from bench.dedupe_data import generate
from crm_etl.cleaners.customer_matching import cluster_customers, customer_features
from crm_etl.cleaners.dedupe.comparison import code_columns, record_term_frequencies
from crm_etl.cleaners.dedupe.model import MatchModel, PairSummary, u_sample
from crm_etl.cleaners.dedupe.scoring import (
    ScoredPairs,
    compare_chunk,
    fit_model,
    records_of_pairs,
    score_chunk,
    summarise,
)
from crm_etl.cleaners.dedupe.settings import LinkageSettings
from crm_etl.schemas import load_config

SETTINGS = load_config().dedupe


class ChunkedScoring:
    """Pairs in chunks of `size` rows, each compared with only the records it names (carrying the
    whole population's term frequencies) and scored on its own; the summaries summed; u fitted on
    the records of its random pairs only. What the cluster's tasks do, in this process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.compared: list[pl.DataFrame] = []
        self.records: pl.DataFrame | None = None

    def compare(
        self, pairs: pl.DataFrame, records: pl.DataFrame, settings: LinkageSettings, id_column: str
    ) -> PairSummary:
        tf = record_term_frequencies(records, settings.comparisons, settings.model.tf_minimum_population)
        with_tf = records.with_columns(tf.values())
        self.compared = []
        for start in range(0, max(pairs.height, 1), self.size):
            part = pairs.slice(start, self.size)
            self.compared.append(
                compare_chunk(part, records_of_pairs(with_tf, part, id_column), settings, id_column)
            )
        return PairSummary.combined(
            [summarise(c, settings) for c in self.compared], settings.model_comparisons
        )

    def fit(
        self, records: pl.DataFrame, summary: PairSummary, settings: LinkageSettings, id_column: str
    ) -> MatchModel:
        sample = u_sample(records, settings.model, id_column)
        named = records_of_pairs(records, sample, id_column)
        coded = code_columns(named, settings.comparisons)
        return fit_model(named, summary, settings, id_column, coded, sample, records.height)

    def score(self, model: MatchModel, decided: pl.DataFrame, settings: LinkageSettings) -> ScoredPairs:
        scored = [score_chunk(c, model, settings, decided) for c in self.compared]
        return ScoredPairs(pl.concat([s.pairs for s in scored]), pl.concat([s.conflicts for s in scored]))


@pytest.fixture(scope="module")
def records() -> pl.DataFrame:
    return generate(3_000, seed=11).drop("entity", "case", "true_name", "negative_of", "negative_kind")


@pytest.fixture(scope="module")
def whole(records):
    return cluster_customers(records, SETTINGS)


@pytest.mark.parametrize("size", [1_000, 2_345, 50_000])
def test_any_chunking_gives_the_same_pairs_model_and_clusters(records, whole, size):
    clusters, linkage = whole
    chunked_clusters, chunked = cluster_customers(records, SETTINGS, scoring=ChunkedScoring(size))
    assert linkage.pairs.height > 2 * 1_000  # several chunks at the smaller sizes
    assert_frame_equal(chunked.pairs, linkage.pairs)
    assert_frame_equal(chunked_clusters, clusters)
    assert chunked.model.prior == linkage.model.prior
    assert chunked.model.em_iterations == linkage.model.em_iterations
    for mine, theirs in zip(chunked.model.m, linkage.model.m, strict=True):
        assert mine.tolist() == theirs.tolist()


def test_summaries_add_up_to_the_whole(records, whole):
    _, linkage = whole
    features = customer_features(records)
    compared = compare_chunk(linkage.pairs.select("l", "r"), features, SETTINGS, "record_idx")
    parts = [summarise(compared.slice(start, 700), SETTINGS) for start in range(0, compared.height, 700)]
    combined = PairSummary.combined(parts, SETTINGS.model_comparisons)
    alone = summarise(compared, SETTINGS)
    assert_frame_equal(combined.patterns, alone.patterns)
    assert (combined.sure, combined.pairs) == (alone.sure, alone.pairs) == (alone.sure, compared.height)
    assert alone.patterns["len"].sum() == compared.height


def test_no_pairs_is_one_empty_chunk(records):
    lonely = records.head(1)
    clusters, linkage = cluster_customers(lonely, SETTINGS, scoring=ChunkedScoring(1_000))
    assert linkage.pairs.is_empty()
    assert clusters["cluster"].to_list() == lonely["record_idx"].to_list()
