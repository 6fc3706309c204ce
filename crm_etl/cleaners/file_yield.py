"""Files that yield nothing useful: most of their rows quarantined for one reason."""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

# Reasons that say nothing about whether a file was read right: a blank line is no record at all.
NEUTRAL_REASONS: frozenset[str] = frozenset({"blank_row"})


def failing_files(
    rows_read: pl.DataFrame,
    quarantine: pl.DataFrame,
    share: float,
    files: Collection[str] | None = None,
) -> pl.DataFrame:
    """Files where more than `share` of the data rows were quarantined for one reason.

    `rows_read` has one row per data row (source_file); `quarantine` one per quarantined
    row (source_file, reason). Returns source_file, reason, quarantined, rows, share,
    worst first; only files in `files` when given (those read in this run).
    """
    schema = {"source_file": pl.String, "reason": pl.String, "quarantined": pl.Int64, "rows": pl.Int64}
    totals = rows_read.group_by("source_file").agg(pl.len().cast(pl.Int64).alias("rows"))
    by_reason = (
        quarantine.filter(~pl.col("reason").is_in(list(NEUTRAL_REASONS)))
        .group_by("source_file", "reason")
        .agg(pl.len().cast(pl.Int64).alias("quarantined"))
    )
    result = (
        by_reason.join(totals, on="source_file")
        .with_columns((pl.col("quarantined") / pl.col("rows")).alias("share"))
        .filter(pl.col("share") > share)
        .sort(["share", "source_file"], descending=[True, False])
    )
    if files is not None:
        result = result.filter(pl.col("source_file").is_in(list(files)))
    if result.is_empty():
        return pl.DataFrame(schema={**schema, "share": pl.Float64})
    return result.select("source_file", "reason", "quarantined", "rows", "share")
