"""Recognise rows that carry no record: blank rows, totals rows and notes written into the sheet."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

# A cell that labels a totals line (合计 / 总计 / 小计 / Total), possibly with a colon.
TOTALS_LABEL = (
    r"^\s*(合\s*计|总\s*计|小\s*计|共\s*计|总数|total|totals|grand total|sum|subtotal)\s*[:：]?\s*$"
)
# Free-text notes typed under or between records.
NOTE_START = r"^\s*(备注|注意|注|说明|附注|提示|填表说明|note|notes|remark|remarks|ps)\s*[:：.、\s]"
NOTE_SENTENCE = r"[。！？!?；;]|[，,].*[，,。]"
NOTE_MIN_LENGTH = 40


def garbage_reason(frame: pl.DataFrame, value_columns: Sequence[str]) -> pl.Series:
    """Per row: `blank_row`, `totals_row`, `note_row` or null for a row that may hold a record.

    `value_columns` are the columns holding the row's cells as text; `extra` (JSON of
    unmapped cells) counts as cells too, so a note typed in an unmapped column is seen.
    """
    cells = [pl.col(c).cast(pl.String) for c in value_columns]
    filled = pl.sum_horizontal([c.is_not_null().cast(pl.Int32) for c in cells])
    has_extra = pl.col("extra").is_not_null() if "extra" in frame.columns else pl.lit(False)
    filled_total = filled + has_extra.cast(pl.Int32)
    is_totals = pl.any_horizontal([c.str.contains(f"(?i){TOTALS_LABEL}").fill_null(False) for c in cells])
    only_text = pl.coalesce(cells) if cells else pl.lit(None, dtype=pl.String)
    is_note = (
        (filled == 1)
        & ~has_extra
        & (
            only_text.str.contains(f"(?i){NOTE_START}").fill_null(False)
            | only_text.str.contains(NOTE_SENTENCE).fill_null(False)
            | (only_text.str.len_chars() >= NOTE_MIN_LENGTH).fill_null(False)
        )
    )
    reason = (
        pl.when(filled_total == 0)
        .then(pl.lit("blank_row"))
        .when(is_totals)
        .then(pl.lit("totals_row"))
        .when(is_note)
        .then(pl.lit("note_row"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return frame.select(reason.alias("garbage_reason")).to_series()


def repeated_header(rows: Sequence[Sequence[object]], header: Sequence[object]) -> list[bool]:
    """Per row: whether it is the header row again (most filled cells equal their column's header)."""
    from cleaners.mapping.headers import normalise_header

    keys = [normalise_header(h) for h in header]
    flags = []
    for row in rows:
        filled = [(i, normalise_header(c)) for i, c in enumerate(row) if c is not None and str(c).strip()]
        same = sum(1 for i, k in filled if i < len(keys) and k and k == keys[i])
        flags.append(same >= 2 and same >= 0.6 * len(filled))
    return flags
