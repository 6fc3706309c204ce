"""Candidate pairs: records that share a blocking key, without comparing every record with every other."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from cleaners.dedupe.settings import BlockingRule

PAIR_SCHEMA = {"l": pl.Int64, "r": pl.Int64}
_PACK = 1 << 32  # pairs are deduplicated on one key l * 2^32 + r when every id fits in 32 bits


def _rule_pairs(records: pl.DataFrame, rule: BlockingRule, id_column: str) -> pl.DataFrame:
    """Pairs (l < r) of records sharing a key of one rule, each pair once.

    Records with the same values in the rule's columns form a group and share all its keys, so
    keys are joined group to group (a list column such as one-deletion variants gives a group
    many keys, and two groups sharing several of them are paired once), then groups expand to
    their records. A key's block size counts records.
    """
    frame = records.select(pl.col(id_column).cast(pl.Int64).alias("id"), *rule.columns)
    # Grouped on a 64-bit hash of the values (3x faster than on list values themselves): two value
    # sets sharing a hash (odds about 1e-8 at a million records) would share one set's keys.
    groups = (
        frame.with_columns(pl.struct(rule.columns).hash(seed=0).alias("group"))
        .group_by("group")
        .agg(pl.col("id"), *(pl.col(c).first() for c in rule.columns))
    )
    members = groups.select("group", "id").explode("id")
    # A record has a key when every column has a value (a lone column also not an empty string).
    has_key = pl.all_horizontal(pl.col(c).is_not_null() for c in rule.columns)
    if len(rule.columns) == 1:
        has_key &= pl.col(rule.columns[0]).cast(pl.String) != ""
    keys = groups.select("group", pl.col("id").list.len().alias("n"), *rule.columns)
    lists = [c for c in rule.columns if isinstance(keys.schema[c], pl.List)]
    if not lists:
        # Plain columns: a group is its key's block, and pairs are the pairs inside each block.
        blocks = keys.filter(has_key & pl.col("n").is_between(2, rule.max_block_size)).select("group")
        inside = members.join(blocks, on="group", how="semi")
        if rule.pairs == "star":
            return (
                inside.with_columns(pl.col("id").min().over("group").alias("l"))
                .filter(pl.col("id") != pl.col("l"))
                .select("l", pl.col("id").alias("r"))
            )
        return (
            inside.join(inside, on="group", suffix="_r")
            .filter(pl.col("id") < pl.col("id_r"))
            .select(pl.col("id").alias("l"), pl.col("id_r").alias("r"))
        )
    for column in lists:
        keys = keys.explode(column)
    # Joined on a 64-bit hash: a collision can only add a candidate pair, which scoring then judges.
    hashed = pl.col(rule.columns[0]) if len(rule.columns) == 1 else pl.struct(rule.columns)
    keys = (
        keys.filter(has_key).select("group", "n", hashed.hash(seed=0).alias("key")).unique(["group", "key"])
    )
    blocks = (
        keys.group_by("key").agg(pl.col("n").sum()).filter(pl.col("n").is_between(2, rule.max_block_size))
    )
    keys = keys.join(blocks, on="key", how="semi").select("group", "key")
    linked = (
        keys.join(keys, on="key", suffix="_r")
        .filter(pl.col("group") <= pl.col("group_r"))
        .select("group", "group_r")
        .unique()
    )
    return (
        linked.join(members, on="group")
        .join(members.rename({"group": "group_r", "id": "id_r"}), on="group_r")
        .filter((pl.col("group") != pl.col("group_r")) | (pl.col("id") < pl.col("id_r")))
        .select(pl.min_horizontal("id", "id_r").alias("l"), pl.max_horizontal("id", "id_r").alias("r"))
    )


def candidate_pairs(
    records: pl.DataFrame, rules: Sequence[BlockingRule], id_column: str = "record_idx"
) -> pl.DataFrame:
    """Unique pairs (l < r) of records sharing the key of at least one rule, and the first such rule.

    Blocks larger than the rule's `max_block_size` are skipped, which keeps the number of pairs
    about linear in the number of records.
    """
    if not rules:
        return pl.DataFrame(schema={**PAIR_SCHEMA, "rule": pl.Int16})
    pairs = pl.concat(
        [
            _rule_pairs(records, rule, id_column).with_columns(pl.lit(i, pl.Int16).alias("rule"))
            for i, rule in enumerate(rules)
        ]
    )
    ids = records.get_column(id_column).cast(pl.Int64)
    if ids.is_empty() or (ids.min() >= 0 and ids.max() < _PACK):  # type: ignore[operator]
        # One integer key per pair: grouping and sorting it is about twice as fast as two columns.
        return (
            pairs.group_by((pl.col("l") * _PACK + pl.col("r")).alias("pair"))
            .agg(pl.col("rule").min())
            .sort("pair")
            .select((pl.col("pair") // _PACK).alias("l"), (pl.col("pair") % _PACK).alias("r"), "rule")
        )
    return pairs.group_by("l", "r").agg(pl.col("rule").min()).sort("l", "r")
