"""The migration flow: extract → clean → dedupe → stage → profile → tag → validate → publish → report."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any, NoReturn

from prefect import flow, get_run_logger

from cleaners.customers import ResolvedCustomers
from cleaners.quality import CheckResult
from flows.extract import ExtractResult
from flows.handouts import handouts
from flows.load import StagedDatabase, previous_assignments
from flows.logs import install_masking
from flows.report import Language, report, report_failed_run
from flows.tasks import (
    RunCheckFailed,
    RunSummary,
    clean,
    cleaning_tables,
    dedupe,
    extract,
    measure,
    profile,
    record_run,
    stage,
    tag,
    validate,
)
from flows.validation import ValidationRun, build_suites, suite_parameters
from schemas import Config, load_config
from schemas.config import load_tag_rules
from schemas.segments import load_segments
from schemas.suites import load_report_settings, load_suites


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
    lang: Language | None = None,
) -> RunSummary:
    """Migrate every export in `inbox` into the DuckDB file `db` and write the data-quality report."""
    install_masking()
    started = dt.datetime.now(dt.UTC)
    run_id = run_id or new_run_id(started)
    as_of = as_of or dt.date.today()
    config = load_config(schemas_dir)
    rules = load_tag_rules(config.directory / "tag_rules.yaml")
    segments = load_segments(config.directory / "segments.yaml")
    settings = load_report_settings(config.directory)
    lang = lang or settings.default_language
    suites = build_suites(load_suites(config), config)
    extracted = extract(inbox, config)
    cleaned = clean(extracted, cleaning_tables(config, as_of))
    with StagedDatabase(db) as staged:
        previous = previous_assignments(staged)
        customers_before = staged.query("SELECT count(*) AS n FROM customers")["n"][0]
        resolved = dedupe(cleaned, previous, config, as_of)
        counts = stage(staged, run_id, resolved, cleaned, extracted)
        profile(staged, segments, config, as_of)
        tag(staged, rules)
        validation = validate(
            staged,
            run_id,
            suites,
            extracted,
            suite_parameters(config, as_of),
            reports / run_id / "gx-data-docs",
            settings.sample_rows,
        )
        measure(staged, run_id, config, settings, as_of)
        failed = validation.critical_failures
        summary = _summary(
            run_id, db, started, extracted, resolved, counts, customers_before, validation.checks, failed
        )
        record_run(staged, summary, extracted, validation.checks, inbox, as_of)
        if failed:
            _refuse_to_publish(staged, reports, run_id, config, lang, validation)
        staged.publish()
    summary.report = str(report(db, reports, run_id, config, lang))
    handouts(db, reports, run_id, config)
    get_run_logger().info("run %s published to %s", run_id, db)
    return summary


def _refuse_to_publish(
    staged: StagedDatabase,
    reports: Path,
    run_id: str,
    config: Config,
    lang: Language,
    validation: ValidationRun,
) -> NoReturn:
    """Write the failed run's report from its staged copy, then stop: the staged copy is discarded."""
    path = report_failed_run(staged.connection, reports, run_id, config, lang)
    raise RunCheckFailed(
        "critical expectations failed: "
        + "; ".join(
            f"{c.suite}.{c.expectation} {c.column or ''} ({c.observed})" for c in validation.critical_failures
        )
        + f"; report: {path}",
        validation.checks,
        path,
    )


def _summary(
    run_id: str,
    db: Path,
    started: dt.datetime,
    extracted: ExtractResult,
    resolved: ResolvedCustomers,
    counts: dict[str, Any],
    customers_before: int,
    checks: list[CheckResult],
    failed: list[CheckResult],
) -> RunSummary:
    loaded_customer_records = resolved.records.height
    return RunSummary(
        run_id=run_id,
        status="failed" if failed else "published",
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
