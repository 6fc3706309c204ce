"""Extract: find input files, read them, recognise each sheet's kind and header, build raw record frames."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from cleaners.headers import find_header, normalise_header
from flows.readers import (
    EXCEL_SUFFIXES,
    JSONL_SUFFIXES,
    SUPPORTED_SUFFIXES,
    InputFileError,
    RawSheet,
    json_cell,
    raw_text,
    read_csv,
    read_jsonl,
    read_workbook,
)
from schemas import Config, SourceSpec
from schemas.config import RecordType

log = logging.getLogger(__name__)

LINEAGE_COLUMNS = ["source_file", "source_sheet", "source_row"]
RECORD_TYPES: tuple[RecordType, ...] = ("customers", "orders", "interactions")
# Sub-folders of the inbox that hold files already dealt with, not new input.
IGNORED_DIRS = {"processed", "archive", "rejected"}


@dataclass
class SheetOutcome:
    """What happened to one sheet (or one CSV/JSONL file) in this run."""

    source_file: str
    source_sheet: str
    status: str  # loaded | empty | failed
    spec: str | None = None
    record_type: str | None = None
    header_row: int | None = None
    rows_read: int = 0
    encoding: str | None = None
    unmapped_headers: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class FileOutcome:
    """One file found in the inbox: its identity and whether it could be read."""

    source_file: str
    sha256: str
    size_bytes: int
    status: str  # read | failed | skipped
    error: str | None = None
    sheets: list[SheetOutcome] = field(default_factory=list)


@dataclass
class KeptFile:
    """A file whose rows a run takes from the database: loaded by an earlier run, not read in full now."""

    source_file: str
    sha256: str
    size_bytes: int
    run_id: str  # the run that read this version
    rows: int
    reason: str


@dataclass
class ExtractResult:
    """Raw record frames per record type plus the outcome of every file and sheet.

    `files` are the files read from the inbox in this run; `kept` the files whose
    rows come from the database instead (see flows/inputs.py).
    """

    records: dict[RecordType, pl.DataFrame]
    files: list[FileOutcome]
    kept: list[KeptFile] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)

    @property
    def sheets(self) -> list[SheetOutcome]:
        return [s for f in self.files for s in f.sheets]

    @property
    def failed(self) -> list[str]:
        """Messages for every file or sheet that could not be read."""
        messages = [f.error for f in self.files if f.status == "failed" and f.error and not f.sheets]
        messages += [s.error for s in self.sheets if s.status == "failed" and s.error]
        return messages


@dataclass
class FileExtract:
    """One input file read: its outcome and its raw record frames per record type."""

    outcome: FileOutcome
    records: dict[RecordType, pl.DataFrame] = field(default_factory=dict)


def input_order(source_file: str) -> tuple[str, ...]:
    """Sort key of input files: the order `discover_inputs` reads them in."""
    return Path(source_file).parts


def discover_inputs(inbox: Path) -> list[Path]:
    """Every file under the inbox (recursively), except hidden files and processed/ folders."""
    if not inbox.is_dir():
        raise FileNotFoundError(f"inbox {inbox} is not a directory")
    found = []
    for path in sorted(inbox.rglob("*")):
        relative = path.relative_to(inbox)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if any(part.lower() in IGNORED_DIRS for part in relative.parts[:-1]):
            continue
        if path.is_file():
            found.append(path)
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _column_names(header: list[Any]) -> list[str]:
    """Unique, non-empty display names for the raw columns (blank headers become 列N)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(header, start=1):
        name = raw_text(cell) or f"列{index}"
        name = name.strip()
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        names.append(name)
    return names


def _is_empty(row: list[Any]) -> bool:
    return all(raw_text(c) is None for c in row)


