"""A sheet's cells column by column: the text a field carries, the JSON kept in `raw`, `str()`.

The column form of flows/readers.py `raw_text` and `json_cell`, for whole sheets: strings,
floats, integers and booleans are converted by polars a column at a time; a Python function
sees each distinct value of the rarer cell types once (dates and times, integers beyond 64
bits, floats that Python writes in exponent notation).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, compress, repeat
from typing import Any

import polars as pl

from crm_etl.cleaners.mapping.headers import STR_WHITESPACE
from crm_etl.flows.readers import LONGEST_EXACT_INTEGER, json_cell, raw_text

# What json.dumps(..., ensure_ascii=False) escapes in a string, and nothing else.
_JSON_ESCAPES = {chr(c): f"\\u{c:04x}" for c in range(0x20)} | {
    "\\": "\\\\",
    '"': '\\"',
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
# A character str.strip() keeps: a cell without one is blank.
_NOT_WHITESPACE = "[^" + "".join(f"\\x{{{ord(c):X}}}" for c in STR_WHITESPACE) + "]"
# Floats whose repr() is plain decimal, as polars writes them too: 1e-4 <= |x| < 1e16.
_PLAIN_FLOAT_MIN = 1e-4
_PLAIN_FLOAT_MAX = 1e16


@dataclass(frozen=True)
class CellColumn:
    """One column of cells: `text` as `raw_text` gives it, `json` of `json_cell` (null for None and
    ""), `plain` as `str(cell)` (null for None)."""

    text: pl.Series
    json: pl.Series
    plain: pl.Series


def cell_columns(rows: Sequence[Sequence[Any]], width: int) -> list[CellColumn]:
    """The columns of `rows` (at least `width` of them), short rows padded with None."""
    return [column_cells(c) for c in _transposed(rows, width)]


def _transposed(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as columns: all cells in one list, every `width`-th of them a column, then the cells
    of rows longer than `width` (as columns padded with None)."""
    lengths = list(map(len, rows))
    odd = list(compress(range(len(rows)), map(operator.ne, lengths, repeat(width))))
    beyond: list[list[Any]] = [[None] * len(rows) for _ in range(max([width, *lengths]) - width)]
    even = list(rows)
    for index in odd:  # only rows shorter or longer than the header (blank lines, ragged CSV)
        row = rows[index]
        for column, cell in zip(beyond, row[width:], strict=False):
            column[index] = cell
        even[index] = [*row[:width], *[None] * (width - len(row))]
    cells = list(chain.from_iterable(even))
    return [cells[i::width] for i in range(width)] + beyond


def column_cells(values: Sequence[Any]) -> CellColumn:
    """One column of cells of any types the readers give (str, float, int, bool, dates, None)."""
    kinds = set(map(type, values)) - {type(None)}
    if kinds <= {str}:
        return _strings(values)
    types = list(map(type, values))
    empty = pl.Series([None] * len(values), dtype=pl.String)
    text, as_json, plain = empty, empty.clone(), empty.clone()
    for kind in kinds:
        selected = list(map(operator.is_, types, repeat(kind)))
        positions = pl.Series(list(compress(range(len(values)), selected)), dtype=pl.Int64)
        part = _CONVERTERS.get(kind, _by_value)(list(compress(values, selected)))
        text.scatter(positions, part.text)
        as_json.scatter(positions, part.json)
        plain.scatter(positions, part.plain)
    return CellColumn(text, as_json, plain)


def json_string(text: pl.Expr) -> pl.Expr:
    """Strings as JSON strings, escaped as json.dumps(..., ensure_ascii=False) does."""
    return pl.concat_str([pl.lit('"'), text.str.replace_many(_JSON_ESCAPES), pl.lit('"')])


def json_objects(keys: Sequence[str], values: Sequence[pl.Expr]) -> pl.Expr:
    """Per row, json.dumps of the dict built by setting each key to its value where not null, in order.

    `values` are JSON texts. A key given twice ends where the row first sets it, with the
    value it set last, as in a dict.
    """
    members: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        members.setdefault(key, []).append(index)
    pieces = []
    for index, key in enumerate(keys):
        same_key = members[key]
        prefix = pl.lit(json.dumps(key, ensure_ascii=False) + ": ")
        if len(same_key) == 1:
            pieces.append(pl.concat_str([prefix, values[index]]))  # null where the value is
            continue
        first_set = values[index].is_not_null()
        for earlier in same_key[: same_key.index(index)]:
            first_set = first_set & values[earlier].is_null()
        value = pl.coalesce([values[i] for i in reversed(same_key)])
        pieces.append(pl.when(first_set).then(pl.concat_str([prefix, value])))
    if not pieces:
        return pl.lit("{}")
    return pl.concat_str([pl.lit("{"), pl.concat_str(pieces, separator=", ", ignore_nulls=True), pl.lit("}")])


