"""Deduplicate customer records into companies: the customer features the linkage engine compares."""

from __future__ import annotations

import polars as pl

from cleaners.company import BRANCH_MARKERS, PLACES
from cleaners.linkage import LinkageResult, link
from cleaners.linkage_settings import LinkageSettings

# Keys longer than this are Latin names or pasted text: deletion variants would only make noise.
_MAX_VARIANT_KEY = 12
_BRANCH_TAIL = rf"((?:{'|'.join(PLACES)})?(?:省|市|区|县)?(?:{'|'.join(sorted(BRANCH_MARKERS, key=len, reverse=True))}))$"


def _deletion_variants(key: pl.Expr) -> pl.Expr:
    """The key with one character left out, for every position (list column)."""
    length = key.str.len_chars()
    positions = pl.int_ranges(0, length)
    return (
        pl.when((length >= 3) & (length <= _MAX_VARIANT_KEY))
        .then(
            pl.concat_list(
                [
                    pl.when(pl.lit(i) < length).then(key.str.slice(0, i) + key.str.slice(i + 1))
                    for i in range(_MAX_VARIANT_KEY)
                ]
            ).list.drop_nulls()
        )
        .otherwise(positions.list.head(0).cast(pl.List(pl.String)))
    )


def _branches(keys: pl.Series) -> pl.Series:
    """The branch tail of each company key (广州分公司), null for the many keys that name no branch."""
    marked = keys.str.contains_any(list(BRANCH_MARKERS)).fill_null(value=False)
    branch = pl.Series("branch", [None] * len(keys), dtype=pl.String)
    # Only the few branch names pay for the place-name regex.
    return branch.scatter(marked.arg_true(), keys.filter(marked).str.extract(_BRANCH_TAIL, 1))


def customer_features(records: pl.DataFrame) -> pl.DataFrame:
    """Columns the customer linkage settings read, derived from the cleaned record columns."""
    key = pl.when(pl.col("company_key").str.len_chars() >= 2).then(pl.col("company_key"))
    # Variants once per distinct key: many records share one.
    variants = (
        records.select(key.alias("_key"))
        .unique()
        .drop_nulls()
        .with_columns(_deletion_variants(pl.col("_key")).alias("company_variants"))
    )
    return records.with_columns(
        records.select(key.alias("_key"))
        .join(variants, on="_key", how="left", maintain_order="left")
        .get_column("company_variants"),
        key.alias("company_key"),
        pl.when(pl.col("legacy_id").is_not_null())
        .then(pl.col("source_system") + pl.lit(":") + pl.col("legacy_id"))
        .alias("legacy_ref"),
        _branches(records.get_column("company_key")),
        pl.when(key.str.len_chars() >= 4).then(key.str.slice(0, 4)).alias("company_head"),
        pl.when(key.str.len_chars() >= 2).then(key.str.slice(0, 2)).alias("company_head2"),
        pl.col("email").str.split("@").list.get(1, null_on_oob=True).alias("email_domain"),
    )


def cluster_customers(records: pl.DataFrame, settings: LinkageSettings) -> tuple[pl.DataFrame, LinkageResult]:
    """Cluster clean customer records; returns (record_idx, cluster, match_score, match_reason) and the run.

    `cluster` is the smallest record_idx of the cluster; a record with no duplicate has a null
    score and the reason `no duplicate found`.
    """
    features = customer_features(records)
    missing = [c for c in settings.columns if c not in features.columns]
    if missing:
        raise ValueError(f"dedupe settings read columns that customer records do not have: {missing}")
    result = link(features, settings, id_column="record_idx")
    clusters = result.clusters.rename({"id": "record_idx"})
    return clusters, result
