"""The audit sample's draw: a seeded share of rows per group (the report's figures are schemas/kpis.yaml)."""

from __future__ import annotations

import polars as pl


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