def json_arrays(values: Sequence[pl.Expr]) -> pl.Expr:
    """Per row, the JSON array of the values that are not null; null when all are."""
    if not values:
        return pl.lit(None, dtype=pl.String)
    joined = pl.concat_str(values, separator=", ", ignore_nulls=True)
    return pl.when(joined != "").then(pl.concat_str([pl.lit("["), joined, pl.lit("]")]))


def _strings(values: Sequence[str | None]) -> CellColumn:
    cells = pl.Series(values, dtype=pl.String)
    cell = pl.col("cell")
    columns = pl.DataFrame({"cell": cells}).select(
        text=pl.when(cell.str.contains(_NOT_WHITESPACE)).then(cell),
        json=pl.when(cell != "").then(json_string(cell)),
    )
    return CellColumn(columns["text"], columns["json"], cells)


def _floats(values: Sequence[float]) -> CellColumn:
    numbers = pl.Series(values, dtype=pl.Float64)
    x = pl.col("x")
    size = x.abs()
    plain_decimal = x.is_finite() & (((size >= _PLAIN_FLOAT_MIN) & (size < _PLAIN_FLOAT_MAX)) | (x == 0))
    # An integer of more than 15 digits keeps its float form (raw_text): Excel stored it with digits lost.
    long_integral = plain_decimal & (x.floor() == x) & (size >= LONGEST_EXACT_INTEGER)
    integral = plain_decimal & (x.floor() == x) & ~long_integral
    whole = x.cast(pl.Int64).cast(pl.String)
    decimal = x.cast(pl.String)
    negative_zero = (x == 0) & (pl.lit(1.0) / x < 0)
    columns = pl.DataFrame({"x": numbers}).select(
        text=pl.when(integral).then(whole).when(plain_decimal & ~long_integral).then(decimal),
        plain=pl.when(negative_zero)
        .then(pl.lit("-0.0"))
        .when(integral)
        .then(whole + pl.lit(".0"))
        .when(plain_decimal)
        .then(decimal),
        other=~plain_decimal | long_integral,
    )
    text, plain = columns["text"], columns["plain"]
    # raw_text and json_cell agree on floats Python writes in plain decimal.
    as_json = text.clone()
    if columns["other"].any():
        selected = columns["other"].to_list()
        positions = columns["other"].arg_true()
        part = _by_value(list(compress(values, selected)))
        text.scatter(positions, part.text)
        as_json.scatter(positions, part.json)
        plain.scatter(positions, part.plain)
    return CellColumn(text, as_json, plain)


def _integers(values: Sequence[int]) -> CellColumn:
    if values and not -(2**63) <= min(values) <= max(values) < 2**63:
        return _by_value(values)
    text = pl.Series(values, dtype=pl.Int64).cast(pl.String)
    return CellColumn(text, text, text)


def _booleans(values: Sequence[bool]) -> CellColumn:
    flags = pl.Series(values, dtype=pl.Boolean)
    flag = pl.col("flag")
    columns = pl.DataFrame({"flag": flags}).select(
        text=pl.when(flag).then(pl.lit("TRUE")).otherwise(pl.lit("FALSE")),
        json=pl.when(flag).then(pl.lit("true")).otherwise(pl.lit("false")),
        plain=pl.when(flag).then(pl.lit("True")).otherwise(pl.lit("False")),
    )
    return CellColumn(columns["text"], columns["json"], columns["plain"])


def _by_value(values: Sequence[Any]) -> CellColumn:
    """Cells of one type, converted in Python once per distinct value."""
    found = {
        value: (raw_text(value), json.dumps(json_cell(value), ensure_ascii=False), str(value))
        for value in dict.fromkeys(values)
    }
    texts, as_json, plain = zip(*map(found.__getitem__, values), strict=True) if values else ((), (), ())
    return CellColumn(
        pl.Series(texts, dtype=pl.String),
        pl.Series(as_json, dtype=pl.String),
        pl.Series(plain, dtype=pl.String),
    )


_CONVERTERS: dict[type, Callable[[Sequence[Any]], CellColumn]] = {
    str: _strings,
    float: _floats,
    int: _integers,
    bool: _booleans,
}
