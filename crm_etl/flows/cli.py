"""The `crm-etl` command line: run or serve the migration, rebuild reports, list and restore runs."""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

# Prefect's local mode starts a temporary API server; on a 2-core machine its
# first start (database migrations) can take longer than Prefect's 20 s default.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

EXIT_OK, EXIT_CHECK_FAILED, EXIT_INPUT = 0, 1, 2
# Another crm-etl process is writing the same database file: nothing was done, try again later.
EXIT_LOCKED = 3
# Published (the database is good), but a step after publishing failed: reports/latest, pruning, moving files.
EXIT_PUBLISHED_WITH_ERRORS = 4
# An error crm-etl did not expect (a bug, or the machine failing under it): one line on stderr,
# the traceback in a log file; nothing was published unless the line says so.
EXIT_INTERNAL = 5
EXIT_INTERRUPTED = 130
DEFAULT_DB = Path("data/crm.duckdb")
DEFAULT_INBOX = Path("data/inbox")
DEFAULT_REPORTS = Path("reports")

app = typer.Typer(
    name="crm-etl",
    help="Migrate scattered customer exports into one clean, deduplicated DuckDB customer table.\n\n"
    "The folders --db, --inbox, --reports and --schemas default to the variables CRM_ETL_DB,"
    " CRM_ETL_INBOX, CRM_ETL_REPORTS and CRM_ETL_SCHEMAS, else to the same keys in ./crm-etl.toml"
    " (or \\[tool.crm-etl] in ./pyproject.toml), else to the built-in defaults; a flag wins over all.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            out.print(f"crm-etl {version('crm-etl')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            out.print("crm-etl (not installed: no version)")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _settings(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the installed version and exit."
        ),
    ] = False,
) -> None:
    """--version, and the folders' defaults from the environment and the settings file (flows/settings.py)."""
    from crm_etl.flows.settings import SettingsError, default_map, folder_defaults

    try:
        defaults = folder_defaults(Path.cwd())
    except SettingsError as exc:
        err.print(f"[red]configuration error[/]: {shown(exc)}")
        raise typer.Exit(EXIT_INPUT) from None
    commands = getattr(ctx.command, "commands", {})
    params = {name: [p.name for p in command.params if p.name] for name, command in commands.items()}
    ctx.default_map = {**default_map(params, defaults), **(ctx.default_map or {})}


