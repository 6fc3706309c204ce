"""Candidate pairs: records that share a blocking key, without comparing every record with every other."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from cleaners.linkage_settings import BlockingRule

PAIR_SCHEMA = {"l": pl.Int64, "r": pl.Int64}


def _rule_keys(records: pl.DataFrame, rule: BlockingRule, id_column: str) -> pl.DataFrame:
    """(id, key) for one rule: list columns exploded, a null anywhere means no key."""
    frame = records.select(pl.col(id_column).cast(pl.Int64).alias("id"), *rule.columns)
    for column in rule.columns:
        if isinstance(frame.schema[column], pl.List):
            frame = frame.explode(column)
    key = pl.concat_str([pl.col(c).cast(pl.String) for c in rule.columns], separator="\x1f")
    # Joined on a 64-bit hash: a collision can only add a candidate pair, which scoring then judges.
    keyed = frame.select("id", key.alias("key")).drop_nulls("key").filter(pl.col("key") != "")
    return keyed.select("id", pl.col("key").hash(seed=0)).unique()


def candidate_pairs(
    records: pl.DataFrame, rules: Sequence[BlockingRule], id_column: str = "record_idx"
) -> pl.DataFrame:
    """Unique pairs (l < r) of records sharing the key of at least one rule, and the first such rule.

    Blocks larger than the rule's `max_block_size` are skipped, which keeps the number of pairs
    about linear in the number of records.
    """
    parts = []
    for index, rule in enumerate(rules):
        keys = _rule_keys(records, rule, id_column)
        size = pl.len().over("key")
        keys = keys.filter((size > 1) & (size <= rule.max_block_size))
        pairs = (
            keys.join(keys, on="key", suffix="_r")
            .filter(pl.col("id") < pl.col("id_r"))
            .select(pl.col("id").alias("l"), pl.col("id_r").alias("r"), pl.lit(index, pl.Int16).alias("rule"))
        )
        parts.append(pairs)
    if not parts:
        return pl.DataFrame(schema={**PAIR_SCHEMA, "rule": pl.Int16})
    return pl.concat(parts).group_by("l", "r").agg(pl.col("rule").min()).sort("l", "r")


def block_sizes(
    records: pl.DataFrame, rules: Sequence[BlockingRule], id_column: str = "record_idx"
) -> pl.DataFrame:
    """Per rule: keys, records with a key, largest block and blocks skipped as too common (for reports)."""
    rows = []
    for rule in rules:
        sizes = _rule_keys(records, rule, id_column).group_by("key").len()
        rows.append(
            {
                "rule": rule.name,
                "keys": sizes.height,
                "largest_block": sizes["len"].max() or 0,
                "skipped_blocks": int((sizes["len"] > rule.max_block_size).sum()),
            }
        )
    return pl.DataFrame(rows)
