"""The managers' headline figures of a run, as one long frame (kpi, dimension, value)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from cleaners.quality import field_completeness

KPI_SCHEMA = {"kpi": pl.String, "dimension": pl.String, "value": pl.Float64}
# Headline figures have no dimension; per-field, per-reason and per-owner figures name theirs.
HEADLINE = ""
# The source system of filled-in worklists (schemas/sources/worklist.yaml).
WORKLIST_SYSTEM = "worklist"


def kpi_customer_columns(completeness_fields: Sequence[str]) -> list[str]:
    """The columns of `customers` that `run_kpis` and `follow_up_status` read (`contact` is mobile or phone)."""
    read = ["customer_id", "customer_type", "owner", "first_contact_date", "mobile", "phone", "completeness"]
    return list(dict.fromkeys([*read, "missing_fields", *(f for f in completeness_fields if f != "contact")]))


def follow_up_status(
    customers: pl.DataFrame,
    interactions: pl.DataFrame,
    as_of: dt.date,
    overdue_days: int,
    active_types: Sequence[str],
) -> pl.DataFrame:
    """Per active customer: the last touch (latest follow-up, else first contact) and whether it is overdue.

    跟进超时: an active customer (customer_type in `active_types`) whose last touch is more
    than `overdue_days` before `as_of`, or who was never touched at all.
    """
    last = (
        interactions.filter(pl.col("customer_id").is_not_null())
        .group_by("customer_id")
        .agg(pl.col("date").max().alias("last_interaction"))
    )
    active = customers.filter(pl.col("customer_type").is_in(list(active_types))).select(
        "customer_id", "owner", "first_contact_date"
    )
    cutoff = as_of - dt.timedelta(days=overdue_days)
    return (
        active.join(last, on="customer_id", how="left")
        .with_columns(pl.max_horizontal("last_interaction", "first_contact_date").alias("last_touch"))
        .with_columns((pl.col("last_touch").is_null() | (pl.col("last_touch") < cutoff)).alias("overdue"))
        .select("customer_id", "owner", "last_touch", "overdue")
    )


def _rows(kpi: str, values: dict[str, float]) -> list[dict[str, object]]:
    return [{"kpi": kpi, "dimension": k, "value": float(v)} for k, v in values.items()]


def _issue_count(sources: pl.DataFrame, fields: Sequence[str]) -> int:
    """Loaded records with a cleaning doubt on any of `fields` (issues are `field:reason`)."""
    if sources.is_empty():
        return 0
    pattern = "^(" + "|".join(fields) + "):"
    return sources.select(
        pl.col("issues").list.eval(pl.element().str.contains(pattern)).list.any().fill_null(False).sum()
    ).item()


def _duplicates_merged(sources: pl.DataFrame, customers: int) -> int:
    """Loaded records beyond one per customer, other than returned worklists and contacts: a worklist
    row restates its customer, a contacts export's row is a person at it (cleaners/contact_records.py),
    neither is a duplicate, and a customer only contacts name has no record to duplicate."""
    if "source_system" not in sources.columns:
        return max(sources.height - customers, 0)
    restating = pl.col("source_system") == WORKLIST_SYSTEM
    if "record_role" in sources.columns:
        restating |= (pl.col("record_role") == "contact").fill_null(value=False)
        customers = sources.filter(~pl.col("record_role").eq("contact").fill_null(value=False))[
            "customer_id"
        ].n_unique()
    return max(sources.filter(~restating).height - customers, 0)


def run_kpis(
    customers: pl.DataFrame,
    sources: pl.DataFrame,
    quarantine: pl.DataFrame,
    follow_ups: pl.DataFrame,
    completeness_fields: Sequence[str],
) -> pl.DataFrame:
    """Headline, per-field, per-quarantine-reason and per-owner figures of one run.

    `customers`: the golden table; `sources`: customer_sources (`issues`, `source_system`); `quarantine`:
    rows not loaded (`reason`); `follow_ups`: from `follow_up_status`.
    """
    n = customers.height
    no_phone = (pl.col("mobile").is_null() & pl.col("phone").is_null()).sum()
    missing = customers.select(
        no_phone.alias("phones"), pl.col("first_contact_date").is_null().sum().alias("dates")
    ).row(0, named=True)
    headline = {
        "customers": n,
        "completeness": float(customers.select(pl.col("completeness").mean()).item() or 0.0) if n else 0.0,
        "records_loaded": sources.height,
        "duplicates_merged": _duplicates_merged(sources, n),
        "phones_invalid": _issue_count(sources, ["mobile", "phone"]),
        "phones_missing": missing["phones"] or 0,
        "dates_invalid": _issue_count(sources, ["first_contact_date"]),
        "dates_missing": missing["dates"] or 0,
        "quarantined": quarantine.height,
        "overdue_followups": int(follow_ups["overdue"].sum()),
        "needs_backfill": customers.filter(pl.col("missing_fields").list.len() > 0).height,
    }
    rows = [{"kpi": k, "dimension": HEADLINE, "value": float(v)} for k, v in headline.items()]
    rows += _rows("field_completeness", field_completeness(customers, completeness_fields))
    rows += _rows("quarantined_by_reason", dict(quarantine.group_by("reason").len().iter_rows()))
    overdue = follow_ups.filter(pl.col("overdue")).group_by("owner").len().rename({"len": "overdue"})
    owners = (
        customers.group_by("owner")
        .agg(
            pl.len().alias("customers"),
            pl.col("completeness").mean().alias("completeness"),
            (pl.col("missing_fields").list.len() > 0).sum().alias("needs_backfill"),
        )
        .join(overdue, on="owner", how="left", nulls_equal=True)
        .with_columns(pl.col("overdue").fill_null(0), pl.col("owner").fill_null(HEADLINE))
    )
    for column in ("customers", "completeness", "needs_backfill", "overdue"):
        rows += _rows(f"owner_{column}", dict(owners.select("owner", column).iter_rows()))
    return pl.DataFrame(rows, schema=KPI_SCHEMA)


def stratified_sample(frame: pl.DataFrame, by: str, share: float, seed: int, order_by: str) -> pl.DataFrame:
    """A seeded random `share` of the rows of each group of `by` (at least one row per group).

    Each group gets ceil(share × its size) rows, so every owner is checked and the whole
    sample is at least `share` of the table. Rows are ordered by `order_by` first, so the
    same table and seed always give the same sample.
    """
    if frame.is_empty():
        return frame
    frame = frame.sort(order_by)
    size = pl.len().over(by)
    quota = (size.cast(pl.Float64) * share).ceil().cast(pl.Int64).clip(lower_bound=1)
    rank = pl.int_range(pl.len()).shuffle(seed=seed).over(by)
    return frame.filter(rank < quota)
