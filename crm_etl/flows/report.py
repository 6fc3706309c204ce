"""The managers' data-quality report of a run, built from the DuckDB file alone (one self-contained HTML file)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import polars as pl
from markupsafe import Markup
from prefect import task
from prefect.cache_policies import NO_CACHE

from crm_etl.cleaners.codes import CODE_REASONS
from crm_etl.cleaners.lead_sources import LEAD_SOURCE_REASONS
from crm_etl.cleaners.mapping.drift import schema_drift
from crm_etl.cleaners.masking import mask_text
from crm_etl.flows.charts import BAD, WARN, Guide, completeness_bars, line_chart
from crm_etl.flows.handouts import WORKLISTS, worklist_cells, worklist_file_name, write_handouts
from crm_etl.flows.load import headers_before
from crm_etl.flows.texts import Language, Texts
from crm_etl.schemas import Config, load_config
from crm_etl.schemas.contracts import load_contracts
from crm_etl.schemas.suites import ReportSettings

TEMPLATES = Path(__file__).resolve().parent.parent / "reports" / "templates"
TREND_RUNS = 12
DATA_DOCS = "gx-data-docs"
# The issue reasons of values no code table or lead-source vocabulary knows, as a SQL list.
UNMAPPED = "(" + ", ".join(f"'{reason}'" for reason in sorted(CODE_REASONS | LEAD_SOURCE_REASONS)) + ")"


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


DRIFT_INPUT = {"source_file": pl.String, "source_sheet": pl.String, "header": pl.String}


def _drift(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    """Headers the run's files gained or lost against the run before it (cleaners/mapping/drift.py)."""
    query = "SELECT source_file, source_sheet, header FROM column_mappings WHERE run_id = ?"
    before = headers_before(con, run_id)
    if before.is_empty():
        return []
    return schema_drift(before, pl.DataFrame(_rows(con, query, [run_id]), schema=DRIFT_INPUT)).to_dicts()


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _count(value: float | None) -> str:
    return "–" if value is None else f"{round(value):,}"


def _utc(moment: dt.datetime) -> dt.datetime:
    """DuckDB hands TIMESTAMPTZ back in the session's time zone; the report always shows UTC."""
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment


def _level(value: float, target: float, alarm: float) -> str:
    return "ok" if value >= target else ("warn" if value >= alarm else "bad")


