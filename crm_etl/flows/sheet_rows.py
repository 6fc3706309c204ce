"""A sheet's data rows as SpreadsheetML built column by column with polars, put into xlsxwriter's workbook.

Writing a cell through xlsxwriter costs about 8 µs of Python: the 170k rows of worklists of a
million-row inbox took 18 s. These rows are the XML xlsxwriter writes in constant_memory mode
(inline strings with its escapes, numbers as `{:.16G}`, its date serials), built for whole
columns at once; the workbook around them (styles, title, header, merged cells, drop-downs,
protection) is still xlsxwriter's, and `insert_rows` adds the rows to its sheet part.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO

import polars as pl
from xlsxwriter.utility import xl_col_to_name

# A cell's style: (yellow and editable, shown as text as it starts like a formula, number format).
Style = tuple[bool, bool, str | None]
# xlsxwriter's limit is 32,767 UTF-16 units; a string under half of it cannot reach it.
_SHORT_ENOUGH = 16_383
# Excel's day 1 is 1900-01-01 (its day 0 the day before), and Excel counts a 29 February 1900.
_EPOCH = dt.date(1899, 12, 31)
_CONTROL = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20)]]
# What xlsxwriter writes as `_xHHHH_`: control characters, two non-characters, and such text itself.
_NEEDS_CONTROL_ESCAPES = r"[\x00-\x08\x0b-\x1f\x{fffe}\x{ffff}]|_x[0-9a-fA-F]{4}_"
DATE_FORMAT = "yyyy-mm-dd"


def fits(frame: pl.DataFrame, columns: Sequence[str]) -> bool:
    """Whether every cell is one `rows_xml` writes as xlsxwriter does (if not: write it cell by cell)."""
    for name in columns:
        dtype = frame.schema[name]
        column = pl.col(name)
        if dtype == pl.String:
            odd = (column.str.len_chars() > _SHORT_ENOUGH) | (
                column.str.starts_with("<r>") & column.str.ends_with("</r>")
            )
        elif dtype.is_float():
            odd = column.is_nan() | column.is_infinite()
        elif dtype == pl.Date or dtype.is_integer():
            continue
        else:
            return False
        if frame.select(odd.any()).item():
            return False
    return True


def _control_escaped(text: pl.Expr) -> pl.Expr:
    """xlsxwriter's `_xHHHH_` escapes: control characters, and such literal text kept literal."""
    escaped = text.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F${1}")
    for char in [*_CONTROL, "\ufffe", "\uffff"]:
        escaped = escaped.str.replace_all(char, f"_x{ord(char):04X}_", literal=True)
    return escaped


