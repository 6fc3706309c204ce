"""Stable customer IDs: keep the IDs earlier runs gave, adopt IDs already in the product's format, number the rest."""

from __future__ import annotations

import datetime as dt

import polars as pl

ID_PREFIX = "C"
SEQUENCE_WIDTH = 3


def _claim(votes: pl.DataFrame) -> pl.DataFrame:
    """Each cluster takes its most-voted ID; each ID goes to one cluster only (the one with most votes)."""
    if votes.is_empty():
        return pl.DataFrame(schema={"cluster": pl.Int64, "customer_id": pl.String})
    ranked = votes.sort(["votes", "cluster", "customer_id"], descending=[True, False, False])
    chosen = ranked.unique("customer_id", keep="first", maintain_order=True)
    return chosen.unique("cluster", keep="first", maintain_order=True).select("cluster", "customer_id")


def assign_customer_ids(
    records: pl.DataFrame,
    previous: pl.DataFrame,
    id_pattern: str,
    run_date: dt.date,
) -> pl.DataFrame:
    """Map each cluster to a customer_id.

    `records`: cluster, source_system, source_key, legacy_id, first_contact_date, company_key.
    `previous`: source_system, source_key, customer_id from the last published run.
    Order of precedence: the ID earlier runs gave the cluster's records; an ID in
    the product's own format found in the records (a ledger's 客户编号); a new
    `C` + yyyymmdd + sequence ID, dated by the cluster's first contact (or the run date).
    """
    prior_votes = (
        records.join(previous, on=["source_system", "source_key"], how="inner")
        .group_by("cluster", "customer_id")
        .agg(pl.len().alias("votes"))
    )
    assigned = _claim(prior_votes)
    used = set(previous["customer_id"].to_list()) | set(assigned["customer_id"].to_list())

    adoptable = (
        records.filter(
            pl.col("legacy_id").str.contains(id_pattern).fill_null(False)
            & ~pl.col("cluster").is_in(assigned["cluster"].implode())
            & ~pl.col("legacy_id").is_in(pl.Series(list(used), dtype=pl.String).implode())
        )
        .group_by("cluster", pl.col("legacy_id").alias("customer_id"))
        .agg(pl.len().alias("votes"))
    )
    assigned = pl.concat([assigned, _claim(adoptable)])
    used |= set(assigned["customer_id"].to_list())

    pending = (
        records.filter(~pl.col("cluster").is_in(assigned["cluster"].implode()))
        .group_by("cluster")
        .agg(pl.col("first_contact_date").min())
        .with_columns(pl.col("first_contact_date").fill_null(run_date).dt.strftime("%Y%m%d").alias("day"))
        .sort(["day", "cluster"])
    )
    if pending.is_empty():
        return assigned
    used_frame = pl.DataFrame({"customer_id": sorted(used)}, schema={"customer_id": pl.String})
    highest = (
        used_frame.filter(pl.col("customer_id").str.contains(rf"^{ID_PREFIX}\d{{8}}\d+$"))
        .select(
            pl.col("customer_id").str.slice(1, 8).alias("day"),
            pl.col("customer_id").str.slice(9).cast(pl.Int64).alias("seq"),
        )
        .group_by("day")
        .agg(pl.col("seq").max().alias("highest"))
    )
    numbered = (
        pending.join(highest, on="day", how="left", maintain_order="left")
        .with_columns(
            (pl.col("highest").fill_null(0) + pl.int_range(1, pl.len() + 1).over("day")).alias("seq")
        )
        .with_columns(
            (
                pl.lit(ID_PREFIX) + pl.col("day") + pl.col("seq").cast(pl.String).str.zfill(SEQUENCE_WIDTH)
            ).alias("customer_id")
        )
        .select("cluster", "customer_id")
    )
    return pl.concat([assigned, numbered])
