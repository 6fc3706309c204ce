"""Extract: find input files, read them, recognise each sheet's kind and header, build raw record frames."""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from crm_etl.cleaners.mapping import AmbiguousSheet, ColumnDecision, SheetMapping, SpecInfo, map_sheet
from crm_etl.cleaners.mapping.composite import composed
from crm_etl.cleaners.mapping.headers import header_fingerprint, normalise_header, parse_header
from crm_etl.cleaners.mapping.sheets import missing_link, nearest_column
from crm_etl.cleaners.rows import repeated_header
from crm_etl.flows.cells import CellColumn, cell_columns, json_arrays, json_objects
from crm_etl.flows.inbox import discover_inputs, source_name, walk_inbox
from crm_etl.flows.readers import (
    EXCEL_SUFFIXES,
    JSONL_SUFFIXES,
    SUPPORTED_SUFFIXES,
    InputFileError,
    RawSheet,
    raw_text,
    read_csv,
    read_jsonl,
    read_workbook,
    repair_quotes,
)
from crm_etl.flows.text_lines import line_label, unaccounted_lines
from crm_etl.schemas import Config, SourceSpec
from crm_etl.schemas.config import MappingOverride, RecordType

log = logging.getLogger(__name__)

LINEAGE_COLUMNS = ["source_file", "source_sheet", "source_row"]
RECORD_TYPES: tuple[RecordType, ...] = ("customers", "orders", "interactions")
# Sub-folders of the inbox that hold files already dealt with, not new input.
# Rows searched for the header under title banners and export notes.
HEADER_SCAN_ROWS = 30
COLUMN_MAPPING_SCHEMA: dict[str, Any] = {
    "source_file": pl.String,
    "source_sheet": pl.String,
    "kind": pl.String,
    "source_spec": pl.String,
    "column": pl.Int64,
    "header": pl.String,
    "field": pl.String,
    "part": pl.String,
    "method": pl.String,
    "confidence": pl.Float64,
    "runner_up": pl.String,
    "runner_up_score": pl.Float64,
    "suggestion": pl.String,
    "hints": pl.String,
    "note": pl.String,
}
KIND_LABELS = {
    "customers": "a customer list",
    "contacts": "a contacts export",
    "orders": "orders",
    "interactions": "follow-ups",
}


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
    kind: str | None = None  # customers | contacts | orders | interactions
    # Every column's mapping decision (field, method, confidence, runner-up, hints).
    columns: list[dict[str, Any]] = field(default_factory=list)
    header_fingerprint: str | None = None
    # Text files: the physical lines the data rows cover (more than rows_read where a cell or a
    # JSON object spans lines), and what the reader noticed about them (stray quotes kept as text).
    lines_read: int | None = None
    note: str | None = None

    def unmapped_columns(self) -> list[dict[str, Any]]:
        """Columns with a header that no field took and that are not known to hold none (序号, 修改时间)."""
        return [c for c in self.columns if c["field"] is None and c["method"] != "ignored" and c["header"]]


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

    def fail_files(self, failing: list[dict[str, Any]]) -> None:
        """Mark files that yielded nothing useful (most rows quarantined for one reason) as failed."""
        by_file = {f.source_file: f for f in self.files}
        for entry in failing:
            outcome = by_file.get(entry["source_file"])
            if outcome is None:
                continue
            hints = [
                f"'{c['header']}' (nearest: {c['suggestion']})" if c["suggestion"] else f"'{c['header']}'"
                for s in outcome.sheets
                for c in s.unmapped_columns()
            ]
            message = (
                f"{outcome.source_file}: {entry['quarantined']} of {entry['rows']} data rows "
                f"({entry['share']:.0%}) were quarantined as {entry['reason']}: the file yields nothing "
                "useful and is failed (its rows are in quarantine with their cells)"
                + (f"; unmapped columns: {', '.join(hints)}" if hints else "")
            )
            for sheet in outcome.sheets:
                if sheet.status == "loaded":
                    sheet.status, sheet.error = "failed", message
            if not outcome.sheets:
                outcome.status, outcome.error = "failed", message

    @property
    def failed(self) -> list[str]:
        """Messages for every file or sheet that could not be read."""
        messages = [f.error for f in self.files if f.status == "failed" and f.error and not f.sheets]
        messages += [s.error for s in self.sheets if s.status == "failed" and s.error]
        return list(dict.fromkeys(messages))

    def column_mappings(self) -> pl.DataFrame:
        """Every mapping decision of the sheets read: one row per source column."""
        rows = [
            {
                "source_file": s.source_file,
                "source_sheet": s.source_sheet,
                "kind": s.kind,
                "source_spec": s.spec,
                **c,
            }
            for s in self.sheets
            for c in s.columns
        ]
        return pl.DataFrame(
            [
                {**r, "hints": json.dumps(r["hints"], ensure_ascii=False) if r.get("hints") else None}
                for r in rows
            ],
            schema=COLUMN_MAPPING_SCHEMA,
        )


