"""Link orders and follow-ups to customers through the record they reference (ID first, then name)."""

from __future__ import annotations

import polars as pl

# How a row found its customer, strongest evidence first.
BY_REF, BY_CUSTOMER_ID, BY_FOREIGN_REF, BY_NAME = (
    "customer ID",
    "customer_id",
    "customer ID in another system",
    "customer name",
)


def _unique(frame: pl.DataFrame, keys: list[str], target: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Keys that identify exactly one customer (-> `target`), and keys shared by several (-> count)."""
    grouped = (
        frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
        .unique([*keys, "customer_id"])
        .group_by(keys)
        .agg(pl.col("customer_id").first().alias(target), pl.len().alias("_n"))
    )
    return (
        grouped.filter(pl.col("_n") == 1).drop("_n"),
        grouped.filter(pl.col("_n") > 1).select(*keys, pl.col("_n").alias(f"{target}_n")),
    )


def link_to_customers(rows: pl.DataFrame, loaded: pl.DataFrame, golden: pl.DataFrame) -> pl.DataFrame:
    """Add `customer_id` and `link_reason` to rows carrying `customer_ref` and/or `company_key`.

    `loaded`: the loaded customer records (source_system, legacy_id, company_key, customer_id, and
    record_role where contacts exports were read: a contact's own ID links nothing).
    A reference resolves, in this order: to the record with that ID in the same source system
    (IDs of different systems may collide); to a customer_id of ours; to the one customer any
    system knows by that ID. A name links when its company key is the key of records of exactly
    one customer (every record counts, so a short name a ledger used finds its customer too).
    Rows that find no customer get `reject_reason` `unknown_customer`; a name several customers
    share gets `ambiguous_customer`. Rows that were already rejected keep their reason.
    """
    # A contact's own ID (Contact ID) is no customer's ID: orders and follow-ups name accounts.
    contact = pl.col("record_role") == "contact" if "record_role" in loaded.columns else pl.lit(value=False)
    account_id = pl.when(contact).then(None).otherwise("legacy_id").alias("legacy_id")
    records = loaded.select("source_system", account_id, "company_key", "customer_id")
    by_ref, _ = _unique(
        records.rename({"legacy_id": "customer_ref"}), ["source_system", "customer_ref"], "_by_ref"
    )
    by_id = golden.select(pl.col("customer_id").alias("customer_ref"), pl.col("customer_id").alias("_by_id"))
    by_foreign, _ = _unique(records.rename({"legacy_id": "customer_ref"}), ["customer_ref"], "_by_foreign")
    names = pl.concat(
        [records.select("company_key", "customer_id"), golden.select("company_key", "customer_id")]
    )
    by_name, shared_name = _unique(names, ["company_key"], "_by_name")
    linked = (
        rows.join(by_ref, on=["source_system", "customer_ref"], how="left", maintain_order="left")
        .join(by_id, on="customer_ref", how="left", maintain_order="left")
        .join(by_foreign, on="customer_ref", how="left", maintain_order="left")
        .join(by_name, on="company_key", how="left", maintain_order="left")
        .join(shared_name, on="company_key", how="left", maintain_order="left")
    )
    found = pl.coalesce("_by_ref", "_by_id", "_by_foreign", "_by_name")
    ambiguous = found.is_null() & pl.col("_by_name_n").is_not_null()
    unlinked = found.is_null()
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
    shared = pl.concat_str(
        [
            pl.lit("name "),
            pl.col("customer_name"),
            pl.lit(" fits "),
            pl.col("_by_name_n").cast(pl.String),
            pl.lit(" customers; add the customer ID to link it"),
        ]
    )
    open_row = pl.col("reject_reason").is_null()
    return linked.with_columns(
        found.alias("customer_id"),
        pl.when(pl.col("_by_ref").is_not_null())
        .then(pl.lit(BY_REF))
        .when(pl.col("_by_id").is_not_null())
        .then(pl.lit(BY_CUSTOMER_ID))
        .when(pl.col("_by_foreign").is_not_null())
        .then(pl.lit(BY_FOREIGN_REF))
        .when(pl.col("_by_name").is_not_null())
        .then(pl.lit(BY_NAME))
        .otherwise(None)
        .alias("link_reason"),
        pl.when(open_row & ambiguous)
        .then(pl.lit("ambiguous_customer"))
        .when(open_row & unlinked)
        .then(pl.lit("unknown_customer"))
        .otherwise(pl.col("reject_reason"))
        .alias("reject_reason"),
        pl.when(open_row & ambiguous)
        .then(shared)
        .when(open_row & unlinked)
        .then(described)
        .otherwise(pl.col("reject_detail"))
        .alias("reject_detail"),
    ).drop("_by_ref", "_by_id", "_by_foreign", "_by_name", "_by_name_n")
