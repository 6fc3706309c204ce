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
from flows.inputs import combine_inputs, input_entries, move_processed, store_inputs
from flows.load import StagedDatabase, previous_assignments, remove_leftovers
from flows.lock import RunLock
from flows.logs import install_masking
from flows.pause import pause_point
from flows.reading import cache_dir_for, extract, prune_cache
from flows.report import Language, report, report_failed_run
from flows.review import counted_with, read_reviews, review_handout, stage_review, steward_decisions
from flows.snapshots import SnapshotStore
from flows.tasks import (
    RunCheckFailed,
    RunSummary,
    clean,
    cleaning_tables,
    dedupe,
    drift_since_last_run,
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
    move_processed_files: bool = False,
    keep_snapshots: int | None = None,
) -> RunSummary:
    """Migrate the exports in `inbox` into the DuckDB file `db` and write the data-quality report.

    Builds on every file the database already holds (flows/inputs.py); holds the
    database's lock for the whole run; with `move_processed_files`, moves the files
    it loaded to `inbox/processed/<run_id>/` once the result is published.
    """
    install_masking()
    # A scheduled (deployment) run passes its parameters as JSON: paths and dates arrive as text.
    inbox, db, reports = Path(inbox), Path(db), Path(reports)
    schemas_dir = Path(schemas_dir) if schemas_dir else None
    started = dt.datetime.now(dt.UTC)
    run_id = run_id or new_run_id(started)
    as_of = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of or dt.date.today()
    config = load_config(schemas_dir)
    rules = load_tag_rules(config.directory / "tag_rules.yaml")
    segments = load_segments(config.directory / "segments.yaml")
    settings = load_report_settings(config.directory)
    lang = lang or settings.default_language
    suites = build_suites(load_suites(config), config)
    snapshots = SnapshotStore(db, config.runs.snapshots_keep if keep_snapshots is None else keep_snapshots)
    with RunLock(db, f"run {run_id}"):
        remove_leftovers(db)
        snapshots.remove_leftovers()
        reviews = read_reviews(inbox)
        read = extract(inbox, config, cache_dir_for(db), skip=reviews.paths)
        with StagedDatabase(db) as staged:
            extracted, versions = combine_inputs(staged, read.extracts, config, run_id)
            extracted.cached = read.cached
            cleaned = clean(extracted, cleaning_tables(config, as_of))
            previous = previous_assignments(staged)
            customers_before = staged.query("SELECT count(*) AS n FROM customers")["n"][0]
            resolved = dedupe(cleaned, previous, config, as_of, steward_decisions(staged, reviews))
            counts = stage(staged, run_id, resolved, cleaned, extracted, config.pipeline.failed_file_share)
            review = stage_review(staged, run_id, resolved, config, reviews)
            counts = counted_with(counts, review.pop("quarantined_by_reason"))
            extracted.fail_files(counts["failing_files"])
            drift = drift_since_last_run(staged, extracted)
            store_inputs(staged, extracted, versions, config)
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
            summary.schema_drift = drift.to_dicts()
            summary.review = review
            record_run(
                staged,
                summary,
                extracted,
                validation.checks,
                inbox,
                as_of,
                input_entries(extracted, versions),
            )
            if failed:
                _refuse_to_publish(staged, reports, run_id, config, lang, validation)
            published = staged.published_run_id
            staged.publish(before_replace=lambda: _keep_snapshot(snapshots, summary, db, published))
        pause_point("published")
        snapshots.prune()
        prune_cache(cache_dir_for(db), read.cache_keys)
        if move_processed_files:
            summary.files_moved = move_processed(inbox, run_id, extracted, versions)
        summary.report = str(report(db, reports, run_id, config, lang))
        handouts(db, reports, run_id, config)
        review_file = review_handout(db, reports, run_id, config)
        summary.review["review_file"] = str(review_file) if review_file else None
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


def _keep_snapshot(snapshots: SnapshotStore, summary: RunSummary, db: Path, published: str | None) -> None:
    if db.exists():
        taken = snapshots.take(db, published or f"before-{summary.run_id}")
        summary.snapshot = str(taken) if taken else None


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
    )


__all__ = ["RunCheckFailed", "RunSummary", "migrate", "new_run_id"]