@dataclass
class FileExtract:
    """One input file read: its outcome and its raw record frames per record type.

    Pickled (the extraction cache, flows/reading.py) with its frames as zstd-compressed
    Parquet: a tenth of the bytes of polars' own pickling (Arrow IPC, uncompressed), and as
    fast to read back.
    """

    outcome: FileOutcome
    records: dict[RecordType, pl.DataFrame] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "records": {t: _parquet(f) for t, f in self.records.items()}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.outcome = state["outcome"]
        self.records = {t: pl.read_parquet(io.BytesIO(data)) for t, data in state["records"].items()}


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=False)
    return buffer.getvalue()


def input_order(source_file: str) -> tuple[str, ...]:
    """Sort key of input files: the order `discover_inputs` reads them in."""
    return Path(source_file).parts


def refused_inputs(inbox: Path) -> list[FileOutcome]:
    """What the inbox holds that is not read, each with why: links, special files, hidden files."""
    return [
        FileOutcome(r.source_file, "", 0, r.status, f"{r.source_file}: {r.reason}")
        for r in walk_inbox(inbox)[1]
    ]


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


def _sheet_text(rows: list[list[Any]]) -> list[list[str | None]]:
    return [[raw_text(c) for c in row] for row in rows]


def _override_for(sheet: RawSheet, config: Config) -> MappingOverride | None:
    """A confirmed mapping of this file and sheet whose header row still has the fingerprint it had."""
    for override in config.overrides:
        if not fnmatch.fnmatchcase(sheet.source_file, override.file_pattern):
            continue
        if not fnmatch.fnmatchcase(sheet.source_sheet, override.sheet):
            continue
        if sheet.header is not None:
            header: list[Any] = list(sheet.header)
        elif override.header_row in sheet.row_numbers[:HEADER_SCAN_ROWS]:
            header = sheet.rows[sheet.row_numbers.index(override.header_row)]
        else:
            continue
        if header_fingerprint(header) == override.header_fingerprint:
            return override
    return None


def _apply_override(
    override: MappingOverride, rows: list[list[str | None]], row_index: int, config: Config
) -> SheetMapping:
    spec_index = next(i for i, s in enumerate(config.sources) if s.name == override.spec)
    spec = config.sources[spec_index]
    by_key = {normalise_header(h): f for h, f in override.columns.items()}
    columns = []
    for index, cell in enumerate(rows[row_index]):
        parsed = parse_header(cell)
        target = by_key.get(normalise_header(cell)) if cell else None
        columns.append(ColumnDecision(index, parsed.text, target, "override", 1.0, hints=parsed.hints))
    kind = override.kind or spec.record_type
    return SheetMapping(row_index, spec_index, spec.record_type, kind, 0.0, None, 0.0, columns)


def spec_info(spec: SourceSpec) -> SpecInfo:
    """What the sheet mapper needs of a source spec."""
    aliases = [a for names in spec.aliases.values() for a in names]
    latin = sum(1 for a in aliases if a.isascii()) / len(aliases) if aliases else 0.0
    return SpecInfo(spec.name, spec.record_type, spec.min_matched_fields, latin, tuple(spec.file_suffixes))


