"""The migration flow: extract → clean → link → dedupe → stage → tag → validate → report → publish."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any, NoReturn

import polars as pl
from prefect import flow, get_run_logger

from crm_etl.flows.after_publish import AfterPublish
from crm_etl.flows.cluster import ClusterPlan, FanOut
from crm_etl.flows.cluster_tasks import compare_pairs_chunk
from crm_etl.flows.extract import ExtractResult
from crm_etl.flows.inputs import combine_inputs, input_entries, move_processed
from crm_etl.flows.load import StagedDatabase, previous_assignments, remove_leftovers
from crm_etl.flows.lock import RunLock
from crm_etl.flows.logs import install_masking
from crm_etl.flows.pause import pause_point
from crm_etl.flows.reading import InboxRead, cache_dir_for, extract, prune_cache
from crm_etl.flows.report import Language, report_failed_run
from crm_etl.flows.review import ReturnedReviews, read_reviews, steward_decisions
from crm_etl.flows.snapshots import SnapshotStore
from crm_etl.flows.stages import measured, stage_clock
from crm_etl.flows.summary import RunSummary, record_run, record_stages, summarise
from crm_etl.flows.tasks import (
    Run,
    RunCheckFailed,
    RunHandouts,
    clean,
    cleaning_tables,
    dedupe,
    link,
    report,
    stage,
    tag,
    validate,
)
from crm_etl.flows.validation import ValidationRun, build_suites
from crm_etl.schemas.contracts import load_contracts


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
    workers: int | None = None,
    dask_address: str | None = None,
) -> RunSummary:
    """Migrate the exports in `inbox` into the DuckDB file `db` and write the data-quality report.

    Builds on every file the database already holds (flows/inputs.py); holds the
    database's lock for the whole run; with `move_processed_files`, moves the files
    it loaded to `inbox/processed/<run_id>/` once the result is published.

    `workers` / `dask_address` (over schemas/runs.yaml `cluster:`): read, clean and score pairs
    on a Dask cluster (flows/cluster.py); the publish stays here. Raises ClusterError before
    anything runs when the work folder cannot be written.
    """
    install_masking()
    run = _run(inbox, db, reports, as_of, run_id, schemas_dir, lang)
    plan = ClusterPlan.resolve(run.config.runs.cluster, run.db, workers, dask_address)
    work = plan.work.child(run.run_id) if plan else None
    if plan is not None and work is not None:
        work.check_writable()  # before any task runs
    try:
        with FanOut(plan, work) as fan:
            return _migrate(run, fan, move_processed_files, keep_snapshots)
    finally:
        if plan is not None and work is not None:
            work.remove()
            plan.work.remove_if_empty()


def _migrate(run: Run, fan: FanOut, move_processed_files: bool, keep_snapshots: int | None) -> RunSummary:
    suites = build_suites(run.contracts.suites, run.config)
    keep = run.config.runs.snapshots_keep if keep_snapshots is None else keep_snapshots
    snapshots = SnapshotStore(run.db, keep)
    with stage_clock() as clock, RunLock(run.db, f"run {run.run_id}"):
        remove_leftovers(run.db)
        snapshots.remove_leftovers()
        reviews, read = _extract(run, fan)
        settings = run.config.runs
        with StagedDatabase(run.db, settings.duckdb_memory_limit, settings.duckdb_storage_version) as staged:
            if staged.converted_from:
                get_run_logger().info(
                    "%s was written in DuckDB storage %s; this run publishes it in %s (schemas/runs.yaml)",
                    run.db,
                    staged.converted_from,
                    settings.duckdb_storage_version,
                )
            extracted, versions = combine_inputs(staged, read.take_extracts(), run.config, run.run_id)
            extracted.cached = read.cached
            cleaned = clean(extracted, cleaning_tables(run.config, run.as_of), fan)
            # Each stage's frames are handed on, not kept: what a later stage needs is in its input.
            decisions = steward_decisions(staged, reviews)
            resolved = dedupe(
                link(cleaned.take_customers(), run.config, decisions, fan),
                previous_assignments(staged),
                run.config,
                run.as_of,
            )
            candidate_pairs = int(resolved.linkage.stats["candidate_pairs"])
            customers_before = int(staged.query("SELECT count(*) AS n FROM customers")["n"][0])
            with staged.transaction():
                written = stage(staged, run, resolved, cleaned, extracted, versions, reviews)
                # Written into the working copy: the later stages read it there, not from memory.
                del resolved, cleaned
                tag(staged, run)
                validation = validate(staged, run, suites, extracted)
                summary = summarise(run, extracted, written, customers_before, validation)
                record_run(
                    staged,
                    summary,
                    extracted,
                    validation.checks,
                    run.inbox,
                    run.as_of,
                    input_entries(extracted, versions),
                )
                if validation.critical_failures:
                    _refuse_to_publish(staged, run, validation)
                handouts = report(staged, run)
                record_stages(staged, run.run_id, clock.timings)
                summary.cluster = _cluster_figures(fan, candidate_pairs)
            _publish(staged, snapshots, summary, run)
        pause_point("published")
        summary.report = str(handouts.report.path)
        summary.review["review_file"] = str(handouts.review_file) if handouts.review_file else None
        summary.cells_truncated = handouts.cells_truncated(run.folder)
        _after_publish(run, summary, handouts, snapshots, read, extracted, versions, move_processed_files)
    summary.stages = [t.__dict__ for t in clock.timings]
    get_run_logger().info("run %s published to %s", run.run_id, run.db)
    return summary


def _cluster_figures(fan: FanOut, candidate_pairs: int) -> dict[str, Any] | None:
    """Where the run's tasks ran and what they wrote to the work folder, for the summary."""
    if fan.plan is None or fan.work is None:
        return None
    return {
        "where": fan.plan.describe(),
        "work_folder_bytes": fan.work.size(),
        "pair_chunks": len(fan.task_seconds.get(compare_pairs_chunk.name, [])),
        "candidate_pairs": candidate_pairs,
        # per task: runs, total and slowest seconds by the task's own clock
        "tasks": {
            name: {"runs": len(times), "seconds": round(sum(times), 2), "slowest": round(max(times), 2)}
            for name, times in fan.task_seconds.items()
        },
    }


