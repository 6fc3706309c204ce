"""Entity resolution: blocking → comparison → Fellegi–Sunter scoring → rules → chaining-safe clusters."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crm_etl.cleaners.dedupe.blocking import candidate_pairs
from crm_etl.cleaners.dedupe.clustering import split_chained_clusters
from crm_etl.cleaners.dedupe.copies import fold_copies
from crm_etl.cleaners.dedupe.model import MatchModel
from crm_etl.cleaners.dedupe.scoring import InMemoryScoring, PairScoring
from crm_etl.cleaners.dedupe.settings import LinkageSettings


@dataclass
class LinkageResult:
    """Every scored candidate pair, the clusters, the fitted model and the figures of the run."""

    pairs: pl.DataFrame
    clusters: pl.DataFrame
    model: MatchModel
    stats: dict[str, float]
    # The accepted pairs (l, r) that hold the clusters together; accepted pairs not here were cut.
    links: pl.DataFrame
    settings: LinkageSettings


def match_reason(settings: LinkageSettings) -> pl.Expr:
    """`mobile exact; company 0.94; rule: …` from a pair's comparison levels and rules."""
    parts: list[pl.Expr] = []
    for c in settings.model_comparisons:
        label = c.label or c.name
        level, sim = pl.col(f"{c.name}_level"), pl.col(f"{c.name}_sim")
        text = pl.lit(f"{label} ") + (sim.round(2).cast(pl.String) if c.metric != "levenshtein" else
                                       pl.lit("edit distance ") + sim.cast(pl.Int32).cast(pl.String))  # fmt: skip
        parts.append(pl.when(level == c.levels - 1).then(pl.lit(f"{label} exact")).when(level > 0).then(text))
    # A steward's reason names itself (`steward: review.xlsx row 3`); a rule's is prefixed `rule: `.
    rule = pl.when(pl.col("steward")).then(pl.lit("")).otherwise(pl.lit("rule: ")) + pl.col("must_link_rule")
    parts.append(pl.when(pl.col("must_link")).then(rule))
    return pl.concat_str(parts, separator="; ", ignore_nulls=True)


def accepted(settings: LinkageSettings) -> pl.Expr:
    """Pairs that may join a cluster: probable enough, and not merely insufficient evidence."""
    return (pl.col("match_probability") >= settings.model.match_probability) & (
        pl.col("must_link") | ~pl.col("insufficient")
    )


DECISION_SCHEMA = {"l": pl.Int64, "r": pl.Int64, "decision": pl.String, "reason": pl.String}


def _decided_pairs(decisions: pl.DataFrame | None) -> pl.DataFrame:
    """Steward decisions as (l < r, decision, reason), one per pair: a must-link or cannot-link each."""
    if decisions is None or decisions.is_empty():
        return pl.DataFrame(schema=DECISION_SCHEMA)
    unknown = set(decisions["decision"].unique().to_list()) - {"must_link", "cannot_link"}
    if unknown:
        raise ValueError(f"steward decisions must be must_link or cannot_link, not {sorted(unknown)}")
    return (
        decisions.select(
            pl.min_horizontal("l", "r").cast(pl.Int64).alias("l"),
            pl.max_horizontal("l", "r").cast(pl.Int64).alias("r"),
            "decision",
            "reason",
        )
        .filter(pl.col("l") != pl.col("r"))
        .unique(["l", "r"], keep="last", maintain_order=True)
    )