def _where(sheet: RawSheet) -> str:
    return sheet.source_file + (f" [sheet {sheet.source_sheet}]" if sheet.source_sheet else "")


def map_raw_sheet(sheet: RawSheet, config: Config) -> tuple[SheetMapping | None, str | None, int]:
    """The mapping of one read sheet (override, else the engine), or an error saying why there is none.

    Returns (mapping, error, row offset of `mapping.row_index` in sheet.rows; -1 for JSON Lines keys).
    """
    sample = config.mapping.thresholds.sample_rows
    if sheet.header is not None:
        rows: list[list[str | None]] = [list(sheet.header), *_sheet_text(sheet.rows[:sample])]
        offset, fixed_row = -1, 0
    else:
        rows = _sheet_text(sheet.rows[: HEADER_SCAN_ROWS + sample])
        offset, fixed_row = 0, None
    override = _override_for(sheet, config)
    if override is not None:
        row_index = 0 if fixed_row == 0 else sheet.row_numbers.index(override.header_row)
        return _apply_override(override, rows, row_index, config), None, offset
    specs = [spec_info(s) for s in config.sources]
    suffix = Path(sheet.source_file).suffix.lower()
    found = map_sheet(
        rows, specs, config.vocabularies(), HEADER_SCAN_ROWS, header_row=fixed_row, suffix=suffix
    )
    if isinstance(found, AmbiguousSheet):
        return (
            None,
            f"{_where(sheet)}: the header row (row {_row_number(sheet, found.row_index, offset)}) fits "
            f"{KIND_LABELS[found.kind]} (score {found.score}) and {KIND_LABELS[found.runner_up_kind]} "
            f"(score {found.runner_up_score}) about equally; not guessed. Confirm it with "
            "`crm-etl map --inbox DIR --write` and edit the kind in the file it writes",
            offset,
        )
    if found is None:
        known = "、".join(
            dict.fromkeys(
                s.aliases["customer_name"][0] for s in config.sources if "customer_name" in s.aliases
            )
        )
        return (
            None,
            f"{_where(sheet)}: no recognisable header row in the first {HEADER_SCAN_ROWS} rows (expected headers "
            f"such as {known}; preview it with `crm-etl map`, or add this export's headers to schemas/sources/*.yaml)",
            offset,
        )
    return found, None, offset


def _missing_link_message(
    sheet: RawSheet, mapping: SheetMapping, missing: list[str], header: list[str | None], config: Config
) -> str:
    vocab = config.vocabularies()[mapping.record_type]
    labels = config.canonical.record_types[mapping.record_type]
    needed = " or ".join(f"{f} ({labels[f].label})" for f in missing if f in labels)
    nearest = nearest_column(header, mapping, missing, vocab)
    hint = (
        f"; nearest column: {nearest[0] + 1} '{nearest[1]}' (looks like {nearest[2]}, score {nearest[3]})"
        if nearest is not None
        else f"; unmapped columns: {', '.join(repr(h) for h in header if h) or 'none'}"
    )
    return (
        f"{_where(sheet)}: {KIND_LABELS[mapping.kind]} with no column that names the customer: needs {needed}"
        f"{hint}. Nothing of this sheet was loaded; confirm the column with `crm-etl map --write` "
        "or add its header to schemas/sources/*.yaml"
    )


def _row_number(sheet: RawSheet, row_index: int, offset: int) -> str:
    if offset < 0:
        return "keys"
    return str(sheet.row_numbers[row_index]) if row_index < len(sheet.row_numbers) else "?"


def _column_outcomes(mapping: SheetMapping, header: list[Any]) -> list[dict[str, Any]]:
    names = _column_names(header)
    result = []
    for decision in mapping.columns:
        written = raw_text(header[decision.index]) if decision.index < len(header) else None
        result.append(
            {
                "column": decision.index + 1,
                # As written (the key of `raw`), empty for a blank header cell.
                "header": names[decision.index] if written is not None else "",
                "field": decision.field,
                "part": decision.part,
                "method": decision.method,
                "confidence": decision.confidence,
                "runner_up": decision.runner_up,
                "runner_up_score": decision.runner_up_score,
                "suggestion": decision.suggestion,
                "hints": decision.hints.as_dict() or None,
                "note": decision.note,
            }
        )
    return result


