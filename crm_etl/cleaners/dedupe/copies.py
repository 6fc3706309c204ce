"""Identical records: a copy group too large for any block is linked as one record.

Records with the same values in every column the engine reads are indistinguishable to it: any
evidence for one is evidence for all. A group of such copies larger than a blocking rule's
`max_block_size` (one row exported 100,000 times) would break the model if linked record by
record: its values look common (term frequency), random pairs would mostly be copies (u), and a
star of n - 1 pairs stands for n²/2 duplicate pairs (the prior). So the engine links one
representative of such a group (its smallest id) and the copies follow it into its cluster.
Identical is not a chain: nothing inside the group is scored, cut or split.

Groups no block would find too large are left to the model, so an inbox without oversized
blocks links exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from crm_etl.cleaners.dedupe.blocking import has_key, identity
from crm_etl.cleaners.dedupe.settings import BlockingRule

COPY_REASON = "one of {} identical records (every compared field equal)"


@dataclass
class Copies:
    """Which records were folded into a representative (id, representative, copies), and the rest."""

    members: pl.DataFrame
    linked: pl.DataFrame  # the records the engine links: every record but the folded copies

    @property
    def folded(self) -> int:
        """Records the engine did not link itself (copies beyond their group's representative)."""
        return int((self.members["id"] != self.members["representative"]).sum())

    def representative(self, ids: pl.Expr) -> pl.Expr:
        """Each id replaced by its group's representative (itself when not folded)."""
        lookup = self.members.filter(pl.col("id") != pl.col("representative"))
        return ids.replace(lookup["id"], lookup["representative"])

    def unfold(self, clusters: pl.DataFrame) -> pl.DataFrame:
        """Clusters (id, cluster, match_score, match_reason) of the linked records, with every copy
        in its representative's cluster; a folded record's reason says it was one of n copies."""
        if self.members.is_empty():
            return clusters
        groups = self.members.join(clusters.rename({"id": "representative"}), on="representative", how="left")
        reason = pl.format(COPY_REASON, pl.col("copies"))
        own = pl.col("id") == pl.col("representative")
        # The representative keeps a link of its own to another record, if it has one.
        linked = own & pl.col("match_score").is_not_null()
        folded = groups.select(
            "id",
            "cluster",
            pl.when(linked).then("match_score").otherwise(pl.lit(1.0)).alias("match_score"),
            pl.when(linked).then("match_reason").otherwise(reason).alias("match_reason"),
        )
        rest = clusters.join(self.members, on="id", how="anti")
        return pl.concat([rest, folded.select(rest.columns).cast(rest.schema)]).sort("id")


def fold_copies(
    records: pl.DataFrame, rules: Sequence[BlockingRule], columns: Sequence[str], id_column: str
) -> Copies:
    """Find copy groups (identical in `columns`) that alone overflow a block: more records than a
    rule's `max_block_size` where they carry that rule's key."""
    smallest = min(rule.max_block_size for rule in rules)
    ids = pl.col(id_column).cast(pl.Int64).alias("id")
    hashed = records.select(ids, identity(columns).alias("_copy"))
    large = hashed.filter(pl.len().over("_copy") > smallest)
    empty = pl.DataFrame(schema={"id": pl.Int64, "representative": pl.Int64, "copies": pl.UInt32})
    if large.is_empty():
        return Copies(empty, records)
    # Only the few large groups are compared value by value: a hash collision must not fold records.
    candidates = records.join(large.select(pl.col("id").alias(id_column)), on=id_column, how="semi")
    groups = (
        candidates.group_by(pl.struct(list(columns)).alias("_values"))
        .agg(ids, *(pl.col(c).first() for c in columns))
        .with_columns(pl.col("id").list.len().alias("copies"))
    )
    overflows = pl.any_horizontal(
        has_key(rule, groups.schema) & (pl.col("copies") > rule.max_block_size) for rule in rules
    )
    members = (
        groups.filter(overflows)
        .select("id", pl.col("id").list.min().alias("representative"), "copies")
        .explode("id")
        .sort("id")
    )
    folded = members.filter(pl.col("id") != pl.col("representative"))
    linked = records.join(folded.select(pl.col("id").alias(id_column)), on=id_column, how="anti")
    return Copies(members.cast(empty.schema), linked)