def _set_verbosity(verbose: bool, level: int | None = None) -> None:
    """Log levels before Prefect is imported (it reads PREFECT_LOGGING_LEVEL once)."""
    name = logging.getLevelName(level if level is not None else logging.INFO if verbose else logging.WARNING)
    if level is not None and level != logging.WARNING:
        os.environ["PREFECT_LOGGING_LEVEL"] = name  # -v and -q say what the person wants now
    else:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", name)
    logging.basicConfig(level=name, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _language(lang: str | None) -> Literal["zh-CN", "en"] | None:
    """The report language asked for (`zh`, `zh-CN`, `en` …), or exit 2 for one the report has not."""
    if lang is None:
        return None
    key = lang.strip().lower().replace("_", "-")
    if key in {"zh", "zh-cn", "cn", "zh-hans"}:
        return "zh-CN"
    if key in {"en", "en-us", "en-gb", "english"}:
        return "en"
    err.print(f"[red]error[/]: --lang '{shown(lang)}': the report speaks zh-CN or en")
    raise typer.Exit(EXIT_INPUT)


def _schemas_folder(schemas: Path | None) -> Path | None:
    """The folder `--schemas DIR` means: the bundled schemas/ with DIR's files over them (exit 2 if DIR is not a folder)."""
    if schemas is None:
        return None
    from crm_etl.schemas import ConfigError
    from crm_etl.schemas.overlay import overlay_schemas

    try:
        return overlay_schemas(schemas)
    except ConfigError as exc:
        _configuration_error(exc, None)


def _configuration_error(exc: Exception, folder: Path | None) -> NoReturn:
    """Exit 2 naming the file at fault as the person wrote it (theirs or the bundled one), not the overlay's link."""
    from crm_etl.schemas.overlay import original_paths

    message = original_paths(str(exc), folder) if folder else str(exc)
    err.print(f"[red]configuration error[/]: {shown(message)}")
    raise typer.Exit(EXIT_INPUT) from None


@contextmanager
def _exit_codes() -> Iterator[None]:
    """Turn the errors of a run or a restore into a message on stderr and the documented exit code."""
    from crm_etl.flows.cluster import ClusterError
    from crm_etl.flows.load import PublishError
    from crm_etl.flows.lock import DatabaseLocked
    from crm_etl.flows.prefect_api import PrefectApiError
    from crm_etl.flows.snapshots import RestoreError
    from crm_etl.flows.stages import RunCheckFailed
    from crm_etl.schemas import ConfigError

    try:
        yield
    except DatabaseLocked as exc:
        err.print(f"[red]refused[/]: {shown(exc)}")
        raise typer.Exit(EXIT_LOCKED) from None
    except RunCheckFailed as exc:
        err.print(f"[red]run failed, nothing published[/]: {shown(exc)}")
        if exc.report is not None:
            err.print(f"report of the failed run: {shown(exc.report)}")
        raise typer.Exit(EXIT_CHECK_FAILED) from None
    except PublishError as exc:
        err.print(f"[red]cannot write the database[/]: {shown(exc)}")
        raise typer.Exit(EXIT_CHECK_FAILED) from None
    except PrefectApiError as exc:
        err.print(f"[red]cannot start Prefect, nothing was done[/]: {shown(exc)}")
        raise typer.Exit(EXIT_CHECK_FAILED) from None
    except ClusterError as exc:
        err.print(f"[red]cluster error, nothing was published[/]: {shown(exc)}")
        raise typer.Exit(EXIT_INPUT) from None
    except (ConfigError, RestoreError) as exc:
        label = "configuration error" if isinstance(exc, ConfigError) else "error"
        err.print(f"[red]{label}[/]: {shown(exc)}")
        raise typer.Exit(EXIT_INPUT) from None
    except KeyboardInterrupt:
        # typer would turn it into a silent exit 130; the person who pressed Ctrl-C wants to know the state.
        err.print(f"[red]interrupted[/]: {_published_state()}")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def shown(text: object) -> str:
    """A user-controlled string (file, sheet, header, message) as the console may print it.

    Phones and e-mails masked (a file named after a customer's mobile is personal data too),
    a name that was not valid UTF-8 shown with replacement characters instead of crashing the
    output, and rich markup escaped (a sheet named `[/]` is text, not a closing tag).
    """
    from crm_etl.cleaners.masking import masked_for_display

    return escape(masked_for_display(text))


def _rows_cell(sheet: dict[str, Any]) -> str:
    """A sheet's rows, and the lines of a text file they cover where that differs (cells over lines)."""
    lines = sheet.get("lines")
    return (
        f"{sheet['rows']} ({lines} lines)"
        if lines is not None and lines != sheet["rows"]
        else str(sheet["rows"])
    )


def _print_summary(summary: object) -> None:
    from crm_etl.flows.review import review_lines
    from crm_etl.flows.summary import RunSummary

    assert isinstance(summary, RunSummary)
    # A file that yielded nothing useful comes first, before any table: it is what needs a person.
    for message in summary.failed_inputs:
        err.print(f"[red]failed input[/]: {shown(message)}")
    files = Table(title=f"Run {summary.run_id}: input", show_lines=False)
    for column in ("file", "sheet", "kind", "rows", "status"):
        files.add_column(column, justify="right" if column == "rows" else "left")
    for s in summary.sheets:
        status = s["status"] + (f": {s['note']}" if s.get("note") else "")
        files.add_row(shown(s["file"]), shown(s["sheet"]), s["kind"] or "", _rows_cell(s), shown(status))
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
    if summary.unmapped:
        unmapped = Table(title="Columns not mapped to any field (cells kept in `extra`)")
        for column in ("file", "sheet", "header", "why", "nearest field"):
            unmapped.add_column(column)
        for u in summary.unmapped:
            unmapped.add_row(
                shown(u["file"]), shown(u["sheet"]), shown(u["header"]), u["method"], u["suggestion"] or ""
            )
        out.print(unmapped)
    if summary.schema_drift:
        drift = Table(title="Schema drift since the last run")
        for column in ("file", "sheet", "header", "change"):
            drift.add_column(column)
        for d in summary.schema_drift:
            drift.add_row(shown(d["source_file"]), shown(d["source_sheet"]), shown(d["header"]), d["change"])
        out.print(drift)
    warnings = [c for c in summary.checks if not c["success"]]
    for check in warnings:
        out.print(
            f"[yellow]warning[/]: {check['expectation']} {check['column'] or ''}: "
            f"observed {check['observed']}, expected {check['threshold']}"
        )
    if summary.files_cached:
        out.print(
            f"unchanged since the last run (read from the cache): {', '.join(shown(f) for f in summary.files_cached)}"
        )
    if summary.files_kept:
        out.print(
            f"kept from the database (not read in this run): {', '.join(shown(f) for f in summary.files_kept)}"
        )
    if summary.files_moved:
        out.print(f"moved to processed/{summary.run_id}/: {', '.join(shown(f) for f in summary.files_moved)}")
    if summary.snapshot:
        out.print(f"snapshot: {shown(summary.snapshot)}")
    for name, count in summary.cells_truncated.items():
        out.print(
            f"[yellow]{count} cell(s) cut[/] to Excel's 32,767 characters in {shown(name)} "
            "(marked …\\[truncated N chars]; the database keeps the full values)"
        )
    for line in review_lines(summary.review):
        out.print(shown(line))
    if summary.cluster:
        exchanged = summary.cluster["work_folder_bytes"] / 1e6
        out.print(
            f"cluster:  {shown(summary.cluster['where'])}: {exchanged:,.1f} MB of Parquet exchanged, "
            f"{summary.cluster['candidate_pairs']:,} candidate pairs in {summary.cluster['pair_chunks']} chunk(s)"
        )
        tasks = summary.cluster.get("tasks", {})
        if tasks:
            out.print(
                "tasks:    "
                + ", ".join(
                    f"{name} {t['runs']} × {t['seconds'] / t['runs']:.1f} s (slowest {t['slowest']:.1f} s)"
                    for name, t in tasks.items()
                )
            )
    out.print(f"database: {shown(summary.db)}")
    out.print(f"report:   {shown(summary.report)}")


# Where a run's tasks run (flows/cluster.py), for `run` and `serve` alike.
WorkersOption = Annotated[
    int | None,
    typer.Option(
        min=0,
        max=512,
        help="Read, clean and score pairs on a local Dask cluster of this many worker processes "
        "(0: one process; default: schemas/runs.yaml cluster.workers).",
    ),
]
DaskOption = Annotated[
    str | None,
    typer.Option(
        "--dask",
        metavar="ADDRESS",
        help="Run those tasks on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786); "
        "the work folder (schemas/runs.yaml cluster.work_folder) must be reachable from every worker.",
    ),
]


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
        Path | None,
        typer.Option(
            help="Folder of configuration files that replace the bundled schemas/ files of the same name."
        ),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Report language: zh-CN (default) or en.")
    ] = None,
    move_processed: Annotated[
        bool,
        typer.Option(
            "--move-processed",
            help="After publishing, move the files loaded to INBOX/processed/RUN_ID/ (their records stay).",
        ),
    ] = False,
    keep_snapshots: Annotated[
        int | None,
        typer.Option(min=0, help="Snapshots of the database file to keep (default: schemas/runs.yaml)."),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Also show crm-etl's own log lines (libraries' only from warnings)."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only errors: no progress, no summary.")
    ] = False,
    workers: WorkersOption = None,
    dask: DaskOption = None,
) -> None:
    """Run the migration flow on an inbox and publish the result into the DuckDB file.

    Files loaded by earlier runs stay loaded; a file read again under the same path
    replaces its earlier records. Progress: one live line per stage on a terminal, one
    plain line per finished stage when piped (stderr). Exit codes: 0 published; 1 a
    critical check failed or the file could not be written, nothing was published; 2 bad
    usage, bad configuration or unreadable input (when only some files are unreadable,
    the rest is still published and the unreadable ones are listed); 3 another run is
    using the database file; 4 published, but a step after publishing failed (reports/latest,
    pruning snapshots or the cache, moving processed files): the database is good, the
    failing step is named ("published; latest report failed: …"), unreadable inputs (2) win
    over 4; 5 an unexpected error (one line, traceback in crm-etl-errors/ beside the
    database); 130 interrupted.
    """
    _errors_beside(db)
    if verbose and quiet:
        err.print("[red]error[/]: --verbose and --quiet exclude each other")
        raise typer.Exit(EXIT_INPUT)
    own_level = logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING
    _set_verbosity(verbose, own_level)
    language = _language(lang)
    if not inbox.is_dir():
        err.print(f"[red]error[/]: inbox {shown(inbox)} is not a directory")
        raise typer.Exit(EXIT_INPUT)
    day: dt.date | None = None
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            err.print(f"[red]error[/]: --as-of '{shown(as_of)}' is not a date like 2024-06-30")
            raise typer.Exit(EXIT_INPUT) from None
    _refuse_an_empty_inbox(inbox, db)
    from crm_etl.schemas import ConfigError
    from crm_etl.schemas.contracts import load_contracts

    # Every contract is checked before the lock, Prefect or Great Expectations (the flow reuses them).
    schemas = _schemas_folder(schemas)
    try:
        contracts = load_contracts(schemas)
    except ConfigError as exc:
        _configuration_error(exc, schemas)
    _check_cluster(contracts.config.runs.cluster, db, workers, dask)
    from crm_etl.flows.lock import RunLock
    from crm_etl.flows.prefect_api import LocalPrefectApi

    # The lock is taken before Prefect starts, so a second run is refused at once; the flow takes it again.
    # Prefect's temporary API server comes up on the other core while the flow's modules import.
    with _exit_codes(), RunLock(db, "crm-etl run"), LocalPrefectApi() as api:
        from crm_etl.flows.logs import configure_console_logs
        from crm_etl.flows.migrate import migrate
        from crm_etl.flows.progress import stage_display
        from crm_etl.flows.stages import listening
        from crm_etl.flows.validation import import_great_expectations

        configure_console_logs(own_level, logging.WARNING if verbose else logging.ERROR, run_failures=verbose)
        import_great_expectations()  # the run needs it; importing it now overlaps the server's start
        display = contextlib.nullcontext(None) if quiet else stage_display(err)
        api.wait()
        with display as listener, listening(listener) if listener else contextlib.nullcontext():
            summary = migrate(
                inbox=inbox,
                db=db,
                reports=reports,
                as_of=day,
                schemas_dir=schemas,
                move_processed_files=move_processed,
                keep_snapshots=keep_snapshots,
                lang=language,
                workers=workers,
                dask_address=dask,
            )
    if quiet:
        for message in summary.failed_inputs:
            err.print(f"[red]failed input[/]: {shown(message)}")
    else:
        _print_summary(summary)
    for failure in summary.after_publish_failures:  # errors: printed with -q too
        err.print(f"[red]published; {shown(failure)}[/]")
    if summary.failed_inputs:
        err.print(
            f"[red]{len(summary.failed_inputs)} input(s) failed[/] (listed above); the other files were published"
        )
        raise typer.Exit(EXIT_INPUT)
    if summary.rows_read == 0:
        err.print(f"[red]error[/]: no data rows found in {shown(inbox)}")
        raise typer.Exit(EXIT_INPUT)
    if summary.after_publish_failures:
        raise typer.Exit(EXIT_PUBLISHED_WITH_ERRORS)


