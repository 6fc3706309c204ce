"""Rows of `match_pairs`: every scored candidate pair of a run, each record named by its lineage."""

from __future__ import annotations

import polars as pl

from crm_etl.cleaners.customers import ResolvedCustomers
from crm_etl.cleaners.dedupe.explain import pair_evidence

# What names a record outside the run: the join keys of customer_sources, and where it went.
IDENTITY = ["source_system", "source_key", "source_file", "source_sheet", "source_row", "customer_id"]


def match_pair_rows(resolved: ResolvedCustomers, run_id: str) -> pl.DataFrame:
    """Per candidate pair: run_id, both records' identity (l_*, r_*), the evidence and the outcome.

    A record of a cluster rejected after linking (no company name anywhere) has no customer_id.
    """
    identity = pl.concat(
        [
            resolved.records.select("record_idx", *IDENTITY),
            resolved.rejected.select("record_idx", *IDENTITY[:-1]).with_columns(
                pl.lit(None, pl.String).alias("customer_id")
            ),
        ]
    )
    evidence = pair_evidence(resolved.linkage)
    side = {
        side: identity.rename({c: f"{side}_{c}" for c in IDENTITY} | {"record_idx": side}) for side in "lr"
    }
    return (
        evidence.join(side["l"], on="l", how="left", maintain_order="left")
        .join(side["r"], on="r", how="left", maintain_order="left")
        .select(
            pl.lit(run_id).alias("run_id"),
            *(f"{s}_{c}" for s in "lr" for c in IDENTITY),
            pl.exclude("l", "r", *(f"{s}_{c}" for s in "lr" for c in IDENTITY)),
        )
    )
