"""Fellegi–Sunter match weights: u from random pairs, m and the prior by EM, term-frequency adjusted.

This is the model Splink implements. u (how often two *different* records agree at a level) is
measured on random record pairs, which are almost all non-matches. m (how often two records of the
*same* entity agree at a level) and the share of matches among candidate pairs are estimated by
expectation–maximisation over the candidate pairs, u held fixed. A pair's weight is the log2 of the
prior odds that two random records match (as in Splink: the blocking keys' agreement is counted
by their Bayes factors, not by the prior) plus one Bayes factor log2(m/u) per comparison; an
exact agreement on a common value
(a shared switchboard, a frequent name) is worth less than on a rare one: its factor uses the
value's own frequency instead of the average u.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from crm_etl.cleaners.dedupe.comparison import CodedColumns, compare_pairs
from crm_etl.cleaners.dedupe.settings import Comparison, ModelSettings

_FLOOR = 1e-6


@dataclass
class MatchModel:
    """Estimated parameters: per comparison, m and u per level (0 = different … last = exact)."""

    comparisons: list[Comparison]
    m: list[np.ndarray]
    u: list[np.ndarray]
    prior: float  # probability that two random records are duplicates: the scoring prior
    em_iterations: int
    u_pairs: int
    candidate_share: float  # share of duplicates among candidate pairs, used by EM only

    def bayes_factors(self) -> pl.DataFrame:
        """log2(m/u) per comparison and level, for reports and tests."""
        rows = [
            {"comparison": c.name, "level": level, "m": float(m[level]), "u": float(u[level]),
             "log2_bf": float(np.log2(m[level] / u[level]))}
            for c, m, u in zip(self.comparisons, self.m, self.u, strict=True)
            for level in range(c.levels)
        ]  # fmt: skip
        return pl.DataFrame(rows)


def _level_matrix(compared: pl.DataFrame, comparisons: Sequence[Comparison]) -> np.ndarray:
    """Pairs × comparisons, column by column in memory (every use reads one comparison at a time)."""
    levels = np.empty((compared.height, len(comparisons)), dtype=np.int16, order="F")
    for index, comparison in enumerate(comparisons):
        levels[:, index] = compared[f"{comparison.name}_level"].to_numpy()
    return levels


def u_sample(records: pl.DataFrame, settings: ModelSettings, id_column: str = "record_idx") -> pl.DataFrame:
    """The random record pairs (l, r ids) u is measured on: all pairs when there are few."""
    n = records.height
    ids = records.get_column(id_column).cast(pl.Int64).to_numpy()
    if n * (n - 1) // 2 <= settings.u_sample_pairs:
        left, right = np.triu_indices(n, k=1)
    else:
        rng = np.random.default_rng(settings.seed)
        left = rng.integers(0, n, settings.u_sample_pairs)
        right = rng.integers(0, n, settings.u_sample_pairs)
        keep = left != right
        left, right = left[keep], right[keep]
    return pl.DataFrame({"l": ids[left], "r": ids[right]}, schema={"l": pl.Int64, "r": pl.Int64})


def estimate_u(
    records: pl.DataFrame,
    comparisons: Sequence[Comparison],
    settings: ModelSettings,
    id_column: str = "record_idx",
    coded: CodedColumns | None = None,
    pairs: pl.DataFrame | None = None,
) -> tuple[list[np.ndarray], int]:
    """Level frequencies among random record pairs (`u_sample`), smoothed.

    `pairs`: the sample drawn already (`u_sample` of every record); `records` then need hold
    only the records those pairs name.
    """
    pairs = u_sample(records, settings, id_column) if pairs is None else pairs
    compared = compare_pairs(pairs, records, comparisons, id_column=id_column, coded=coded)
    levels = (
        _level_matrix(compared, comparisons)
        if pairs.height
        else np.zeros((0, len(comparisons)), dtype=np.int16)
    )
    u = []
    for index, comparison in enumerate(comparisons):
        column = levels[:, index]
        counts = np.bincount(column[column >= 0], minlength=comparison.levels).astype(np.float64)
        counts += settings.u_prior_strength * np.asarray(comparison.u_start())
        u.append(np.maximum(counts / counts.sum(), _FLOOR))
    return u, int(pairs.height)


def sure_pairs(compared: pl.DataFrame, settings: ModelSettings) -> int:
    """Candidate pairs the deterministic match_share_rule calls duplicates beyond doubt."""
    if settings.match_share_rule is None or compared.is_empty():
        return 0
    return int(compared.select(pl.sql_expr(settings.match_share_rule).fill_null(value=False).sum()).item())


@dataclass(frozen=True)
class PairSummary:
    """What EM and the prior read of the candidate pairs: sums, so chunks' summaries add up to the whole's.

    `patterns`: one row per distinct combination of the model comparisons' levels, `len` its
    pairs, sorted by the levels (EM's floating-point sums then run in one order, however the
    pairs were chunked); `sure`: pairs the match_share_rule holds for; `pairs`: candidate pairs.
    """

    patterns: pl.DataFrame
    sure: int
    pairs: int

    @classmethod
    def of(
        cls, compared: pl.DataFrame, comparisons: Sequence[Comparison], settings: ModelSettings
    ) -> PairSummary:
        names = [f"{c.name}_level" for c in comparisons]
        patterns = compared.group_by(names).agg(pl.len().cast(pl.Int64))
        return cls(patterns.sort(names), sure_pairs(compared, settings), compared.height)

    @classmethod
    def combined(cls, summaries: Sequence[PairSummary], comparisons: Sequence[Comparison]) -> PairSummary:
        names = [f"{c.name}_level" for c in comparisons]
        if not summaries:
            schema = {**{n: pl.Int8 for n in names}, "len": pl.Int64}
            return cls(pl.DataFrame(schema=schema), 0, 0)
        patterns = pl.concat([s.patterns for s in summaries]).group_by(names).agg(pl.col("len").sum())
        return cls(patterns.sort(names), sum(s.sure for s in summaries), sum(s.pairs for s in summaries))


def random_pair_prior(
    records: int, pairs: PairSummary, candidate_share: float, settings: ModelSettings
) -> float:
    """Probability that two random records are duplicates: expected duplicate pairs over all pairs.

    Expected duplicates come from the sure pairs and the rule's recall (or from the EM share of
    candidates when there is no rule), smoothed towards match_share_prior on tiny inputs.
    """
    total = records * (records - 1) / 2
    if total <= 0:
        return settings.match_share_prior
    if settings.match_share_rule is not None:
        expected = pairs.sure / settings.match_share_recall
    else:
        expected = candidate_share * pairs.pairs
    strength = settings.prior_strength
    share = (expected + strength * settings.match_share_prior) / (total + strength)
    return float(np.clip(share, 1e-12, 0.99))


def estimate_match_share(pairs: PairSummary, settings: ModelSettings) -> float | None:
    """Share of candidate pairs that are duplicates, from the deterministic rule and its recall."""
    if settings.match_share_rule is None or pairs.pairs == 0:
        return None
    # Smoothed towards match_share_prior like the m estimates: a handful of pairs proves little.
    strength = settings.prior_strength
    share = (pairs.sure / settings.match_share_recall + strength * settings.match_share_prior) / (
        pairs.pairs + strength
    )
    return float(np.clip(share, 1e-4, 0.99))


def estimate_m(
    pairs: PairSummary,
    comparisons: Sequence[Comparison],
    u: Sequence[np.ndarray],
    settings: ModelSettings,
) -> tuple[list[np.ndarray], float, int]:
    """EM over the distinct level patterns of the candidate pairs; returns m, prior, iterations."""
    fixed_share = estimate_match_share(pairs, settings)
    levels = _level_matrix(pairs.patterns, comparisons)
    counts = pairs.patterns["len"].to_numpy().astype(np.float64)
    prior_m = [np.asarray(c.m_start(), dtype=np.float64) for c in comparisons]
    strength = settings.prior_strength
    m = [p.copy() for p in prior_m]
    prior = fixed_share if fixed_share is not None else settings.match_share_prior
    iterations = 0
    log_u = _log_table(levels, u)
    while iterations < settings.em_iterations:
        iterations += 1
        weight = np.log2(prior / (1 - prior)) + _log_table(levels, m) - log_u
        posterior = 1.0 / (1.0 + np.exp2(-np.clip(weight, -60, 60)))
        mass = counts * posterior
        # M-step with Dirichlet / Beta pseudo-counts (maximum a posteriori, not maximum likelihood).
        new_m = []
        for index, comparison in enumerate(comparisons):
            column = levels[:, index]
            observed = column >= 0
            counted = np.bincount(column[observed], weights=mass[observed], minlength=comparison.levels)
            sums = counted.astype(np.float64) + strength * prior_m[index]
            new_m.append(np.maximum(sums / sums.sum(), _FLOOR) if sums.sum() > 0 else m[index])
        share = (mass.sum() + strength * settings.match_share_prior) / (counts.sum() + strength)
        new_prior = fixed_share if fixed_share is not None else float(np.clip(share, _FLOOR, 1 - _FLOOR))
        change = max(float(np.max(np.abs(a - b))) for a, b in zip(new_m, m, strict=True))
        change = max(change, abs(new_prior - prior))
        m, prior = new_m, new_prior
        if change < settings.em_tolerance:
            break
    return m, prior, iterations


def _log_table(levels: np.ndarray, probabilities: Sequence[np.ndarray]) -> np.ndarray:
    """Sum over comparisons of log2 p[level], skipping nulls (level -1)."""
    total = np.zeros(levels.shape[0], dtype=np.float64)
    for index, table in enumerate(probabilities):
        # Level -1 reads the appended 0 at the end of the table: a missing value is no evidence.
        logs = np.append(np.log2(np.maximum(table, _FLOOR)), 0.0)
        total += logs[levels[:, index]]
    return total


def fit(
    records: pl.DataFrame,
    pairs: PairSummary,
    comparisons: Sequence[Comparison],
    settings: ModelSettings,
    id_column: str = "record_idx",
    coded: CodedColumns | None = None,
    sample: pl.DataFrame | None = None,
    population: int | None = None,
) -> MatchModel:
    """Estimate u on random pairs of `records`, then m and the prior on the candidate pairs' summary.

    `sample` and `population`: the u sample drawn already from all `population` records, which
    `records` need then hold only the records of (see `estimate_u`).
    """
    u, u_pairs = estimate_u(records, comparisons, settings, id_column, coded, sample)
    everyone = records.height if population is None else population
    if pairs.pairs == 0:
        m = [np.asarray(c.m_start(), dtype=np.float64) for c in comparisons]
        share = settings.match_share_prior
        return MatchModel(list(comparisons), m, u, share, 0, u_pairs, share)
    m, share, iterations = estimate_m(pairs, comparisons, u, settings)
    prior = random_pair_prior(everyone, pairs, share, settings)
    return MatchModel(list(comparisons), m, u, prior, iterations, u_pairs, share)


def prior_bits(model: MatchModel) -> float:
    """log2 prior odds that two random records are duplicates: where every pair's weight starts."""
    return float(np.log2(model.prior / (1 - model.prior)))


