"""Link orders and follow-ups to customers through the record they reference (ID first, then name)."""

from __future__ import annotations

import polars as pl


def link_to_customers(rows: pl.DataFrame, loaded: pl.DataFrame, golden: pl.DataFrame) -> pl.DataFrame:
    """Add `customer_id` and `link_reason` to rows carrying `customer_ref` and/or `company_key`.

    `loaded`: the loaded customer records (source_system, legacy_id, customer_id) —
    a reference is resolved within the same source system, since IDs of different
    systems may collide. `golden`: customers (company_key, customer_id); a name
    links only when it identifies exactly one customer. Unlinked rows get
    `reject_reason` = `unknown_customer` unless they already had one.
    """
    by_ref = (
        loaded.filter(pl.col("legacy_id").is_not_null())
        .select(
            "source_system", pl.col("legacy_id").alias("customer_ref"), pl.col("customer_id").alias("_by_ref")
        )
        .unique(["source_system", "customer_ref"], keep="first", maintain_order=True)
    )
    by_name = (
        golden.filter(pl.col("company_key").is_not_null())
        .group_by("company_key")
        .agg(pl.col("customer_id").first().alias("_by_name"), pl.len().alias("_n"))
        .filter(pl.col("_n") == 1)
        .drop("_n")
    )
    linked = rows.join(by_ref, on=["source_system", "customer_ref"], how="left", maintain_order="left").join(
        by_name, on="company_key", how="left", maintain_order="left"
    )
    unlinked = pl.col("_by_ref").is_null() & pl.col("_by_name").is_null()
    described = pl.concat_str(
        [
            pl.lit("references no loaded customer ("),
            pl.when(pl.col("customer_ref").is_not_null())
            .then(pl.lit("ID ") + pl.col("customer_ref"))
            .otherwise(pl.lit("")),
            pl.when(pl.col("customer_ref").is_not_null() & pl.col("customer_name").is_not_null())
            .then(pl.lit(", "))
            .otherwise(pl.lit("")),
            pl.when(pl.col("customer_name").is_not_null())
            .then(pl.lit("name ") + pl.col("customer_name"))
            .otherwise(pl.lit("")),
            pl.lit(")"),
        ]
    )
    return linked.with_columns(
        pl.coalesce("_by_ref", "_by_name").alias("customer_id"),
        pl.when(pl.col("_by_ref").is_not_null())
        .then(pl.lit("customer ID"))
        .when(pl.col("_by_name").is_not_null())
        .then(pl.lit("customer name"))
        .otherwise(None)
        .alias("link_reason"),
        pl.when(pl.col("reject_reason").is_null() & unlinked)
        .then(pl.lit("unknown_customer"))
        .otherwise(pl.col("reject_reason"))
        .alias("reject_reason"),
        pl.when(pl.col("reject_reason").is_null() & unlinked)
        .then(described)
        .otherwise(pl.col("reject_detail"))
        .alias("reject_detail"),
    ).drop("_by_ref", "_by_name")
