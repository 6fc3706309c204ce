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

from flows.text_encoding import UndecodableText, decode_export
from flows.text_lines import TextRecords, physical_lines, split_delimited, split_json_lines

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
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

    A text file also keeps its physical `lines` and, per row, the last line it covers
    (`row_ends`: a quoted cell or a JSON object may span lines), so that every line can be
    accounted for (flows/text_lines.py).
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
    lines: list[str] | None = None
    row_ends: list[int] | None = None
    delimiter: str | None = None
    # The raw text of rows read as one damaged line, by index; lines whose stray quote was kept as text.
    row_texts: dict[int, str] = field(default_factory=dict)
    stray_quotes: list[int] = field(default_factory=list)
    # A record spanned lines or a quote was left open: only the header's width can tell a real
    # multi-line cell from a swallowing quote (`reread_with_header`).
    needs_header: bool = False


def _excel_uses_1904(path: Path) -> bool:
    """Whether an xlsx workbook declares the 1904 date system (Mac Excel)."""
    try:
        with zipfile.ZipFile(path) as archive:
            workbook_xml = archive.read("xl/workbook.xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError):
        return False
    return re.search(r"date1904\s*=\s*\"(1|true)\"", workbook_xml) is not None


def read_workbook(path: Path, source_file: str) -> list[RawSheet]:
    """Read every sheet of an Excel workbook; cells keep their native types (float, date, str)."""
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

    Until the header is known a quoted cell may span any lines; `reread_with_header` then
    undoes quotes that swallowed lines they cannot belong to.
    """
    text, encoding = decode_text(path.read_bytes(), source_file)
    first_lines = "\n".join(text.splitlines()[:20])
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(first_lines)
    lines = physical_lines(text)
    del text
    return _delimited_sheet(source_file, lines, delimiter, encoding, None, 0)


def reread_with_header(sheet: RawSheet, header_row: int) -> RawSheet:
    """A CSV read again knowing its header (the row at index `header_row`): a quoted cell spans
    lines only where the record has the header's field count; a line whose quote swallowed the
    lines after it is a row of its own (quarantined as `unbalanced_quote` unless it splits right)."""
    if sheet.lines is None or sheet.delimiter is None:
        return sheet
    header, header_line = sheet.rows[header_row], sheet.row_numbers[header_row]
    return _delimited_sheet(
        sheet.source_file, sheet.lines, sheet.delimiter, sheet.encoding, header, header_line
    )


def _delimited_sheet(
    source_file: str,
    lines: list[str],
    delimiter: str,
    encoding: str | None,
    header: list[Any] | None,
    header_line: int,
) -> RawSheet:
    try:
        found = split_delimited(lines, delimiter, header, header_line)
    except ValueError as exc:
        raise InputFileError(source_file, str(exc)) from exc
    return _text_sheet(source_file, found, lines, encoding, delimiter=delimiter)


def _text_sheet(
    source_file: str,
    found: TextRecords,
    lines: list[str],
    encoding: str | None,
    delimiter: str | None = None,
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
        lines=lines,
        row_ends=found.ends,
        delimiter=delimiter,
        row_texts=found.texts,
        stray_quotes=found.stray_quotes,
        needs_header=found.suspect and delimiter is not None,
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
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
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
