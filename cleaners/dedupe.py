"""Deduplicate customer records into clusters of one real-world company, with an explanation per record."""

from __future__ import annotations

import polars as pl

from cleaners.clustering import connected_components, key_edges

# Evidence that two records are the same company when the values are equal.
# A landline is deliberately absent: a switchboard or a reseller's number is
# shared by different companies.
EXACT_KEYS: dict[str, pl.Expr] = {
    "mobile": pl.col("mobile"),
    "email": pl.col("email"),
    "legacy_id": pl.when(pl.col("legacy_id").is_not_null()).then(
        pl.col("source_system") + pl.lit(":") + pl.col("legacy_id")
    ),
    "company": pl.when(pl.col("company_key").str.len_chars() >= 2).then(pl.col("company_key")),
}
_REASON_TEXT = {
    "mobile": "mobile exact",
    "email": "email exact",
    "legacy_id": "legacy ID exact",
    "company": "company name key exact",
}


def cluster_customers(records: pl.DataFrame) -> pl.DataFrame:
    """Cluster records sharing a mobile, email, legacy ID (within a system) or company key.

    Input needs `record_idx` and the cleaned key columns; returns `record_idx`,
    `cluster` (the smallest record_idx in the cluster), `match_score` and `match_reason`.
    """
    edges = key_edges(records, EXACT_KEYS)
    components = connected_components(records["record_idx"], edges)
    # Which keys tie each record to another record of its cluster: its match reason.
    shared = (
        edges.join(components, on="id")
        .filter(pl.col("id").count().over("key") > 1)
        .group_by("id")
        .agg(pl.col("key_name").unique().sort())
    )
    reasons = shared.with_columns(
        pl.col("key_name")
        .list.eval(pl.element().replace_strict(_REASON_TEXT, default=pl.element()))
        .list.join("; ")
        .alias("match_reason")
    ).select("id", "match_reason")
    result = (
        components.join(reasons, on="id", how="left")
        .rename({"id": "record_idx", "component": "cluster"})
        .with_columns(
            pl.col("cluster").count().over("cluster").alias("cluster_size"),
        )
        .with_columns(
            pl.when(pl.col("cluster_size") > 1).then(pl.lit(1.0)).otherwise(None).alias("match_score"),
            pl.when(pl.col("cluster_size") > 1)
            .then(pl.col("match_reason"))
            .otherwise(pl.lit("no duplicate found"))
            .alias("match_reason"),
        )
        .drop("cluster_size")
    )
    return result.sort("record_idx")