def _check_cluster(settings: Any, db: Path, workers: int | None, address: str | None) -> None:
    """A cluster run's work folder must be writable: checked before the lock, Prefect or any task."""
    from crm_etl.flows.cluster import ClusterError, ClusterPlan

    plan = ClusterPlan.resolve(settings, db, workers, address)
    if plan is None:
        return
    try:
        plan.work.check_writable()
    except ClusterError as exc:
        err.print(f"[red]error[/]: {shown(exc)}")
        raise typer.Exit(EXIT_INPUT) from None


def _refuse_an_empty_inbox(inbox: Path, db: Path) -> None:
    """Exit 2 before anything is written when the inbox holds no file to read.

    On a new database a run would write an empty database and a report of nothing; on an existing
    one it would publish a copy of the last run under a new id, with a report that repeats the last
    one (`crm-etl report` rebuilds that without a run). Either way the person most likely pointed
    at the wrong folder, so nothing is written and the message says where we looked.
    """
    from crm_etl.flows.inbox import walk_inbox

    files, refused = walk_inbox(inbox)
    if files or any(r.status == "failed" for r in refused):
        return
    if db.exists():
        state = f"{shown(db)} is unchanged (to rebuild its report: crm-etl report --db {shown(db)})"
    else:
        state = f"no database was created at {shown(db)}"
    err.print(f"[red]error[/]: no files to read in inbox {shown(inbox)}; nothing was written: {state}")
    raise typer.Exit(EXIT_INPUT)


