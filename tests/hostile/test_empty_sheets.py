"""Files and sheets with a header and nothing under it, anywhere in the inbox or a workbook."""

from __future__ import annotations

import duckdb
import openpyxl
from typer.testing import CliRunner

from crm_etl.flows.cli import app
from tests.flows.processes import run_args

runner = CliRunner()


def test_a_header_only_csv_and_an_empty_first_sheet_load_as_zero_rows(
    prefect_harness, tmp_path, ledger_inbox
):
    (ledger_inbox / "header_only.csv").write_text("客户名称,联系人,手机\n", encoding="utf-8")
    workbook = openpyxl.Workbook()
    workbook.active.title = "模板"  # an empty template sheet before the data
    data = workbook.create_sheet("客户")
    data.append(["客户名称", "联系人", "手机"])
    data.append(["杭州乙贸易有限公司", "王五", "13912345678"])
    workbook.save(ledger_inbox / "template_first.xlsx")
    result = runner.invoke(app, run_args(ledger_inbox, tmp_path))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "SchemaError" not in result.output
    assert "aheaderandnodatarows" in "".join(result.output.split())  # said, not only counted as 0
    with duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True) as con:
        files = dict(
            con.execute(
                "SELECT source_file || '!' || source_sheet, rows_read FROM run_files WHERE source_file <> 'a.xlsx'"
            ).fetchall()
        )
        names = {r[0] for r in con.execute("SELECT customer_name FROM customers").fetchall()}
    assert files["header_only.csv!"] == 0 and files["template_first.xlsx!模板"] == 0
    assert files["template_first.xlsx!客户"] == 1
    assert "杭州乙贸易有限公司" in names
