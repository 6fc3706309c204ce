"""Candidate pairs compared and scored chunk by chunk: the same result in one process or on many.

Between blocking and clustering, the engine (cleaners/dedupe/engine.py) does three things to the
candidate pairs: compares them (levels per comparison), fits the model (u on random record pairs,
m and the prior by EM) and scores them (weights, the deterministic rules, a steward's decisions).
Comparing and scoring read each pair on its own, and EM reads the pairs only through a
`PairSummary` whose parts are sums, so a chunk's pairs can be compared and scored anywhere and
the chunks' summaries added up: any chunking gives the same numbers, to the bit.

`PairScoring` is where the pairs are worked on. `InMemoryScoring` keeps everything in this
process (the single-process run); flows/cluster_scoring.py fans the chunks out to Dask workers,
exchanging Parquet files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import polars as pl
import polars.selectors as cs

from crm_etl.cleaners.dedupe.comparison import CodedColumns, code_columns, compare_pairs
from crm_etl.cleaners.dedupe.model import MatchModel, PairSummary, fit, match_weights, probability
from crm_etl.cleaners.dedupe.settings import LinkageSettings, PairRule

SURE = 60.0  # log2 odds used for a must-link pair: a certainty no field evidence can outweigh


@dataclass
class ScoredPairs:
    """Scored candidate pairs (without the records' values at both ends) and the pairs that conflict."""

    pairs: pl.DataFrame
    conflicts: pl.DataFrame  # (l, r): pairs too unlikely (or forbidden) to share a cluster


class PairScoring(Protocol):
    """Compares, fits on and scores the candidate pairs of one run (in this order, each once)."""

    def compare(
        self, pairs: pl.DataFrame, records: pl.DataFrame, settings: LinkageSettings, id_column: str
    ) -> PairSummary:
        """Compare every pair (their order is kept); return what EM reads of them."""
        ...

    def fit(
        self, records: pl.DataFrame, summary: PairSummary, settings: LinkageSettings, id_column: str
    ) -> MatchModel:
        """The model: u from random pairs of `records`, m and the prior from `summary`."""
        ...

    def score(self, model: MatchModel, decided: pl.DataFrame, settings: LinkageSettings) -> ScoredPairs:
        """Every compared pair scored, in the order they were compared."""
        ...


def compare_chunk(
    pairs: pl.DataFrame,
    records: pl.DataFrame,
    settings: LinkageSettings,
    id_column: str,
    coded: CodedColumns | None = None,
) -> pl.DataFrame:
    """One chunk of candidate pairs with their comparison levels and the columns the rules read."""
    return compare_pairs(
        pairs,
        records,
        settings.comparisons,
        settings.rule_columns,
        id_column,
        tf_minimum_population=settings.model.tf_minimum_population,
        coded=coded,
    )


def records_of_pairs(records: pl.DataFrame, pairs: pl.DataFrame, id_column: str) -> pl.DataFrame:
    """The records either end of `pairs` names, in `records`' order: all a chunk's comparison reads
    once `records` carry their term frequencies (comparison.record_term_frequencies)."""
    ids = pl.concat([pairs.get_column("l"), pairs.get_column("r")]).unique().to_frame(id_column)
    return records.join(ids, on=id_column, how="semi", maintain_order="left")


def summarise(compared: pl.DataFrame, settings: LinkageSettings) -> PairSummary:
    return PairSummary.of(compared, settings.model_comparisons, settings.model)


def fit_model(
    records: pl.DataFrame,
    summary: PairSummary,
    settings: LinkageSettings,
    id_column: str,
    coded: CodedColumns | None = None,
    sample: pl.DataFrame | None = None,
    population: int | None = None,
) -> MatchModel:
    """The model from the candidate pairs' summary; `sample`/`population`: see model.fit."""
    model = settings.model
    return fit(records, summary, settings.model_comparisons, model, id_column, coded, sample, population)


def _any_rule(rules: list[PairRule]) -> tuple[pl.Expr, pl.Expr]:
    """(whether any rule holds, the name of the first one that does)."""
    if not rules:
        return pl.lit(value=False), pl.lit(None, pl.String)
    holds = [pl.sql_expr(rule.when).fill_null(value=False) for rule in rules]
    name: pl.Expr = pl.lit(None, pl.String)
    for rule, expr in reversed(list(zip(rules, holds, strict=True))):
        name = pl.when(expr).then(pl.lit(rule.name)).otherwise(name)
    return pl.any_horizontal(holds), name


def _with_decisions(scored: pl.DataFrame, decided: pl.DataFrame) -> pl.DataFrame:
    """A steward's decision wins over every rule: it sets must_link or cannot_link and names itself."""
    joined = scored.join(
        decided.rename({"decision": "_decision", "reason": "_reason"}),
        on=["l", "r"],
        how="left",
        maintain_order="left",
    )
    steward = pl.col("_decision").is_not_null()
    columns = []
    for kind in ("must_link", "cannot_link"):
        mine = pl.col("_decision") == kind
        columns += [
            pl.when(steward).then(mine).otherwise(kind).alias(kind),
            pl.when(steward)
            .then(pl.when(mine).then("_reason"))
            .otherwise(f"{kind}_rule")
            .alias(f"{kind}_rule"),
        ]
    return joined.with_columns(*columns, steward.alias("steward")).drop("_decision", "_reason")


def score_chunk(
    compared: pl.DataFrame, model: MatchModel, settings: LinkageSettings, decided: pl.DataFrame
) -> ScoredPairs:
    """One chunk's pairs scored: field evidence, then the rules, then a steward's decisions."""
    must, must_name = _any_rule(settings.must_link)
    cannot, cannot_name = _any_rule(settings.cannot_link)
    insufficient, insufficient_name = _any_rule(settings.insufficient)
    scored = (
        compared.with_columns(match_weights(compared, model))
        .with_columns(
            must.alias("must_link"),
            must_name.alias("must_link_rule"),
            cannot.alias("cannot_link"),
            cannot_name.alias("cannot_link_rule"),
            insufficient.alias("insufficient"),
            insufficient_name.alias("insufficient_rule"),
        )
        .pipe(_with_decisions, decided)
        .with_columns(
            # A cannot-link rule wins over everything; a must-link rule over the field evidence.
            pl.when("cannot_link")
            .then(-SURE)
            .when("must_link")
            .then(SURE)
            .otherwise("match_weight")
            .alias("weight")
        )
        .with_columns(probability(pl.col("weight")).alias("match_probability"))
    )
    unlikely = pl.col("match_probability") < settings.model.conflict_probability
    if settings.model.conflict_when is not None:
        unlikely &= pl.sql_expr(settings.model.conflict_when).fill_null(value=False)
    conflicts = scored.filter(unlikely | pl.col("cannot_link")).select("l", "r")
    # The records' values at both ends were for the rules, all of which have been read now.
    return ScoredPairs(scored.drop(cs.starts_with("l_", "r_")), conflicts)


class InMemoryScoring:
    """All pairs in one chunk in this process: the single-process run."""

    def __init__(self) -> None:
        self._compared: pl.DataFrame | None = None
        self._coded: CodedColumns | None = None

    def compare(
        self, pairs: pl.DataFrame, records: pl.DataFrame, settings: LinkageSettings, id_column: str
    ) -> PairSummary:
        self._coded = code_columns(records, settings.comparisons)
        self._compared = compare_chunk(pairs, records, settings, id_column, self._coded)
        return summarise(self._compared, settings)

    def fit(
        self, records: pl.DataFrame, summary: PairSummary, settings: LinkageSettings, id_column: str
    ) -> MatchModel:
        model = fit_model(records, summary, settings, id_column, self._coded)
        self._coded = None  # every distinct value as a Python string: hundreds of MB on a million records
        return model

    def score(self, model: MatchModel, decided: pl.DataFrame, settings: LinkageSettings) -> ScoredPairs:
        if self._compared is None:
            raise RuntimeError("score() before compare()")
        compared, self._compared = self._compared, None
        return score_chunk(compared, model, settings, decided)