def _sheet_records(
    sheet: RawSheet, config: Config
) -> tuple[SheetOutcome, RecordType | None, pl.DataFrame | None]:
    outcome = SheetOutcome(sheet.source_file, sheet.source_sheet, status="empty", encoding=sheet.encoding)
    if not any(not _is_empty(r) for r in sheet.rows) and not sheet.row_errors:
        return outcome, None, None
    mapping, error, keys_offset = map_raw_sheet(sheet, config)
    # Only the header's width tells a real multi-line cell from a quote that swallowed lines:
    # suspect quotes are read again knowing it, and a sheet they changed is mapped again.
    if mapping is not None and keys_offset >= 0 and repair_quotes(sheet, mapping.row_index):
        mapping, error, keys_offset = map_raw_sheet(sheet, config)
    if mapping is None:
        outcome.status, outcome.error = "failed", error
        return outcome, None, None
    spec = config.sources[mapping.spec_index]
    if keys_offset < 0:
        header: list[Any] = list(sheet.header or [])
        data_rows, data_numbers = sheet.rows, sheet.row_numbers
        first_data = 0
    else:
        header = sheet.rows[mapping.row_index]
        first_data = mapping.row_index + 1
        data_rows = sheet.rows[first_data:]
        data_numbers = sheet.row_numbers[first_data:]
        outcome.header_row = sheet.row_numbers[mapping.row_index]
    outcome.spec, outcome.record_type, outcome.kind = spec.name, spec.record_type, mapping.kind
    outcome.columns = _column_outcomes(mapping, header)
    outcome.header_fingerprint = header_fingerprint(header)
    missing = missing_link(mapping, config.vocabularies()[spec.record_type])
    if missing is not None:
        outcome.status = "failed"
        outcome.error = _missing_link_message(sheet, mapping, missing, [raw_text(c) for c in header], config)
        return outcome, None, None
    unaccounted = _unaccounted_lines(sheet, first_data)
    if unaccounted is not None:
        outcome.status, outcome.error = "failed", unaccounted
        return outcome, None, None
    last = len(data_rows)
    while last > 0 and _is_empty(data_rows[last - 1]) and (first_data + last - 1) not in sheet.row_errors:
        last -= 1
    data_rows, data_numbers = data_rows[:last], data_numbers[:last]
    if sheet.row_ends is not None:
        ends = sheet.row_ends[first_data : first_data + last]
        outcome.lines_read = sum(ends) - sum(data_numbers) + last
        if sheet.stray_quotes:
            outcome.note = (
                f"{line_label(sheet.stray_quotes)}: a quote opened and never closed, kept "
                "as text (the line still splits into the header's fields)"
            )
            log.warning("%s: %s", _where(sheet), outcome.note)
    if not data_rows and outcome.note is None:
        outcome.note = "a header and no data rows: nothing to load"
    names = _column_names(header)
    field_by_column = mapping.field_by_column
    in_use = set(field_by_column) | {i for parts in mapping.composites.values() for i, _ in parts}
    unmapped = [i for i in range(len(names)) if i not in in_use]
    outcome.status = "loaded"
    outcome.rows_read = len(data_rows)
    outcome.unmapped_headers = [names[i] for i in unmapped if raw_text(header[i]) is not None]
    day_first, amount_scale = mapping.day_first(spec.day_first), mapping.amount_scale()
    fields = config.canonical.fields(spec.record_type)
    cells = cell_columns(data_rows, len(names))
    values = _record_values(sheet, mapping, names, unmapped, cells, header, first_data, len(data_rows))
    n = len(data_rows)
    frame = pl.DataFrame(
        {
            "source_system": [spec.source_system] * n,
            "source_spec": [spec.name] * n,
            "source_file": [sheet.source_file] * n,
            "source_sheet": [sheet.source_sheet] * n,
            "source_row": data_numbers,
            "excel_1904": [sheet.excel_1904] * n,
            "day_first": pl.Series([day_first] * n, dtype=pl.Boolean),
            "amount_scale": pl.Series([amount_scale] * n, dtype=pl.Float64),
            "sheet_kind": pl.Series([mapping.kind] * n, dtype=pl.String),
            **{
                f: values[f] if f in values.columns else pl.Series([None] * n, dtype=pl.String)
                for f in fields
            },
            "extra": values["extra"],
            "raw": values["raw"],
            "extract_reason": values["extract_reason"],
            "extract_detail": values["extract_detail"],
        },
        schema_overrides={"source_row": pl.Int64},
    )
    return outcome, spec.record_type, frame


