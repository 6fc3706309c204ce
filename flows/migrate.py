"""The migration flow: extract → clean → dedupe → stage → profile → tag → validate → publish → report."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from cleaners.customers import ResolvedCustomers
from cleaners.quality import CheckResult
from flows.extract import ExtractResult
from flows.load import StagedDatabase, previous_assignments
from flows.logs import install_masking
from flows.report import write_report
from flows.tasks import (
    RunCheckFailed,
    RunSummary,
    clean,
    cleaning_tables,
    dedupe,
    extract,
    profile,
    record_run,
    stage,
    tag,
    validate,
)
from schemas import load_config
from schemas.config import load_tag_rules
from schemas.segments import load_segments


def new_run_id(now: dt.datetime) -> str:
    """Sortable, unique run ID: R + UTC timestamp + 6 random hex digits."""
    return f"R{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


@flow(name="crm-migrate", log_prints=False, validate_parameters=False)
def migrate(
    inbox: Path,
    db: Path,
    reports: Path,
    as_of: dt.date | None = None,
    run_id: str | None = None,
    schemas_dir: Path | None = None,
) -> RunSummary:
    """Migrate every export in `inbox` into the DuckDB file `db` and write the data-quality report."""
    install_masking()
    started = dt.datetime.now(dt.UTC)
    run_id = run_id or new_run_id(started)
    as_of = as_of or dt.date.today()
    config = load_config(schemas_dir)
    rules = load_tag_rules(config.directory / "tag_rules.yaml")
    segments = load_segments(config.directory / "segments.yaml")
    extracted = extract(inbox, config)
    cleaned = clean(extracted, cleaning_tables(config, as_of))
    with StagedDatabase(db) as staged:
        previous = previous_assignments(staged)
        customers_before = staged.query("SELECT count(*) AS n FROM customers")["n"][0]
        resolved = dedupe(cleaned, previous, config, as_of)
        counts = stage(staged, run_id, resolved, cleaned, extracted)
        profile(staged, segments, config, as_of)
        tag(staged, rules)
        checks = validate(staged, run_id, config, counts["rows_read"])
        summary = _summary(run_id, db, started, extracted, resolved, counts, customers_before, checks)
        record_run(staged, summary, extracted, checks, inbox, as_of)
        staged.publish()
    summary.report = str(write_report(db, reports, run_id, config))
    get_run_logger().info("run %s published to %s", run_id, db)
    return summary


def _summary(
    run_id: str,
    db: Path,
    started: dt.datetime,
    extracted: ExtractResult,
    resolved: ResolvedCustomers,
    counts: dict[str, Any],
    customers_before: int,
    checks: list[CheckResult],
) -> RunSummary:
    loaded_customer_records = resolved.records.height
    return RunSummary(
        run_id=run_id,
        status="published",
        db=str(db),
        report=None,
        started_at=started,
        finished_at=dt.datetime.now(dt.UTC),
        rows_read=counts["rows_read"],
        rows_loaded=loaded_customer_records + counts["orders"] + counts["interactions"],
        rows_quarantined=counts["quarantined"],
        customers_before=int(customers_before),
        customers=resolved.golden.height,
        records_merged=loaded_customer_records - resolved.golden.height,
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
        ],
        failed_inputs=extracted.failed,
        checks=[c.__dict__ for c in checks],
    )


__all__ = ["RunCheckFailed", "RunSummary", "migrate", "new_run_id"]
