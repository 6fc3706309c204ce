"""The managers' report of the sample run: figures checked against the database, masking, languages, rebuild."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
import shutil
import xml.dom.minidom
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crm_etl.flows.charts import Guide, completeness_bars, line_chart
from crm_etl.flows.cli import EXIT_INPUT, app
from crm_etl.flows.report import report_data
from crm_etl.flows.texts import messages
from crm_etl.schemas import load_config
from crm_etl.schemas.contracts import load_contracts
from crm_etl.schemas.kpis import load_kpis
from tests import samples_truth as truth
from tests.conftest import REPO

runner = CliRunner()
MOBILE = re.compile(r"1[3-9]\d{9}")
EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")


def _html(summary) -> str:
    return Path(summary.report).read_text(encoding="utf-8")


def _kpi(html: str, key: str) -> tuple[str, str]:
    match = re.search(rf'<div class="kpi (\w+)" data-kpi="{key}">.*?<div class="v">([^<]*)</div>', html, re.S)
    assert match, key
    return match.group(1), match.group(2)


def _assert_no_personal_data(html: str) -> None:
    assert not MOBILE.search(html)
    emails = EMAIL.findall(html)
    assert all(re.fullmatch(r".\*\*\*@.+", e) for e in emails), [e for e in emails if "***" not in e]


def test_report_is_self_contained(sample_run):
    summary, _, _ = sample_run
    html = _html(summary)
    assert "<script" not in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", html)


def test_report_shows_no_personal_data(sample_run):
    summary, con, out = sample_run
    html = _html(summary)
    _assert_no_personal_data(html)
    # Contact people shown in failing sample rows appear only masked (their first character).
    owners = {
        r[0] for r in con.execute("SELECT DISTINCT owner FROM customers WHERE owner IS NOT NULL").fetchall()
    }
    names = {
        r[0]
        for r in con.execute(
            "SELECT contact_name FROM customers WHERE owner IS NULL OR customer_type IS NULL"
        ).fetchall()
        if r[0] and len(r[0]) > 1
    }
    assert names
    for name in names - owners:
        assert html_lib.escape(name) not in html, name
    _assert_no_personal_data((out / "reports" / "latest" / "index.html").read_text(encoding="utf-8"))


def test_headline_kpis_match_the_database(sample_run):
    summary, con, _ = sample_run
    html = _html(summary)
    completeness = con.execute("SELECT avg(completeness) FROM customers").fetchone()[0]
    status, value = _kpi(html, "completeness")
    assert value == f"{completeness * 100:.1f}%"
    assert status == ("ok" if completeness >= 0.9 else "warn" if completeness >= 0.8 else "bad")
    assert "目标 90.0%，低于 80.0% 告警" in html
    assert _kpi(html, "duplicates_merged")[1] == str(summary.records_merged)
    assert _kpi(html, "quarantined")[1] == str(summary.rows_quarantined)
    assert _kpi(html, "customers")[1] == str(summary.customers)
    for reason, n in summary.quarantined_by_reason.items():
        assert re.search(rf'<span class="code">{reason}</span></td><td class="n">{n}</td>', html)


def readme_sql() -> list[str]:
    """Every statement of the README's ```sql blocks, comments kept."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    return [s.strip().rstrip(";") for block in blocks for s in block.split(";\n") if s.strip()]


def readme_kpis() -> dict[str, str]:
    """The README's figure queries by name (a statement after a `-- kpi: NAME` line), comments dropped."""
    queries = {}
    for statement in readme_sql():
        named = re.search(r"^-- kpi: (\w+)", statement, flags=re.M)
        if named:
            body = "\n".join(line for line in statement.splitlines() if not line.startswith("--"))
            queries[named.group(1)] = body
    return queries


def _words(sql: str) -> str:
    return " ".join(sql.split())


