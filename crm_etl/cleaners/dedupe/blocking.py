"""Candidate pairs: records that share a blocking key, without comparing every record with every other.

A key shared by more records than its rule's `max_block_size` (a switchboard, a placeholder, one
record exported 100,000 times) is not paired all with all, which would be quadratic, nor dropped,
which would leave exact copies apart: it is sub-blocked. Inside it, records identical in every
column the engine reads are paired as a star (n - 1 pairs for n copies), and, where the rule has a
`window`, each record is paired with the next `window` records in `sort_by` order (sorted
neighbourhood, at most n * window pairs). Such pairs carry `sub_block` true.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from crm_etl.cleaners.dedupe.settings import BlockingRule

PAIR_SCHEMA = {"l": pl.Int64, "r": pl.Int64}
_PACK = 1 << 32  # pairs are deduplicated on one key l * 2^32 + r when every id fits in 32 bits


def has_key(rule: BlockingRule, schema: pl.Schema) -> pl.Expr:
    """Whether a record carries a key of the rule: every column has a value (a lone column also not
    an empty string; a list column at least one such element)."""
    present = []
    for column in rule.columns:
        if isinstance(schema[column], pl.List):
            element = pl.element().is_not_null()
            if len(rule.columns) == 1:
                element &= pl.element().cast(pl.String) != ""
            present.append(pl.col(column).list.eval(element).list.any().fill_null(value=False))
        else:
            value = pl.col(column).is_not_null()
            if len(rule.columns) == 1:
                value &= (pl.col(column).cast(pl.String) != "").fill_null(value=False)
            present.append(value)
    return pl.all_horizontal(present)


def _star(members: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Each record (`id`) paired with the first record of its `by` group: n - 1 pairs for n records."""
    return (
        members.with_columns(pl.col("id").min().over(by).alias("l"))
        .filter(pl.col("id") != pl.col("l"))
        .select("l", pl.col("id").alias("r"))
    )


def _sub_block_pairs(
    records: pl.DataFrame,
    rule: BlockingRule,
    inside: pl.DataFrame,
    groups: pl.DataFrame,
    identity_columns: Sequence[str],
) -> pl.DataFrame:
    """Pairs inside oversized blocks: identical records as a star, and the rule's sorted neighbourhood.

    `inside`: (block, id) of every record of an oversized block; `groups`: (group, id) of the
    records whose values of the rule's columns put them in one (identical records always share one).
    """
    # Hashed here, for the few records of oversized blocks only.
    values = groups.join(records.select("id", *identity_columns), on="id")
    identical = _star(
        values.select("group", "id", identity(identity_columns).alias("copy")), ["group", "copy"]
    )
    if rule.window == 0:
        return identical
    order = records.select("id", *rule.sort_by)
    ranked = inside.join(order, on="id").sort(["block", *rule.sort_by, "id"], nulls_last=True)
    following = [
        ranked.select(pl.col("id").alias("a"), pl.col("id").shift(-step).over("block").alias("b")).drop_nulls(
            "b"
        )
        for step in range(1, rule.window + 1)
    ]
    neighbours = pl.concat(following).select(
        pl.min_horizontal("a", "b").alias("l"), pl.max_horizontal("a", "b").alias("r")
    )
    return pl.concat([identical, neighbours])


