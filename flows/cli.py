"""The `crm-etl` command line: run the migration, rebuild reports, list runs."""

from __future__ import annotations

import datetime as dt
import logging
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

# Prefect's local mode starts a temporary API server; on a 2-core machine its
# first start (database migrations) can take longer than Prefect's 20 s default.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import typer
from rich.console import Console
from rich.table import Table

EXIT_OK, EXIT_CHECK_FAILED, EXIT_INPUT = 0, 1, 2
DEFAULT_DB = Path("data/crm.duckdb")
DEFAULT_INBOX = Path("data/inbox")
DEFAULT_REPORTS = Path("reports")

app = typer.Typer(
    name="crm-etl",
    help="Migrate scattered customer exports into one clean, deduplicated DuckDB customer table.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


def _set_verbosity(verbose: bool) -> None:
    level = "INFO" if verbose else "WARNING"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", level)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _language(lang: str | None) -> Literal["zh-CN", "en"] | None:
    """The report language asked for (`zh`, `zh-CN`, `en` …), or exit 2 for one the report has not."""
    if lang is None:
        return None
    key = lang.strip().lower().replace("_", "-")
    if key in {"zh", "zh-cn", "cn", "zh-hans"}:
        return "zh-CN"
    if key in {"en", "en-us", "en-gb", "english"}:
        return "en"
    err.print(f"[red]error[/]: --lang {lang!r}: the report speaks zh-CN or en")
    raise typer.Exit(EXIT_INPUT)


def _print_summary(summary: object) -> None:
    from flows.tasks import RunSummary

    assert isinstance(summary, RunSummary)
    files = Table(title=f"Run {summary.run_id}: input", show_lines=False)
    for column in ("file", "sheet", "kind", "rows", "status"):
        files.add_column(column, justify="right" if column == "rows" else "left")
    for s in summary.sheets:
        files.add_row(s["file"], s["sheet"], s["kind"] or "", str(s["rows"]), s["status"])
    out.print(files)
    totals = Table(title="Result")
    totals.add_column("measure")
    totals.add_column("count", justify="right")
    for label, value in [
        ("rows read", summary.rows_read),
        ("rows loaded", summary.rows_loaded),
        ("rows quarantined", summary.rows_quarantined),
        ("customers before", summary.customers_before),
        ("customers", summary.customers),
        ("records merged into another", summary.records_merged),
        ("orders", summary.orders),
        ("interactions", summary.interactions),
    ]:
        totals.add_row(label, str(value))
    out.print(totals)
    if summary.quarantined_by_reason:
        reasons = Table(title="Quarantined by reason")
        reasons.add_column("reason")
        reasons.add_column("rows", justify="right")
        for reason, count in summary.quarantined_by_reason.items():
            reasons.add_row(reason, str(count))
        out.print(reasons)
    warnings = [c for c in summary.checks if not c["success"]]
    for check in warnings:
        out.print(
            f"[yellow]warning[/]: {check['expectation']} {check['column'] or ''}: "
            f"observed {check['observed']}, expected {check['threshold']}"
        )
    out.print(f"database: {summary.db}")
    out.print(f"report:   {summary.report}")


@app.command()
def run(
    inbox: Annotated[
        Path, typer.Option(help="Folder of exports to read (xlsx, csv, jsonl), recursively.")
    ] = (DEFAULT_INBOX),
    db: Annotated[Path, typer.Option(help="DuckDB file to publish into.")] = DEFAULT_DB,
    reports: Annotated[Path, typer.Option(help="Folder for the data-quality report.")] = DEFAULT_REPORTS,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Treat this date (YYYY-MM-DD) as today, for reproducible runs."),
    ] = None,
    schemas: Annotated[
        Path | None, typer.Option(help="Configuration folder to use instead of the bundled schemas/.")
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Report language: zh-CN (default) or en.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's run logs.")] = False,
) -> None:
    """Run the migration flow on an inbox and publish the result into the DuckDB file.

    Exit codes: 0 published; 1 a critical check failed and nothing was published;
    2 bad usage or unreadable input (when only some files are unreadable, the rest
    is still published and the unreadable ones are listed).
    """
    _set_verbosity(verbose)
    language = _language(lang)
    if not inbox.is_dir():
        err.print(f"[red]error[/]: inbox {inbox} is not a directory")
        raise typer.Exit(EXIT_INPUT)
    day: dt.date | None = None
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            err.print(f"[red]error[/]: --as-of {as_of!r} is not a date like 2024-06-30")
            raise typer.Exit(EXIT_INPUT) from None
    from flows.load import PublishError
    from flows.migrate import migrate
    from flows.tasks import RunCheckFailed
    from schemas import ConfigError

    try:
        summary = migrate(inbox=inbox, db=db, reports=reports, as_of=day, schemas_dir=schemas, lang=language)
    except RunCheckFailed as exc:
        err.print(f"[red]run failed, nothing published[/]: {exc}")
        if exc.report is not None:
            err.print(f"report of the failed run: {exc.report}")
        raise typer.Exit(EXIT_CHECK_FAILED) from None
    except ConfigError as exc:
        err.print(f"[red]configuration error[/]: {exc}")
        raise typer.Exit(EXIT_INPUT) from None
    except PublishError as exc:
        err.print(f"[red]cannot write the database[/]: {exc}")
        raise typer.Exit(EXIT_CHECK_FAILED) from None
    _print_summary(summary)
    if summary.failed_inputs:
        for message in summary.failed_inputs:
            err.print(f"[red]unreadable input[/]: {message}")
        raise typer.Exit(EXIT_INPUT)
    if summary.rows_read == 0:
        err.print(f"[red]error[/]: no data rows found in {inbox}")
        raise typer.Exit(EXIT_INPUT)


@app.command()
def report(
    db: Annotated[Path, typer.Option(help="DuckDB file written by `crm-etl run`.")] = DEFAULT_DB,
    reports: Annotated[Path, typer.Option(help="Folder for the data-quality report.")] = DEFAULT_REPORTS,
    run_id: Annotated[
        str | None, typer.Option("--run", help="Run to report on (default: the latest).")
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Report language: zh-CN (default) or en.")
    ] = None,
) -> None:
    """Rebuild the data-quality report from the DuckDB file alone."""
    from flows.report import write_report

    language = _language(lang)
    if not db.is_file():
        err.print(f"[red]error[/]: {db} does not exist; run `crm-etl run` first")
        raise typer.Exit(EXIT_INPUT)
    try:
        path = write_report(db, reports, run_id, lang=language or "zh-CN")
    except LookupError as exc:
        err.print(f"[red]error[/]: {exc}")
        raise typer.Exit(EXIT_INPUT) from None
    out.print(f"report: {path}")


@app.command()
def runs(
    db: Annotated[Path, typer.Option(help="DuckDB file written by `crm-etl run`.")] = DEFAULT_DB,
    limit: Annotated[int, typer.Option(min=1, help="How many recent runs to list.")] = 20,
) -> None:
    """List published runs, newest first."""
    import duckdb

    if not db.is_file():
        err.print(f"[red]error[/]: {db} does not exist; run `crm-etl run` first")
        raise typer.Exit(EXIT_INPUT)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            """SELECT run_id, started_at, finished_at, status, rows_read, rows_loaded, rows_quarantined,
                      customers_before, customers, files_failed
               FROM runs ORDER BY started_at DESC LIMIT ?""",
            [limit],
        ).fetchall()
    table = Table(title=f"Runs in {db}")
    for column in (
        "run",
        "started",
        "finished",
        "status",
        "read",
        "loaded",
        "quarantined",
        "before",
        "customers",
        "bad files",
    ):
        # The run id is what scripts copy into `report --run` / `restore`: never truncate or wrap it.
        table.add_column(column, no_wrap=column == "run", min_width=23 if column == "run" else None)
    for row in rows:
        table.add_row(*(f"{v:%Y-%m-%d %H:%M:%S}" if isinstance(v, dt.datetime) else str(v) for v in row))
    out.print(table)


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"
    xlsx = "xlsx"