def _sheet_records(
    sheet: RawSheet, specs: list[SourceSpec], lookups: list[dict[str, str]], config: Config
) -> tuple[SheetOutcome, RecordType | None, pl.DataFrame | None]:
    outcome = SheetOutcome(sheet.source_file, sheet.source_sheet, status="empty", encoding=sheet.encoding)
    if sheet.header is not None:
        header_rows: list[list[Any]] = [list(sheet.header)]
        data_start, data_rows, data_numbers = 0, sheet.rows, sheet.row_numbers
    else:
        header_rows = sheet.rows
        data_start, data_rows, data_numbers = -1, [], []
    if not any(not _is_empty(r) for r in sheet.rows) and not sheet.row_errors:
        return outcome, None, None
    match = find_header(header_rows, lookups, [s.min_matched_fields for s in specs])
    if match is None:
        known = "、".join(
            dict.fromkeys(s.aliases["customer_name"][0] for s in specs if "customer_name" in s.aliases)
        )
        outcome.status = "failed"
        outcome.error = (
            f"{sheet.source_file}"
            + (f" [sheet {sheet.source_sheet}]" if sheet.source_sheet else "")
            + f": no recognisable header row in the first 30 rows (expected headers such as {known}; "
            "add this export's headers to schemas/sources/*.yaml)"
        )
        return outcome, None, None
    spec = specs[match.spec_index]
    header = header_rows[match.row_index]
    if data_start < 0:
        data_rows = sheet.rows[match.row_index + 1 :]
        data_numbers = sheet.row_numbers[match.row_index + 1 :]
        outcome.header_row = sheet.row_numbers[match.row_index]
    last = len(data_rows)
    while last > 0 and _is_empty(data_rows[last - 1]) and (last - 1) not in sheet.row_errors:
        last -= 1
    data_rows, data_numbers = data_rows[:last], data_numbers[:last]
    names = _column_names(header)
    unmapped = [i for i in range(len(names)) if i not in match.field_by_column]
    outcome.status = "loaded"
    outcome.spec = spec.name
    outcome.record_type = spec.record_type
    outcome.rows_read = len(data_rows)
    outcome.unmapped_headers = [names[i] for i in unmapped if raw_text(header[i]) is not None]

    fields = config.canonical.fields(spec.record_type)
    columns: dict[str, list[Any]] = {f: [] for f in fields}
    raws: list[str] = []
    extras: list[str | None] = []
    reasons: list[str | None] = []
    details: list[str | None] = []
    width = len(names)
    for offset, row in enumerate(data_rows):
        cells = list(row) + [None] * (width - len(row))
        for f in fields:
            columns[f].append(None)
        for index, f in match.field_by_column.items():
            columns[f][-1] = raw_text(cells[index])
        error = sheet.row_errors.get(offset + (0 if data_start >= 0 else match.row_index + 1))
        if error is not None:
            reasons.append(error[0])
            details.append(error[1])
            raws.append(json.dumps({"line": error[1]}, ensure_ascii=False))
            extras.append(None)
            continue
        reasons.append(None)
        details.append(None)
        raw = {names[i]: json_cell(cells[i]) for i in range(width) if cells[i] not in (None, "")}
        overflow = [json_cell(c) for c in cells[width:] if c not in (None, "")]
        if overflow:
            raw["(beyond header)"] = overflow
        raws.append(json.dumps(raw, ensure_ascii=False))
        extra = {names[i]: json_cell(cells[i]) for i in unmapped if cells[i] not in (None, "")}
        extras.append(json.dumps(extra, ensure_ascii=False) if extra else None)
    n = len(data_rows)
    frame = pl.DataFrame(
        {
            "source_system": [spec.source_system] * n,
            "source_spec": [spec.name] * n,
            "source_file": [sheet.source_file] * n,
            "source_sheet": [sheet.source_sheet] * n,
            "source_row": data_numbers,
            "excel_1904": [sheet.excel_1904] * n,
            "day_first": pl.Series([spec.day_first] * n, dtype=pl.Boolean),
            **{f: pl.Series(columns[f], dtype=pl.String) for f in fields},
            "extra": pl.Series(extras, dtype=pl.String),
            "raw": pl.Series(raws, dtype=pl.String),
            "extract_reason": pl.Series(reasons, dtype=pl.String),
            "extract_detail": pl.Series(details, dtype=pl.String),
        },
        schema_overrides={"source_row": pl.Int64},
    )
    return outcome, spec.record_type, frame


def _read_file(path: Path, source_file: str) -> list[RawSheet]:
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return read_workbook(path, source_file)
    if suffix in JSONL_SUFFIXES:
        return [read_jsonl(path, source_file)]
    return [read_csv(path, source_file)]