def test_readme_figure_queries_are_the_definitions():
    documented, defined = readme_kpis(), {k.name: k.sql for k in load_kpis().kpis}
    # The per-field shares take the configured field list as a parameter: they are the chart, not a query.
    assert set(documented) == set(defined) - {"field_completeness"}
    for name, sql in documented.items():
        assert _words(sql) == _words(defined[name]), name


def test_report_figures_agree_with_the_readme_queries(sample_run):
    """The report's cards, per-owner table and quarantine list, and run_kpis, against the README's SQL."""
    summary, con, _ = sample_run
    queries = readme_kpis()

    def one(name: str) -> float:
        return float(con.execute(queries[name]).fetchone()[0])

    def per(name: str) -> dict[str, float]:
        return {("" if d is None else d): float(v) for d, v in con.execute(queries[name]).fetchall()}

    html = _html(summary)
    assert _kpi(html, "completeness")[1] == f"{one('completeness') * 100:.1f}%"
    for card in ("customers", "duplicates_merged", "phones_invalid", "dates_invalid", "quarantined",
                 "overdue_followups", "needs_backfill"):  # fmt: skip
        assert _kpi(html, card)[1] == f"{round(one(card)):,}", card
    data = report_data(con, load_config(), load_contracts().report, summary.run_id)
    notes = {k["key"]: k["note"] for k in data["kpis"]}
    assert f"{round(one('phones_missing')):,} 个客户没有任何电话" in notes["phones_invalid"]
    assert f"{round(one('dates_missing')):,} 个客户缺首次接触时间" in notes["dates_invalid"]
    assert f"共入库 {round(one('records_loaded')):,} 条" in notes["duplicates_merged"]
    owners = {"" if o["label"] == "（未分配）" else o["label"]: o for o in data["owners"]}
    assert {o: row["customers"] for o, row in owners.items()} == per("owner_customers")
    assert {o: row["needs_backfill"] for o, row in owners.items()} == per("owner_needs_backfill")
    assert {o: row["overdue"] for o, row in owners.items()} == per("owner_overdue")
    assert {o: row["completeness"] for o, row in owners.items()} == {
        o: f"{v * 100:.1f}%" for o, v in per("owner_completeness").items()
    }
    assert {q["reason"]: q["n"] for q in data["quarantine"]} == per("quarantined_by_reason")
    # Every figure run_kpis stored is the README query's answer on the same file.
    stored = con.execute(
        "SELECT kpi, dimension, value FROM run_kpis WHERE run_id = ?", [summary.run_id]
    ).fetchall()
    for kpi, dimension, value in stored:
        if kpi in queries:
            expected = (
                one(kpi)
                if dimension == "" and not kpi.startswith(("owner_", "quarantined_by"))
                else per(kpi)[dimension]
            )
            assert value == pytest.approx(expected), (kpi, dimension)
    assert {k for k, _, _ in stored} >= set(queries)


def test_overdue_follow_ups_are_the_analysts_overdue_list(sample_run):
    summary, con, _ = sample_run
    # README question 2: each owner's overdue follow-ups, one row per customer.
    listing = next(s for s in readme_sql() if "WHERE f.follow_up_overdue" in s)
    rows = con.execute(f"SELECT owner, count(*) FROM ({listing}) GROUP BY owner").fetchall()
    overdue = sum(n for _, n in rows)
    assert overdue > 0
    status, value = _kpi(_html(summary), "overdue_followups")
    assert value == str(overdue)
    assert status == ("bad" if overdue > 10 else "warn" if overdue else "ok")
    kpis = dict(
        con.execute(
            "SELECT dimension, value FROM run_kpis WHERE run_id = ? AND kpi = 'owner_overdue' AND value > 0",
            [summary.run_id],
        ).fetchall()
    )
    assert kpis == {("" if o is None else o): float(n) for o, n in rows}
    assert "30 天无跟进，或首次接触 7 天后仍未联系；超过 10 个告警" in _html(summary)


