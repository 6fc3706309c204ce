"""The run summary: what a run read, loaded, merged and quarantined, printed by the CLI and stored in `runs`."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from crm_etl.cleaners.quality import CheckResult
from crm_etl.flows.extract import ExtractResult
from crm_etl.flows.load import StagedDatabase
from crm_etl.flows.stages import StageTiming

if TYPE_CHECKING:
    from crm_etl.flows.tasks import Run, StagedResult
    from crm_etl.flows.validation import ValidationRun


@dataclass
class RunSummary:
    """What a run read, loaded and quarantined: printed by the CLI and stored in `runs`."""

    run_id: str
    status: str
    db: str
    report: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    customers_before: int
    customers: int
    records_merged: int
    orders: int
    interactions: int
    quarantined_by_reason: dict[str, int]
    sheets: list[dict[str, Any]]
    failed_inputs: list[str]
    checks: list[dict[str, Any]] = field(default_factory=list)
    # Incremental runs (flows/inputs.py): inputs taken from the Prefect cache or kept from the
    # database, files moved to processed/, the snapshot taken before publishing.
    files_cached: list[str] = field(default_factory=list)
    files_kept: list[str] = field(default_factory=list)
    files_moved: list[str] = field(default_factory=list)
    snapshot: str | None = None
    # Columns no field took, with the nearest field; headers a known file gained or lost since the last run.
    unmapped: list[dict[str, Any]] = field(default_factory=list)
    schema_drift: list[dict[str, Any]] = field(default_factory=list)
    # The steward review (flows/review.py): review files read, decisions read and applied, pairs queued.
    review: dict[str, Any] = field(default_factory=dict)
    # How long each stage took (flows/stages.py), in the order they ran.
    stages: list[dict[str, Any]] = field(default_factory=list)
    # Handouts (worklists, audit sample) -> cells cut to Excel's 32,767 characters (the database keeps them whole).
    cells_truncated: dict[str, int] = field(default_factory=dict)
    # Steps after the publish that failed, `<step> failed: <reason>` (flows/after_publish.py; exit 4).
    after_publish_failures: list[str] = field(default_factory=list)
    # On a Dask cluster (flows/cluster.py): where, the tasks' Parquet bytes in the work folder, pair chunks.
    cluster: dict[str, Any] | None = None

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=str, indent=2)


def summarise(
    run: Run,
    extracted: ExtractResult,
    staged: StagedResult,
    customers_before: int,
    validation: ValidationRun,
) -> RunSummary:
    """The run's summary: what it read, loaded, merged, quarantined and checked, file by file."""
    counts = staged.counts
    loaded_customer_records, customers = counts["customer_records"], counts["customers"]
    checks = validation.checks
    return RunSummary(
        run_id=run.run_id,
        status="failed" if validation.critical_failures else "published",
        db=str(run.db),
        report=None,
        started_at=run.started_at,
        finished_at=dt.datetime.now(dt.UTC),
        rows_read=counts["rows_read"],
        rows_loaded=loaded_customer_records + counts["orders"] + counts["interactions"],
        rows_quarantined=counts["quarantined"],
        customers_before=int(customers_before),
        customers=customers,
        records_merged=loaded_customer_records - customers,
        orders=counts["orders"],
        interactions=counts["interactions"],
        quarantined_by_reason=counts["quarantined_by_reason"],
        sheets=[
            {
                "file": s.source_file,
                "sheet": s.source_sheet,
                "status": s.status,
                "kind": s.spec,
                "rows": s.rows_read,
                # Text files: the lines those rows cover, said when it differs (a cell over lines).
                "lines": s.lines_read,
                "note": s.note,
                "error": s.error,
            }
            for s in extracted.sheets
        ]
        + [
            {
                "file": f.source_file,
                "sheet": "",
                "status": f.status,
                "kind": None,
                "rows": 0,
                "error": f.error,
            }
            for f in extracted.files
            if not f.sheets
        ]
        + [
            {
                "file": k.source_file,
                "sheet": "",
                "status": f"kept ({k.reason}; read by {k.run_id})",
                "kind": None,
                "rows": k.rows,
                "error": None,
            }
            for k in extracted.kept
        ],
        failed_inputs=extracted.failed,
        checks=[c.__dict__ for c in checks],
        files_cached=list(extracted.cached),
        files_kept=[k.source_file for k in extracted.kept],
        unmapped=[
            {
                "file": s.source_file,
                "sheet": s.source_sheet,
                "header": c["header"],
                "method": c["method"],
                "suggestion": c["suggestion"],
                "note": c["note"],
            }
            for s in extracted.sheets
            for c in s.unmapped_columns()
        ],
        schema_drift=staged.drift,
        review=staged.review,
    )


