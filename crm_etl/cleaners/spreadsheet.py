"""Keep exported values from being run as spreadsheet formulas (CSV/formula injection)."""

from __future__ import annotations

import polars as pl

# A cell starting with one of these is taken for a formula by Excel, LibreOffice and WPS.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The spreadsheet text mark. A value that already starts with it is marked too, so that
# `restore_formulas` can always strip exactly one mark.
TEXT_MARK = "'"
_MARKED = "^[" + "".join("\\" + c if c in "-+" else c for c in (*FORMULA_PREFIXES, TEXT_MARK)) + "]"


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would read this text as a formula."""
    return text.startswith(FORMULA_PREFIXES)


def neutralise_formulas(values: pl.Series) -> pl.Series:
    """Text that would start a formula (or starts with the mark) gets the apostrophe text mark."""
    risky = values.str.contains(_MARKED)
    return pl.select(
        pl.when(risky).then(pl.lit(TEXT_MARK) + values).otherwise(values).alias(values.name)
    ).to_series()


def restore_formulas(values: pl.Series) -> pl.Series:
    """Undo `neutralise_formulas` (for reading an export back)."""
    marked = values.str.starts_with(TEXT_MARK)
    return pl.select(
        pl.when(marked).then(values.str.slice(1)).otherwise(values).alias(values.name)
    ).to_series()


# Excel's limit of a cell's text, in UTF-16 units (what Excel's LEN counts; a character beyond
# the Basic Multilingual Plane, an emoji or a rare CJK ideograph, takes two).
XLSX_MAX_CELL = 32_767


def utf16_length(text: str) -> int:
    """The length of a text in UTF-16 units."""
    return len(text) + sum(ord(c) > 0xFFFF for c in text)


def truncation_marker(removed: int) -> str:
    """The visible end of a cut value: `…[truncated 7,233 chars]` (characters of the full value left out)."""
    return f"…[truncated {removed:,} chars]"


def truncate_cell(text: str, limit: int = XLSX_MAX_CELL) -> str:
    """The text itself if it fits in `limit` UTF-16 units, else its start and `truncation_marker`, within `limit`."""
    if len(text) <= limit // 2 or utf16_length(text) <= limit:
        return text
    budget = limit - len(truncation_marker(len(text)))  # the marker's digits never grow as more is kept
    kept, used = 0, 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > budget:
            break
        kept, used = kept + 1, used + width
    return text[:kept] + truncation_marker(len(text) - kept)


def truncate_cells(values: pl.Series, limit: int = XLSX_MAX_CELL) -> tuple[pl.Series, int]:
    """A text column with every value over `limit` UTF-16 units cut by `truncate_cell`, and how many were cut."""
    # A UTF-16 unit takes at least one UTF-8 byte: only values of more bytes than `limit` can be over.
    candidates = values.filter(values.str.len_bytes() > limit)
    if candidates.is_empty():
        return values, 0
    cut = {text: truncate_cell(text, limit) for text in candidates.unique().to_list()}
    cut = {text: fitted for text, fitted in cut.items() if fitted is not text}
    if not cut:
        return values, 0
    fitted = values.replace_strict(cut, default=values, return_dtype=pl.String)
    return fitted.alias(values.name), int(values.is_in(list(cut)).sum())