def report_data(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    settings: ReportSettings,
    run_id: str | None = None,
    lang: Language = "zh-CN",
    folder: Path | None = None,
    link_base: str = "",
    cells: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Everything the report shows for one run, queried from the database (published or staged).

    `cells`: per owner, the cells their worklist asks to fill or correct, when the caller has them.
    """
    runs = _rows(con, "SELECT * FROM runs ORDER BY started_at DESC")
    if not runs:
        raise LookupError("the database holds no published run yet")
    run = next((r for r in runs if r["run_id"] == run_id), None) if run_id else runs[0]
    if run is None:
        raise LookupError(f"no run {run_id!r} in the database (latest: {runs[0]['run_id']})")
    t = Texts(lang, config)
    pipeline = config.pipeline
    target, alarm = pipeline.completeness_target, pipeline.completeness_alarm
    overdue_alarm = settings.follow_up.alarm_above
    contracts = load_contracts(config.directory)
    follow_up = contracts.segments.follow_up
    # Each card's label is the one its figure names in schemas/kpis.yaml.
    card_label = {k.name: t(k.label) for k in contracts.kpis.kpis if k.label}
    kpi_rows = _rows(con, "SELECT kpi, dimension, value FROM run_kpis WHERE run_id = ?", [run["run_id"]])
    headline = {r["kpi"]: r["value"] for r in kpi_rows if r["dimension"] == ""}

    def by_dimension(kpi: str) -> dict[str, float]:
        return {r["dimension"]: r["value"] for r in kpi_rows if r["kpi"] == kpi}

    checks = _rows(
        con,
        """SELECT * FROM validation_results WHERE run_id = ?
           ORDER BY success, CASE severity WHEN 'critical' THEN 0 ELSE 1 END, suite, "column", expectation""",
        [run["run_id"]],
    )
    for c in checks:
        c["label"] = t.section("expectations", c["expectation"])
        c["column_label"] = ", ".join(t.field(n.strip()) for n in (c["column"] or "").split(",") if n.strip())
        c["samples"] = json.loads(c["samples"]) if c.get("samples") else []
        c["sample_columns"] = list(c["samples"][0]) if c["samples"] else []
    failing = [c for c in checks if not c["success"]]
    critical = [c for c in failing if c["severity"] == "critical"]
    failed_run = run["status"] != "published"

    completeness = headline.get("completeness", 0.0)
    overdue = headline.get("overdue_followups", 0.0)
    kpis = [
        {
            "key": "completeness",
            "label": card_label["completeness"],
            "value": _pct(completeness),
            "note": t("kpi_completeness_note", target=_pct(target), alarm=_pct(alarm)),
            "status": _level(completeness, target, alarm),
            "alarm": completeness < alarm,
        },
        {
            "key": "customers",
            "label": card_label["customers"],
            "value": _count(headline.get("customers")),
            "note": t("kpi_customers_note", before=_count(run["customers_before"])),
            "status": "info",
            "alarm": False,
        },
        {
            "key": "duplicates_merged",
            "label": card_label["duplicates_merged"],
            "value": _count(headline.get("duplicates_merged")),
            "note": t("kpi_duplicates_note", records=_count(headline.get("records_loaded"))),
            "status": "info",
            "alarm": False,
        },
        _invalid_or_missing_kpi("phones", card_label["phones_invalid"], headline, t),
        _invalid_or_missing_kpi("dates", card_label["dates_invalid"], headline, t),
        {
            "key": "quarantined",
            "label": card_label["quarantined"],
            "value": _count(headline.get("quarantined")),
            "note": t("kpi_quarantined_note", rows=_count(run["rows_read"])),
            "status": "warn" if headline.get("quarantined") else "ok",
            "alarm": False,
        },
        {
            "key": "overdue_followups",
            "label": card_label["overdue_followups"],
            "value": _count(overdue),
            "note": t(
                "kpi_overdue_note",
                days=follow_up.overdue_after_days,
                first=follow_up.first_contact_due_days,
                alarm=overdue_alarm,
            ),
            "status": "bad" if overdue > overdue_alarm else ("warn" if overdue else "ok"),
            "alarm": overdue > overdue_alarm,
        },
        {
            "key": "needs_backfill",
            "label": card_label["needs_backfill"],
            "value": _count(headline.get("needs_backfill")),
            "note": t("kpi_backfill_note"),
            "status": "warn" if headline.get("needs_backfill") else "ok",
            "alarm": False,
        },
        {
            "key": "checks",
            "label": t("kpi_checks"),
            "value": _count(len(failing)),
            "note": t("kpi_checks_note", critical=len(critical), warning=len(failing) - len(critical)),
            "status": "bad" if critical else ("warn" if failing else "ok"),
            "alarm": bool(critical),
        },
    ]

    shares = by_dimension("field_completeness")
    field_chart = completeness_bars(
        [(t.field(f), shares.get(f, 0.0)) for f in pipeline.completeness_fields],
        [
            Guide(target, t("target_line", value=_pct(target)), BAD),
            Guide(alarm, t("alarm_line", value=_pct(alarm)), WARN),
        ],
        target,
        alarm,
        t("fields_chart"),
    )

    owner_customers = by_dimension("owner_customers")
    owner_completeness = by_dimension("owner_completeness")
    owner_backfill = by_dimension("owner_needs_backfill")
    owner_overdue = by_dimension("owner_overdue")
    latest_published = next((r["run_id"] for r in runs if r["status"] == "published"), None)
    current = not failed_run and run["run_id"] == latest_published
    # Cells to fill or correct come from the worklists' own rows (the current data: the latest run's).
    if not current:
        cells = {}
    elif cells is None:
        cells = worklist_cells(con)
    owners = []
    for owner in sorted(owner_customers, key=lambda o: (-owner_customers[o], o == "", o)):
        label = owner or t("unassigned")
        share = owner_completeness.get(owner, 0.0)
        name = worklist_file_name(owner or None)
        # Linked only when the file is there beside the report: a link never points at nothing.
        written = folder is not None and (folder / WORKLISTS / name).is_file()
        owners.append(
            {
                "label": label,
                "customers": int(owner_customers[owner]),
                "completeness": _pct(share),
                "completeness_class": {"ok": "", "warn": "warn", "bad": "bad"}[_level(share, target, alarm)],
                "needs_backfill": int(owner_backfill.get(owner, 0)),
                "cells": cells.get(owner, 0) if current else None,
                "overdue": int(owner_overdue.get(owner, 0)),
                "worklist": Link(f"{link_base}{WORKLISTS}/{name}") if written and cells.get(owner) else None,
                "worklist_name": name,
            }
        )

    history = _rows(
        con,
        """SELECT r.run_id, r.started_at, k.kpi, k.value FROM runs r JOIN run_kpis k USING (run_id)
           WHERE k.dimension = '' AND r.started_at <= ? AND (r.status = 'published' OR r.run_id = ?)
           ORDER BY r.started_at""",
        [run["started_at"], run["run_id"]],
    )
    order = list(dict.fromkeys(h["run_id"] for h in history))[-TREND_RUNS:]
    started = {h["run_id"]: h["started_at"] for h in history}
    values = {(h["run_id"], h["kpi"]): h["value"] for h in history}
    x_labels = [f"{_utc(started[r]):%m-%d %H:%M}" for r in order]
    trend_completeness = line_chart(
        x_labels,
        [(t("trend_completeness"), [values.get((r, "completeness")) for r in order])],
        t("trend_completeness"),
        percent=True,
        guides=[
            Guide(target, t("target_line", value=_pct(target)), BAD),
            Guide(alarm, t("alarm_line", value=_pct(alarm)), WARN),
        ],
    )
    trend_counts = line_chart(
        x_labels,
        [
            (t("kpi_overdue"), [values.get((r, "overdue_followups")) for r in order]),
            (t("kpi_quarantined"), [values.get((r, "quarantined")) for r in order]),
            (t("kpi_phones"), [values.get((r, "phones_invalid")) for r in order]),
            (t("kpi_duplicates"), [values.get((r, "duplicates_merged")) for r in order]),
        ],
        t("trend_counts"),
        guides=[Guide(overdue_alarm, f"{t('kpi_overdue')} {t('alarm')} > {overdue_alarm}", BAD)],
    )

    quarantine = [
        {"reason": reason, "label": t.section("reasons", reason), "n": int(n)}
        for reason, n in sorted(by_dimension("quarantined_by_reason").items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    is_latest = run["run_id"] == latest_published or failed_run
    downloads = []
    if not failed_run and is_latest:
        downloads.append(
            {
                "href": Link(f"{link_base}audit-sample.xlsx"),
                "label": t("audit_sample", share=_pct(settings.audit_sample.share)),
            }
        )
    if folder is not None and (folder / DATA_DOCS / "index.html").is_file():
        downloads.append({"href": Link(f"{link_base}{DATA_DOCS}/index.html"), "label": t("data_docs")})
    return {
        "lang": lang,
        "t": t,
        "field_label": t.field,
        "run": run,
        "started": f"{_utc(run['started_at']):%Y-%m-%d %H:%M}" if run["started_at"] else "",
        "failed_run": failed_run,
        "critical_failures": critical,
        "warnings_failed": len(failing) - len(critical),
        "kpis": kpis,
        "field_chart": field_chart,
        "owners": owners,
        "overdue_alarm": overdue_alarm,
        "trend_runs": len(order),
        "trend_completeness": trend_completeness,
        "trend_counts": trend_counts,
        "quarantine": quarantine,
        "failing": failing,
        "checks": checks,
        "sample_limit": settings.sample_rows,
        "is_latest": is_latest,
        "files": _rows(
            con,
            "SELECT * FROM run_files WHERE run_id = ? ORDER BY source_file, source_sheet",
            [run["run_id"]],
        ),
        "issues": [
            {**issue, "label": t.section("reasons", issue["reason"])}
            for issue in _rows(
                con,
                """SELECT split_part(issue, ':', 1) AS field, split_part(issue, ':', 2) AS reason, count(*) AS n
                   FROM (SELECT unnest(issues) AS issue FROM customer_sources) GROUP BY ALL ORDER BY n DESC, field, reason""",
            )
        ],
        # Values no table in schemas/ knows, with how often they came: what to add to the tables.
        # Only the records with such an issue are unnested with their (large) record JSON.
        "unmapped_values": _rows(
            con,
            f"""SELECT field, json_extract_string(record, '$.' || field || '_text') AS value, count(*) AS n,
                      string_agg(DISTINCT source_file, ', ') AS files
               FROM (SELECT split_part(issue, ':', 1) AS field, split_part(issue, ':', 2) AS reason,
                            record, source_file
                     FROM (SELECT issues, record, source_file FROM customer_sources
                           WHERE list_bool_or([split_part(i, ':', 2) IN {UNMAPPED} for i in issues])),
                          unnest(issues) AS t(issue))
               WHERE reason IN {UNMAPPED}
               GROUP BY ALL ORDER BY field, n DESC, value""",
        ),
        "unmapped_headers": _rows(
            con,
            """SELECT header, source_file, source_sheet, method, suggestion FROM column_mappings
               WHERE run_id = ? AND field IS NULL AND method <> 'ignored' AND coalesce(header, '') <> ''
               ORDER BY source_file, source_sheet, "column" """,
            [run["run_id"]],
        ),
        # Mapped below 0.9: a person should look at these once (crm-etl map --write confirms them).
        "low_confidence": _rows(
            con,
            """SELECT header, field, method, confidence, source_file, source_sheet FROM column_mappings
               WHERE run_id = ? AND field IS NOT NULL AND confidence < 0.9
               ORDER BY confidence, source_file, "column" """,
            [run["run_id"]],
        ),
        "failed_inputs": _rows(
            con,
            "SELECT DISTINCT source_file, source_sheet, error FROM run_files WHERE run_id = ? AND status = 'failed' "
            "ORDER BY source_file, source_sheet",
            [run["run_id"]],
        ),
        "schema_drift": _drift(con, run["run_id"]),
        "downloads": downloads,
        "generated": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
    }


class Link(str):
    """A link target the report writes as it is: a file's real name, never masked."""


def _shown(value: Any) -> Any:
    """Every string the report prints, masked: a phone or e-mail in a file, sheet or owner name is personal data.

    Applied to each `{{ … }}` of the template (Jinja's `finalize`), so no column of a table can
    forget it; link targets (`Link`) stay the real file names they point to.
    """
    if isinstance(value, Link) or not isinstance(value, str):
        return value
    masked = mask_text(value)
    if masked == value:
        return value
    return Markup(masked) if isinstance(value, Markup) else masked


def render_report(data: dict[str, Any]) -> str:
    """The report's HTML (inline CSS and SVG: it opens from disk with no server and no network)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        finalize=_shown,
    )
    return env.get_template("report.html.j2").render(**data)


@dataclass
class RenderedReport:
    """A run's report written into its folder, and its reports/latest/ copy, written once the run is published."""

    path: Path
    latest_html: str | None

    def write_latest(self, reports: Path) -> Path | None:
        """Write reports/latest/index.html (links to the run folder's worklists, audit sample and Data Docs)."""
        if self.latest_html is None:
            return None
        copy = reports / "latest"
        copy.mkdir(parents=True, exist_ok=True)
        target = copy / "index.html"
        target.write_text(self.latest_html, encoding="utf-8")
        return target


def render_run_report(
    con: duckdb.DuckDBPyConnection,
    reports: Path,
    run_id: str,
    config: Config,
    settings: ReportSettings,
    lang: Language = "zh-CN",
    latest: bool = True,
    cells: Mapping[str, int] | None = None,
) -> RenderedReport:
    """Write `reports/<run_id>/index.html` from an open connection (the published file, or a staged copy).

    Links go to the worklists already in `reports/<run_id>/worklists/`: write the handouts first.
    `cells` (per owner, the worklist cells to fill or correct) is counted here when not given.
    """
    folder = reports / run_id
    cells = worklist_cells(con) if cells is None else cells  # once, for both pages
    data = report_data(con, config, settings, run_id, lang, folder, cells=cells)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "index.html"
    target.write_text(render_report(data), encoding="utf-8")
    html = None
    if latest:
        html = render_report(report_data(con, config, settings, run_id, lang, folder, f"../{run_id}/", cells))
    return RenderedReport(target, html)


def write_report_from(
    con: duckdb.DuckDBPyConnection,
    reports: Path,
    run_id: str,
    config: Config,
    lang: Language = "zh-CN",
    latest: bool = False,
    handouts: bool = False,
) -> Path:
    """Render a run's report from an open connection (and its reports/latest/ copy when `latest`).

    `handouts`: first write the worklists and the audit sample beside it (cleaners of the current
    data), so a report rebuilt into any folder links to files that are there.
    """
    contracts = load_contracts(config.directory)
    settings = contracts.report
    if handouts:
        write_handouts(con, reports / run_id, run_id, contracts)
    rendered = render_run_report(con, reports, run_id, config, settings, lang, latest)
    rendered.write_latest(reports)
    return rendered.path


def write_report(
    db: Path,
    reports: Path,
    run_id: str | None = None,
    config: Config | None = None,
    lang: Language = "zh-CN",
) -> Path:
    """Render `reports/<run_id>/index.html` (and `reports/latest/` for the latest run) from the DuckDB file."""
    with duckdb.connect(str(db), read_only=True) as con:
        runs = [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY started_at DESC").fetchall()]
        if not runs:
            raise LookupError("the database holds no published run yet")
        chosen = run_id or runs[0]
        if chosen not in runs:
            raise LookupError(f"no run {chosen!r} in the database (latest: {runs[0]})")
        published = [
            r[0]
            for r in con.execute(
                "SELECT run_id FROM runs WHERE status = 'published' ORDER BY started_at DESC LIMIT 1"
            ).fetchall()
        ]
        # The handouts are of the current data: rewritten beside the latest published run's report only.
        return write_report_from(
            con,
            reports,
            chosen,
            config or load_config(),
            lang,
            latest=chosen == runs[0],
            handouts=chosen in published,
        )


@task(name="report-failed-run", cache_policy=NO_CACHE)
def report_failed_run(
    con: duckdb.DuckDBPyConnection, reports: Path, run_id: str, config: Config, lang: Language
) -> Path:
    """Write the report of a run that will not be published, from its staged copy, saying why."""
    return write_report_from(con, reports, run_id, config, lang, latest=False)


__all__ = [
    "Language",
    "RenderedReport",
    "render_report",
    "render_run_report",
    "report_data",
    "write_report",
    "write_report_from",
]


def _invalid_or_missing_kpi(field: str, label: str, headline: dict[str, Any], t: Any) -> dict[str, Any]:
    """Headline card for a field whose values can be invalid or missing (phones, dates)."""
    invalid, missing = headline.get(f"{field}_invalid"), headline.get(f"{field}_missing")
    return {
        "key": f"{field}_invalid",
        "label": label,
        "value": _count(invalid),
        "note": t(f"kpi_{field}_note", missing=_count(missing)),
        "status": "warn" if invalid or missing else "ok",
        "alarm": False,
    }
