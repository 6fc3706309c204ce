"""The stages of a run as Prefect tasks: thin wrappers that move data between I/O and the pure cleaners.

Each stage is one task with the name a person reads in the progress display and in Prefect's UI:
clean, link, dedupe, stage, tag, validate, report (extract is one task per file, flows/reading.py;
publish is flows/migrate.py's last step). Every stage is timed (flows/stages.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from crm_etl.cleaners.customers import (
    MatchedRecords,
    ResolvedCustomers,
    build_customers,
    match_records,
    quarantine_rows,
)
from crm_etl.cleaners.file_yield import failing_files
from crm_etl.cleaners.linking import link_to_customers
from crm_etl.cleaners.mapping.drift import schema_drift
from crm_etl.cleaners.records import CleaningTables, clean_customers, clean_interactions, clean_orders
from crm_etl.flows.cluster import FanOut
from crm_etl.flows.extract import ExtractResult
from crm_etl.flows.handouts import (
    HandoutFile,
    pending_worklists,
    worklist_cells,
    worklist_words,
    write_handouts,
)
from crm_etl.flows.inputs import store_inputs
from crm_etl.flows.kpis import KpiError, measure_kpis
from crm_etl.flows.load import (
    CURRENT_STATE_TABLES,
    StagedDatabase,
    arrow_view,
    create_row_placements,
    headers_before,
)
from crm_etl.flows.match_pairs import write_match_pairs
from crm_etl.flows.profile import RuleError, apply_tag_rules, build_customer_features, create_views
from crm_etl.flows.report import Language, RenderedReport, render_run_report
from crm_etl.flows.review import REVIEW_FILE, ReturnedReviews, counted_with, stage_review, write_review_file
from crm_etl.flows.stages import RunCheckFailed, timed_stage
from crm_etl.flows.validation import BuiltSuite, ValidationRun, run_suites, suite_parameters
from crm_etl.schemas import Config
from crm_etl.schemas.contracts import Contracts, load_contracts


@dataclass(frozen=True)
class Run:
    """What one run is: its ID and day, its folders, and the configuration it runs with."""

    run_id: str
    started_at: dt.datetime
    as_of: dt.date
    inbox: Path
    db: Path
    reports: Path
    lang: Language
    contracts: Contracts

    @property
    def config(self) -> Config:
        return self.contracts.config

    @property
    def folder(self) -> Path:
        """The run's report folder: reports/<run_id>/."""
        return self.reports / self.run_id


@dataclass
class Cleaned:
    """Clean frames per record type."""

    customers: pl.DataFrame
    orders: pl.DataFrame
    interactions: pl.DataFrame

    @property
    def rows(self) -> int:
        return self.customers.height + self.orders.height + self.interactions.height

    def take_customers(self) -> pl.DataFrame:
        """The customer records, handed over to matching: from then on the matched records carry them."""
        taken, self.customers = self.customers, self.customers.clear()
        return taken


@dataclass
class StagedResult:
    """What the stage step wrote: the accounting counts, the schema drift, the steward review's figures."""

    counts: dict[str, Any]
    drift: list[dict[str, Any]] = field(default_factory=list)
    review: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return int(self.counts["rows_read"])


def cleaning_tables(config: Config, as_of: dt.date) -> CleaningTables:
    """The code tables and settings cleaning needs (the code tables loaded once with every contract)."""
    contracts = load_contracts(config.directory)
    return CleaningTables(
        industry_synonyms=contracts.industries.synonyms,
        industry_names=contracts.industries.names,
        customer_types=contracts.customer_types,
        channels=contracts.channels,
        lead_sources=config.lead_sources,
        garbage_rows=config.garbage_rows,
        as_of=as_of,
        phone_region=config.pipeline.phone_region,
        first_contact_min_date=config.pipeline.first_contact_min_date,
    )


@task(name="clean", cache_policy=NO_CACHE)
@timed_stage("clean", "rows", lambda cleaned: cleaned.rows)
def clean(extracted: ExtractResult, tables: CleaningTables, fan: FanOut | None = None) -> Cleaned:
    """Normalise every field; rows that cannot be records get their reject reason.

    `fan`: on a cluster, each file's records are cleaned by a task on a worker (flows/cluster_stages.py).
    """
    if fan is not None and fan.distributed:
        from crm_etl.flows.cluster_stages import clean_on_cluster

        return clean_on_cluster(extracted, tables, fan)
    return Cleaned(
        customers=clean_customers(extracted.records["customers"], tables),
        orders=clean_orders(extracted.records["orders"], tables),
        interactions=clean_interactions(extracted.records["interactions"], tables),
    )


