"""File and sheet names as hostile input: personal data and rich markup in the names themselves."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from crm_etl.flows.cli import EXIT_INPUT
from tests.flows.processes import run_args, start_cli

FILE_MOBILE, SHEET_MOBILE, FAILED_MOBILE = "13912345678", "13700001234", "13612345678"


def _workbook_with_sheet_name(path: Path, sheet_name: str) -> None:
    """A workbook whose sheet is named `sheet_name`, even where Excel's own rules forbid the characters.

    openpyxl refuses `[`, `]` and `/` in a title; exports from other tools carry them anyway, so
    the name is written into xl/workbook.xml directly.
    """
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "PLACEHOLDER"
    sheet.append(["客户名称", "联系人", "手机"])
    sheet.append(["南京丙科技有限公司", "孙八", "13812345678"])
    plain = path.with_suffix(".tmp")
    workbook.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b'name="PLACEHOLDER"', f'name="{sheet_name}"'.encode())
            target.writestr(item, data)
    plain.unlink()


@pytest.mark.slow
def test_personal_data_and_markup_in_names_are_masked_and_escaped_everywhere_but_lineage(
    tmp_path, ledger_inbox, api_url
):
    _workbook_with_sheet_name(ledger_inbox / f"张三{FILE_MOBILE}[bold]的客户.xlsx", f"李四{SHEET_MOBILE}[/]")
    # A file that fails, so its name is also in an error line, the report's failed inputs and a log line.
    noise = random.Random(7).randbytes(4000)
    (ledger_inbox / f"王五{FAILED_MOBILE}.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + noise)
    # A real process, as a user runs it: -v adds crm-etl's own log lines to the console.
    run = start_cli(run_args(ledger_inbox, tmp_path, "-v"), tmp_path / "process", api_url)
    code, output = run.wait(), run.output()
    assert code == EXIT_INPUT, output
    for mobile in (FILE_MOBILE, SHEET_MOBILE, FAILED_MOBILE):
        assert mobile not in output  # console table, failed-input line and -v log lines
        assert f"{mobile[:3]}****{mobile[-4:]}" in output
    flat = "".join(output.split())
    assert "[bold]的客户" in flat and "[/]" in flat  # printed as text, not taken for markup
    reports = list((tmp_path / "reports").rglob("*.html"))
    assert reports
    for page in reports:
        html = page.read_text(encoding="utf-8")
        for mobile in (FILE_MOBILE, SHEET_MOBILE, FAILED_MOBILE):
            assert mobile not in html, page
    with duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True) as con:
        stored = {
            r[0] + "!" + r[1]
            for r in con.execute("SELECT source_file, source_sheet FROM run_files").fetchall()
        }
    # Lineage is where the exact names live: an analyst finds the file by them.
    assert f"张三{FILE_MOBILE}[bold]的客户.xlsx!李四{SHEET_MOBILE}[/]" in stored
    assert f"王五{FAILED_MOBILE}.csv!" in stored