@app.command("map")
def map_inbox(
    inbox: Annotated[
        Path, typer.Option(help="Folder of exports to preview (xlsx, csv, jsonl), recursively.")
    ] = (DEFAULT_INBOX),
    schemas: Annotated[
        Path | None,
        typer.Option(
            help="Folder of configuration files that replace the bundled schemas/ files of the same name."
        ),
    ] = None,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Save the decisions as editable override files in SCHEMAS/mappings/ that later runs honour.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the preview as JSON.")] = False,
) -> None:
    """Preview how every file of an inbox would be read and mapped; writes nothing to the database.

    Per file and sheet: kind, encoding, header row, and every column with its field, method,
    confidence and three masked sample values; the nearest field of each unmapped column;
    how many rows cleaning would quarantine and why (before linking to customers).
    Exit codes: 0 every file maps; 2 a file or sheet would fail, or bad usage.
    """
    from crm_etl.flows.preview import preview_inbox, write_overrides
    from crm_etl.schemas import ConfigError, load_config

    if not inbox.is_dir():
        err.print(f"[red]error[/]: inbox {shown(inbox)} is not a directory")
        raise typer.Exit(EXIT_INPUT)
    folder = _schemas_folder(schemas)
    try:
        config = load_config(folder)
    except ConfigError as exc:
        _configuration_error(exc, folder)
    # Each failing sheet is printed in the preview itself; the extract logger would say it twice.
    logging.getLogger("crm_etl.flows.extract").setLevel(logging.CRITICAL)
    previews = preview_inbox(inbox, config)
    failed = [p for p in previews if p.status == "failed"] + [
        s for p in previews for s in p.sheets if s.outcome.status == "failed"
    ]
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "file": p.source_file,
                        "status": p.status,
                        "error": p.error,
                        "sheets": [
                            {**asdict(s.outcome), "samples": s.samples, "quarantine": s.quarantine}
                            for s in p.sheets
                        ],
                    }
                    for p in previews
                ],
                ensure_ascii=False,
                default=str,
            )
        )
    else:
        _print_preview(previews)
    if write:
        directory = (schemas or config.directory) / "mappings"
        for path in write_overrides(previews, directory):
            out.print(f"wrote {shown(str(path))}")
    if failed:
        raise typer.Exit(EXIT_INPUT)