@task(name="link", cache_policy=NO_CACHE)
@timed_stage("link", "records", lambda matched: matched.records.height)
def link(
    customers: pl.DataFrame, config: Config, decisions: pl.DataFrame | None = None, fan: FanOut | None = None
) -> MatchedRecords:
    """Match the customer records that are one company: candidate pairs scored, clustered (steward decisions honoured).

    `fan`: on a cluster, chunks of candidate pairs are compared and scored by tasks on the workers.
    """
    scoring = None
    if fan is not None and fan.plan is not None:
        from crm_etl.flows.cluster_stages import ClusterScoring

        scoring = ClusterScoring(fan, fan.plan.pair_chunk_size)
    matched = match_records(customers, config.dedupe, decisions, scoring)
    get_run_logger().info(
        "%d customer records matched: %d candidate pairs scored",
        matched.records.height,
        matched.linkage.pairs.height,
    )
    return matched


@task(name="dedupe", cache_policy=NO_CACHE)
@timed_stage("dedupe", "customers", lambda resolved: resolved.golden.height)
def dedupe(
    matched: MatchedRecords, previous: pl.DataFrame, config: Config, as_of: dt.date
) -> ResolvedCustomers:
    """One golden customer per cluster, with a stable customer_id, its golden values and its contacts."""
    resolved = build_customers(
        matched,
        previous,
        config.pipeline.customer_id_pattern,
        config.pipeline.completeness_fields,
        as_of,
        config.dedupe,
    )
    get_run_logger().info(
        "%d customer records -> %d customers (%d rejected)",
        resolved.records.height,
        resolved.golden.height,
        resolved.rejected.height,
    )
    return resolved


@task(name="stage", cache_policy=NO_CACHE)
@timed_stage("stage", "rows", lambda staged: staged.rows)
def stage(
    staged: StagedDatabase,
    run: Run,
    resolved: ResolvedCustomers,
    cleaned: Cleaned,
    extracted: ExtractResult,
    versions: pl.DataFrame,
    reviews: ReturnedReviews,
) -> StagedResult:
    """Write the run's current state, the steward review and the input versions into the working copy."""
    drift = schema_drift(
        headers_before(staged.connection),
        extracted.column_mappings().select("source_file", "source_sheet", "header"),
    )
    counts = _write_current_state(
        staged, run.run_id, resolved, cleaned, extracted, run.config.pipeline.failed_file_share
    )
    review = stage_review(staged, run.run_id, resolved, run.config, reviews)
    counts = counted_with(counts, review.pop("quarantined_by_reason"))
    extracted.fail_files(counts["failing_files"])
    store_inputs(staged, extracted, versions, run.config)
    return StagedResult(counts, drift.to_dicts(), review)


def _lineage_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select("source_file", "source_sheet", "source_row")


def _write_current_state(
    staged: StagedDatabase,
    run_id: str,
    resolved: ResolvedCustomers,
    cleaned: Cleaned,
    extracted: ExtractResult,
    failed_file_share: float = 0.5,
) -> dict[str, Any]:
    """Write this run's current-state tables into the staging copy, replacing the previous run's.

    `failing_files` in the result: files read now most of whose rows were quarantined for one reason.
    """
    con = staged.connection
    for table in CURRENT_STATE_TABLES:
        con.execute(f"DELETE FROM {table}")
    golden = resolved.golden.with_columns(pl.lit(run_id).alias("run_id"))
    stored = set(staged.columns("customers"))  # the golden record's working columns stay out
    staged.insert("customers", golden.select([c for c in golden.columns if c in stored]))
    staged.insert("contacts", resolved.contacts)
    sources = resolved.records.select(
        pl.lit(run_id).alias("run_id"),
        "source_system",
        "source_spec",
        "source_file",
        "source_sheet",
        "source_row",
        "source_key",
        "customer_id",
        "match_score",
        "match_reason",
        "issues",
        pl.struct(RECORD_FIELDS).struct.json_encode().alias("record"),
        "raw",
    )
    staged.insert("customer_sources", sources)
    write_match_pairs(staged, resolved, run_id)
    orders = link_to_customers(cleaned.orders, resolved.records, resolved.golden)
    interactions = link_to_customers(cleaned.interactions, resolved.records, resolved.golden)
    staged.insert("orders", orders.filter(pl.col("reject_reason").is_null()).select(staged.columns("orders")))
    staged.insert(
        "interactions",
        interactions.filter(pl.col("reject_reason").is_null()).select(staged.columns("interactions")),
    )
    quarantine = pl.concat(
        [
            quarantine_rows(resolved.rejected, "customer", run_id),
            quarantine_rows(orders.filter(pl.col("reject_reason").is_not_null()), "order", run_id),
            quarantine_rows(
                interactions.filter(pl.col("reject_reason").is_not_null()), "interaction", run_id
            ),
        ]
    )
    staged.insert("quarantine", quarantine)
    rows_read = pl.concat([_lineage_rows(f) for f in extracted.records.values()])
    con.register("_rows_read", arrow_view(rows_read))
    failing = failing_files(
        rows_read,
        quarantine,
        failed_file_share,
        [f.source_file for f in extracted.files if f.status == "read"],
    )
    return {
        "customer_records": resolved.records.height,
        "customers": resolved.golden.height,
        "failing_files": failing.to_dicts(),
        "rows_read": rows_read.height,
        "orders": orders.filter(pl.col("reject_reason").is_null()).height,
        "interactions": interactions.filter(pl.col("reject_reason").is_null()).height,
        "quarantined": quarantine.height,
        "quarantined_by_reason": dict(
            quarantine.group_by("reason").len().sort(["len", "reason"], descending=[True, False]).iter_rows()
        ),
    }


