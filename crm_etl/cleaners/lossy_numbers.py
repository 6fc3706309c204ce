"""Recognise long numbers (phones, IDs) that a spreadsheet stored as a float and wrote with digits lost.

A cell is lossy when it is the float rendering of an integer and that rendering cannot hold
every digit the integer had:

- exponent form with at most `GENERAL_FORMAT_DIGITS` written digits standing for a longer
  integer (`1.39123E+10`, `1.10105E+17`): Excel's General format writes a number too wide for
  its cell so, and whatever followed those digits is gone, not zero;
- exponent or `.0` form of an integer longer than `FLOAT_DIGITS` (`1.10105199001011e+17`, an
  18-digit ID Python wrote from an xlsx number cell): Excel keeps 15 significant digits of a
  number, so an ID card or order number typed as a number had its last digits zeroed when the
  workbook was saved, and a float's 16th and 17th digits are rounding, not the ID's.

Exponent forms with more written digits (`1.3800138E+10`, `1.395712E10`) are exact: they come
from writers that print the shortest exact form, which only drops zeros the number has.
"""

from __future__ import annotations

import re
import unicodedata

import polars as pl

from crm_etl.cleaners.text import clean_text

# Excel's General format fits a number into 11 characters: "1.23457E+11" keeps 6 digits.
GENERAL_FORMAT_DIGITS = 6
# Excel's precision: digits of a number cell beyond the 15th are stored as zeros.
FLOAT_DIGITS = 15

ID_REASONS: frozenset[str] = frozenset({"id_lossy_number"})

_QUOTES = "'\"`‘’“”"
# Compared after NFKC, lower-casing and stripping spaces and quotes (a text-marked '1.39E+10 too).
_EXPONENT = r"^([1-9])(?:\.([0-9]*))?e\+?([0-9]{1,3})$"
_INTEGRAL_FLOAT = r"^0*([1-9][0-9]*)\.0+$"
# Every float rendering has one of these; the many cells without pay for nothing more.
_FLOAT_MARK = "[.eEｅＥ．]"
_EXPONENT_RE = re.compile(_EXPONENT)
_INTEGRAL_FLOAT_RE = re.compile(_INTEGRAL_FLOAT)


def _lossy(written: int, length: int) -> bool:
    """Whether `written` digits standing for an integer of `length` digits have lost some."""
    return length > FLOAT_DIGITS or (written < length and written <= GENERAL_FORMAT_DIGITS)


def is_lossy_number(text: str) -> bool:
    """Whether one cell is an integer written as a float with some of its digits lost."""
    text = unicodedata.normalize("NFKC", text).strip().strip(_QUOTES).strip().lower()
    exponent = _EXPONENT_RE.fullmatch(text)
    if exponent:
        fraction, power = exponent.group(2) or "", int(exponent.group(3))
        return len(fraction) <= power and _lossy(1 + len(fraction), power + 1)
    integral = _INTEGRAL_FLOAT_RE.fullmatch(text)
    # A `.0` float shows every digit up to the point; beyond 15 the tail is Excel's zeros or float noise.
    return integral is not None and len(integral.group(1)) > FLOAT_DIGITS


def lossy_numbers(cells: pl.Expr) -> pl.Expr:
    """Per cell, `is_lossy_number` as a polars expression (false for null)."""
    text = (
        cells.cast(pl.String)
        .str.normalize("NFKC")
        .str.strip_chars()
        .str.strip_chars(_QUOTES)
        .str.strip_chars()
        .str.to_lowercase()
    )
    parts = text.str.extract_groups(_EXPONENT)
    fraction = parts.struct.field("2").fill_null("").str.len_chars().cast(pl.Int64)
    power = parts.struct.field("3").cast(pl.Int64)
    written, length = fraction + 1, power + 1
    by_exponent = (fraction <= power) & (
        (length > FLOAT_DIGITS) | ((written < length) & (written <= GENERAL_FORMAT_DIGITS))
    )
    by_integral = text.str.extract(_INTEGRAL_FLOAT, 1).str.len_chars() > FLOAT_DIGITS
    return (
        pl.when(parts.struct.field("1").is_not_null())
        .then(by_exponent)
        .otherwise(by_integral)
        .fill_null(value=False)
    )


def lossy_cells(values: pl.Series) -> pl.Series:
    """Per cell, `is_lossy_number` (false for null); only cells that could be a float are examined."""
    text = values.cast(pl.String)
    marked = text.str.contains(_FLOAT_MARK).fill_null(value=False)
    lossy = pl.Series(values.name, [False] * len(values), dtype=pl.Boolean)
    if marked.any():
        examined = text.filter(marked).to_frame("v").select(lossy_numbers(pl.col("v"))).to_series()
        lossy.scatter(marked.arg_true(), examined)
    return lossy


def clean_source_ids(values: pl.Series) -> pl.DataFrame:
    """A source system's own IDs (客户编号, 订单编号): `id` as cleaned text, null where the cell
    lost digits as a spreadsheet number, with `id_reason` `id_lossy_number` then.

    A lossy ID is never loaded: `1.10105E+17` would merge or link every customer whose ID starts
    110105, and 110105199001011000 is nobody's ID.
    """
    lossy = lossy_cells(values)
    return pl.DataFrame({"id": clean_text(values), "lossy": lossy}).select(
        pl.when(pl.col("lossy")).then(None).otherwise(pl.col("id")).alias("id"),
        pl.when(pl.col("lossy")).then(pl.lit("id_lossy_number")).alias("id_reason"),
    )
