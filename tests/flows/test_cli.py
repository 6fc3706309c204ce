"""Every subcommand and option of the `crm-etl` CLI, run for real."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import EXIT_CHECK_FAILED, EXIT_INPUT, app
from tests.flows.conftest import write_ledger

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [[], ["run"], ["report"], ["runs"], ["export"], ["serve"], ["restore"]],
    ids=["top", "run", "report", "runs", "export", "serve", "restore"],
)
def test_help_for_every_subcommand(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "crm-etl"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "run" in result.stdout


def test_missing_inbox_is_a_usage_error(tmp_path):
    result = runner.invoke(
        app, ["run", "--inbox", str(tmp_path / "nope"), "--db", str(tmp_path / "x.duckdb")]
    )
    assert result.exit_code == EXIT_INPUT
    assert "is not a directory" in result.output


def test_bad_as_of_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["run", "--inbox", str(tmp_path), "--as-of", "yesterday"])
    assert result.exit_code == EXIT_INPUT


def test_unknown_option_is_a_usage_error():
    assert runner.invoke(app, ["run", "--no-such-option"]).exit_code == 2


@pytest.fixture
def ledger_inbox(inbox):
    write_ledger(
        inbox / "a.xlsx",
        [
            ["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"],
            ["上海甲公司", "张三", "138 0013 8000", "2024/5/1", "张伟"],
        ],
    )
    return inbox


def test_run_report_runs_round_trip(prefect_harness, tmp_path, ledger_inbox):
    db, reports = tmp_path / "crm.duckdb", tmp_path / "reports"
    args = [
        "run",
        "--inbox",
        str(ledger_inbox),
        "--db",
        str(db),
        "--reports",
        str(reports),
        "--as-of",
        "2024-06-30",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "rows read" in result.output and "records merged into another" in result.output
    assert "13800138000" not in result.output
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
        run_id = con.execute("SELECT run_id FROM runs").fetchone()[0]
    (reports / run_id / "index.html").unlink()
    rebuilt = runner.invoke(app, ["report", "--db", str(db), "--reports", str(reports), "--run", run_id])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert (reports / run_id / "index.html").is_file()
    listed = runner.invoke(app, ["runs", "--db", str(db), "--limit", "5"])
    assert listed.exit_code == 0 and run_id in listed.output
    unknown = runner.invoke(app, ["report", "--db", str(db), "--reports", str(reports), "--run", "R0"])
    assert unknown.exit_code == EXIT_INPUT and "no run 'R0'" in unknown.output


def test_run_with_an_unreadable_file_exits_2_but_publishes(prefect_harness, tmp_path, ledger_inbox):
    (ledger_inbox / "broken.xlsx").write_bytes(b"not a workbook")
    db = tmp_path / "crm.duckdb"
    result = runner.invoke(
        app,
        ["run", "--inbox", str(ledger_inbox), "--db", str(db), "--reports", str(tmp_path / "r"), "--verbose"],
    )
    assert result.exit_code == EXIT_INPUT
    assert "broken.xlsx" in result.output
    assert db.is_file()


def test_run_with_a_broken_tag_rule_exits_1(prefect_harness, tmp_path, ledger_inbox):
    import shutil

    from schemas import SCHEMAS_DIR

    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    rules = schemas / "tag_rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("employee_band = '大型'", "employee_band >>> 1"),
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        [
            "run",
            "--inbox",
            str(ledger_inbox),
            "--db",
            str(tmp_path / "c.duckdb"),
            "--reports",
            str(tmp_path / "r"),
            "--schemas",
            str(schemas),
        ],
    )
    assert result.exit_code == EXIT_CHECK_FAILED
    assert "nothing published" in result.output
    # The message names the rule and its line (rich may wrap it anywhere).
    assert "tagrule'大型客户'(" in "".join(result.output.split())
    assert re.search(r"tag_rules\.yaml:\d+\)hasaninvalidpredicate", "".join(result.output.split()))
    assert not (tmp_path / "c.duckdb").exists()


def test_report_and_runs_need_a_database(tmp_path):
    assert runner.invoke(app, ["report", "--db", str(tmp_path / "none.duckdb")]).exit_code == EXIT_INPUT
    assert runner.invoke(app, ["runs", "--db", str(tmp_path / "none.duckdb")]).exit_code == EXIT_INPUT