@app.command()
def export(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write the files into (created if missing).")
    ],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="File format: one file per table or view.")
    ] = ExportFormat.parquet,
    db: Annotated[Path, typer.Option(help="DuckDB file written by `crm-etl run`.")] = DEFAULT_DB,
    table: Annotated[
        list[str] | None,
        typer.Option(
            "--table",
            "-t",
            metavar="NAME",
            help="Table or view to export; repeat for several (default: all).",
        ),
    ] = None,
) -> None:
    """Export every table and analyst view for BI tools, one file each: parquet, csv or xlsx.

    CSV (UTF-8 with BOM) and XLSX are safe to open in a spreadsheet: values starting with = + - @ are text.

    XLSX stores them as text cells; CSV puts the apostrophe text mark in front. Parquet keeps every type.
    """
    from flows.export import ExportError, UnknownTableError, export_database

    if not db.is_file():
        err.print(f"[red]error[/]: {db} does not exist; run `crm-etl run` first")
        raise typer.Exit(EXIT_INPUT)
    try:
        files = export_database(db, out_dir, fmt.value, table)
    except UnknownTableError as exc:
        err.print(f"[red]error[/]: {exc}")
        raise typer.Exit(EXIT_INPUT) from None
    except ExportError as exc:
        err.print(f"[red]export failed[/]: {exc}")
        raise typer.Exit(EXIT_CHECK_FAILED) from None
    for path in files:
        out.print(str(path), soft_wrap=True)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
