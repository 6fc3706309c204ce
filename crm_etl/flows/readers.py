"""Read Excel workbooks, CSV and JSON Lines files into raw rows with the row numbers a person sees."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from crm_etl.flows.text_encoding import UndecodableText, decode_export
from crm_etl.flows.text_lines import (
    TextRecords,
    first_damaged,
    last_filled_line,
    physical_lines,
    split_delimited,
    split_json_lines,
)

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
# The first integer with 16 digits: Excel stores 15 significant digits of a number cell.
LONGEST_EXACT_INTEGER = 1e15
SUPPORTED_SUFFIXES = EXCEL_SUFFIXES | CSV_SUFFIXES | JSONL_SUFFIXES


class InputFileError(Exception):
    """A whole input file (or sheet) cannot be read; the message names the file and the problem."""

    def __init__(self, source_file: str, problem: str, source_sheet: str = "") -> None:
        where = f"{source_file}" + (f" [sheet {source_sheet}]" if source_sheet else "")
        super().__init__(f"{where}: {problem}")
        self.source_file = source_file
        self.source_sheet = source_sheet
        self.problem = problem


@dataclass
class RawSheet:
    """The cells of one sheet (or one CSV/JSONL file) exactly as read.

    `rows[i]` was read at `row_numbers[i]`, the 1-based spreadsheet row or file line.
    `row_errors` holds rows that could not even be split into cells (a broken JSON
    line, a line whose quote swallowed the lines after it): they keep their text and go
    to quarantine with the reason.

    A text file also keeps, per row, the last line it covers (`row_ends`: a quoted cell or a
    JSON object may span lines) and the number of its last filled line, so that every line can
    be accounted for (flows/text_lines.py); and its physical `lines` while a quote over lines
    may still need reading again (`repair_quotes`).
    """

    source_file: str
    source_sheet: str
    rows: list[list[Any]]
    row_numbers: list[int]
    encoding: str | None = None
    excel_1904: bool = False
    # For JSON Lines the header is the union of keys, not a row of the file.
    header: list[str] | None = None
    row_errors: dict[int, tuple[str, str]] = field(default_factory=dict)
    row_ends: list[int] | None = None
    last_filled_line: int = 0
    lines: list[str] | None = None
    delimiter: str | None = None
    # Rows that spanned lines or were left inside an open quote (see TextRecords.suspects).
    suspects: list[int] = field(default_factory=list)
    # The raw text of rows read as one damaged line, by index; lines whose stray quote was kept as text.
    row_texts: dict[int, str] = field(default_factory=dict)
    stray_quotes: list[int] = field(default_factory=list)


def _excel_uses_1904(path: Path) -> bool:
    """Whether an xlsx workbook declares the 1904 date system (Mac Excel)."""
    try:
        with zipfile.ZipFile(path) as archive:
            workbook_xml = archive.read("xl/workbook.xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError):
        return False
    return re.search(r"date1904\s*=\s*\"(1|true)\"", workbook_xml) is not None


def _unpacked_size(path: Path) -> int | None:
    """The bytes an xlsx/xlsm workbook declares its parts unpack to (None for an .xls or a broken zip)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return None


def read_workbook(path: Path, source_file: str, max_unpacked: int | None = None) -> list[RawSheet]:
    """Read every sheet of an Excel workbook; cells keep their native types (float, date, str).

    A workbook whose parts unpack to more than `max_unpacked` bytes is refused before any sheet
    is read (schemas/runs.yaml `max_workbook_unpacked`).
    """
    unpacked = _unpacked_size(path) if max_unpacked is not None else None
    if unpacked is not None and max_unpacked is not None and unpacked > max_unpacked:
        raise InputFileError(
            source_file,
            f"unpacks to {unpacked / 1e6:,.0f} MB, more than the {max_unpacked / 1e6:,.0f} MB a workbook may "
            "(schemas/runs.yaml: max_workbook_unpacked); not read",
        )
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise InputFileError(source_file, f"not a readable Excel workbook ({exc})") from exc
    excel_1904 = path.suffix.lower() in {".xlsx", ".xlsm"} and _excel_uses_1904(path)
    sheets: list[RawSheet] = []
    for name in workbook.sheet_names:
        try:
            sheet = workbook.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
        except Exception as exc:
            raise InputFileError(source_file, f"sheet cannot be read ({exc})", name) from exc
        # With skip_empty_area=False calamine pads from A1, so index + 1 is the row number.
        first_row = 1
        if rows and sheet.start is not None and len(rows) != (sheet.end[0] + 1 if sheet.end else 0):
            first_row = sheet.start[0] + 1
        sheets.append(
            RawSheet(
                source_file=source_file,
                source_sheet=name,
                rows=[list(r) for r in rows],
                row_numbers=list(range(first_row, first_row + len(rows))),
                excel_1904=excel_1904,
            )
        )
    return sheets


