"""Prefect tasks: thin wrappers that move data between I/O and the pure cleaners."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from cleaners.customers import ResolvedCustomers, quarantine_rows, resolve_customers
from cleaners.file_yield import failing_files
from cleaners.kpis import follow_up_status, run_kpis
from cleaners.linking import link_to_customers
from cleaners.mapping.drift import schema_drift
from cleaners.quality import CheckResult
from cleaners.records import CleaningTables, clean_customers, clean_interactions, clean_orders
from flows.extract import ExtractResult
from flows.load import CURRENT_STATE_TABLES, StagedDatabase, create_row_placements, headers_before
from flows.match_pairs import write_match_pairs
from flows.profile import RuleError, apply_tag_rules, build_customer_features, create_views
from flows.validation import BuiltSuite, ValidationRun, run_suites
from schemas import Config
from schemas.codes import load_customer_types, load_industry_table
from schemas.config import TagRules, load_channels
from schemas.segments import Segments
from schemas.suites import ReportSettings


class RunCheckFailed(RuntimeError):
    """A critical run-level check failed; nothing was published."""

    def __init__(
        self, message: str, checks: list[CheckResult] | None = None, report: Path | None = None
    ) -> None:
        super().__init__(message)
        self.checks = checks or []
        self.report = report  # the report of the failed run, saying why


@dataclass
class Cleaned:
    """Clean frames per record type."""

    customers: pl.DataFrame
    orders: pl.DataFrame
    interactions: pl.DataFrame


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

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=str, indent=2)


def cleaning_tables(config: Config, as_of: dt.date) -> CleaningTables:
    """Load the code tables cleaning needs."""
    industries = load_industry_table(config.directory / "industries.yaml")
    return CleaningTables(
        industry_synonyms=industries.synonyms,
        industry_names=industries.names,
        customer_types=load_customer_types(config.directory / "customer_types.yaml"),
        channels=load_channels(config.directory / "channels.yaml"),
        lead_sources=config.lead_sources,
        garbage_rows=config.garbage_rows,
        as_of=as_of,
        phone_region=config.pipeline.phone_region,
        first_contact_min_date=config.pipeline.first_contact_min_date,
    )


@task(name="clean", cache_policy=NO_CACHE)
def clean(extracted: ExtractResult, tables: CleaningTables) -> Cleaned:
    """Normalise every field; rows that cannot be records get their reject reason."""
    return Cleaned(
        customers=clean_customers(extracted.records["customers"], tables),
        orders=clean_orders(extracted.records["orders"], tables),
        interactions=clean_interactions(extracted.records["interactions"], tables),
    )


@task(name="dedupe", cache_policy=NO_CACHE)
def dedupe(
    cleaned: Cleaned,
    previous: pl.DataFrame,
    config: Config,
    as_of: dt.date,
    decisions: pl.DataFrame | None = None,
) -> ResolvedCustomers:
    """Cluster duplicate customer records into golden customers with stable IDs (honouring steward decisions)."""
    resolved = resolve_customers(
        cleaned.customers,
        previous,
        config.pipeline.customer_id_pattern,
        config.pipeline.completeness_fields,
        as_of,
        config.dedupe,
        decisions,
    )
    get_run_logger().info(
        "%d customer records -> %d customers (%d rejected)",
        resolved.records.height,
        resolved.golden.height,
        resolved.rejected.height,
    )
    return resolved


def _lineage_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select("source_file", "source_sheet", "source_row")


@task(name="stage", cache_policy=NO_CACHE)
def drift_since_last_run(staged: StagedDatabase, extracted: ExtractResult) -> pl.DataFrame:
    """Headers each file read now gained or lost against the last published run's mapping of it."""
    previous = headers_before(staged.connection)
    current = extracted.column_mappings().select("source_file", "source_sheet", "header")
    return schema_drift(previous, current)