def record_run(
    staged: StagedDatabase,
    summary: RunSummary,
    extracted: ExtractResult,
    checks: list[CheckResult],
    inbox: Path,
    as_of: dt.date,
    inputs: list[dict[str, Any]] | None = None,
) -> None:
    """Append this run to `runs`, `run_files`, `column_mappings` and `validation_results` (in the run's transaction)."""
    inputs = inputs or [
        {
            "file": f.source_file,
            "sha256": f.sha256,
            "bytes": f.size_bytes,
            "status": f.status,
            "error": f.error,
        }
        for f in extracted.files
    ]
    staged.insert(
        "runs",
        pl.DataFrame(
            [
                {
                    "run_id": summary.run_id,
                    "started_at": summary.started_at,
                    "finished_at": summary.finished_at,
                    "status": summary.status,
                    "inbox": str(inbox),
                    "as_of": as_of,
                    "input_files": json.dumps(inputs, ensure_ascii=False),
                    "rows_read": summary.rows_read,
                    "rows_loaded": summary.rows_loaded,
                    "rows_quarantined": summary.rows_quarantined,
                    "customers_before": summary.customers_before,
                    "customers": summary.customers,
                    "records_merged": summary.records_merged,
                    "files_failed": len(summary.failed_inputs),
                }
            ]
        ),
    )
    file_rows: list[dict[str, Any]] = []
    for f in extracted.files:
        base = {
            "run_id": summary.run_id,
            "source_file": f.source_file,
            "sha256": f.sha256,
            "size_bytes": f.size_bytes,
        }
        if not f.sheets:
            file_rows.append(
                {
                    **base,
                    "source_sheet": "",
                    "status": f.status,
                    "error": f.error,
                    "rows_read": 0,
                    "unmapped_headers": [],
                }
            )
        for s in f.sheets:
            file_rows.append(
                {
                    **base,
                    "source_sheet": s.source_sheet,
                    "status": s.status,
                    "source_spec": s.spec,
                    "record_type": s.record_type,
                    "header_row": s.header_row,
                    "encoding": s.encoding,
                    "rows_read": s.rows_read,
                    "unmapped_headers": s.unmapped_headers,
                    "error": s.error,
                }
            )
    if file_rows:  # an empty inbox is a normal run once files are moved to processed/
        staged.insert("run_files", pl.DataFrame(file_rows, infer_schema_length=None))
    mappings = extracted.column_mappings()
    if not mappings.is_empty():
        staged.insert("column_mappings", mappings.with_columns(pl.lit(summary.run_id).alias("run_id")))
    if checks:
        staged.insert(
            "validation_results",
            pl.DataFrame([c.as_row(summary.run_id) for c in checks], infer_schema_length=None),
        )


def record_stages(staged: StagedDatabase, run_id: str, timings: list[StageTiming]) -> None:
    """Append the run's stage timings to `run_stages`."""
    if not timings:
        return
    staged.insert(
        "run_stages",
        pl.DataFrame(
            [{"run_id": run_id, "position": i, **asdict(t)} for i, t in enumerate(timings, start=1)],
            schema_overrides={"items": pl.Int64, "position": pl.Int32},
        ),
    )
