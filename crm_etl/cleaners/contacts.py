"""The distinct people met at each customer, merged by name, mobile or email within that customer."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from crm_etl.cleaners.dedupe.clustering import connected_components, key_edges
from crm_etl.cleaners.dedupe.survivorship import trust_rank

_PERSON_KEYS: dict[str, pl.Expr] = {
    "name": pl.when(pl.col("contact_key").is_not_null()).then(
        pl.col("customer_id") + "|" + pl.col("contact_key")
    ),
    "mobile": pl.when(pl.col("mobile").is_not_null()).then(pl.col("customer_id") + "|" + pl.col("mobile")),
    "email": pl.when(pl.col("email").is_not_null()).then(pl.col("customer_id") + "|" + pl.col("email")),
}


def build_contacts(records: pl.DataFrame, golden: pl.DataFrame, trust_order: Sequence[str]) -> pl.DataFrame:
    """One row per person per customer; the person behind the golden contact is primary."""
    people = records.filter(
        pl.col("contact_name").is_not_null() | pl.col("mobile").is_not_null() | pl.col("email").is_not_null()
    ).with_columns(trust_rank(pl.col("source_system"), trust_order).alias("_trust"))
    if people.is_empty():
        return pl.DataFrame(
            schema={
                "contact_id": pl.String,
                "customer_id": pl.String,
                "name": pl.String,
                "title": pl.String,
                "honorific": pl.String,
                "mobile": pl.String,
                "email": pl.String,
                "is_primary": pl.Boolean,
                "name_key": pl.String,
                "source_count": pl.UInt32,
            }
        )
    components = connected_components(people["record_idx"], key_edges(people, _PERSON_KEYS))
    people = people.join(components.rename({"id": "record_idx", "component": "person"}), on="record_idx")
    people = people.sort(
        ["person", "_trust", "first_contact_date"], descending=[False, False, True], nulls_last=True
    )
    first = [
        pl.col(c).drop_nulls().first()
        for c in ["contact_name", "contact_key", "contact_title", "contact_honorific", "mobile", "email"]
    ]
    merged = people.group_by("customer_id", "person", maintain_order=True).agg(
        *first, pl.len().alias("source_count")
    )
    marked = merged.join(
        golden.select(
            "customer_id",
            pl.col("contact_key").alias("_g_key"),
            pl.col("mobile").alias("_g_mobile"),
            pl.col("email").alias("_g_email"),
        ),
        on="customer_id",
        how="left",
    ).with_columns(
        (
            (pl.col("contact_key") == pl.col("_g_key")).fill_null(False)
            | (pl.col("mobile") == pl.col("_g_mobile")).fill_null(False)
            | (pl.col("email") == pl.col("_g_email")).fill_null(False)
        ).alias("_matches_golden")
    )
    ordered = marked.sort(
        ["customer_id", "_matches_golden", "source_count", "contact_name", "person"],
        descending=[False, True, True, False, False],
        nulls_last=True,
    )
    return ordered.with_columns(
        (pl.int_range(pl.len()).over("customer_id") == 0).alias("is_primary"),
        (
            pl.col("customer_id")
            + "-"
            + (pl.int_range(1, pl.len() + 1).over("customer_id")).cast(pl.String).str.zfill(2)
        ).alias("contact_id"),
    ).select(
        "contact_id",
        "customer_id",
        pl.col("contact_name").alias("name"),
        pl.col("contact_title").alias("title"),
        pl.col("contact_honorific").alias("honorific"),
        "mobile",
        "email",
        "is_primary",
        pl.col("contact_key").alias("name_key"),
        "source_count",
    )