def _unaccounted_lines(sheet: RawSheet, first_data: int) -> str | None:
    """Why a text file's data lines are not each covered by exactly one row, or None when they are.

    Blank lines after the last record need no row; the header's lines (a header cell may span
    lines too) and the lines above it (a title banner) are not data. Rows that span lines cover
    all of them.
    """
    if sheet.row_ends is None:
        return None
    header_line = sheet.row_ends[first_data - 1] if first_data > 0 else 0
    missing, twice = unaccounted_lines(
        sheet.row_numbers[first_data:], sheet.row_ends[first_data:], sheet.last_filled_line, header_line
    )
    if not missing and not twice:
        return None
    problems = ([f"{line_label(missing)} in no record read"] if missing else []) + (
        [f"{line_label(twice)} in more than one"] if twice else []
    )
    return f"{_where(sheet)}: {' and '.join(problems)}; nothing of it was loaded rather than lose them"


def _record_values(
    sheet: RawSheet,
    mapping: SheetMapping,
    names: list[str],
    unmapped: list[int],
    cells: list[CellColumn],
    header: list[Any],
    first_data: int,
    rows: int,
) -> pl.DataFrame:
    """The mapped fields, `extra`, `raw` and the extract reason of every data row of a sheet."""
    width = len(names)
    text = [pl.col(f"text:{i}") for i in range(len(cells))]
    cell_json = [pl.col(f"json:{i}") for i in range(len(cells))]
    frame = pl.DataFrame(
        [c.text.alias(f"text:{i}") for i, c in enumerate(cells)]
        + [c.json.alias(f"json:{i}") for i, c in enumerate(cells)],
        height=rows,
    )
    # One column per field; a field two columns name takes the later one, a composite its parts.
    values = {field: text[index] for index, field in mapping.field_by_column.items()}
    for target, parts in mapping.composites.items():
        values[target] = composed(target, [(part, text[index]) for index, part in parts])
    # Cells right of the last header cell are kept in `raw`, as a list under "(beyond header)".
    beyond = json_arrays(cell_json[width:])
    keys, cells_json = [*names, "(beyond header)"], [*cell_json[:width], beyond]
    # A line read on its own (its quote swallowed the lines after it) keeps its text beside its cells.
    texts = {i - first_data: t for i, t in sheet.row_texts.items() if 0 <= i - first_data < rows}
    line_json = pl.Series("line:json", [None] * rows, dtype=pl.String)
    if texts:
        line_json.scatter(list(texts), [json.dumps(t, ensure_ascii=False) for t in texts.values()])
        keys, cells_json = [*keys, "(line)"], [*cells_json, pl.col("line:json")]
    raw = json_objects(keys, cells_json)
    extra = json_objects([names[i] for i in unmapped], [cell_json[i] for i in unmapped])
    # Rows that could not be split into cells (a broken JSON line) keep their line instead.
    errors = {i - first_data: e for i, e in sheet.row_errors.items() if 0 <= i - first_data < rows}
    failed = pl.Series([False] * rows, dtype=pl.Boolean)
    error_reason, error_detail, error_raw = (pl.Series([None] * rows, dtype=pl.String) for _ in range(3))
    if errors:
        at = list(errors)
        failed.scatter(at, True)
        error_reason.scatter(at, [reason for reason, _ in errors.values()])
        error_detail.scatter(at, [detail for _, detail in errors.values()])
        error_raw.scatter(
            at, [json.dumps({"line": detail}, ensure_ascii=False) for _, detail in errors.values()]
        )
    plain = pl.DataFrame([c.plain.alias(str(i)) for i, c in enumerate(cells)], height=rows)
    repeated = repeated_header(plain, header)
    return frame.with_columns(
        line_json,
        failed=failed,
        error_reason=error_reason,
        error_detail=error_detail,
        error_raw=error_raw,
        repeated=repeated,
    ).select(
        **{field: value.alias(field) for field, value in values.items()},
        extra=pl.when(~pl.col("failed") & (extra != "{}")).then(extra),
        raw=pl.when(pl.col("failed") & pl.col("line:json").is_null())
        .then(pl.col("error_raw"))
        .otherwise(raw),
        extract_reason=pl.when(pl.col("failed"))
        .then(pl.col("error_reason"))
        .when(pl.col("repeated"))
        .then(pl.lit("repeated_header")),
        extract_detail=pl.when(pl.col("failed"))
        .then(pl.col("error_detail"))
        .when(pl.col("repeated"))
        .then(pl.lit("the header row again, inside the data")),
    )


