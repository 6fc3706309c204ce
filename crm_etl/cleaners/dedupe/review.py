"""A steward's review of uncertain pairs: which scored pairs to ask about, and answers as engine constraints.

Decisions name records by a stable identity (a string per record, e.g. source system + key), never
by a run's row numbers, so a decision taken on one run's review file holds in every later run.
"""

from __future__ import annotations

import hashlib

import polars as pl

from crm_etl.cleaners.dedupe.model import probability
from crm_etl.cleaners.dedupe.settings import ReviewSettings

DECISIONS = ("must_link", "cannot_link")
# A stored decision: the two identities (in either order), the decision, where it was taken, when.
STORED_SCHEMA = {
    "left_identity": pl.String,
    "right_identity": pl.String,
    "decision": pl.String,
    "reason": pl.String,
    "decided_at": pl.Datetime(time_zone="UTC"),
}


def pair_id(left_identity: str, right_identity: str) -> str:
    """A pair's stable ID: the same for (a, b) and (b, a), in every run."""
    first, second = sorted((left_identity, right_identity))
    return hashlib.sha256(f"{first}\x1f{second}".encode()).hexdigest()[:16]


def with_pair_ids(
    frame: pl.DataFrame, left: str = "left_identity", right: str = "right_identity"
) -> pl.DataFrame:
    """`frame` with a `pair_id` column from two identity columns (hashed once per distinct pair)."""
    distinct = frame.select(left, right).unique()
    ids = [pair_id(a, b) for a, b in distinct.iter_rows()]
    return frame.join(distinct.with_columns(pl.Series("pair_id", ids, dtype=pl.String)), on=[left, right])


def latest_decisions(history: pl.DataFrame) -> pl.DataFrame:
    """One decision per pair, the latest by `decided_at` (a pair reviewed again keeps its newest answer).

    `history` has STORED_SCHEMA's columns, oldest first where `decided_at` ties.
    """
    if history.is_empty():
        return history.with_columns(pl.lit(None, pl.String).alias("pair_id"))
    return (
        with_pair_ids(history)
        .with_row_index("_order")
        .sort("decided_at", "_order")
        .unique("pair_id", keep="last", maintain_order=True)
        .drop("_order")
    )


def decision_pairs(
    records: pl.DataFrame, decisions: pl.DataFrame, id_column: str = "record_idx", identity: str = "identity"
) -> pl.DataFrame:
    """Decisions by identity as engine constraints (l, r, decision, reason) between this run's record ids.

    A decision whose record is not in this run (its file withdrawn) constrains nothing; an identity
    several records share (one legacy ID in two files) constrains each of them.
    """
    ids = records.select(pl.col(identity), pl.col(id_column).cast(pl.Int64).alias("id"))
    return (
        decisions.join(ids.rename({identity: "left_identity", "id": "l"}), on="left_identity")
        .join(ids.rename({identity: "right_identity", "id": "r"}), on="right_identity")
        .filter(pl.col("l") != pl.col("r"))
        .select("l", "r", "decision", "reason")
    )


def uncertainty(probability: pl.Expr) -> pl.Expr:
    """1 where a match probability is 0.5, 0 where it is certain either way."""
    return 1 - (2 * probability - 1).abs()


def review_queue(pairs: pl.DataFrame, settings: ReviewSettings) -> pl.DataFrame:
    """The scored pairs a steward should decide, most uncertain first, at most `settings.max_pairs`.

    Queued: pairs with `lower` <= match_probability < `upper` that no rule decided, and (with
    `held_by_insufficient`) pairs scored at `upper` or above that only an `insufficient` rule held
    apart. A pair a steward has decided is never queued again. `uncertainty` is 1 where the model's
    probability is 0.5 and 0 where it is certain; `queued_because` is `band` or the rule's name.
    """
    model = probability(pl.col("match_weight"))
    p = pl.col("match_probability")
    free = ~pl.col("must_link") & ~pl.col("cannot_link") & ~pl.col("steward").fill_null(value=False)
    band = p.is_between(settings.lower, settings.upper, closed="left")
    held = (p >= settings.upper) & pl.col("insufficient") & pl.lit(settings.held_by_insufficient)
    return (
        pairs.filter(free & (band | held))
        .with_columns(
            model.alias("model_probability"),
            uncertainty(model).alias("uncertainty"),
            pl.when(band).then(pl.lit("band")).otherwise("insufficient_rule").alias("queued_because"),
        )
        .sort(["uncertainty", "l", "r"], descending=[True, False, False])
        .head(settings.max_pairs)
    )


def decided_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
    """The scored pairs a steward's decision settled this run, with the model's own probability."""
    decided = pairs.filter(pl.col("steward").fill_null(value=False))
    return decided.with_columns(
        probability(pl.col("match_weight")).alias("model_probability"),
        pl.when(pl.col("must_link"))
        .then(pl.lit("must_link"))
        .otherwise(pl.lit("cannot_link"))
        .alias("decision"),
    )
