"""Connected components over shared keys, and clusters split where chained links are weakest."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix, csgraph


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
    """Label every id with the smallest id reachable through shared keys (columns id, component).

    Records and keys are the nodes of one undirected graph, an edge joining a record to each key
    it carries; scipy's connected_components labels it in C, in one pass over the edges.
    """
    labels = pl.DataFrame({"id": ids.cast(pl.Int64)})
    nodes = labels.with_row_index("node")
    linked = edges.select(pl.col("id").cast(pl.Int64), "key").join(nodes, on="id").drop("id")
    if linked.is_empty():
        return labels.with_columns(pl.col("id").alias("component"))
    keys = linked.select("key").unique().with_row_index("key_node")
    linked = linked.join(keys, on="key")
    records = labels.height
    row = linked["node"].to_numpy().astype(np.int64)
    column = linked["key_node"].to_numpy().astype(np.int64) + records
    size = records + keys.height
    graph = coo_matrix((np.ones(row.size, dtype=np.int8), (row, column)), shape=(size, size))
    _, label = csgraph.connected_components(graph, directed=False)
    return (
        labels.with_columns(pl.Series("label", label[:records]))
        .with_columns(pl.col("id").min().over("label").alias("component"))
        .drop("label")
    )


def pair_edges(pairs: pl.DataFrame) -> pl.DataFrame:
    """Pairs (l, r) in the long (id, key) form `connected_components` reads: one key per pair."""
    indexed = pairs.select("l", "r").with_row_index("edge")
    key = pl.col("edge").cast(pl.Int64)
    return pl.concat(
        [
            indexed.select(pl.col("l").alias("id"), key.alias("key")),
            indexed.select(pl.col("r").alias("id"), key.alias("key")),
        ]
    ).with_columns(pl.col("id").cast(pl.Int64))


def split_chained_clusters(
    ids: pl.Series, edges: pl.DataFrame, conflicts: pl.DataFrame, max_rounds: int
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Connected components over `edges` (l, r, weight) in which no `conflicts` pair (l, r) stays together.

    Accepted pairs chain: A~B and B~C put A and C in one cluster even when A and C clearly differ.
    While a cluster holds a conflicting pair, its weakest edge is cut (all such clusters at once, each
    round), so the split falls where the evidence is thinnest. Returns (id, component), the edges
    kept, and how many edges were cut.
    """
    components = connected_components(ids, pair_edges(edges))
    troubled = _troubled(components, conflicts)
    if troubled.is_empty() or max_rounds == 0:
        return components, edges, 0
    # Only clusters that hold a conflict are split; the rest of the graph is done.
    label = components.rename({"id": "node"})
    involved = edges.join(label.rename({"node": "l"}), on="l").join(troubled, on="component", how="semi")
    settled = edges.join(involved.select("l", "r"), on=["l", "r"], how="anti")
    nodes = label.join(troubled, on="component", how="semi")["node"]
    kept = involved.drop("component")
    cut = 0
    for round_ in range(max_rounds + 1):
        local = connected_components(nodes, pair_edges(kept))
        inside = _troubled(local, conflicts)
        if inside.is_empty() or kept.is_empty() or round_ == max_rounds:
            break
        ranked = kept.join(local.rename({"id": "l"}), on="l").join(inside, on="component", how="semi")
        weakest = ranked.filter(pl.col("weight") == pl.col("weight").min().over("component")).select("l", "r")
        cut += weakest.height
        kept = kept.join(weakest, on=["l", "r"], how="anti")
    untouched = label.join(troubled, on="component", how="anti").rename({"node": "id"})
    final = pl.concat([untouched, local.select(untouched.columns)]).sort("id")
    return final, pl.concat([settled, kept.select(settled.columns)]), cut


def _troubled(components: pl.DataFrame, conflicts: pl.DataFrame) -> pl.DataFrame:
    """Components holding both ends of a conflicting pair (column `component`)."""
    label = components.rename({"id": "node"})
    return (
        conflicts.join(label.rename({"node": "l", "component": "cl"}), on="l")
        .join(label.rename({"node": "r", "component": "cr"}), on="r")
        .filter(pl.col("cl") == pl.col("cr"))
        .select(pl.col("cl").alias("component"))
        .unique()
    )