def _read_file(path: Path, source_file: str, config: Config) -> list[RawSheet]:
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return read_workbook(path, source_file, config.runs.max_workbook_unpacked_bytes)
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
        "amount_scale": pl.Float64,
        "sheet_kind": pl.String,
        **{f: pl.String for f in config.canonical.fields(record_type)},
        "extra": pl.String,
        "raw": pl.String,
        "extract_reason": pl.String,
        "extract_detail": pl.String,
    }
    return pl.DataFrame(schema=schema)


def extract_file(path: Path, source_file: str, config: Config) -> FileExtract:
    """Read one input file into raw record frames; an unreadable file is an outcome, not an error."""
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
        sheets = _read_file(path, source_file, config)
    except InputFileError as exc:
        outcome.status, outcome.error = "failed", str(exc)
        # Reported once, after any retries, by flows/reading.py (and in the summary), not per attempt.
        log.info("cannot read %s", exc)
        return result
    except OSError as exc:
        outcome.status, outcome.error = "failed", f"{source_file}: cannot open ({exc.strerror})"
        return result
    frames: dict[RecordType, list[pl.DataFrame]] = {t: [] for t in RECORD_TYPES}
    for sheet in sheets:
        sheet_outcome, record_type, frame = _sheet_records(sheet, config)
        outcome.sheets.append(sheet_outcome)
        if sheet_outcome.status == "failed":
            log.error("%s", sheet_outcome.error)
        if record_type is not None and frame is not None:
            frames[record_type].append(frame)
    if outcome.sheets and all(s.status == "failed" for s in outcome.sheets):
        outcome.status = "failed"
        outcome.error = "; ".join(s.error or "" for s in outcome.sheets)
    result.records = {t: stack_records(frames[t], config, t) for t in RECORD_TYPES if frames[t]}
    return result


def stack_records(frames: Sequence[pl.DataFrame], config: Config, record_type: RecordType) -> pl.DataFrame:
    """Frames of one record type one under the other, in the columns and types extraction produces.

    A sheet with a header and no rows has columns of no type (polars' Null): stacked on the
    extraction schema they take its types instead of breaking the concatenation.
    """
    return pl.concat([empty_records(config, record_type), *frames], how="diagonal_relaxed")


def merge_records(
    per_file: Iterable[dict[RecordType, pl.DataFrame]], config: Config
) -> dict[RecordType, pl.DataFrame]:
    """One raw record frame per record type from per-file frames, in the order of the files given."""
    per_file = list(per_file)
    records = {}
    for t in RECORD_TYPES:
        frames = [records_of_file[t] for records_of_file in per_file if t in records_of_file]
        records[t] = stack_records(frames, config, t)
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
        source_file = source_name(inbox, path)
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
    "extract_file",
    "extract_inbox",
    "input_order",
    "merge_extracts",
    "merge_records",
    "normalise_header",
    "refused_inputs",
]
