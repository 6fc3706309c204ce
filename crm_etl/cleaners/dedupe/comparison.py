"""Compare candidate pairs field by field with rapidfuzz's batch scorers, into comparison levels.

Values are compared as codes: each column's distinct values are numbered once, equal codes are
equal values, and the string metric runs once per distinct pair of different values. Candidate
pairs repeat values a lot (a common contact name, a company with several records), so this
scores about half as many pairs as there are, and no pair's strings are ever copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import Indel, JaroWinkler, Levenshtein

from crm_etl.cleaners.dedupe.settings import SIDE_COLUMN, Comparison

_SCORERS: dict[str, Any] = {
    "jaro_winkler": JaroWinkler.normalized_similarity,
    "ratio": Indel.normalized_similarity,
    "levenshtein": Levenshtein.distance,
}
_MISSING = -1


def value_codes(values: pl.Series, keep_values: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the code of its value (-1 when null or empty), and the distinct values by code
    (as Python strings, which the string metrics read; empty when `keep_values` is off)."""
    text = values.cast(pl.String)
    # Unordered: a code only has to name its value, and scores do not depend on the numbering.
    distinct = text.filter(text.is_not_null() & (text != "")).unique()
    lookup = pl.DataFrame({"value": distinct, "code": np.arange(len(distinct), dtype=np.int32)})
    codes = (
        pl.DataFrame({"value": text})
        .join(lookup, on="value", how="left", maintain_order="left")
        .get_column("code")
        .fill_null(_MISSING)
    )
    strings = np.array(distinct.to_list() if keep_values else [], dtype=object)
    return codes.to_numpy(), strings


CodedColumns = dict[str, tuple[np.ndarray, np.ndarray]]


def code_columns(records: pl.DataFrame, comparisons: Sequence[Comparison]) -> CodedColumns:
    """Value codes of every compared column, computed once and shared by every comparison of the run."""
    scored = {c.column for c in comparisons if c.metric != "exact"}
    columns = dict.fromkeys(c.column for c in comparisons)
    return {c: value_codes(records.get_column(c), keep_values=c in scored) for c in columns}


def _similarity(left: np.ndarray, right: np.ndarray, values: np.ndarray, metric: str) -> np.ndarray:
    """The metric for pairs of different value codes, computed once per distinct pair, on all cores."""
    if metric == "exact" or left.size == 0:
        return np.zeros(left.size, dtype=np.float32)
    pairs = pl.DataFrame({"pair": (left.astype(np.int64) << 32) | right.astype(np.int64)})
    distinct = pairs.unique().get_column("pair").to_numpy()
    a = values[distinct >> 32].tolist()
    b = values[distinct & 0xFFFFFFFF].tolist()
    scores = np.asarray(process.cpdist(a, b, scorer=_SCORERS[metric], workers=-1), dtype=np.float32)
    scored = pl.DataFrame({"pair": distinct, "score": scores})
    return pairs.join(scored, on="pair", how="left", maintain_order="left").get_column("score").to_numpy()


def comparison_levels(
    left: np.ndarray, right: np.ndarray, values: np.ndarray, comparison: Comparison
) -> tuple[pl.Series, pl.Series]:
    """(level, similarity) of aligned value codes: level -1 when either is missing, top when equal."""
    present = (left != _MISSING) & (right != _MISSING)
    equal = present & (left == right)
    differ = present & ~equal
    similarity = np.full(left.size, np.nan, dtype=np.float32)
    similarity[equal] = 0.0 if comparison.metric == "levenshtein" else 1.0
    similarity[differ] = _similarity(left[differ], right[differ], values, comparison.metric)
    level = np.full(left.size, -1, dtype=np.int8)
    level[equal] = comparison.levels - 1
    satisfied = np.zeros(int(differ.sum()), dtype=np.int8)
    for threshold in comparison.thresholds:
        close = (
            similarity[differ] <= threshold
            if comparison.metric == "levenshtein"
            else similarity[differ] >= threshold
        )
        satisfied += close
    level[differ] = satisfied
    return (
        pl.Series(f"{comparison.name}_level", level, dtype=pl.Int8),
        pl.Series(f"{comparison.name}_sim", similarity, dtype=pl.Float32).fill_nan(None),
    )


def term_frequencies(codes: np.ndarray, minimum_population: int = 0) -> np.ndarray:
    """Share of the non-missing rows carrying each value code, over at least `minimum_population` rows."""
    known = codes[codes != _MISSING]
    counts = np.bincount(known, minlength=int(codes.max(initial=-1)) + 1)
    return counts / max(known.size, minimum_population, 1)


