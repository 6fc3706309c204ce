"""Export the tables and views of a published DuckDB file as Parquet, CSV or XLSX files for BI tools."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from cleaners.file_names import is_plain_file_name, safe_file_name
from cleaners.spreadsheet import (
    XLSX_MAX_CELL,
    looks_like_formula,
    neutralise_formulas,
    truncate_cell,
    truncate_cells,
)

FORMATS = ("parquet", "csv", "xlsx")
# Excel's limits: rows per sheet (the header takes one); a cell's characters are XLSX_MAX_CELL.
# CSV has no cell limit and Parquet's (2 GiB a value) is beyond any DuckDB text: both keep every value whole.
XLSX_MAX_ROWS = 1_048_575
# Characters Excel refuses in a sheet name (which also has at most 31 and cannot start or end with ').
_SHEET_NAME_UNSAFE = re.compile(r"[\\*?:/\[\]]")


class ExportError(RuntimeError):
    """The export could not be written (unknown table, a limit of the format, a write error)."""


class UnknownTableError(ExportError):
    """A table or view asked for is not in the file."""


@dataclass(frozen=True)
class ExportedFile:
    """One file written, and how many of its cells were cut to the format's limit (XLSX only)."""

    path: Path
    cells_truncated: int = 0


def export_file_name(name: str, fmt: str) -> str:
    """`customers.parquet` for a plain table name; any other name slugged with a hash (cleaners/file_names.py)."""
    return f"{name}.{fmt}" if is_plain_file_name(name, fmt) else safe_file_name(name, fmt)


def sheet_name(name: str) -> str:
    """A table's name as an Excel sheet name: no `\\ * ? : / [ ]`, no `'` at the ends, at most 31 characters."""
    return _SHEET_NAME_UNSAFE.sub("_", name)[:31].strip("'") or "_"


def exportable(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables, then the views, of the main schema, by name."""
    rows = con.execute(
        """SELECT table_name, table_type FROM information_schema.tables
           WHERE table_schema = 'main' AND table_catalog = current_database()
           ORDER BY table_type = 'VIEW', table_name"""
    ).fetchall()
    return [name for name, _ in rows]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text_select(con: duckdb.DuckDBPyConnection, name: str, for_xlsx: bool) -> str:
    """SELECT of a table with nested and JSON values as JSON text (and, for XLSX, UTC timestamps)."""
    columns = []
    for column, kind, *_ in con.execute(f"DESCRIBE {_ident(name)}").fetchall():
        kind = str(kind)
        ident = _ident(column)
        if kind.endswith("]") or kind.startswith(("STRUCT", "MAP", "UNION")):
            columns.append(f"to_json({ident})::VARCHAR AS {ident}")
        elif kind == "JSON":
            columns.append(f"{ident}::VARCHAR AS {ident}")
        elif for_xlsx and kind in ("TIMESTAMP WITH TIME ZONE", "TIME WITH TIME ZONE"):
            columns.append(f"timezone('UTC', {ident}) AS {ident}")
        else:
            columns.append(ident)
    return f"SELECT {', '.join(columns)} FROM {_ident(name)}"


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary path next to `path` that replaces it only once written completely."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def _write_csv(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> None:
    frame = _frame(con, _text_select(con, name, for_xlsx=False))
    frame = frame.with_columns(
        neutralise_formulas(frame[c]) for c in frame.columns if frame.schema[c] == pl.String
    )
    # The byte-order mark makes Excel open the UTF-8 file with its Chinese text intact.
    frame.write_csv(path, include_bom=True)


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> WriteOnlyCell:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and looks_like_formula(value):
        # Stored as text, shown as typed, never evaluated.
        cell.data_type = "s"
        cell.quotePrefix = True
    elif isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def _write_xlsx(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> int:
    """Write one sheet; returns how many cells were cut to Excel's limit (marked, never refused)."""
    frame = _frame(con, _text_select(con, name, for_xlsx=True))
    if frame.height > XLSX_MAX_ROWS:
        raise ExportError(
            f"{name}: {frame.height} rows do not fit in one Excel sheet; export it as parquet or csv"
        )
    truncated = 0
    for column in frame.columns:
        if frame.schema[column] == pl.String:
            fitted, cut = truncate_cells(frame[column], XLSX_MAX_CELL)
            if cut:
                frame, truncated = frame.with_columns(fitted), truncated + cut
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name(name))
    header = []
    for column in frame.columns:
        cell = _xlsx_cell(sheet, truncate_cell(column, XLSX_MAX_CELL))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in frame.iter_rows():
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    workbook.save(path)
    return truncated


def export_database(db: Path, out: Path, fmt: str, names: Sequence[str] | None = None) -> list[ExportedFile]:
    """Write each table/view (default: all) of `db` into `out` as NAME.FORMAT; return the files.

    An XLSX cell over Excel's 32,767 characters is cut with a `…[truncated N chars]` marker and
    counted; the database keeps the full value.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    written: list[ExportedFile] = []
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        available = exportable(con)
        chosen = list(names) if names else available
        unknown = [n for n in chosen if n not in available]
        if unknown:
            raise UnknownTableError(
                f"no table or view {', '.join(unknown)} in {db} (there are: {', '.join(available)})"
            )
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportError(f"cannot create {out}: {exc.strerror or exc}") from exc
        for name in chosen:
            target = out / export_file_name(name, fmt)
            truncated = 0
            try:
                with _atomic(target) as partial:
                    if fmt == "parquet":
                        con.execute(
                            f"COPY (SELECT * FROM {_ident(name)}) TO '{str(partial).replace(chr(39), chr(39) * 2)}' "
                            "(FORMAT parquet, COMPRESSION zstd)"
                        )
                    elif fmt == "csv":
                        _write_csv(con, name, partial)
                    else:
                        truncated = _write_xlsx(con, name, partial)
            except OSError as exc:
                raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
            written.append(ExportedFile(target, truncated))
    return written
