"""Schema drift: columns a known export had in the last run and no longer has, or has new."""

from __future__ import annotations

import polars as pl

DRIFT_SCHEMA = {"source_file": pl.String, "source_sheet": pl.String, "header": pl.String, "change": pl.String}


def schema_drift(previous: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """Headers added or removed per (file, sheet) that both runs mapped; `change` is added | removed.

    Both frames have source_file, source_sheet, header (one row per column). A sheet
    only one of the runs saw is no drift: it is a new or a departed file.
    """
    keys = ["source_file", "source_sheet"]
    if previous.is_empty() or current.is_empty():
        return pl.DataFrame(schema=DRIFT_SCHEMA)
    both = previous.select(keys).unique().join(current.select(keys).unique(), on=keys)
    before = previous.join(both, on=keys).select(*keys, "header").unique()
    after = current.join(both, on=keys).select(*keys, "header").unique()
    removed = before.join(after, on=[*keys, "header"], how="anti").with_columns(
        pl.lit("removed").alias("change")
    )
    added = after.join(before, on=[*keys, "header"], how="anti").with_columns(pl.lit("added").alias("change"))
    return pl.concat([removed, added]).sort([*keys, "change", "header"]).cast(DRIFT_SCHEMA)  # type: ignore[arg-type]
