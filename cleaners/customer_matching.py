"""Deduplicate customer records into companies: the customer features the linkage engine compares."""

from __future__ import annotations

import polars as pl

from cleaners.company import BRANCH_MARKERS, PLACES, company_legal_name
from cleaners.dedupe.engine import LinkageResult, link
from cleaners.dedupe.settings import LinkageSettings

# Keys longer than this are Latin names or pasted text: deletion variants would only make noise.
_MAX_VARIANT_KEY = 12
_BRANCH_TAIL = rf"((?:{'|'.join(PLACES)})?(?:省|市|区|县)?(?:{'|'.join(sorted(BRANCH_MARKERS, key=len, reverse=True))}))$"


def _deletion_variants(keys: pl.DataFrame) -> pl.DataFrame:
    """Per distinct `key`: `company_variants`, the key with one character left out at each position
    (empty for keys shorter than 3 or longer than _MAX_VARIANT_KEY characters)."""
    length = pl.col("key").str.len_chars()
    position = pl.col("position")
    variants = (
        keys.filter((length >= 3) & (length <= _MAX_VARIANT_KEY))
        .with_columns(pl.int_ranges(0, length).alias("position"))
        .explode("position")
        .select(
            "key",
            (pl.col("key").str.slice(0, position) + pl.col("key").str.slice(position + 1)).alias("variant"),
        )
        .group_by("key", maintain_order=True)
        .agg(pl.col("variant").alias("company_variants"))
    )
    return keys.join(variants, on="key", how="left").with_columns(
        pl.col("company_variants").fill_null(pl.lit([], pl.List(pl.String)))
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
    variants = _deletion_variants(records.select(key.alias("key")).unique().drop_nulls())
    return records.with_columns(
        records.select(key.alias("key"))
        .join(variants, on="key", how="left", maintain_order="left")
        .get_column("company_variants"),
        key.alias("company_key"),
        pl.when(pl.col("legacy_id").is_not_null())
        .then(pl.col("source_system") + pl.lit(":") + pl.col("legacy_id"))
        .alias("legacy_ref"),
        _branches(records.get_column("company_key")),
        pl.when(key.str.len_chars() >= 4).then(key.str.slice(0, 4)).alias("company_head"),
        pl.when(key.str.len_chars() >= 2).then(key.str.slice(0, 2)).alias("company_head2"),
        pl.col("email").str.split("@").list.get(1, null_on_oob=True).alias("email_domain"),
        legal_names(records),
    )


def legal_names(records: pl.DataFrame) -> pl.Series:
    """`legal_name` of each record's company (`company_legal_name`), unless the records carry it."""
    if "legal_name" in records.columns:
        return records.get_column("legal_name")
    return company_legal_name(records.get_column("customer_name")).alias("legal_name")


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
