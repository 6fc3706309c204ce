"""Write the data-quality report of a run from the DuckDB file alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from schemas import Config, load_config

TEMPLATES = Path(__file__).resolve().parent.parent / "reports" / "templates"

FIELD_LABELS = {
    "customer_name": "客户名称",
    "contact_name": "联系人",
    "contact": "联系方式",
    "industry": "所属行业",
    "customer_type": "客户类型",
    "first_contact_date": "首次接触时间",
    "source_channel": "客户来源",
    "owner": "负责人",
}


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def report_data(con: duckdb.DuckDBPyConnection, config: Config, run_id: str | None = None) -> dict[str, Any]:
    """Everything the report shows, queried from the published tables."""
    runs = _rows(con, "SELECT * FROM runs ORDER BY started_at DESC")
    if not runs:
        raise LookupError("the database holds no published run yet")
    run = next((r for r in runs if r["run_id"] == run_id), None) if run_id else runs[0]
    if run is None:
        raise LookupError(f"no run {run_id!r} in the database (latest: {runs[0]['run_id']})")
    settings = config.pipeline
    checks = _rows(
        con,
        'SELECT * FROM validation_results WHERE run_id = ? ORDER BY severity, suite, expectation, "column"',
        [run["run_id"]],
    )
    completeness = [
        {
            "field": c["column"],
            "label": FIELD_LABELS.get(c["column"], c["column"]),
            "share": float(c["observed"]),
        }
        for c in checks
        if c["expectation"] == "expect_column_values_to_not_be_null" and c["severity"] == "warning"
    ]
    overall = _rows(con, "SELECT avg(completeness) AS v, count(*) AS n FROM customers")[0]
    return {
        "run": run,
        "inputs": json.loads(run["input_files"]) if run["input_files"] else [],
        "files": _rows(
            con,
            "SELECT * FROM run_files WHERE run_id = ? ORDER BY source_file, source_sheet",
            [run["run_id"]],
        ),
        "quarantine": _rows(
            con,
            "SELECT reason, record_type, count(*) AS n FROM quarantine GROUP BY ALL ORDER BY n DESC, reason",
        ),
        "checks": checks,
        "completeness": completeness,
        "overall_completeness": overall["v"] or 0.0,
        "customers": overall["n"],
        "target": settings.completeness_target,
        "alarm": settings.completeness_alarm,
        "owners": _rows(
            con,
            """SELECT coalesce(owner, '(未分配)') AS owner, count(*) AS customers,
                      avg(completeness) AS completeness,
                      count(*) FILTER (WHERE completeness < ?) AS needs_backfill
               FROM customers GROUP BY ALL ORDER BY customers DESC, owner""",
            [settings.completeness_target],
        ),
        "issues": _rows(
            con,
            """SELECT split_part(issue, ':', 1) AS field, split_part(issue, ':', 2) AS reason, count(*) AS n
               FROM (SELECT unnest(issues) AS issue FROM customer_sources) GROUP BY ALL ORDER BY n DESC""",
        ),
        # Values no table in schemas/ knows, with how often they came: what to add to the tables.
        "unmapped_values": _rows(
            con,
            """SELECT field, json_extract_string(record, '$.' || field || '_text') AS value, count(*) AS n,
                      string_agg(DISTINCT source_file, ', ') AS files
               FROM (SELECT split_part(issue, ':', 1) AS field, split_part(issue, ':', 2) AS reason,
                            record, source_file
                     FROM customer_sources, unnest(issues) AS t(issue))
               WHERE reason IN ('industry_unmapped', 'customer_type_unmapped')
               GROUP BY ALL ORDER BY field, n DESC, value""",
        ),
        "unmapped_headers": _rows(
            con,
            """SELECT header, count(*) AS sheets, string_agg(DISTINCT source_file, ', ') AS files
               FROM (SELECT unnest(unmapped_headers) AS header, source_file FROM run_files WHERE run_id = ?)
               GROUP BY ALL ORDER BY sheets DESC, header""",
            [run["run_id"]],
        ),
    }


def write_report(db: Path, reports: Path, run_id: str | None = None, config: Config | None = None) -> Path:
    """Render `reports/<run_id>/index.html` and copy it to `reports/latest/`; returns the file written."""
    with duckdb.connect(str(db), read_only=True) as con:
        data = report_data(con, config or load_config(), run_id)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html", "j2"])
    )
    html = env.get_template("report.html.j2").render(**data)
    folder = reports / data["run"]["run_id"]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "index.html"
    target.write_text(html, encoding="utf-8")
    latest = reports / "latest"
    latest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target, latest / "index.html")
    return target