def stage(
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
    con.execute("BEGIN TRANSACTION")
    for table in CURRENT_STATE_TABLES:
        con.execute(f"DELETE FROM {table}")
    golden = resolved.golden.with_columns(pl.lit(run_id).alias("run_id"))
    staged.insert("customers", golden.drop([c for c in golden.columns if c not in _CUSTOMER_COLUMNS]))
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
    staged.insert(
        "orders",
        orders.filter(pl.col("reject_reason").is_null()).select(
            "order_id",
            "customer_id",
            "order_date",
            "amount_cny",
            "product",
            "quantity",
            "owner",
            "source_system",
            "source_file",
            "source_sheet",
            "source_row",
            "link_reason",
        ),
    )
    staged.insert(
        "interactions",
        interactions.filter(pl.col("reject_reason").is_null()).select(
            "interaction_id",
            "customer_id",
            "date",
            "channel",
            "participants",
            "content",
            "feedback",
            "todo",
            "owner",
            "source_system",
            "source_file",
            "source_sheet",
            "source_row",
            "link_reason",
        ),
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
    con.register("_rows_read", rows_read.to_arrow())
    failing = failing_files(
        rows_read,
        quarantine,
        failed_file_share,
        [f.source_file for f in extracted.files if f.status == "read"],
    )
    return {
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
    "owner",
    "city",
    "employees",
]

_CUSTOMER_COLUMNS = {
    "customer_id",
    "customer_name",
    "company_key",
    "contact_name",
    "contact_title",
    "mobile",
    "phone",
    "other_phones",
    "email",
    "industry",
    "industry_code",
    "customer_type",
    "customer_stage",
    "first_contact_date",
    "source_channel",
    "owner",
    "city",
    "address",
    "employees",
    "employee_count",
    "core_need",
    "completeness",
    "missing_fields",
    "source_count",
    "field_sources",
    "run_id",
}


@task(name="profile", cache_policy=NO_CACHE)
def profile(staged: StagedDatabase, segments: Segments, config: Config, as_of: dt.date) -> None:
    """Compute customer features, RFM tiers, lifecycle and follow-up status in DuckDB."""
    industries = load_industry_table(config.directory / "industries.yaml")
    try:
        build_customer_features(staged.connection, segments, industries.broad_groups, as_of)
    except RuleError as exc:
        raise RunCheckFailed(str(exc)) from exc


@task(name="tag", cache_policy=NO_CACHE)
def tag(staged: StagedDatabase, rules: TagRules) -> None:
    """Apply the tag rules in DuckDB and refresh the analyst views; a broken predicate fails the run."""
    try:
        apply_tag_rules(staged.connection, rules)
    except RuleError as exc:
        raise RunCheckFailed(str(exc)) from exc
    create_views(staged.connection)


@task(name="validate", cache_policy=NO_CACHE)
def validate(
    staged: StagedDatabase,
    run_id: str,
    suites: list[BuiltSuite],
    extracted: ExtractResult,
    parameters: dict[str, Any],
    data_docs: Path | None,
    sample_rows: int,
) -> ValidationRun:
    """Run the expectation suites on the staged result (and the raw rows) before anything is published."""
    con = staged.connection
    for record_type, frame in extracted.records.items():
        con.register(f"raw_{record_type}", frame.to_arrow())
    create_row_placements(staged, run_id)
    result = run_suites(con, suites, parameters, data_docs, sample_rows)
    logger = get_run_logger()
    for check in result.checks:
        if not check.success:
            logger.warning(
                "%s %s.%s %s: observed %s, expected %s",
                check.severity,
                check.suite,
                check.expectation,
                check.column or "",
                check.observed,
                check.threshold,
            )
    return result


@task(name="measure", cache_policy=NO_CACHE)
def measure(
    staged: StagedDatabase, run_id: str, config: Config, settings: ReportSettings, as_of: dt.date
) -> pl.DataFrame:
    """Compute the report's figures of this run (completeness, merges, bad phones, overdue follow-ups …)."""
    customers = staged.query("SELECT * EXCLUDE (tags, field_sources, other_phones) FROM customers")
    follow_ups = follow_up_status(
        customers,
        staged.query("SELECT customer_id, date FROM interactions"),
        as_of,
        settings.follow_up.overdue_days,
        settings.follow_up.active_customer_types,
    )
    kpis = run_kpis(
        customers,
        staged.query(
            "SELECT source_system, issues, customer_id, record->>'record_role' AS record_role FROM customer_sources"
        ),
        staged.query("SELECT reason FROM quarantine"),
        follow_ups,
        config.pipeline.completeness_fields,
    ).with_columns(pl.lit(run_id).alias("run_id"))
    staged.insert("run_kpis", kpis)
    return kpis


def record_run(
    staged: StagedDatabase,
    summary: RunSummary,
    extracted: ExtractResult,
    checks: list[CheckResult],
    inbox: Path,
    as_of: dt.date,
    inputs: list[dict[str, Any]] | None = None,
) -> None:
    """Append this run to `runs`, `run_files` and `validation_results`, then commit the transaction."""
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
    staged.connection.execute("COMMIT")