def test_per_owner_table_matches_the_database(sample_run):
    summary, con, _ = sample_run
    html = _html(summary)
    table = html[
        html.index('<table id="owners">') : html.index("</table>", html.index('<table id="owners">'))
    ]
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td class=\"n\">(\d+)</td>\s*<td class=\"n[^\"]*\">([\d.]+)%</td><td class=\"n\">(\d+)</td>",
        table,
    )
    expected = con.execute(
        """SELECT coalesce(owner, '（未分配）'), count(*), round(avg(completeness) * 100, 1),
                  count(*) FILTER (WHERE len(missing_fields) > 0)
           FROM customers GROUP BY ALL"""
    ).fetchall()
    assert sorted((o, int(n), float(c), int(b)) for o, n, c, b in rows) == sorted(
        (o, n, float(c), b) for o, n, c, b in expected
    )


def test_field_completeness_chart_has_a_bar_per_field_and_the_target_line(sample_run):
    summary, _, _ = sample_run
    html = _html(summary)
    chart = re.search(r'<svg class="chart bars".*?</svg>', html, re.S).group(0)
    xml.dom.minidom.parseString(chart)
    assert chart.count('class="bar"') == len(load_config().pipeline.completeness_fields)
    assert "目标 90.0%" in chart and "告警 80.0%" in chart


def test_failing_expectations_are_listed_with_masked_sample_rows(sample_run):
    summary, con, _ = sample_run
    html = _html(summary)
    failing = con.execute(
        'SELECT suite, "column", unexpected_count FROM validation_results WHERE run_id = ? AND NOT success',
        [summary.run_id],
    ).fetchall()
    assert failing, "the samples are expected to miss some owners and customer types"
    blocks = re.findall(
        r'<div class="failure (\w+)" data-suite="(\w+)">(.*?)</div>\s*(?=<div class="failure|<h2)', html, re.S
    )
    assert len(blocks) == len(failing)
    for _, _, block in blocks:
        rows = re.findall(r"<tr>(?:<td>)", block)
        assert 1 <= len(rows) <= 10


def test_trend_covers_past_runs(sample_run):
    summary, _, _ = sample_run
    html = _html(summary)
    trend = html[html.index('id="trend"') :]
    assert trend.count('<svg class="chart lines"') == 2
    assert trend.count('class="point"') >= 5  # completeness + four counts for the one run so far


