"""The validation gate, run for real through the CLI: a critical failure publishes nothing, warnings publish."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from crm_etl.flows.cli import EXIT_CHECK_FAILED, EXIT_OK, app
from crm_etl.schemas import SCHEMAS_DIR
from tests.flows.conftest import write_ledger

runner = CliRunner()
HEADER = ["客户名称", "联系人", "手机", "所属行业", "客户类型", "首次接触时间", "客户来源", "负责人"]
COMPLETE = [
    [
        "上海甲精密机械有限公司",
        "张三",
        "13800138000",
        "制造业",
        "意向客户",
        dt.date(2024, 5, 1),
        "展会",
        "张伟",
    ],
    ["杭州乙软件有限公司", "李四", "13900139000", "软件", "成交客户", dt.date(2024, 5, 2), "官网", "张伟"],
]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(inbox: Path, db: Path, reports: Path, *extra: str):
    return runner.invoke(
        app,
        [
            "run",
            "--inbox",
            str(inbox),
            "--db",
            str(db),
            "--reports",
            str(reports),
            "--as-of",
            "2024-06-30",
            *extra,
        ],
    )


@pytest.fixture
def strict_schemas(tmp_path):
    """A company that requires a contact person on every customer: 联系人 is critical at 100%."""
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    suite = schemas / "expectations" / "customers.yaml"
    text = suite.read_text(encoding="utf-8")
    old = "{type: expect_column_values_to_not_be_null, column: contact_name, mostly: 0.90, severity: warning}"
    assert old in text
    suite.write_text(
        text.replace(
            old, "{type: expect_column_values_to_not_be_null, column: contact_name, severity: critical}"
        ),
        encoding="utf-8",
    )
    return schemas


def test_a_critical_failure_exits_1_and_leaves_the_published_tables_unchanged(
    prefect_harness, tmp_path, inbox, strict_schemas
):
    db, reports = tmp_path / "crm.duckdb", tmp_path / "reports"
    write_ledger(inbox / "a.xlsx", COMPLETE, header=HEADER)
    first = _run(inbox, db, reports, "--schemas", str(strict_schemas))
    assert first.exit_code == EXIT_OK, first.output
    before = _sha(db)
    with duckdb.connect(str(db), read_only=True) as con:
        published_run = con.execute("SELECT run_id FROM runs").fetchone()[0]

    write_ledger(
        inbox / "b.xlsx",
        [
            [
                "苏州丙贸易有限公司",
                None,
                "13700137000",
                "批发业",
                "潜在客户",
                dt.date(2024, 6, 1),
                "展会",
                "李娜",
            ]
        ],
        header=HEADER,
    )
    second = _run(inbox, db, reports, "--schemas", str(strict_schemas))
    assert second.exit_code == EXIT_CHECK_FAILED, second.output
    assert "nothing published" in second.output
    squeezed = "".join(second.output.split())  # Rich wraps long lines at the terminal width
    assert "customers.expect_column_values_to_not_be_nullcontact_name" in squeezed
    assert "reportofthefailedrun:" in squeezed
    assert _sha(db) == before
    assert not [p for p in tmp_path.iterdir() if "staging" in p.name]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT run_id FROM runs").fetchall() == [(published_run,)]
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 2

    # The report of the failed run says why, and the latest report still shows the published run.
    (failed_report,) = [p for p in reports.glob("R*/index.html") if p.parent.name != published_run]
    assert str(failed_report) in squeezed
    html = failed_report.read_text(encoding="utf-8")
    assert 'id="failed-banner"' in html and "未发布" in html
    banner = html[html.index('id="failed-banner"') : html.index("</div>", html.index('id="failed-banner"'))]
    assert "customers" in banner and "联系人" in banner and "不为空" in banner
    assert "苏州丙贸易有限公司" in html and "+86137****7000" in html and "13700137000" not in html
    assert (failed_report.parent / "gx-data-docs" / "index.html").is_file()
    assert published_run in (reports / "latest" / "index.html").read_text(encoding="utf-8")


def test_only_warnings_publish_and_the_report_lists_them(prefect_harness, tmp_path, inbox):
    db, reports = tmp_path / "crm.duckdb", tmp_path / "reports"
    rows = [
        *COMPLETE,
        ["苏州丙贸易有限公司", "王五", "13700137000", "批发业", "潜在客户", dt.date(2024, 6, 1), None, None],
    ]
    write_ledger(inbox / "a.xlsx", rows, header=HEADER)
    result = _run(inbox, db, reports, "--lang", "en")
    assert result.exit_code == EXIT_OK, result.output
    assert "warning" in result.output and "owner" in result.output
    with duckdb.connect(str(db), read_only=True) as con:
        run_id, status = con.execute("SELECT run_id, status FROM runs").fetchone()
        failing = con.execute(
            """SELECT suite, "column", severity, observed, threshold FROM validation_results
               WHERE run_id = ? AND NOT success ORDER BY "column" """,
            [run_id],
        ).fetchall()
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 3
    assert status == "published"
    assert ("customers", "owner", "warning", "0.6667", "mostly 0.9") in failing
    assert ("customers", "source_channel", "warning", "0.6667", "mostly 0.9") in failing
    assert all(severity == "warning" for _, _, severity, _, _ in failing)
    html = (reports / run_id / "index.html").read_text(encoding="utf-8")
    failures = re.findall(
        r'<div class="failure (\w+)" data-suite="(\w+)">\s*<h3>.*?· ([^<]+)</h3>', html, re.S
    )
    assert ("warning", "customers", "Owner") in {
        (s, suite, label.split("·")[-1].strip()) for s, suite, label in failures
    }
    assert '<html lang="en">' in html and "Published, with" in html and 'id="failed-banner"' not in html