# The cleaned values of each loaded record, kept beside its raw cells in customer_sources.
RECORD_FIELDS = [
    "legacy_id",
    "record_role",
    "account_ref",
    "customer_name",
    "company_key",
    "contact_name",
    "contact_title",
    "contact_honorific",
    "contact_key",
    "mobile",
    "phone",
    "other_phones",
    "email",
    "email_suggestion",
    "industry",
    "industry_text",
    "industry_code",
    "customer_type_text",
    "customer_type",
    "customer_stage",
    "first_contact_date",
    "source_channel",
    "source_channel_text",
    "owner",
    "city",
    "employees",
]


@task(name="tag", cache_policy=NO_CACHE)
@timed_stage("tag", "customers", lambda customers: customers)
def tag(staged: StagedDatabase, run: Run) -> int:
    """Customer features, RFM tiers, lifecycle and follow-up status, then the tag rules and the analyst views."""
    contracts = run.contracts
    try:
        build_customer_features(
            staged.connection, contracts.segments, contracts.industries.broad_groups, run.as_of
        )
        apply_tag_rules(staged.connection, contracts.tag_rules)
    except RuleError as exc:
        raise RunCheckFailed(str(exc)) from exc
    create_views(staged.connection)
    return int(staged.query("SELECT count(*) AS n FROM customers")["n"][0])


@task(name="validate", cache_policy=NO_CACHE)
@timed_stage("validate", "expectations", lambda validation: len(validation.checks))
def validate(
    staged: StagedDatabase, run: Run, suites: list[BuiltSuite], extracted: ExtractResult
) -> ValidationRun:
    """Run the expectation suites on the staged result (and the raw rows), then the report's figures."""
    con = staged.connection
    for record_type, frame in extracted.records.items():
        con.register(f"raw_{record_type}", arrow_view(frame))
    create_row_placements(staged, run.run_id)
    result = run_suites(
        con,
        suites,
        suite_parameters(run.config, run.as_of),
        run.folder / "gx-data-docs",
        run.contracts.report.sample_rows,
    )
    logger = get_run_logger()
    for check in result.checks:
        if not check.success:  # the summary and the report say it again: a line for -v
            logger.info(
                "%s %s.%s %s: observed %s, expected %s",
                check.severity,
                check.suite,
                check.expectation,
                check.column or "",
                check.observed,
                check.threshold,
            )
    measure(staged, run)
    return result


def measure(staged: StagedDatabase, run: Run) -> pl.DataFrame:
    """Compute the report's figures of this run (schemas/kpis.yaml: the SQL an analyst runs) into run_kpis."""
    try:
        kpis = measure_kpis(
            staged.connection, run.contracts.kpis, run.config.pipeline.completeness_fields
        ).with_columns(pl.lit(run.run_id).alias("run_id"))
    except KpiError as exc:
        raise RunCheckFailed(str(exc)) from exc
    staged.insert("run_kpis", kpis)
    return kpis


@dataclass
class RunHandouts:
    """What the report stage wrote into reports/<run_id>/ (the latest/ copy waits for the publish)."""

    report: RenderedReport
    files: list[HandoutFile]
    review_file: Path | None

    @property
    def count(self) -> int:
        return 1 + len(self.files) + (self.review_file is not None)

    def cells_truncated(self, folder: Path) -> dict[str, int]:
        """Per handout (path inside the run's folder), how many cells were cut to Excel's limit."""
        return {
            f.path.relative_to(folder).as_posix(): f.cells_truncated for f in self.files if f.cells_truncated
        }


@task(name="report", cache_policy=NO_CACHE)
@timed_stage("report", "files", lambda handouts: handouts.count)
def report(staged: StagedDatabase, run: Run) -> RunHandouts:
    """The data-quality report, the worklists, the audit sample and the review file, from the working copy."""
    con = staged.connection
    # Written before publishing: a report that cannot be written leaves the database as it was
    # (StagedDatabase names the file that failed).
    # The handouts first: the report links only to the worklists that are there.
    # The worklists' rows once: written into the worklists, counted per owner in the report.
    pending = pending_worklists(con, worklist_words(run.contracts))
    files = write_handouts(con, run.folder, run.run_id, run.contracts, pending)
    cells = worklist_cells(con, pending)
    del pending
    rendered = render_run_report(
        con, run.reports, run.run_id, run.config, run.contracts.report, run.lang, cells=cells
    )
    review_file = write_review_file(con, run.folder / REVIEW_FILE, run.run_id, run.config)
    return RunHandouts(rendered, files, review_file)