def _print_preview(previews: list[Any]) -> None:
    for file in previews:
        if not file.sheets:
            colour = "red" if file.status == "failed" else "yellow"
            out.print(
                f"[bold]{shown(file.source_file)}[/]: [{colour}]{file.status}[/] {shown(file.error or '')}"
            )
            continue
        for preview in file.sheets:
            s = preview.outcome
            where = shown(s.source_file + (f" [{s.source_sheet}]" if s.source_sheet else ""))
            status = "[red]failed[/]" if s.status == "failed" else s.status
            out.print(
                f"\n[bold]{where}[/]: {status} · kind {s.kind or '?'} · spec {s.spec or '?'} · "
                f"encoding {s.encoding or '-'} · header row {s.header_row or '-'} · {s.rows_read} rows"
            )
            if s.error:
                out.print(f"  [red]{shown(s.error)}[/]")
            table = Table(show_edge=False, pad_edge=False)
            for column in ("#", "header", "field", "method", "conf.", "runner-up", "hints", "samples"):
                table.add_column(column, justify="right" if column in {"#", "conf."} else "left")
            for c in s.columns:
                field = c["field"] or (
                    f"[dim]— (nearest: {c['suggestion']})[/]" if c["suggestion"] else "[dim]—[/]"
                )
                if c["part"]:
                    field += f" ({c['part']})"
                hints = ", ".join(f"{k}={v}" for k, v in (c["hints"] or {}).items())
                samples = " | ".join(str(v) for v in preview.samples.get(c["column"], []))
                table.add_row(
                    str(c["column"]),
                    shown(c["header"] or ""),
                    field,
                    c["method"],
                    f"{c['confidence']:.2f}",
                    c["runner_up"] or "",
                    shown(hints),
                    shown(samples),
                )
            out.print(table)
            if preview.quarantine:
                reasons = ", ".join(
                    f"{r} {n}" for r, n in sorted(preview.quarantine.items(), key=lambda i: -i[1])
                )
                out.print(f"  would quarantine: {reasons}")


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
    from crm_etl.flows.report import write_report

    language = _language(lang)
    if not db.is_file():
        err.print(f"[red]error[/]: {shown(db)} does not exist; run `crm-etl run` first")
        raise typer.Exit(EXIT_INPUT)
    try:
        path = write_report(db, reports, run_id, lang=language or "zh-CN")
    except LookupError as exc:
        err.print(f"[red]error[/]: {shown(exc)}")
        raise typer.Exit(EXIT_INPUT) from None
    out.print(f"report: {shown(path)}")


def _validation_outcome(checks: int | None, passed: int | None, critical: int | None) -> str:
    if not checks:
        return "not recorded"
    failed = checks - (passed or 0)
    if failed == 0:
        return f"passed ({checks} checks)"
    kind = f"{critical} critical" if critical else "warnings only"
    return f"{passed}/{checks} passed, {failed} failed ({kind})"


def _input_lines(input_files: str | None) -> list[str]:
    lines = []
    for entry in json.loads(input_files or "[]"):
        note = {
            "kept": f" kept from {entry.get('kept_from_run')}",
            "failed": " unreadable",
            "skipped": " skipped",
        }.get(entry.get("status"), "")
        if entry.get("used") is False and entry.get("status") == "read":
            note = " not used"
        lines.append(f"{shown(entry['file'])}  {(entry.get('sha256') or '')[:12]}{note}")
    return lines