def comparison_bits(compared: pl.DataFrame, model: MatchModel) -> Iterator[tuple[Comparison, np.ndarray]]:
    """Per comparison, each pair's log2 Bayes factor m/u at its level, term-frequency adjusted.

    A missing value (level -1) is 0 bits; an exact agreement on a value with frequency tf counts
    log2(m / tf) instead of log2(m / u). One comparison at a time: a million records' pairs times
    every comparison would not fit in memory at once.
    """
    for index, comparison in enumerate(model.comparisons):
        levels = compared[f"{comparison.name}_level"].to_numpy()
        # Level -1 reads the appended 0 at the end of the table: a missing value is no evidence.
        table = np.log2(np.maximum(model.m[index], _FLOOR)) - np.log2(np.maximum(model.u[index], _FLOOR))
        bits = np.append(table, 0.0)[levels]
        column = f"{comparison.name}_tf"
        if comparison.term_frequency and column in compared.columns:
            top = comparison.levels - 1
            tf = compared[column].fill_null(model.u[index][top]).to_numpy()
            exact = levels == top
            bits[exact] += np.log2(model.u[index][top] / np.maximum(tf[exact], _FLOOR))
        yield comparison, bits


def match_weights(compared: pl.DataFrame, model: MatchModel) -> pl.Series:
    """log2 odds that each pair is a match: the prior plus every comparison's bits."""
    weight = np.full(compared.height, prior_bits(model))
    for _, bits in comparison_bits(compared, model):
        weight += bits
    return pl.Series("match_weight", weight)


def probability(weight: pl.Expr) -> pl.Expr:
    """Match probability from a log2-odds weight."""
    return 1.0 / (1.0 + pl.lit(2.0).pow(-weight.clip(-60, 60)))