def _xml_escaped(text: pl.Expr) -> pl.Expr:
    return (
        text.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def _number_text(column: pl.Series) -> pl.Series:
    """Numbers as xlsxwriter writes them (`{:.16G}`), formatted once per distinct value."""
    text = {v: f"{float(v):.16G}" for v in column.drop_nulls().unique().to_list()}
    return column.replace_strict(text, default=None, return_dtype=pl.String)


def _date_serial(day: pl.Expr) -> pl.Expr:
    """The Excel serial of a date, as xlsxwriter's write_datetime computes it for midnight of that day."""
    days = (day - pl.lit(_EPOCH)).dt.total_days()
    days = pl.when(day == pl.lit(dt.date(1900, 1, 1))).then(days - 1).otherwise(days)
    return pl.when(days > 59).then(days + 1).otherwise(days).cast(pl.String)


def _style_attribute(
    frame: pl.DataFrame,
    fill: pl.Expr,
    quote: pl.Expr,
    number_format: str | None,
    style_index: Callable[[Style], int | None],
) -> pl.Expr:
    """` s="N"` of each row's style ("" for none); only the styles the rows use are registered."""
    used = frame.select(fill.alias("fill"), quote.alias("quote")).unique().sort("fill", "quote")
    attribute: pl.Expr = pl.lit("")
    for to_fill, quoted in used.iter_rows():  # at most four
        index = style_index((to_fill, quoted, number_format))
        if index is not None:
            attribute = (
                pl.when(fill.eq(to_fill) & quote.eq(quoted))
                .then(pl.lit(f' s="{index}"'))
                .otherwise(attribute)
            )
    return attribute


def rows_xml(
    frame: pl.DataFrame,
    columns: Sequence[str],
    first_row: int,
    to_fill: Mapping[int, pl.Expr],
    number_formats: Mapping[int, str],
    style_index: Callable[[Style], int | None],
    formula_prefixes: Sequence[str],
) -> pl.Series:
    """One `<row>` element per row of `frame` with its `columns` in order, numbered from `first_row` (1-based).

    `to_fill`: per column index, an expression over `frame`: whether a row's cell is to be filled in (yellow, editable);
    `number_formats`: per column index; `style_index`: xlsxwriter's index of a style (None: none).
    Like `_Sheet.write_row`: a null or "" is left out unless its style shows, text that starts like
    a formula is shown as text, a date is a number with a date format.
    """
    number = pl.int_range(first_row, first_row + pl.len()).cast(pl.String)
    numbers: dict[str, pl.Series] = {}
    cells = []
    for index, name in enumerate(columns):
        dtype = frame.schema[name]
        column = pl.col(name)
        fill = to_fill.get(index, pl.lit(value=False)).fill_null(value=False)
        number_format = number_formats.get(index)
        empty = column.is_null() | (column == "") if dtype == pl.String else column.is_null()
        quote = pl.lit(value=False)
        value_format = number_format
        if dtype == pl.String:
            quote = pl.any_horizontal([column.str.starts_with(p) for p in formula_prefixes]).fill_null(False)
            rare = frame.select(column.str.contains(_NEEDS_CONTROL_ESCAPES).any()).item()
            text = _control_escaped(column) if rare else column
            # Leading or trailing whitespace (what `\s` matches in xlsxwriter's check).
            preserve = text.str.strip_chars() != text
            value = (
                pl.lit(' t="inlineStr"><is>')
                + pl.when(preserve).then(pl.lit('<t xml:space="preserve">')).otherwise(pl.lit("<t>"))
                + _xml_escaped(text)
                + pl.lit("</t></is></c>")
            )
        elif dtype == pl.Date:
            value_format = number_format or DATE_FORMAT
            value = pl.lit("><v>") + _date_serial(column) + pl.lit("</v></c>")
        else:
            numbers[f"_number_{index}"] = _number_text(frame[name])
            value = pl.lit("><v>") + pl.col(f"_number_{index}") + pl.lit("</v></c>")
        ref = pl.lit(f'<c r="{xl_col_to_name(index)}') + number + pl.lit('"')
        filled_frame = frame.filter(~frame.select(empty).to_series())
        blank_frame = frame.filter(frame.select(empty).to_series())
        value_style = _style_attribute(filled_frame, fill, quote, value_format, style_index)
        blank_style = _style_attribute(blank_frame, fill, pl.lit(value=False), number_format, style_index)
        blank = pl.when(blank_style != "").then(ref + blank_style + pl.lit("/>"))
        cells.append(pl.when(empty).then(blank).otherwise(ref + value_style + value))
    row = (
        pl.lit('<row r="')
        + number
        + pl.lit('">')
        + pl.concat_str(cells, ignore_nulls=True)
        + pl.lit("</row>")
    )
    return frame.with_columns(**numbers).select(row.alias("row")).to_series()


def insert_rows(
    package: IO[bytes], path: Path, sheet: str, rows: Iterable[pl.Series], last_cell: str
) -> None:
    """Write xlsxwriter's `package` to `path` with `rows` added to the data of its `sheet` part."""
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != sheet:
                with source.open(info) as part, target.open(info, "w") as copy:
                    shutil.copyfileobj(part, copy)
                continue
            head, tail = source.read(info).decode("utf-8").split("</sheetData>", 1)
            start = head.index('<dimension ref="')
            end = head.index('"/>', start)
            with target.open(info, "w") as out:
                out.write(f'{head[:start]}<dimension ref="A1:{last_cell}{head[end:]}'.encode())
                for chunk in rows:
                    out.write("".join(chunk.to_list()).encode("utf-8"))
                out.write(f"</sheetData>{tail}".encode())
