"""Read Excel workbooks, CSV and JSON Lines files into raw rows with the row numbers a person sees."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from flows.text_encoding import UndecodableText, decode_export

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
    line): they keep their text and go to quarantine with the reason.
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
    """Read a delimited text file; each record keeps the line number where it starts."""
    text, encoding = decode_text(path.read_bytes(), source_file)
    first_lines = "\n".join(text.splitlines()[:20])
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(first_lines)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[Any]] = []
    numbers: list[int] = []
    line_before = 0
    try:
        for record in reader:
            rows.append(list(record))
            numbers.append(line_before + 1)
            line_before = reader.line_num
    except csv.Error as exc:
        raise InputFileError(source_file, f"malformed CSV at line {reader.line_num}: {exc}") from exc
    # A trailing newline after the last record is not a row; blank lines inside are.
    while rows and not rows[-1]:
        rows.pop()
        numbers.pop()
    return RawSheet(source_file, "", rows, numbers, encoding=encoding)


def _json_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def read_jsonl(path: Path, source_file: str) -> RawSheet:
    """Read JSON Lines: the header is the union of keys in first-seen order."""
    text, encoding = decode_text(path.read_bytes(), source_file)
    objects: list[dict[str, Any] | None] = []
    numbers: list[int] = []
    errors: dict[int, tuple[str, str]] = {}
    keys: dict[str, None] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line_number, line in enumerate(lines, start=1):
        line = line.rstrip("\r")
        numbers.append(line_number)
        if not line.strip():
            objects.append({})
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            errors[len(objects)] = ("invalid_json", f"{exc.msg} at column {exc.colno}: {line}")
            objects.append(None)
            continue
        if not isinstance(value, dict):
            errors[len(objects)] = ("invalid_json", f"a JSON {type(value).__name__}, not an object: {line}")
            objects.append(None)
            continue
        for key in value:
            keys.setdefault(str(key), None)
        objects.append(value)
    header = list(keys)
    rows = [
        [_json_cell(obj.get(k)) for k in header] if obj is not None else [None] * len(header)
        for obj in objects
    ]
    return RawSheet(source_file, "", rows, numbers, encoding=encoding, header=header, row_errors=errors)


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
