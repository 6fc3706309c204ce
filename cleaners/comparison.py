"""Compare candidate pairs field by field with rapidfuzz's batch scorers, into comparison levels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import Indel, JaroWinkler, Levenshtein

from cleaners.linkage_settings import SIDE_COLUMN, Comparison

_SCORERS: dict[str, Any] = {
    "jaro_winkler": JaroWinkler.normalized_similarity,
    "ratio": Indel.normalized_similarity,
    "levenshtein": Levenshtein.distance,
}


def _scores(a: pl.Series, b: pl.Series, metric: str) -> np.ndarray:
    """The metric for aligned non-null string pairs, in C++ on all cores."""
    if metric == "exact" or a.is_empty():
        return (a == b).cast(pl.Float32).to_numpy()
    result = process.cpdist(a.to_list(), b.to_list(), scorer=_SCORERS[metric], workers=-1)
    return np.asarray(result, dtype=np.float32)


def comparison_levels(a: pl.Series, b: pl.Series, comparison: Comparison) -> tuple[pl.Series, pl.Series]:
    """(level, similarity) for aligned values: -1 when either is null, top level when equal."""
    a, b = a.cast(pl.String), b.cast(pl.String)
    present = (a.is_not_null() & b.is_not_null() & (a != "") & (b != "")).fill_null(value=False)
    sim = np.full(len(a), np.nan, dtype=np.float32)
    mask = present.to_numpy()
    sim[mask] = _scores(a.filter(present), b.filter(present), comparison.metric)
    similarity = pl.Series(f"{comparison.name}_sim", sim, dtype=pl.Float32).fill_nan(None)
    satisfied = [
        (similarity <= t) if comparison.metric == "levenshtein" else (similarity >= t)
        for t in comparison.thresholds
    ]
    level = pl.select(
        pl.when(~present)
        .then(-1)
        .when(a == b)
        .then(comparison.levels - 1)
        .otherwise(pl.sum_horizontal([s.cast(pl.Int8) for s in satisfied]) if satisfied else 0)
        .cast(pl.Int8)
        .alias(f"{comparison.name}_level")
    ).to_series()
    return level, similarity


def term_frequencies(records: pl.DataFrame, column: str, minimum_population: int = 0) -> pl.DataFrame:
    """Share of non-null records carrying each value of a column (value, tf), over at least
    `minimum_population` records."""
    values = records.get_column(column).cast(pl.String).drop_nulls()
    values = values.filter(values != "")
    if values.is_empty():
        return pl.DataFrame(schema={"value": pl.String, "tf": pl.Float64})
    return (
        values.value_counts(name="n")
        .rename({column: "value"})
        .select("value", (pl.col("n") / max(values.len(), minimum_population)).alias("tf"))
    )


def compare_pairs(
    pairs: pl.DataFrame,
    records: pl.DataFrame,
    comparisons: Sequence[Comparison],
    extra_columns: Sequence[str] = (),
    id_column: str = "record_idx",
    tf_minimum_population: int = 0,
) -> pl.DataFrame:
    """Pairs with `l_<col>`/`r_<col>`, `<name>_level`, `<name>_sim` and, where asked, `<name>_tf`."""
    conditions = [m for c in comparisons if c.only_when for m in SIDE_COLUMN.findall(c.only_when)]
    columns = list(dict.fromkeys([*(c.column for c in comparisons), *extra_columns, *conditions]))
    # Row positions of both ends, then gathers: far cheaper than joining every column twice.
    position = records.select(pl.col(id_column).cast(pl.Int64).alias("id")).with_row_index("pos")
    located = pairs.join(position.rename({"id": "l", "pos": "l_pos"}), on="l").join(
        position.rename({"id": "r", "pos": "r_pos"}), on="r"
    )
    left, right = located["l_pos"], located["r_pos"]
    frame = located.drop("l_pos", "r_pos").with_columns(
        *(records.get_column(c).gather(left).alias(f"l_{c}") for c in columns),
        *(records.get_column(c).gather(right).alias(f"r_{c}") for c in columns),
    )
    results = []
    for comparison in comparisons:
        level, similarity = comparison_levels(
            frame[f"l_{comparison.column}"], frame[f"r_{comparison.column}"], comparison
        )
        if comparison.only_when:
            comparable = frame.select(pl.sql_expr(comparison.only_when).fill_null(value=False)).to_series()
            level = level.zip_with(comparable, pl.Series([-1] * len(level), dtype=pl.Int8))
        results += [level, similarity]
    frame = frame.with_columns(results)
    for comparison in comparisons:
        if comparison.term_frequency:
            tf = term_frequencies(records, comparison.column, tf_minimum_population)
            tf = tf.rename({"tf": f"{comparison.name}_tf"})
            frame = frame.join(
                tf,
                left_on=pl.col(f"l_{comparison.column}").cast(pl.String),
                right_on="value",
                how="left",
                maintain_order="left",
            ).drop("value", strict=False)
    # Compared values are no longer needed, only those the rules read: a million pairs of strings
    # are most of the memory.
    done = [c for c in columns if c not in set(extra_columns) | set(conditions)]
    return frame.drop([f"{side}_{c}" for c in done for side in ("l", "r")])