def _rule_pairs(records: pl.DataFrame, rule: BlockingRule, identity_columns: Sequence[str]) -> pl.DataFrame:
    """Pairs (l < r, sub_block) of records (with `id`) sharing a key of one rule.

    Records with the same values in the rule's columns form a group and share all its keys, so
    keys are joined group to group (a list column such as one-deletion variants gives a group
    many keys, and two groups sharing several of them are paired once), then groups expand to
    their records. A key's block size counts records; a block over `max_block_size` is sub-blocked.
    """
    frame = records.select("id", *rule.columns)
    # Grouped on a 64-bit hash of the values (3x faster than on list values themselves): two value
    # sets sharing a hash (odds about 1e-8 at a million records) would share one set's keys.
    groups = (
        frame.with_columns(pl.struct(rule.columns).hash(seed=0).alias("group"))
        .group_by("group")
        .agg(pl.col("id"), *(pl.col(c).first() for c in rule.columns))
    )
    members = groups.select("group", "id").explode("id")
    keyed = has_key(rule, groups.schema)
    keys = groups.select("group", pl.col("id").list.len().alias("n"), *rule.columns)
    lists = [c for c in rule.columns if isinstance(keys.schema[c], pl.List)]
    if not lists:
        # Plain columns: a group is its key's block, and pairs are the pairs inside each block.
        sized = keys.filter(keyed & (pl.col("n") >= 2))
        inside = members.join(sized.filter(pl.col("n") <= rule.max_block_size), on="group", how="semi")
        over = members.join(sized.filter(pl.col("n") > rule.max_block_size), on="group", how="semi")
        sub = _sub_block_pairs(records, rule, over.rename({"group": "block"}), over, identity_columns)
        if rule.pairs == "star":
            paired = _star(inside, ["group"])
        else:
            paired = (
                inside.join(inside, on="group", suffix="_r")
                .filter(pl.col("id") < pl.col("id_r"))
                .select(pl.col("id").alias("l"), pl.col("id_r").alias("r"))
            )
        return _flagged(paired, sub)
    for column in lists:
        keys = keys.explode(column)
    # Joined on a 64-bit hash: a collision can only add a candidate pair, which scoring then judges.
    hashed = pl.col(rule.columns[0]) if len(rule.columns) == 1 else pl.struct(rule.columns)
    element_key = pl.all_horizontal(pl.col(c).is_not_null() for c in rule.columns)
    if len(rule.columns) == 1:
        element_key &= pl.col(rule.columns[0]).cast(pl.String) != ""
    keys = (
        keys.filter(element_key)
        .select("group", "n", hashed.hash(seed=0).alias("key"))
        .unique(["group", "key"])
    )
    sizes = keys.group_by("key").agg(pl.col("n").sum()).filter(pl.col("n") >= 2)
    over_keys = keys.join(sizes.filter(pl.col("n") > rule.max_block_size), on="key", how="semi")
    keys = keys.join(sizes.filter(pl.col("n") <= rule.max_block_size), on="key", how="semi").select(
        "group", "key"
    )
    linked = (
        keys.join(keys, on="key", suffix="_r")
        .filter(pl.col("group") <= pl.col("group_r"))
        .select("group", "group_r")
        .unique()
    )
    paired = (
        linked.join(members, on="group")
        .join(members.rename({"group": "group_r", "id": "id_r"}), on="group_r")
        .filter((pl.col("group") != pl.col("group_r")) | (pl.col("id") < pl.col("id_r")))
        .select(pl.min_horizontal("id", "id_r").alias("l"), pl.max_horizontal("id", "id_r").alias("r"))
    )
    over_groups = members.join(over_keys.select("group").unique(), on="group", how="semi")
    inside = over_keys.select(pl.col("key").alias("block"), "group").join(members, on="group").drop("group")
    return _flagged(paired, _sub_block_pairs(records, rule, inside, over_groups, identity_columns))


def _flagged(paired: pl.DataFrame, sub: pl.DataFrame) -> pl.DataFrame:
    """Block pairs and sub-block pairs in one frame, told apart by `sub_block`."""
    return pl.concat(
        [
            paired.with_columns(pl.lit(value=False).alias("sub_block")),
            sub.with_columns(pl.lit(value=True).alias("sub_block")),
        ]
    )


def identity(columns: Sequence[str]) -> pl.Expr:
    """A 64-bit hash of a record's values in `columns`: equal for identical records."""
    return pl.struct(list(columns)).hash(seed=0)


def candidate_pairs(
    records: pl.DataFrame,
    rules: Sequence[BlockingRule],
    id_column: str = "record_idx",
    identity_columns: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Unique pairs (l < r) of records sharing the key of at least one rule, the first such rule,
    and whether that rule paired them inside a sub-block only (`sub_block`).

    Blocks larger than the rule's `max_block_size` are sub-blocked (module docstring), which keeps
    the number of pairs about linear in the number of records. `identity_columns`: the columns in
    which sub-blocked records must be identical to be paired as copies (default: every column).
    """
    schema = {**PAIR_SCHEMA, "rule": pl.Int16, "sub_block": pl.Boolean}
    if not rules:
        return pl.DataFrame(schema=schema)
    columns = [c for c in records.columns if c != id_column] if identity_columns is None else identity_columns
    frame = records.with_columns(pl.col(id_column).cast(pl.Int64).alias("id"))
    # One integer per pair and rule: rule * 2 + sub_block, so the first rule wins and, within a rule,
    # a proper block over a sub-block.
    pairs = pl.concat(
        [
            _rule_pairs(frame, rule, columns).select(
                "l", "r", (pl.lit(2 * i, pl.Int16) + pl.col("sub_block").cast(pl.Int16)).alias("rule")
            )
            for i, rule in enumerate(rules)
        ]
    )
    decoded = [(pl.col("rule") // 2).alias("rule"), (pl.col("rule") % 2 == 1).alias("sub_block")]
    ids = frame.get_column("id")
    if ids.is_empty() or (ids.min() >= 0 and ids.max() < _PACK):  # type: ignore[operator]
        # One integer key per pair: grouping and sorting it is about twice as fast as two columns.
        return (
            pairs.group_by((pl.col("l") * _PACK + pl.col("r")).alias("pair"))
            .agg(pl.col("rule").min())
            .sort("pair")
            .select((pl.col("pair") // _PACK).alias("l"), (pl.col("pair") % _PACK).alias("r"), *decoded)
        )
    return pairs.group_by("l", "r").agg(pl.col("rule").min()).sort("l", "r").select("l", "r", *decoded)
