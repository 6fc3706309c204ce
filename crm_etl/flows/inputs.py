"""Incremental input: the database keeps every loaded file's raw rows, and each run builds on them.

A run rebuilds the current-state tables from one version of every file the
database has ever loaded: the version just read from the inbox, or the one stored
in `input_rows` (cleaners/input_versions.py decides). So a file moved to
`processed/` keeps its records, a corrected re-export replaces exactly its own
file's records, and a rerun on the same inbox rebuilds the same tables.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import polars as pl

from crm_etl.cleaners.input_versions import READ_SCHEMA, STORED_SCHEMA, choose_input_versions
from crm_etl.flows.extract import (
    RECORD_TYPES,
    ExtractResult,
    FileExtract,
    KeptFile,
    RecordType,
    _sha256,
    empty_records,
    input_order,
    merge_records,
)
from crm_etl.flows.inbox import inbox_file
from crm_etl.flows.load import StagedDatabase
from crm_etl.flows.pause import pause_point
from crm_etl.schemas import Config

log = logging.getLogger(__name__)

# Raw record columns stored as they are; the canonical fields go into one JSON column.
_STORED_COLUMNS = [
    "source_system",
    "source_spec",
    "source_file",
    "source_sheet",
    "source_row",
    "excel_1904",
    "day_first",
    "amount_scale",
    "sheet_kind",
    "extra",
    "raw",
    "extract_reason",
    "extract_detail",
]


def _read_versions(extracts: list[FileExtract]) -> pl.DataFrame:
    rows = [
        {
            "source_file": e.outcome.source_file,
            "sha256": e.outcome.sha256,
            "size_bytes": e.outcome.size_bytes,
            "usable": e.outcome.status == "read",
            "complete": e.outcome.status == "read" and all(s.status != "failed" for s in e.outcome.sheets),
        }
        for e in extracts
    ]
    return pl.DataFrame(rows, schema=READ_SCHEMA)


def _stored_rows(
    staged: StagedDatabase, files: list[str], config: Config
) -> dict[str, dict[RecordType, pl.DataFrame]]:
    """The stored raw rows of `files`, per file and record type, in the order they were read."""
    if not files:
        return {}
    stored = staged.query(
        "SELECT * FROM input_rows WHERE list_contains($1, source_file) ORDER BY source_file, record_type, row_order",
        [files],
    )
    result: dict[str, dict[RecordType, pl.DataFrame]] = {}
    for record_type in RECORD_TYPES:
        of_type = stored.filter(pl.col("record_type") == record_type)
        if of_type.is_empty():
            continue
        template = empty_records(config, record_type)
        fields = config.canonical.fields(record_type)
        decoded = of_type.with_columns(
            pl.col("fields").str.json_decode(pl.Struct({f: pl.String for f in fields})).alias("_fields")
        ).unnest("_fields")
        frame = decoded.select(
            [
                pl.col(c).cast(dtype) if c in decoded.columns else pl.lit(None, dtype).alias(c)
                for c, dtype in template.schema.items()
            ]
        )
        for (source_file,), part in frame.group_by("source_file", maintain_order=True):
            result.setdefault(str(source_file), {})[record_type] = part
    return result


def combine_inputs(
    staged: StagedDatabase, extracts: list[FileExtract], config: Config, run_id: str
) -> tuple[ExtractResult, pl.DataFrame]:
    """This run's reads plus the stored rows of every other file the database holds.

    Returns the combined extract (records of the chosen version of each file, in
    inbox order) and the chosen versions (source_file, origin, sha256, size_bytes, run_id).
    """
    stored = staged.query("SELECT source_file, sha256, size_bytes, run_id FROM input_files")
    versions = choose_input_versions(_read_versions(extracts), stored.cast(STORED_SCHEMA), run_id)  # type: ignore[arg-type]
    by_name = {e.outcome.source_file: e for e in extracts}
    kept_versions = versions.filter(pl.col("origin") == "kept")
    stored_rows = _stored_rows(staged, kept_versions["source_file"].to_list(), config)
    chosen: list[dict[RecordType, pl.DataFrame]] = []
    kept: list[KeptFile] = []
    for row in sorted(versions.iter_rows(named=True), key=lambda r: input_order(r["source_file"])):
        name = row["source_file"]
        if row["origin"] == "read":
            chosen.append(by_name[name].records)
            continue
        rows = stored_rows.get(name, {})
        chosen.append(rows)
        reason = "not in the inbox" if name not in by_name else "this run could not read it in full"
        kept.append(
            KeptFile(
                name,
                row["sha256"],
                row["size_bytes"],
                row["run_id"],
                sum(f.height for f in rows.values()),
                reason,
            )
        )
        if name in by_name:
            log.warning("%s: %s; keeping the version read by run %s", name, reason, row["run_id"])
    combined = ExtractResult(
        records=merge_records(chosen, config), files=[e.outcome for e in extracts], kept=kept
    )
    return combined, versions


def store_inputs(
    staged: StagedDatabase, extracted: ExtractResult, versions: pl.DataFrame, config: Config
) -> None:
    """Replace `input_files` and `input_rows` with the versions this run built on (inside the run's transaction)."""
    con = staged.connection
    con.execute("DELETE FROM input_files")
    con.execute("DELETE FROM input_rows")
    staged.insert("input_files", versions.select("source_file", "sha256", "size_bytes", "run_id"))
    for record_type, frame in extracted.records.items():
        if frame.is_empty():
            continue
        fields = config.canonical.fields(record_type)
        staged.insert(
            "input_rows",
            frame.select(
                *_STORED_COLUMNS,
                pl.lit(record_type).alias("record_type"),
                pl.int_range(pl.len()).over("source_file").cast(pl.Int64).alias("row_order"),
                pl.struct(fields).struct.json_encode().alias("fields"),
            ),
        )
    pause_point("load")


def move_processed(
    inbox: Path, run_id: str, extracted: ExtractResult, versions: pl.DataFrame
) -> tuple[list[str], list[str]]:
    """Move the files this run loaded to `inbox/processed/<run_id>/`, keeping their relative paths.

    Only files whose content is still what was read: a file replaced meanwhile stays
    for the next run. Called only after the run has published. Returns the files moved
    and, for each file that could not be moved, `<file>: <reason>` (it stays in the inbox).
    """
    loaded = {r["source_file"]: r["sha256"] for r in versions.iter_rows(named=True) if r["origin"] == "read"}
    moved: list[str] = []
    failed: list[str] = []
    for outcome in extracted.files:
        expected = loaded.get(outcome.source_file)
        source = inbox_file(inbox, outcome.source_file)
        if expected is None or not source.is_file():
            continue
        try:
            if _sha256(source) != expected:
                log.warning("%s changed after it was read; leaving it for the next run", outcome.source_file)
                continue
            target = inbox / "processed" / run_id / source.relative_to(inbox)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, target)
        except OSError as exc:
            failed.append(f"{outcome.source_file}: {exc.strerror or exc} (it stays in the inbox)")
            continue
        moved.append(outcome.source_file)
    return moved, failed


def input_entries(extracted: ExtractResult, versions: pl.DataFrame) -> list[dict[str, Any]]:
    """The `runs.input_files` entries: every file read this run, then every file kept from the database."""
    used = {r["source_file"]: r["origin"] for r in versions.iter_rows(named=True)}
    entries: list[dict[str, Any]] = [
        {
            "file": f.source_file,
            "sha256": f.sha256,
            "bytes": f.size_bytes,
            "status": f.status,
            "error": f.error,
            "used": used.get(f.source_file) == "read",
        }
        for f in extracted.files
    ]
    entries += [
        {
            "file": k.source_file,
            "sha256": k.sha256,
            "bytes": k.size_bytes,
            "status": "kept",
            "error": None,
            "kept_from_run": k.run_id,
            "used": True,
        }
        for k in extracted.kept
    ]
    return entries