def test_report_rebuilds_from_the_database_file_alone_in_both_languages(sample_run, tmp_path):
    summary, _, out = sample_run
    db = tmp_path / "copy.duckdb"
    shutil.copy2(out / "crm.duckdb", db)
    reports = tmp_path / "reports"
    zh = runner.invoke(app, ["report", "--db", str(db), "--reports", str(reports), "--run", summary.run_id])
    assert zh.exit_code == 0, zh.output
    rebuilt = (reports / summary.run_id / "index.html").read_text(encoding="utf-8")
    original = _html(summary)
    for key in ("completeness", "customers", "duplicates_merged", "overdue_followups", "quarantined"):
        assert _kpi(rebuilt, key) == _kpi(original, key)
    assert '<html lang="zh-CN">' in rebuilt
    en = runner.invoke(app, ["report", "--db", str(db), "--reports", str(reports), "--lang", "en"])
    assert en.exit_code == 0, en.output
    english = (reports / "latest" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in english and "Customer data quality report" in english
    assert "Overdue follow-ups" in english and "target 90.0%, alarm below 80.0%" in english
    assert not re.search(r"[\u4e00-\u9fff]{2,}(?=</th>)", english)  # table headings are English
    assert f'href="../{summary.run_id}/worklists/' in english
    _assert_no_personal_data(english)


def test_unknown_language_is_a_usage_error(sample_run):
    _, _, out = sample_run
    result = runner.invoke(app, ["report", "--db", str(out / "crm.duckdb"), "--lang", "fr"])
    assert result.exit_code == EXIT_INPUT and "zh-CN or en" in result.output


def test_every_report_text_exists_in_both_languages():
    for section, entries in messages().items():
        for key, texts in entries.items():
            assert texts["zh-CN"] and texts["en"], f"{section}.{key}"


def test_links_to_worklists_audit_sample_and_data_docs_resolve(sample_run):
    summary, _, out = sample_run
    folder = out / "reports" / summary.run_id
    for page in (folder / "index.html", out / "reports" / "latest" / "index.html"):
        links = re.findall(r'href="([^"#]+)"', page.read_text(encoding="utf-8"))
        assert any(link.endswith("audit-sample.xlsx") for link in links)
        assert any("gx-data-docs" in link for link in links)
        assert any("/worklists/" in link or link.startswith("worklists/") for link in links)
        for link in links:
            assert (page.parent / link).resolve().is_file(), link


@pytest.mark.parametrize("percent", [True, False], ids=["percent", "counts"])
def test_line_chart_is_valid_svg_with_a_point_per_value(percent):
    svg = line_chart(
        ["06-01", "06-08", "06-15"],
        [("a", [0.8, None, 0.9]), ("b", [0.5, 0.6, 0.7])],
        "trend",
        percent=percent,
        guides=[Guide(0.9, "target", "#c62828")],
    )
    xml.dom.minidom.parseString(str(svg))
    assert str(svg).count('class="point"') == 5 and str(svg).count('class="guide"') == 1


def test_bar_chart_escapes_labels_and_clamps_shares():
    svg = str(completeness_bars([("<x>", 1.5), ("y", -0.2)], [], 0.9, 0.8, "t & t"))
    xml.dom.minidom.parseString(svg)
    assert "&lt;x&gt;" in svg and "t &amp; t" in svg
    widths = [float(w) for w in re.findall(r'class="bar" x="\d+" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths == [420.0, 0.0]


def test_report_of_a_run_date_in_the_past_keeps_its_as_of(sample_run):
    summary, con, _ = sample_run
    as_of = con.execute("SELECT as_of FROM runs WHERE run_id = ?", [summary.run_id]).fetchone()[0]
    assert as_of == dt.date.fromisoformat(truth.AS_OF_DATE)
    assert f"数据截至 {as_of}" in _html(summary)


def _owner_rows(page: Path) -> list[tuple[str, str, str | None]]:
    """(owner, cells to fill or correct, worklist link) per row of the report's per-owner table."""
    table = re.search(r'<table id="owners">.*?</table>', page.read_text(encoding="utf-8"), re.S).group(0)
    rows = []
    for tr in re.findall(r"<tr><td>.*?</tr>", table, re.S):
        owner = html_lib.unescape(re.match(r"<tr><td>(.*?)</td>", tr).group(1))
        cells = re.search(r"<td class=\"n\" data-cells>(.*?)</td>", tr).group(1)
        link = re.search(r'<a href="([^"]+)"', tr)
        rows.append((owner, cells, html_lib.unescape(link.group(1)) if link else None))
    return rows


def _worklist_cells(path: Path) -> int:
    """Cells a worklist asks for, read from the file: each missing field, and each correction not among them."""
    import openpyxl

    from crm_etl.cleaners.worklists import FIELD_COLUMNS, WORKLIST_COLUMNS

    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[2]]
    labels = {**{label: f for f, label in WORKLIST_COLUMNS.items()}, "联系方式": "contact"}
    total = 0
    for r in range(3, ws.max_row + 1):
        missing = [
            labels[m] for m in (ws.cell(r, header.index("待补录字段") + 1).value or "").split("、") if m
        ]
        note = ws.cell(r, header.index("待更正内容") + 1).value or ""
        corrected = {labels[p.split("「")[0].split("：")[0]] for p in note.split("；") if p}
        asked = {c for m in missing for c in FIELD_COLUMNS.get(m, (m,))}
        total += len(missing) + len(corrected - asked)
    return total


def test_a_report_rebuilt_elsewhere_links_each_reps_worklist_with_the_cells_to_fix(sample_run, tmp_path):
    summary, _, out = sample_run
    reports = tmp_path / "elsewhere"
    result = runner.invoke(app, ["report", "--db", str(out / "crm.duckdb"), "--reports", str(reports)])
    assert result.exit_code == 0, result.output
    for page in (reports / summary.run_id / "index.html", reports / "latest" / "index.html"):
        rows = _owner_rows(page)
        assert any(link for _, _, link in rows) and sum(int(c) for _, c, _ in rows) > 0
        for owner, cells, link in rows:
            assert (link is not None) == (int(cells) > 0), owner
            if link:
                worklist = (page.parent / link).resolve()
                assert worklist.is_relative_to(reports.resolve()) and worklist.is_file(), link
                assert _worklist_cells(worklist) == int(cells), owner
    # The run's own report says the same of the worklists written with it.
    assert _owner_rows(out / "reports" / summary.run_id / "index.html") == _owner_rows(
        reports / summary.run_id / "index.html"
    )


def test_a_report_written_where_no_worklist_is_links_none(sample_run, tmp_path):
    summary, con, _ = sample_run
    from crm_etl.flows.report import render_report, report_data
    from crm_etl.schemas.contracts import load_contracts

    config = load_config()
    data = report_data(con, config, load_contracts().report, summary.run_id, folder=tmp_path)
    # No worklists in tmp_path: none linked, though reps do have cells to fix.
    assert sum(o["cells"] for o in data["owners"]) > 0
    assert all(o["worklist"] is None for o in data["owners"])
    assert "/worklists/" not in render_report(data)


@pytest.mark.slow
def test_unknown_lead_sources_are_other_and_listed_with_their_text(prefect_harness, tmp_path, inbox):
    import duckdb

    from crm_etl.flows.migrate import migrate
    from crm_etl.schemas.config import load_lead_sources
    from tests.flows.conftest import write_ledger

    header = ["客户名称", "联系人", "手机", "首次接触时间", "客户来源", "负责人"]
    # Spellings no list or pattern of lead_sources.yaml knows, made up here; one known one beside them.
    rows = [
        ["上海甲精密机械有限公司", "张三", "13800138000", dt.date(2024, 5, 1), "Qx-77号渠道", "张伟"],
        ["杭州乙电子有限公司", "李四", "13900139000", dt.date(2024, 5, 2), "Qx-77号渠道", "张伟"],
        ["苏州丙贸易有限公司", "王五", "13700137000", dt.date(2024, 5, 3), "鸿雁传书", "李娜"],
        ["南京丁科技有限公司", "赵六", "13600136000", dt.date(2024, 5, 4), "Trade Show", "李娜"],
    ]
    write_ledger(inbox / "a.xlsx", rows, header=header)
    db, reports = tmp_path / "crm.duckdb", tmp_path / "reports"
    summary = migrate(inbox=inbox, db=db, reports=reports, as_of=dt.date(2024, 6, 30))
    with duckdb.connect(str(db), read_only=True) as con:
        channels = dict(con.execute("SELECT customer_name, source_channel FROM customers").fetchall())
        kept = con.execute(
            """SELECT record->>'source_channel_text', list_contains(issues, 'source_channel:source_channel_unknown')
               FROM customer_sources ORDER BY source_row"""
        ).fetchall()
    assert set(channels.values()) <= set(load_lead_sources().channels)
    assert channels["上海甲精密机械有限公司"] == channels["苏州丙贸易有限公司"] == "其他"
    assert channels["南京丁科技有限公司"] == "展会"
    assert kept == [("Qx-77号渠道", True), ("Qx-77号渠道", True), ("鸿雁传书", True), ("Trade Show", False)]
    html = Path(summary.report).read_text(encoding="utf-8")
    assert re.search(r"<td>Qx-77号渠道</td><td class=\"n\">2</td>", html)
    assert re.search(r"<td>鸿雁传书</td><td class=\"n\">1</td>", html)