def empty_records(config: Config, record_type: RecordType) -> pl.DataFrame:
    """A zero-row raw record frame with the columns extraction produces."""
    schema: dict[str, Any] = {
        "source_system": pl.String,
        "source_spec": pl.String,
        "source_file": pl.String,
        "source_sheet": pl.String,
        "source_row": pl.Int64,
        "excel_1904": pl.Boolean,
        "day_first": pl.Boolean,
        **{f: pl.String for f in config.canonical.fields(record_type)},
        "extra": pl.String,
        "raw": pl.String,
        "extract_reason": pl.String,
        "extract_detail": pl.String,
    }
    return pl.DataFrame(schema=schema)


def extract_file(path: Path, source_file: str, config: Config) -> FileExtract:
    """Read one input file into raw record frames; an unreadable file is an outcome, not an error."""
    specs = config.sources
    lookups = [s.header_lookup() for s in specs]
    try:
        outcome = FileOutcome(source_file, _sha256(path), path.stat().st_size, status="read")
    except OSError as exc:
        return FileExtract(
            FileOutcome(source_file, "", 0, "failed", f"{source_file}: cannot open ({exc.strerror})")
        )
    result = FileExtract(outcome)
    if path.name.startswith("~$"):
        outcome.status, outcome.error = "skipped", "Excel lock file (the workbook is open in Excel)"
        return result
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        outcome.status = "skipped"
        outcome.error = f"unsupported file type {path.suffix or '(none)'}"
        return result
    try:
        sheets = _read_file(path, source_file)
    except InputFileError as exc:
        outcome.status, outcome.error = "failed", str(exc)
        log.error("cannot read %s", exc)
        return result
    except OSError as exc:
        outcome.status, outcome.error = "failed", f"{source_file}: cannot open ({exc.strerror})"
        return result
    frames: dict[RecordType, list[pl.DataFrame]] = {t: [] for t in RECORD_TYPES}
    for sheet in sheets:
        sheet_outcome, record_type, frame = _sheet_records(sheet, specs, lookups, config)
        outcome.sheets.append(sheet_outcome)
        if sheet_outcome.status == "failed":
            log.error("%s", sheet_outcome.error)
        if record_type is not None and frame is not None:
            frames[record_type].append(frame)
    if outcome.sheets and all(s.status == "failed" for s in outcome.sheets):
        outcome.status = "failed"
        outcome.error = "; ".join(s.error or "" for s in outcome.sheets)
    result.records = {t: pl.concat(frames[t], how="vertical") for t in RECORD_TYPES if frames[t]}
    return result


def merge_records(
    per_file: Iterable[dict[RecordType, pl.DataFrame]], config: Config
) -> dict[RecordType, pl.DataFrame]:
    """One raw record frame per record type from per-file frames, in the order of the files given."""
    per_file = list(per_file)
    records = {}
    for t in RECORD_TYPES:
        frames = [records_of_file[t] for records_of_file in per_file if t in records_of_file]
        records[t] = pl.concat(frames, how="vertical") if frames else empty_records(config, t)
    return records


def merge_extracts(extracts: Iterable[FileExtract], config: Config) -> ExtractResult:
    """One ExtractResult from per-file extracts, records in the order of the files given."""
    extracts = list(extracts)
    return ExtractResult(
        records=merge_records((e.records for e in extracts), config), files=[e.outcome for e in extracts]
    )


def extract_inbox(
    inbox: Path,
    config: Config,
    on_file: Callable[[str], None] | None = None,
    paths: Iterable[Path] | None = None,
) -> ExtractResult:
    """Read every input file of an inbox into raw record frames, one per record type."""
    extracts = []
    for path in paths if paths is not None else discover_inputs(inbox):
        source_file = path.relative_to(inbox).as_posix()
        if on_file is not None:
            on_file(source_file)
        extracts.append(extract_file(path, source_file, config))
    return merge_extracts(extracts, config)


__all__ = [
    "LINEAGE_COLUMNS",
    "ExtractResult",
    "FileExtract",
    "FileOutcome",
    "KeptFile",
    "SheetOutcome",
    "discover_inputs",
    "extract_file",
    "extract_inbox",
    "input_order",
    "merge_extracts",
    "merge_records",
    "normalise_header",
]
