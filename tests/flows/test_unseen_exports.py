"""Exports nobody on the team wrote, through the real flow and the real CLI."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

from crm_etl.flows.cli import EXIT_INPUT, EXIT_OK, app
from crm_etl.schemas.config import SCHEMAS_DIR
from tests import samples_truth as truth
from tests.conftest import SAMPLES
from tests.heldout_inbox import write_heldout_inbox

runner = CliRunner()
pytestmark = pytest.mark.slow

# A follow-up export whose customer column is named in a way no alias or rule knows.
UNMAPPABLE_FOLLOWUPS = (
    "Activity Id,Acct Ref,Activity Date,Activity Type,Description\n"
    "A-1,ACC-100201,2024-05-02,Call,回访\n"
    "A-2,ACC-100204,2024-05-03,Visit,送样\n"
)


def _run(inbox: Path, db: Path, reports: Path, *options: str) -> Result:
    """`crm-etl run` on the samples' day, in this process."""
    command = ["run", "--inbox", str(inbox), "--db", str(db), "--reports", str(reports), *options]
    return runner.invoke(app, [*command, "--as-of", truth.AS_OF_DATE])


def _table(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return sorted(con.execute(sql).fetchall(), key=repr)


def test_an_inbox_of_heldout_headers_loads_the_same_customers(
    prefect_harness, sample_run, tmp_path: Path
) -> None:
    from crm_etl.flows.migrate import migrate

    _, sample_con, _ = sample_run
    inbox = tmp_path / "inbox"
    changed = write_heldout_inbox(inbox)
    assert changed, "every sample header was rewritten"
    summary = migrate(
        inbox=inbox,
        db=tmp_path / "crm.duckdb",
        reports=tmp_path / "reports",
        as_of=dt.date.fromisoformat(truth.AS_OF_DATE),
    )
    assert summary.failed_inputs == []
    con = duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True)
    for sql in (
        "SELECT customer_name, mobile, email, first_contact_date, industry_code, owner FROM customers",
        "SELECT source_file, source_sheet, source_row, reason FROM quarantine",
        "SELECT source_file, source_sheet, source_row FROM customer_sources",
        "SELECT order_date, amount_cny, source_row FROM orders",
        "SELECT date, channel, source_row FROM interactions",
    ):
        assert _table(con, sql) == _table(sample_con, sql), sql
    methods = {m for (m,) in con.execute("SELECT DISTINCT method FROM column_mappings").fetchall()}
    assert methods - {"alias"}, "held-out spellings were mapped by rules, not by aliases alone"
    con.close()


@pytest.fixture
def inbox_with_unmappable_followups(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLES, inbox)
    (inbox / "crm_activities_2024.csv").write_text(UNMAPPABLE_FOLLOWUPS, encoding="utf-8")
    return inbox


def test_followups_without_a_customer_column_fail_that_file_with_exit_2(
    prefect_harness, inbox_with_unmappable_followups: Path, tmp_path: Path
) -> None:
    db = tmp_path / "crm.duckdb"
    result = _run(inbox_with_unmappable_followups, db, tmp_path / "r")
    assert result.exit_code == EXIT_INPUT, result.output
    assert "crm_activities_2024.csv" in result.output
    assert "no column that names the customer" in result.output
    assert "Acct Ref" in result.output and "customer_ref" in result.output
    con = duckdb.connect(str(db), read_only=True)
    status = con.execute(
        "SELECT status FROM run_files WHERE source_file = 'crm_activities_2024.csv'"
    ).fetchone()
    assert status == ("failed",)
    # The other files were published.
    assert con.execute("SELECT count(*) FROM customers").fetchone()[0] > 0
    mapping = con.execute(
        "SELECT field, method FROM column_mappings WHERE source_file = 'crm_activities_2024.csv' AND header = 'Acct Ref'"
    ).fetchall()
    assert mapping == [(None, "none")]
    con.close()
    report = next((tmp_path / "r").glob("R*/index.html")).read_text(encoding="utf-8")
    top = report.split('id="kpis"')[0]
    assert 'id="failed-inputs"' in top and "crm_activities_2024.csv" in top
    unmapped = report.split('id="unmapped-headers"')[1].split("</table>")[0]
    assert "Acct Ref" in unmapped

    # The export gains a column: the next run lists it as schema drift, in the summary and the report.
    path = inbox_with_unmappable_followups / "crm_activities_2024.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join([lines[0] + ",Region", *(line + ",华东" for line in lines[1:])]) + "\n", encoding="utf-8"
    )
    again = _run(inbox_with_unmappable_followups, db, tmp_path / "r")
    assert again.exit_code == EXIT_INPUT
    assert "Schema drift" in again.output and "Region" in again.output
    reports = sorted((tmp_path / "r").glob("R*/index.html"))
    latest = max(reports, key=lambda p: p.parent.name).read_text(encoding="utf-8")
    assert 'id="schema-drift"' in latest and "Region" in latest.split('id="schema-drift"')[1]


def test_map_previews_and_write_makes_the_next_run_map_it(
    prefect_harness, inbox_with_unmappable_followups: Path, tmp_path: Path
) -> None:
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    preview = runner.invoke(
        app, ["map", "--inbox", str(inbox_with_unmappable_followups), "--schemas", str(schemas)]
    )
    assert preview.exit_code == EXIT_INPUT, preview.output
    assert "crm_activities_2024.csv" in preview.output and "Acct Ref" in preview.output
    assert "138****" not in preview.output or "****" in preview.output
    written = runner.invoke(
        app, ["map", "--inbox", str(inbox_with_unmappable_followups), "--schemas", str(schemas), "--write"]
    )
    found = sorted((schemas / "mappings").glob("crm_activities_2024_csv-*.yaml"))
    assert len(found) == 1, written.output
    override = found[0]
    text = override.read_text(encoding="utf-8")
    assert "Acct Ref: null" in text
    override.write_text(text.replace("Acct Ref: null", "Acct Ref: customer_ref"), encoding="utf-8")
    again = runner.invoke(
        app, ["map", "--inbox", str(inbox_with_unmappable_followups), "--schemas", str(schemas)]
    )
    assert again.exit_code == EXIT_OK, again.output
    db = tmp_path / "crm.duckdb"
    result = _run(inbox_with_unmappable_followups, db, tmp_path / "r", "--schemas", str(schemas))
    assert result.exit_code == EXIT_OK, result.output
    con = duckdb.connect(str(db), read_only=True)
    linked = con.execute(
        "SELECT count(*) FROM interactions WHERE source_file = 'crm_activities_2024.csv' AND customer_id IS NOT NULL"
    ).fetchone()[0]
    assert linked == 2
    con.close()