@app.command()
def runs(
    db: Annotated[Path, typer.Option(help="DuckDB file written by `crm-etl run`.")] = DEFAULT_DB,
    limit: Annotated[int, typer.Option(min=1, help="How many recent runs to list.")] = 20,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the runs as JSON (full hashes), for scripts.")
    ] = False,
) -> None:
    """List published runs, newest first: times, inputs with their SHA-256, counts, validation."""
    import duckdb

    if not db.is_file():
        err.print(f"[red]error[/]: {shown(db)} does not exist; run `crm-etl run` first")
        raise typer.Exit(EXIT_INPUT)
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(
            """SELECT r.run_id, r.started_at, r.finished_at, r.status, r.input_files, r.rows_read,
                      r.rows_loaded, r.rows_quarantined, r.customers_before, r.customers, r.files_failed,
                      v.checks, v.passed, v.critical_failed
               FROM runs r LEFT JOIN (
                   SELECT run_id, count(*) AS checks, count(*) FILTER (WHERE success) AS passed,
                          count(*) FILTER (WHERE NOT success AND severity = 'critical') AS critical_failed
                   FROM validation_results GROUP BY run_id) v USING (run_id)
               ORDER BY r.started_at DESC, r.run_id DESC LIMIT ?""",
            [limit],
        )
        names = [d[0] for d in cursor.description or []]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if as_json:
        from crm_etl.cleaners.masking import mask_text

        for row in rows:
            row["input_files"] = json.loads(row["input_files"] or "[]")
        # Masked like every line crm-etl prints; the exact names are in the file (`run_files`).
        typer.echo(mask_text(json.dumps(rows, default=str, ensure_ascii=False, indent=2)))
        return
    out.print(f"[bold]Runs in {shown(db)}[/] (newest first)")
    for row in rows:
        # One block per run, readable at any terminal width; the run id is never wrapped, scripts copy it.
        block = Table.grid(padding=(0, 2))
        block.add_column(style="bold", no_wrap=True)
        block.add_column(overflow="fold")
        status = row["status"] + (
            f", {row['files_failed']} file(s) unreadable" if row["files_failed"] else ""
        )
        block.add_row("run", f"{row['run_id']}  {status}")
        block.add_row(
            "time (UTC)",
            " → ".join(f"{row[k]:%Y-%m-%d %H:%M:%S}" for k in ("started_at", "finished_at") if row[k]),
        )
        block.add_row("inputs", "\n".join(_input_lines(row["input_files"])) or "(none)")
        block.add_row(
            "rows",
            f"read {row['rows_read']} · loaded {row['rows_loaded']} · quarantined {row['rows_quarantined']}",
        )
        block.add_row("customers", f"before {row['customers_before']} → after {row['customers']}")
        block.add_row("validation", _validation_outcome(row["checks"], row["passed"], row["critical_failed"]))
        out.rule(style="dim")
        out.print(block)


@app.command()
def restore(
    run_id: Annotated[
        str | None, typer.Argument(help="Run whose published database to bring back (see --list).")
    ] = None,
    db: Annotated[Path, typer.Option(help="DuckDB file to restore.")] = DEFAULT_DB,
    list_snapshots: Annotated[
        bool, typer.Option("--list", help="List the snapshots that can be restored.")
    ] = False,
    keep_snapshots: Annotated[
        int | None,
        typer.Option(min=0, help="Snapshots to keep afterwards (default: schemas/runs.yaml)."),
    ] = None,
) -> None:
    """Bring back the database file exactly as run RUN_ID published it, from its snapshot.

    The file being replaced is kept as a snapshot first, so a restore can be undone.
    Exit codes: 0 restored (or already that run); 1 the file could not be written;
    2 no snapshot of that run; 3 another run is using the database file.
    """
    _errors_beside(db)
    from crm_etl.flows.lock import RunLock
    from crm_etl.flows.snapshots import SnapshotStore, restore_snapshot
    from crm_etl.schemas import load_config

    runs = load_config().runs
    keep = runs.snapshots_keep if keep_snapshots is None else keep_snapshots
    store = SnapshotStore(db, keep)
    if list_snapshots or run_id is None:
        listing = Table(title=f"Snapshots of {db} ({store.directory})")
        for column in ("run", "taken (UTC)", "bytes"):
            listing.add_column(column, no_wrap=True)
        for snapshot in store.snapshots():
            listing.add_row(
                snapshot.run_id, f"{snapshot.taken_at:%Y-%m-%d %H:%M:%S}", str(snapshot.size_bytes)
            )
        out.print(listing)
        if run_id is None and not list_snapshots:
            err.print("[red]error[/]: name the run to restore: crm-etl restore RUN_ID")
            raise typer.Exit(EXIT_INPUT)
        return
    with _exit_codes(), RunLock(db, f"crm-etl restore {run_id}"):
        restored = restore_snapshot(db, run_id, store, runs.duckdb_storage_version)
        store.prune()
    if not restored.changed:
        out.print(f"{shown(db)} already holds run {shown(run_id)}; nothing to do")
        return
    out.print(f"restored {shown(db)} to run {shown(run_id)}")
    if restored.kept is not None:
        out.print(f"the replaced file is kept as {shown(restored.kept)}")