def decode_text(data: bytes, source_file: str) -> tuple[str, str]:
    """Decode a text export into (text, encoding name); text that no encoding reads plausibly is refused.

    flows/text_encoding.py decides: UTF-8/16 by BOM, NULs or a strict decode, else GB18030 or Big5 by
    how Chinese the non-ASCII characters read, a single-byte code page only as the last resort, and
    mojibake (`æ–°å…¬å¸`, U+FFFD, private-use characters) refused whatever the encoding.
    """
    try:
        return decode_export(data)
    except UndecodableText as exc:
        raise InputFileError(source_file, str(exc)) from exc


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_csv(path: Path, source_file: str) -> RawSheet:
    """Read a delimited text file; each record keeps the lines it covers (the first is its row number).

    Until the header is known a quoted cell may span any lines; `repair_quotes` then reads again
    the lines of quotes that swallowed lines they cannot belong to.
    """
    text, encoding = decode_text(path.read_bytes(), source_file)
    lines = physical_lines(text)
    del text
    first_lines = "\n".join(line.rstrip("\r\n") for line in lines[:20])
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(first_lines)
    try:
        found = split_delimited(lines, delimiter)
    except ValueError as exc:
        raise InputFileError(source_file, str(exc)) from exc
    sheet = _text_sheet(source_file, found, lines, encoding)
    if found.suspects:  # kept only while a quote over lines may need reading again
        sheet.lines, sheet.delimiter = lines, delimiter
    return sheet


def repair_quotes(sheet: RawSheet, header_row: int) -> bool:
    """Read a CSV's suspect quotes again knowing its header (the row at index `header_row`); whether
    any row changed.

    A quoted cell spans lines only where the record has the header's field count; a line whose
    quote swallowed the lines after it becomes a row of its own (`unbalanced_quote`, unless it
    still splits into the header's fields). Rows before the first damaged one read the same, so
    only the lines from there on are read again.
    """
    lines, delimiter = sheet.lines, sheet.delimiter
    sheet.lines = None  # no longer needed either way: a file's lines are as large as its rows
    if lines is None or delimiter is None:
        return False
    header, header_line = sheet.rows[header_row], sheet.row_numbers[header_row]
    first = first_damaged(
        sheet.rows, sheet.row_numbers, sheet.suspects, sheet.row_errors, header, header_line
    )
    if first is None:
        return False
    try:
        tail = split_delimited(lines, delimiter, header, header_line, from_line=sheet.row_numbers[first])
    except ValueError as exc:
        raise InputFileError(sheet.source_file, str(exc)) from exc
    sheet.rows[first:] = tail.rows
    sheet.row_numbers[first:] = tail.starts
    if sheet.row_ends is not None:
        sheet.row_ends[first:] = tail.ends
    sheet.row_errors = {i: e for i, e in sheet.row_errors.items() if i < first} | {
        first + i: e for i, e in tail.errors.items()
    }
    sheet.row_texts = {i: t for i, t in sheet.row_texts.items() if i < first} | {
        first + i: t for i, t in tail.texts.items()
    }
    sheet.stray_quotes = tail.stray_quotes
    sheet.suspects = [i for i in sheet.suspects if i < first] + [first + i for i in tail.suspects]
    return True


def _text_sheet(
    source_file: str,
    found: TextRecords,
    lines: list[str],
    encoding: str | None,
    header: list[str] | None = None,
    rows: list[list[Any]] | None = None,
) -> RawSheet:
    return RawSheet(
        source_file,
        "",
        found.rows if rows is None else rows,
        found.starts,
        encoding=encoding,
        header=header,
        row_errors=found.errors,
        row_ends=found.ends,
        last_filled_line=last_filled_line(lines),
        suspects=found.suspects,
        row_texts=found.texts,
        stray_quotes=found.stray_quotes,
    )


def _json_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def read_jsonl(path: Path, source_file: str) -> RawSheet:
    """Read JSON Lines: the header is the union of keys in first-seen order.

    A pretty-printed object spread over lines is one record covering them; a line that is no
    object, and opens none that closes, is a row of its own with the reason `invalid_json`.
    """
    text, encoding = decode_text(path.read_bytes(), source_file)
    lines = physical_lines(text)
    del text
    objects, found = split_json_lines(lines)
    keys: dict[str, None] = {}
    for obj in objects:
        for key in obj or ():
            keys.setdefault(str(key), None)
    header = list(keys)
    rows = [
        [_json_cell(obj.get(k)) for k in header] if obj is not None else [None] * len(header)
        for obj in objects
    ]
    return _text_sheet(source_file, found, lines, encoding, header=header, rows=rows)


def raw_text(value: Any) -> str | None:
    """A cell as the text a canonical field carries: integral floats lose `.0`, dates become ISO."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        # Past 15 digits a number cell has lost digits (Excel keeps 15): it stays a float, `1.10105199001011e+17`,
        # which cleaners/lossy_numbers.py recognises, not an integer nobody typed.
        return str(int(value)) if value.is_integer() and abs(value) < LONGEST_EXACT_INTEGER else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time(0) else value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def json_cell(value: Any) -> Any:
    """A cell as a JSON value for the `raw` lineage column (types kept where JSON has them)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return int(value) if value.is_integer() and abs(value) < 1e16 else value
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)