def _after_publish(
    run: Run,
    summary: RunSummary,
    handouts: RunHandouts,
    snapshots: SnapshotStore,
    read: InboxRead,
    extracted: ExtractResult,
    versions: pl.DataFrame,
    move_processed_files: bool,
) -> None:
    """The published run's tidying up; a step that fails is reported as one (exit 4), never as a failed run."""
    after = AfterPublish()
    with after.step("latest report"):
        handouts.report.write_latest(run.reports)
    if run.contracts.report.owner_exports.per_owner_folders:
        with after.step("per-owner handouts"):
            from crm_etl.flows.export import OWNERS, write_owner_folders

            written = write_owner_folders(run.db, run.folder / OWNERS)
            get_run_logger().info("per-owner handouts for %d owners in %s", len(written), run.folder / OWNERS)
    with after.step("snapshot pruning"):
        snapshots.prune()
    with after.step("cache pruning"):
        prune_cache(cache_dir_for(run.db), read.cache_keys)
    if move_processed_files:
        with after.step("moving processed files"):
            summary.files_moved, not_moved = move_processed(run.inbox, run.run_id, extracted, versions)
            for why in not_moved:
                after.fail("moving processed files", why)
    summary.after_publish_failures = after.failures


def _run(
    inbox: Path,
    db: Path,
    reports: Path,
    as_of: dt.date | str | None,
    run_id: str | None,
    schemas_dir: Path | None,
    lang: Language | None,
) -> Run:
    """The run's identity and configuration (a scheduled run passes its parameters as JSON text)."""
    started = dt.datetime.now(dt.UTC)
    contracts = load_contracts(Path(schemas_dir) if schemas_dir else None)
    return Run(
        run_id=run_id or new_run_id(started),
        started_at=started,
        as_of=dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of or dt.date.today(),
        inbox=Path(inbox),
        db=Path(db),
        reports=Path(reports),
        lang=lang or contracts.report.default_language,
        contracts=contracts,
    )


def _extract(run: Run, fan: FanOut) -> tuple[ReturnedReviews, InboxRead]:
    """Read the returned review files, then every data file of the inbox (one task per file)."""
    with measured("extract", "rows"):  # each file read advances it by its rows
        reviews = read_reviews(run.inbox)
        read = extract(run.inbox, run.config, cache_dir_for(run.db), skip=reviews.paths, fan=fan)
    return reviews, read


def _publish(staged: StagedDatabase, snapshots: SnapshotStore, summary: RunSummary, run: Run) -> None:
    """Swap the working copy in for the published file, keeping a snapshot of the file it replaces."""
    published = staged.published_run_id
    with measured("publish", "files"):
        staged.publish(before_replace=lambda: _keep_snapshot(snapshots, summary, run.db, published))


def _refuse_to_publish(staged: StagedDatabase, run: Run, validation: ValidationRun) -> NoReturn:
    """Write the failed run's report from its staged copy, then stop: the staged copy is discarded."""
    path = report_failed_run(staged.connection, run.reports, run.run_id, run.config, run.lang)
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


__all__ = ["RunCheckFailed", "RunSummary", "migrate", "new_run_id"]