@app.command()
def serve(
    cron: Annotated[
        str | None, typer.Option(help='Cron schedule, e.g. "0 2 * * *" for 02:00 every day.')
    ] = None,
    interval: Annotated[
        float | None, typer.Option(min=1, help="Run every this many seconds instead of on a cron schedule.")
    ] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone the cron schedule is in.")] = "UTC",
    inbox: Annotated[Path, typer.Option(help="Folder of exports to read on every run.")] = DEFAULT_INBOX,
    db: Annotated[Path, typer.Option(help="DuckDB file to publish into.")] = DEFAULT_DB,
    reports: Annotated[Path, typer.Option(help="Folder for the data-quality report.")] = DEFAULT_REPORTS,
    schemas: Annotated[
        Path | None,
        typer.Option(
            help="Folder of configuration files that replace the bundled schemas/ files of the same name."
        ),
    ] = None,
    move_processed: Annotated[
        bool,
        typer.Option("--move-processed", help="Move loaded files to INBOX/processed/RUN_ID/ after each run."),
    ] = False,
    keep_snapshots: Annotated[
        int | None,
        typer.Option(min=0, help="Snapshots of the database file to keep (default: schemas/runs.yaml)."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Deployment name (default: the database file's name without .duckdb).")
    ] = None,
    max_runs: Annotated[
        int | None,
        typer.Option(min=1, help="Stop after this many runs have finished (default: serve until stopped)."),
    ] = None,
    poll: Annotated[
        float, typer.Option(min=0.5, hidden=True, help="Seconds between polls of the Prefect API.")
    ] = 10.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's logs.")] = False,
    workers: WorkersOption = None,
    dask: DaskOption = None,
) -> None:
    """Serve the migration flow on a schedule with Prefect until stopped (Ctrl-C or SIGTERM).

    Uses the Prefect server in PREFECT_API_URL when set, else Prefect's local temporary
    API for as long as it serves. Each scheduled run is an ordinary `crm-etl run`.
    Exit codes: 0 stopped (with --max-runs: every run completed); 1 a run did not
    complete; 2 bad usage.
    """
    _errors_beside(db)
    _set_verbosity(verbose)
    from crm_etl.flows.serve import schedule_for, serve_migration

    if not inbox.is_dir():
        err.print(f"[red]error[/]: inbox {shown(inbox)} is not a directory")
        raise typer.Exit(EXIT_INPUT)
    try:
        schedule = schedule_for(cron, interval, timezone)
    except ValueError as exc:
        err.print(f"[red]error[/]: {shown(exc)}")
        raise typer.Exit(EXIT_INPUT) from None
    deployment = name or db.name.removesuffix(".duckdb")
    schemas_dir = _schemas_folder(schemas)
    from crm_etl.schemas import ConfigError
    from crm_etl.schemas.contracts import load_contracts

    try:
        contracts = load_contracts(schemas_dir)
    except ConfigError as exc:
        _configuration_error(exc, schemas_dir)
    _check_cluster(contracts.config.runs.cluster, db, workers, dask)
    parameters = {
        "inbox": str(inbox.resolve()),
        "db": str(db.resolve()),
        "reports": str(reports.resolve()),
        "schemas_dir": str(schemas_dir) if schemas_dir else None,
        "move_processed_files": move_processed,
        "keep_snapshots": keep_snapshots,
        "workers": workers,
        "dask_address": dask,
    }
    when = f"cron {cron!r} ({timezone})" if cron else f"every {interval:g} s"
    out.print(f"serving crm-migrate/{deployment} {when}: {shown(inbox)} -> {shown(db)} (Ctrl-C to stop)")
    try:
        outcome = serve_migration(parameters, schedule, deployment, max_runs=max_runs, poll_seconds=poll)
    except KeyboardInterrupt:
        out.print("stopped")
        return
    for state in outcome.finished:
        out.print(f"run finished: {state}")
    if any(state != "Completed" for state in outcome.finished):
        raise typer.Exit(EXIT_CHECK_FAILED)


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
    owner: Annotated[
        list[str] | None,
        typer.Option(
            "--owner",
            metavar="NAME",
            help="Only this rep's customers, contacts, interactions, orders and worklist; repeat for several; 未分配: the customers no rep owns.",
        ),
    ] = None,
) -> None:
    """Export every table and analyst view for BI tools, one file each: parquet, csv or xlsx.

    With --owner, a rep's handout instead: their customers only (masked as schemas/report.yaml
    owner_exports says). Every export writes a README.md of its files and an audit line into the
    database's export_log table.

    CSV (UTF-8 with BOM) and XLSX are safe to open in a spreadsheet: values starting with = + - @ are text.

    XLSX stores them as text cells; CSV puts the apostrophe text mark in front. Parquet keeps every type.

    An XLSX cell over Excel's 32,767 characters is cut, ending in …\\[truncated N chars], and counted
    (the database, CSV and Parquet keep the full value); the export never fails on it.
    """
    _errors_beside(db)
    from crm_etl.flows.export import ExportError, UnknownTableError, export_database
    from crm_etl.flows.export_audit import AuditError, pending_path

    if not db.is_file():
        err.print(f"[red]error[/]: {shown(db)} does not exist; run `crm-etl run` first")
        raise typer.Exit(EXIT_INPUT)
    try:
        with _exit_codes():
            files = export_database(db, out_dir, fmt.value, table, owner)
    except UnknownTableError as exc:
        err.print(f"[red]error[/]: {shown(exc)}")
        raise typer.Exit(EXIT_INPUT) from None
    except (ExportError, AuditError) as exc:
        err.print(f"[red]export failed[/]: {shown(exc)}")
        raise typer.Exit(EXIT_CHECK_FAILED) from None
    for file in files:
        out.print(escape(str(file.path)), soft_wrap=True)
    if pending_path(db).exists():
        err.print(
            f"[yellow]audit line not yet in {shown(db.name)}[/]: another program holds it open; "
            f"it waits in {shown(pending_path(db).name)} for the next export",
            soft_wrap=True,
        )
    for file in files:
        if file.cells_truncated:
            err.print(
                f"[yellow]{file.cells_truncated} cell(s) cut[/] to Excel's 32,767 characters in "
                f"{shown(file.path.name)} (marked …\\[truncated N chars]; the database keeps the full values)",
                soft_wrap=True,
            )


@app.command()
def explain(
    customer_id: Annotated[
        str, typer.Argument(metavar="CUSTOMER_ID", help="客户编号 to explain, e.g. C20240501001.")
    ],
    db: Annotated[Path, typer.Option(help="DuckDB file written by `crm-etl run`.")] = DEFAULT_DB,
    pairs: Annotated[
        int, typer.Option("--pairs", min=0, help="How many of the nearest pairs not joined to show.")
    ] = 5,
) -> None:
    """Why were these records merged, and why not those? Evidence from the published file.

    Prints the customer's records (personal data masked), each link that joined them as a
    waterfall (the prior, then every field's level, similarity and bits, the running total, the
    final weight and probability, the rule if one decided), then the most probable candidate
    pairs with one record inside and one outside the customer, and why each was not joined.
    Reads the file read-only and re-runs nothing. Exit codes: 0 explained; 2 no such file,
    no match_pairs table in it, or no such customer.
    """
    from crm_etl.flows.explain import ExplainError, load_explanation, print_explanation

    try:
        explanation = load_explanation(db, customer_id, pairs)
    except ExplainError as exc:
        err.print(f"[red]error[/]: {shown(exc)}")
        raise typer.Exit(EXIT_INPUT) from None
    print_explanation(out, explanation)


def main() -> None:
    """Console-script entry point: no traceback reaches a user, whatever goes wrong."""
    try:
        app()
    except SystemExit as exc:
        _exit_now(exc.code)
    except Exception as exc:
        from crm_etl.flows.error_log import masked_traceback, write_error_log

        log = write_error_log(exc, _error_log_folder, sys.argv[1:])
        if log is None:  # no folder could take the file: the traceback is all there is, so it is printed
            err.print(escape(masked_traceback(exc)), end="")
        where = f"the traceback is in {shown(log)}" if log else "the traceback is above"
        err.print(
            f"[red]internal error[/]: {shown(type(exc).__name__)}: {shown(_first_line(exc))} — "
            f"{_published_state()}; {where} (please attach it to a bug report)"
        )
        _exit_now(EXIT_INTERNAL)
    _exit_now(0)


# Where `main` writes the traceback of an unexpected error: beside the database the command works on.
_error_log_folder: Path | None = None


def _errors_beside(db: Path) -> None:
    global _error_log_folder
    _error_log_folder = db.parent


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else "(no message)"


def _published_state() -> str:
    from crm_etl.flows.load import published_in_this_process

    done = published_in_this_process()
    if not done:
        return "nothing was published"
    return "the run was already published to " + ", ".join(shown(p) for p in done)


def _exit_now(code: object) -> NoReturn:
    """Flush, run the exit handlers, and leave without tearing down the interpreter's heap.

    After a run the process holds hundreds of MB of Python objects; freeing them one by one at
    exit takes about a second and serves no one. Everything that must be written is written by
    then (files closed, Prefect's log and event workers drained, atexit handlers run).
    """
    status = code if isinstance(code, int) else (0 if code is None else 1)
    if not isinstance(code, int) and code is not None:
        print(code, file=sys.stderr)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    main()
