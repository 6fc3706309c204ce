"""Why two records were or were not merged: each comparison's bits, the rule that decided, the outcome.

Splink's waterfall chart, as data: a pair's match weight starts at the prior (log2 odds that two
random records are duplicates) and each comparison adds its log2 Bayes factor (m/u at the pair's
level, term-frequency adjusted), exactly the terms `model.match_weights` sums. A deterministic
rule may override the sum; the clustering then keeps the pair as a link, cuts it as the weakest
link of a chain, or leaves it below the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from crm_etl.cleaners.dedupe.engine import LinkageResult, accepted
from crm_etl.cleaners.dedupe.model import comparison_bits, prior_bits
from crm_etl.cleaners.dedupe.settings import Comparison

DecidedBy = Literal["cannot_link", "must_link", "insufficient", "threshold"]
Outcome = Literal["kept", "cut", "held_apart", "below_threshold"]

_METRIC_TEXT = {
    "exact": "equal or not",
    "jaro_winkler": "Jaro-Winkler similarity (1 = equal)",
    "ratio": "Indel similarity (1 = equal)",
    "levenshtein": "edit distance (0 = equal)",
}


def evidence_columns(comparisons: Sequence[Comparison]) -> list[tuple[str, str, str]]:
    """(column, SQL type, comment) of the per-comparison evidence `pair_evidence` writes."""
    columns = []
    for c in comparisons:
        label = c.label or c.name
        cuts = f" at {', '.join(f'{t:g}' for t in c.thresholds)}" if c.thresholds else ""
        tf = (
            "; exact agreement on a common value counts for less (term frequency)" if c.term_frequency else ""
        )
        columns += [
            (
                f"{c.name}_level",
                "TINYINT",
                f"{label}: comparison level of {c.column} ({c.metric}{cuts}), 0 = different … "
                f"{c.levels - 1} = exact; NULL = missing on either side or not comparable (no evidence)",
            ),
            (f"{c.name}_sim", "FLOAT", f"{label}: {_METRIC_TEXT[c.metric]} of the two {c.column} values"),
            (
                f"{c.name}_bits",
                "FLOAT",
                f"{label}: evidence in bits, log2(m/u) at this level{tf}; 0 when NULL level. "
                "prior_bits + every *_bits = match_weight",
            ),
        ]
    return columns


def pair_evidence(result: LinkageResult) -> pl.DataFrame:
    """Per scored pair: l, r, each comparison's level, similarity and bits, the weight, the decision.

    `decided_by`: a cannot_link or must_link rule, an insufficient rule that kept a probable pair
    apart, else the threshold. `link`: kept (holds its cluster together), cut (accepted, then cut as
    the weakest link of a chained cluster), held_apart (by a rule), below_threshold. `merged`: the
    two records ended in one cluster, by this pair or through others.
    """
    settings = result.settings
    pairs = result.pairs
    evidence: list[pl.Series | pl.Expr] = []
    for comparison, bits in comparison_bits(pairs, result.model):
        level = pl.col(f"{comparison.name}_level")
        evidence += [
            pl.when(level >= 0).then(level).alias(f"{comparison.name}_level"),
            pl.col(f"{comparison.name}_sim"),
            pl.Series(f"{comparison.name}_bits", bits, dtype=pl.Float32),
        ]
    probable = pl.col("match_probability") >= settings.model.match_probability
    decided_by = (
        pl.when("cannot_link")
        .then(pl.lit("cannot_link"))
        .when("must_link")
        .then(pl.lit("must_link"))
        .when(pl.col("insufficient") & probable)
        .then(pl.lit("insufficient"))
        .otherwise(pl.lit("threshold"))
    )
    rule = (
        pl.when("cannot_link")
        .then("cannot_link_rule")
        .when("must_link")
        .then("must_link_rule")
        .when(pl.col("insufficient") & probable)
        .then("insufficient_rule")
    )
    link = (
        pl.when(accepted(settings) & pl.col("_kept"))
        .then(pl.lit("kept"))
        .when(accepted(settings))
        .then(pl.lit("cut"))
        .when(pl.col("decided_by").is_in(["cannot_link", "insufficient"]))
        .then(pl.lit("held_apart"))
        .otherwise(pl.lit("below_threshold"))
    )
    cluster = result.clusters.select(pl.col("id").cast(pl.Int64), "cluster")
    return (
        pairs.select(
            "l",
            "r",
            *evidence,
            pl.lit(prior_bits(result.model), pl.Float32).alias("prior_bits"),
            "match_weight",
            "match_probability",
            decided_by.alias("decided_by"),
            rule.alias("rule"),
            "must_link",
            "insufficient",
        )
        .join(
            result.links.select("l", "r", pl.lit(value=True).alias("_kept")),
            on=["l", "r"],
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("_kept").fill_null(value=False))
        .with_columns(link.alias("link"))
        .join(cluster.rename({"id": "l", "cluster": "_lc"}), on="l", how="left", maintain_order="left")
        .join(cluster.rename({"id": "r", "cluster": "_rc"}), on="r", how="left", maintain_order="left")
        .with_columns(
            (pl.col("_lc") == pl.col("_rc")).alias("merged"),
            pl.lit(settings.model.match_probability, pl.Float32).alias("match_threshold"),
        )
        .drop("_kept", "_lc", "_rc", "must_link", "insufficient")
    )


@dataclass(frozen=True)
class Step:
    """One line of a waterfall: a comparison's level, similarity and bits, and the running total."""

    comparison: str
    level: int | None
    similarity: float | None
    bits: float
    total: float


def waterfall(pair: Mapping[str, object], comparisons: Sequence[str]) -> list[Step]:
    """The steps from `prior_bits` through each comparison's `<name>_bits` to the pair's match weight."""
    total = float(pair["prior_bits"])  # type: ignore[arg-type]
    steps = [Step("prior", None, None, total, total)]
    for name in comparisons:
        bits = float(pair[f"{name}_bits"] or 0.0)  # type: ignore[arg-type]
        total += bits
        level, similarity = pair[f"{name}_level"], pair[f"{name}_sim"]
        steps.append(
            Step(
                name,
                None if level is None else int(level),  # type: ignore[call-overload]
                None if similarity is None else float(similarity),  # type: ignore[arg-type]
                bits,
                total,
            )
        )
    return steps
