"""Entity resolution: blocking → comparison → Fellegi–Sunter scoring → rules → chaining-safe clusters."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import polars.selectors as cs

from crm_etl.cleaners.dedupe.blocking import candidate_pairs
from crm_etl.cleaners.dedupe.clustering import split_chained_clusters
from crm_etl.cleaners.dedupe.comparison import code_columns, compare_pairs
from crm_etl.cleaners.dedupe.copies import fold_copies
from crm_etl.cleaners.dedupe.model import MatchModel, fit, match_weights, probability
from crm_etl.cleaners.dedupe.settings import LinkageSettings, PairRule

_SURE = 60.0  # log2 odds used for a must-link pair: a certainty no field evidence can outweigh


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


def _any_rule(rules: list[PairRule]) -> tuple[pl.Expr, pl.Expr]:
    """(whether any rule holds, the name of the first one that does)."""
    if not rules:
        return pl.lit(value=False), pl.lit(None, pl.String)
    holds = [pl.sql_expr(rule.when).fill_null(value=False) for rule in rules]
    name: pl.Expr = pl.lit(None, pl.String)
    for rule, expr in reversed(list(zip(rules, holds, strict=True))):
        name = pl.when(expr).then(pl.lit(rule.name)).otherwise(name)
    return pl.any_horizontal(holds), name


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


def _with_decisions(scored: pl.DataFrame, decided: pl.DataFrame) -> pl.DataFrame:
    """A steward's decision wins over every rule: it sets must_link or cannot_link and names itself."""
    joined = scored.join(
        decided.rename({"decision": "_decision", "reason": "_reason"}), on=["l", "r"], how="left"
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


def link(
    records: pl.DataFrame,
    settings: LinkageSettings,
    id_column: str = "record_idx",
    decisions: pl.DataFrame | None = None,
) -> LinkageResult:
    """Resolve records into clusters of one entity each; pure, deterministic for a given seed.

    `decisions` (l, r, decision `must_link` | `cannot_link`, reason) are a steward's: they win over
    the model and every rule, and a decided pair that no blocking rule pairs is scored all the same.
    A group of identical records too large for a block is linked as one record (cleaners/dedupe/copies.py).
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
    coded = code_columns(records, settings.comparisons)
    compared = compare_pairs(
        pairs,
        records,
        settings.comparisons,
        settings.rule_columns,
        id_column,
        tf_minimum_population=settings.model.tf_minimum_population,
        coded=coded,
    )
    model = fit(records, compared, settings.model_comparisons, settings.model, id_column, coded)
    del coded  # every distinct value as a Python string: hundreds of MB on a million records
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
            .then(-_SURE)
            .when("must_link")
            .then(_SURE)
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
    scored = scored.drop(cs.starts_with("l_", "r_"))
    del compared
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
            kept.select(pl.col("l").alias("id"), "match_probability", "match_reason", "weight"),
            kept.select(pl.col("r").alias("id"), "match_probability", "match_reason", "weight"),
        ]
    )
    best = ends.sort(["id", "weight"], descending=[False, True]).group_by("id", maintain_order=True).first()
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
