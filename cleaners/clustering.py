"""Connected components over shared keys, by vectorised label propagation (no Python loop over rows)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl


def key_edges(
    records: pl.DataFrame, keys: Mapping[str, pl.Expr], id_column: str = "record_idx"
) -> pl.DataFrame:
    """Long frame (id, key_name, key) of every non-null key value a record carries."""
    parts = [
        records.select(
            pl.col(id_column).alias("id"),
            pl.lit(name).alias("key_name"),
            (pl.lit(f"{name}\x1f") + expr.cast(pl.String)).alias("key"),
        ).drop_nulls("key")
        for name, expr in keys.items()
    ]
    if not parts:
        return pl.DataFrame(schema={"id": pl.Int64, "key_name": pl.String, "key": pl.String})
    return pl.concat(parts).with_columns(pl.col("id").cast(pl.Int64))


def connected_components(ids: pl.Series, edges: pl.DataFrame) -> pl.DataFrame:
    """Label every id with the smallest id reachable through shared keys (columns id, component)."""
    labels = pl.DataFrame({"id": ids.cast(pl.Int64)}).with_columns(pl.col("id").alias("component"))
    shared = edges.filter(pl.col("key").count().over("key") > 1).select("id", "key")
    if shared.is_empty():
        return labels
    # Each round pulls the smallest label across every key a record shares; it stops
    # when nothing changes, after at most (longest chain) rounds.
    while True:
        key_min = shared.join(labels, on="id").group_by("key").agg(pl.col("component").min().alias("key_min"))
        pulled = shared.join(key_min, on="key").group_by("id").agg(pl.col("key_min").min().alias("pulled"))
        updated = (
            labels.join(pulled, on="id", how="left")
            .with_columns(pl.min_horizontal("component", "pulled").alias("component"))
            .drop("pulled")
        )
        if updated["component"].equals(labels["component"]):
            return updated
        labels = updated