def link(
    records: pl.DataFrame,
    settings: LinkageSettings,
    id_column: str = "record_idx",
    decisions: pl.DataFrame | None = None,
    scoring: PairScoring | None = None,
) -> LinkageResult:
    """Resolve records into clusters of one entity each; pure, deterministic for a given seed.

    `decisions` (l, r, decision `must_link` | `cannot_link`, reason) are a steward's: they win over
    the model and every rule, and a decided pair that no blocking rule pairs is scored all the same.
    A group of identical records too large for a block is linked as one record (cleaners/dedupe/copies.py).
    `scoring`: where the candidate pairs are compared and scored (cleaners/dedupe/scoring.py); by
    default in this process, all at once. Every `PairScoring` gives the same result.
    """
    read = [c for c in settings.columns if c in records.columns]
    copies = fold_copies(records, settings.blocking, read, id_column)
    everyone = records.height
    records = copies.linked
    ids = records.get_column(id_column).cast(pl.Int64)
    # A decision about a folded copy is one about its representative, whose cluster it shares.
    decided = (
        _decided_pairs(decisions)
        .with_columns(copies.representative(pl.col("l")), copies.representative(pl.col("r")))
        .select(
            pl.min_horizontal("l", "r").alias("l"),
            pl.max_horizontal("l", "r").alias("r"),
            "decision",
            "reason",
        )
        .filter(pl.col("l") != pl.col("r"))
        .unique(["l", "r"], keep="last", maintain_order=True)
        .join(pl.DataFrame({"l": ids}), on="l", how="semi")
        .join(pl.DataFrame({"r": ids}), on="r", how="semi")
    )
    blocked = candidate_pairs(records, settings.blocking, id_column, identity_columns=read)
    unblocked = decided.join(blocked, on=["l", "r"], how="anti").select(
        "l",
        "r",
        pl.lit(None, blocked.schema["rule"]).alias("rule"),
        pl.lit(None, pl.Boolean).alias("sub_block"),
    )
    pairs = pl.concat([blocked, unblocked]).sort("l", "r") if not unblocked.is_empty() else blocked
    scoring = InMemoryScoring() if scoring is None else scoring
    summary = scoring.compare(pairs, records, settings, id_column)
    model = scoring.fit(records, summary, settings, id_column)
    scored_pairs = scoring.score(model, decided, settings)
    scored, conflicts = scored_pairs.pairs, scored_pairs.conflicts
    del scored_pairs
    accepted_pairs = scored.filter(accepted(settings))
    components, kept, cut = split_chained_clusters(
        ids, accepted_pairs.select("l", "r", "weight"), conflicts, settings.model.max_split_rounds
    )
    # Reasons are text: written only for the links that hold clusters together.
    links = scored.join(kept.select("l", "r"), on=["l", "r"]).with_columns(
        match_reason(settings).alias("match_reason")
    )
    clusters = copies.unfold(_lineage(components, links))
    stats = {
        "records": float(everyone),
        "identical_copies": float(copies.folded),
        "candidate_pairs": float(pairs.height),
        "sub_block_pairs": float(blocked["sub_block"].sum()),
        "pairs_per_record": pairs.height / max(records.height, 1),
        "accepted_pairs": float(accepted_pairs.height),
        "steward_decisions": float(decided.height),
        "edges_cut": float(cut),
        "clusters": float(clusters["cluster"].n_unique()),
        "prior": model.prior,
        "candidate_share": model.candidate_share,
        "em_iterations": float(model.em_iterations),
    }
    return LinkageResult(
        pairs=scored,
        clusters=clusters,
        model=model,
        stats=stats,
        links=kept.select("l", "r"),
        settings=settings,
    )


def _lineage(components: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    """Per record: its cluster, and the score and reason of its strongest link inside the cluster."""
    ends = pl.concat(
        [
            kept.select(pl.col("l").alias("id"), pl.col("r").alias("other"), "match_probability", "match_reason", "weight"),
            kept.select(pl.col("r").alias("id"), pl.col("l").alias("other"), "match_probability", "match_reason", "weight"),
        ]
    )  # fmt: skip
    # Of equally strong links (every must-link pair weighs the same), the one to the lowest record:
    # chosen by the values alone, whatever order the pairs come in.
    best = (
        ends.sort(["id", "weight", "other"], descending=[False, True, False])
        .group_by("id", maintain_order=True)
        .first()
        .drop("other")
    )
    return (
        components.join(best, on="id", how="left")
        .select(
            "id",
            pl.col("component").alias("cluster"),
            pl.col("match_probability").round(4).alias("match_score"),
            pl.col("match_reason").fill_null(pl.lit("no duplicate found")),
        )
        .sort("id")
    )
