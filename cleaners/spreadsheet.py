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