def record_term_frequencies(
    records: pl.DataFrame,
    comparisons: Sequence[Comparison],
    minimum_population: int = 0,
    coded: CodedColumns | None = None,
) -> dict[str, pl.Series]:
    """Per term-frequency comparison, `<name>_tf` of every record: its value's share of the whole
    population (null when it has none), which `compare_pairs` then reads off a subset of records."""
    wanted = [c for c in comparisons if c.term_frequency]
    coded = code_columns(records, wanted) if coded is None else coded
    columns = {}
    for comparison in wanted:
        codes, _ = coded[comparison.column]
        tf = term_frequencies(codes, minimum_population)
        values = np.full(codes.size, np.nan)
        known = codes != _MISSING
        values[known] = tf[codes[known]]
        columns[comparison.name] = pl.Series(f"{comparison.name}_tf", values).fill_nan(None)
    return columns


def _rule_column(records: pl.DataFrame, column: str) -> pl.Series:
    """A column the rules read, as it is gathered for both ends of every pair: text as categories.

    A pair frame holds two copies per candidate pair (millions at a million records); a category
    is 4 bytes where the text is tens, and equality, `= 'literal'` and IS NULL read the same.
    """
    values = records.get_column(column)
    return values.cast(pl.Categorical) if values.dtype == pl.String else values


def compare_pairs(
    pairs: pl.DataFrame,
    records: pl.DataFrame,
    comparisons: Sequence[Comparison],
    extra_columns: Sequence[str] = (),
    id_column: str = "record_idx",
    tf_minimum_population: int = 0,
    coded: CodedColumns | None = None,
) -> pl.DataFrame:
    """Pairs with `<name>_level`, `<name>_sim`, where asked `<name>_tf` (of the left value), and
    `l_<col>`/`r_<col>` of the columns the rules and `only_when` conditions read.

    `coded`: `code_columns(records, comparisons)` when the caller compares several sets of pairs.
    Where `records` carry a `<name>_tf` column (`record_term_frequencies` of the whole population),
    it is read instead of counting `records`' own values: a subset of the records then compares
    its pairs exactly as the whole would.
    """
    conditions = [m for c in comparisons if c.only_when for m in SIDE_COLUMN.findall(c.only_when)]
    read = list(dict.fromkeys([*extra_columns, *conditions]))
    # Row positions of both ends, then gathers: far cheaper than joining every column twice.
    ids = records.get_column(id_column).cast(pl.Int64)
    if ids.equals(pl.int_range(0, ids.len(), dtype=pl.Int64, eager=True).alias(ids.name)):
        located = pairs.with_columns(
            pl.col("l").alias("l_pos"), pl.col("r").alias("r_pos")
        )  # ids are positions
    else:
        position = ids.to_frame("id").with_row_index("pos")
        located = pairs.join(position.rename({"id": "l", "pos": "l_pos"}), on="l").join(
            position.rename({"id": "r", "pos": "r_pos"}), on="r"
        )
    left, right = located["l_pos"], located["r_pos"]
    frame = located.drop("l_pos", "r_pos").with_columns(
        *(_rule_column(records, c).gather(left).alias(f"l_{c}") for c in read),
        *(_rule_column(records, c).gather(right).alias(f"r_{c}") for c in read),
    )
    left_at, right_at = left.to_numpy(), right.to_numpy()
    coded = code_columns(records, comparisons) if coded is None else coded
    results = []
    for comparison in comparisons:
        codes, values = coded[comparison.column]
        level, similarity = comparison_levels(codes[left_at], codes[right_at], values, comparison)
        if comparison.only_when:
            comparable = frame.select(pl.sql_expr(comparison.only_when).fill_null(value=False)).to_series()
            level = level.zip_with(comparable, pl.Series([-1] * len(level), dtype=pl.Int8))
        results += [level, similarity]
        if comparison.term_frequency:
            given = f"{comparison.name}_tf"
            if given in records.columns:
                results.append(records.get_column(given).gather(left).alias(given))
            else:
                tf = term_frequencies(codes, tf_minimum_population)
                left_codes = codes[left_at]
                known = left_codes != _MISSING
                values_tf = np.full(left_codes.size, np.nan)
                values_tf[known] = tf[left_codes[known]]
                results.append(pl.Series(given, values_tf).fill_nan(None))
    return frame.with_columns(results)
