"""Which version of each input file a run builds on: the one just read, or the one the database holds.

A file's identity is its path relative to the inbox (`source_file`). The database
keeps the extracted rows of every file it has loaded, so a file that has left the
inbox (moved to `processed/`) still counts. A file read again supersedes its stored
version, unless this read is worse: a file that could not be read, or that has a
sheet that could not be read, never replaces a version that was read in full.
"""

from __future__ import annotations

import polars as pl

READ_SCHEMA = {
    "source_file": pl.String,
    "sha256": pl.String,
    "size_bytes": pl.Int64,
    "usable": pl.Boolean,
    "complete": pl.Boolean,
}
STORED_SCHEMA = {"source_file": pl.String, "sha256": pl.String, "size_bytes": pl.Int64, "run_id": pl.String}


def choose_input_versions(read: pl.DataFrame, stored: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """One row per file the run builds on: source_file, origin (read | kept), sha256, size_bytes, run_id.

    `read`: files found in the inbox this run (`usable`: it yielded sheets; `complete`:
    no sheet failed). `stored`: versions the database holds, with the run that first
    read each. The returned `run_id` is the first run that read the chosen version.
    """
    joined = read.join(stored, on="source_file", how="full", coalesce=True, suffix="_stored")
    has_stored = pl.col("sha256_stored").is_not_null()
    takes_read = pl.col("usable").fill_null(False) & (pl.col("complete").fill_null(False) | ~has_stored)
    same_version = pl.col("sha256") == pl.col("sha256_stored")
    return (
        joined.filter(takes_read | has_stored)
        .select(
            "source_file",
            pl.when(takes_read).then(pl.lit("read")).otherwise(pl.lit("kept")).alias("origin"),
            pl.when(takes_read).then(pl.col("sha256")).otherwise(pl.col("sha256_stored")).alias("sha256"),
            pl.when(takes_read)
            .then(pl.col("size_bytes"))
            .otherwise(pl.col("size_bytes_stored"))
            .alias("size_bytes"),
            pl.when(takes_read & ~(has_stored & same_version).fill_null(False))
            .then(pl.lit(run_id))
            .otherwise(pl.col("run_id"))
            .alias("run_id"),
        )
        .sort("source_file")
    )
