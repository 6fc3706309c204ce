"""Every subcommand and option of the `crm-etl` CLI, run for real."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from crm_etl.flows.cli import EXIT_CHECK_FAILED, EXIT_INPUT, app
from tests.flows.conftest import write_ledger
from tests.flows.processes import run_args, start_cli

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

    from crm_etl.schemas import SCHEMAS_DIR

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


STAGES = ["extract", "clean", "link", "dedupe", "stage", "tag", "validate", "report", "publish"]


def test_piped_run_prints_one_line_per_stage_in_order(prefect_harness, tmp_path, ledger_inbox):
    result = runner.invoke(app, run_args(ledger_inbox, tmp_path))
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("stage ")]
    assert [line.split(":")[0].removeprefix("stage ") for line in lines] == STAGES
    assert lines[0].startswith("stage extract: 2 rows")
    # Library noise stays out by default.
    assert "great_expectations" not in result.output and "Finished in state" not in result.output
    with duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True) as con:
        recorded = con.execute("SELECT stage, items, unit FROM run_stages ORDER BY position").fetchall()
    assert [r[0] for r in recorded] == STAGES[:-1]  # publish follows the last write
    assert recorded[0] == ("extract", 2, "rows") and recorded[3] == ("dedupe", 1, "customers")


def test_quiet_prints_nothing_but_errors(prefect_harness, tmp_path, ledger_inbox):
    quiet = runner.invoke(app, run_args(ledger_inbox, tmp_path, "-q"))
    assert quiet.exit_code == 0 and quiet.output == ""
    (ledger_inbox / "broken.xlsx").write_bytes(b"not a workbook")
    failing = runner.invoke(app, run_args(ledger_inbox, tmp_path, "--quiet"))
    assert failing.exit_code == EXIT_INPUT
    assert (
        "broken.xlsx" in failing.output
        and "stage " not in failing.output
        and "rows read" not in failing.output
    )


def test_verbose_shows_crm_etls_own_lines_without_library_noise(prefect_harness, tmp_path, ledger_inbox):
    from prefect.settings import PREFECT_API_URL

    # Log levels are set once per process when Prefect is imported: a real subprocess.
    cli = start_cli(
        run_args(ledger_inbox, tmp_path, "-v"), tmp_path / "verbose", str(PREFECT_API_URL.value())
    )
    assert cli.wait() == 0, cli.output()
    output = cli.output()
    assert "customer records matched" in output and "published to" in output
    assert "stage validate:" in output
    assert "great_expectations" not in output and "Finished in state" not in output
    assert "httpx" not in output
    assert runner.invoke(app, run_args(ledger_inbox, tmp_path, "-v", "-q")).exit_code == EXIT_INPUT


@pytest.mark.slow
def test_without_a_prefect_server_a_temporary_one_records_the_run_and_goes(tmp_path, ledger_inbox):
    """No PREFECT_API_URL: the CLI starts Prefect's temporary server itself and stops it when done."""
    environment = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "crm-etl"), *run_args(ledger_inbox, tmp_path)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stage publish:" in result.stderr
    with duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    assert "Error logging to API" not in result.stderr  # logs were sent before the server stopped


def test_a_configuration_error_is_reported_before_anything_starts(tmp_path, ledger_inbox):
    import shutil

    from crm_etl.schemas import SCHEMAS_DIR

    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (schemas / "segments.yaml").write_text("rfm: [\n", encoding="utf-8")
    # No Prefect harness: the error comes before Prefect or GX would be needed.
    result = runner.invoke(app, run_args(ledger_inbox, tmp_path, "--schemas", str(schemas)))
    assert result.exit_code == EXIT_INPUT
    assert "configuration error" in result.output and "segments.yaml" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "crm.duckdb").exists()


def test_a_report_folder_that_cannot_be_written_fails_the_run_unpublished(
    prefect_harness, tmp_path, ledger_inbox
):
    reports = tmp_path / "reports"
    reports.write_text("a file where the report folder should be", encoding="utf-8")
    result = runner.invoke(app, run_args(ledger_inbox, tmp_path))  # its --reports is that file
    assert result.exit_code == EXIT_CHECK_FAILED, result.output
    flat = " ".join(result.output.split())
    assert "nothing published" in flat and "report" in flat
    assert "working copy" not in flat  # not mistaken for the database's own write failing
    assert not (tmp_path / "crm.duckdb").exists()


def test_run_help_lists_every_exit_code():
    from crm_etl.flows.cli import EXIT_LOCKED, EXIT_PUBLISHED_WITH_ERRORS

    result = runner.invoke(app, ["run", "--help"])
    text = " ".join(result.output.split())
    assert (EXIT_LOCKED, EXIT_PUBLISHED_WITH_ERRORS) == (3, 4)
    assert "3 another run is using the database file" in text
    assert "4 published, but a step after publishing failed" in text


def test_version_is_the_installed_distributions():
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"crm-etl {version('crm-etl')}"


def test_an_empty_inbox_on_a_new_database_writes_nothing(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "processed").mkdir(parents=True)
    (inbox / "processed" / "old.csv").write_text("company\nx\n", encoding="utf-8")  # dealt with already
    (inbox / ".DS_Store").write_bytes(b"\0")
    result = runner.invoke(app, run_args(inbox, tmp_path))
    assert result.exit_code == EXIT_INPUT
    message = " ".join(result.output.split())
    assert f"no files to read in inbox {inbox}" in message and "no database was created" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inbox"]


def test_an_empty_inbox_on_an_existing_database_leaves_it_as_it_was(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    db = tmp_path / "crm.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE runs AS SELECT 'R1' AS run_id")
    before = db.read_bytes()
    result = runner.invoke(app, run_args(inbox, tmp_path))
    assert result.exit_code == EXIT_INPUT
    assert "is unchanged (to rebuild its report: crm-etl report" in " ".join(result.output.split())
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.duckdb", "inbox"]
