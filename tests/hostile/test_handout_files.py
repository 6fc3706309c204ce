"""Hostile names and values in the files a run hands out (worklists, exports) and steps after publishing.

Each case a real inbox or a real DuckDB file, run through the real CLI:
- an owner name of 300 bytes (longer than many file systems allow in one name, with its hash and extension);
- two owners whose names slug alike, `销售/华东:张伟` and `销售_华东_张伟`;
- a 40,000-character value, in a worklist and in `crm-etl export --format xlsx`;
- a view named with characters no file or Excel sheet may hold;
- `reports/latest` taken by a file: the run is published, the CLI says what failed, exit 4.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import unquote

import duckdb
import openpyxl
import pytest
from typer.testing import CliRunner

from crm_etl.cleaners.file_names import MAX_NAME_BYTES
from crm_etl.flows.cli import EXIT_OK, EXIT_PUBLISHED_WITH_ERRORS, app
from crm_etl.flows.handouts import worklist_file_name
from tests.flows.conftest import write_ledger
from tests.flows.crafted import load_crafted, new_database
from tests.flows.processes import start_cli

runner = CliRunner()

LONG_OWNER = "张" * 100  # 300 bytes in UTF-8
SLASHED, UNDERSCORED = "销售/华东:张伟", "销售_华东_张伟"
LONG_TITLE = "采购经理" * 10_000  # 40,000 characters
HEADER = ["客户名称", "联系人", "职位", "手机", "首次接触时间", "负责人"]


def _args(inbox: Path, out: Path, *extra: str) -> list[str]:
    return [
        "run",
        *("--inbox", str(inbox), "--db", str(out / "crm.duckdb"), "--reports", str(out / "reports")),
        *("--as-of", "2024-06-30", *extra),
    ]


def _flat(output: str) -> str:
    """CLI output with rich's line wrapping undone."""
    return "".join(output.split())


@pytest.fixture(scope="module")
def owners_run(prefect_harness, tmp_path_factory):
    """One run whose customers (each missing its industry, so each is on a worklist) have hostile owners."""
    root = tmp_path_factory.mktemp("hostile_owners")
    inbox = root / "inbox"
    inbox.mkdir()
    day = dt.date(2024, 5, 1)
    write_ledger(
        inbox / "台账.xlsx",
        [
            ["上海甲精密机械有限公司", "张三", "经理", "13800138000", day, LONG_OWNER],
            ["苏州丙贸易有限公司", "王五", "采购", "13700137000", day, UNDERSCORED],
        ],
        header=HEADER,
    )
    # A CSV cell has no length limit (openpyxl would cut this one to 32,767 on writing the xlsx).
    row = ["杭州乙软件有限公司", "李四", LONG_TITLE, "13900139000", "2024-05-01", SLASHED]
    (inbox / "导出.csv").write_text(",".join(HEADER) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    result = runner.invoke(app, _args(inbox, root))
    with duckdb.connect(str(root / "crm.duckdb"), read_only=True) as con:
        run_id = con.execute("SELECT run_id FROM runs").fetchone()[0]
        owners = {
            name: owner
            for name, owner in con.execute("SELECT customer_name, owner FROM customers").fetchall()
        }
    return result, root, run_id, owners


def _worklist_links(page: Path) -> list[str]:
    return [
        unquote(h)
        for h in re.findall(r'href="([^"#]+)"', page.read_text(encoding="utf-8"))
        if "worklists/" in h
    ]


@pytest.mark.slow
def test_a_300_byte_owner_name_gets_its_worklist_within_the_byte_limit(owners_run):
    result, root, run_id, owners = owners_run
    assert result.exit_code == EXIT_OK, result.output
    assert owners["上海甲精密机械有限公司"] == LONG_OWNER
    name = worklist_file_name(LONG_OWNER)
    path = root / "reports" / run_id / "worklists" / name
    assert path.is_file() and len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert name.startswith("张" * 30)  # the rep still reads their name
    sheet = openpyxl.load_workbook(path).active
    assert LONG_OWNER in sheet.cell(1, 1).value  # the title keeps the full name
    # Both the run's report and reports/latest/ link to the file the run wrote.
    for page in (root / "reports" / run_id / "index.html", root / "reports" / "latest" / "index.html"):
        links = _worklist_links(page)
        assert any(link.endswith(f"worklists/{name}") for link in links)
        for link in links:
            assert (page.parent / link).resolve().is_file(), link


@pytest.mark.slow
def test_owners_whose_names_slug_alike_get_two_worklists(owners_run):
    result, root, run_id, owners = owners_run
    assert result.exit_code == EXIT_OK, result.output
    assert {owners["杭州乙软件有限公司"], owners["苏州丙贸易有限公司"]} == {SLASHED, UNDERSCORED}
    folder = root / "reports" / run_id / "worklists"
    slashed, underscored = folder / worklist_file_name(SLASHED), folder / worklist_file_name(UNDERSCORED)
    assert slashed != underscored and slashed.is_file() and underscored.is_file()
    assert len(list(folder.iterdir())) == 3
    for path, owner, customer in [
        (slashed, SLASHED, "杭州乙软件有限公司"),
        (underscored, UNDERSCORED, "苏州丙贸易有限公司"),
    ]:
        sheet = openpyxl.load_workbook(path).active
        header = [c.value for c in sheet[2]]
        rows = list(sheet.iter_rows(min_row=3, values_only=True))
        assert [r[header.index("客户名称")] for r in rows] == [customer]
        assert [r[header.index("负责人")] for r in rows] == [owner]


@pytest.mark.slow
def test_a_40000_character_value_is_cut_in_the_worklist_and_counted(owners_run):
    result, root, run_id, _ = owners_run
    sheet = openpyxl.load_workbook(
        root / "reports" / run_id / "worklists" / worklist_file_name(SLASHED)
    ).active
    header = [c.value for c in sheet[2]]
    title = sheet.cell(3, header.index("职位") + 1).value
    assert title.startswith("采购经理") and title.endswith("…[truncated 7,258 chars]")
    assert len(title) <= 32_767
    assert f"1cell(s)cuttoExcel's32,767charactersinworklists/{worklist_file_name(SLASHED)}" in _flat(
        result.output
    )
    with duckdb.connect(str(root / "crm.duckdb"), read_only=True) as con:  # the database keeps it whole
        kept = con.execute("SELECT contact_title FROM customers WHERE owner = ?", [SLASHED]).fetchone()[0]
    assert kept == LONG_TITLE


@pytest.fixture(scope="module")
def long_value_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile_export") / "crm.duckdb"
    con = new_database(path)
    load_crafted(con, {"C1": {}, "C2": {}})
    con.execute("UPDATE customers SET customer_name = ? WHERE customer_id = 'C1'", ["长" * 40_000])
    con.execute('CREATE VIEW "客户/华东:[汇总]*?" AS SELECT customer_id, customer_name FROM customers')
    con.close()
    return path


def test_a_40000_character_cell_is_cut_in_an_xlsx_export_and_counted(long_value_db, tmp_path):
    result = runner.invoke(
        app, ["export", "--db", str(long_value_db), "--out", str(tmp_path), "-f", "xlsx", "-t", "customers"]
    )
    assert result.exit_code == EXIT_OK, result.output
    assert "1cell(s)cuttoExcel's32,767charactersincustomers.xlsx" in _flat(result.output)
    sheet = openpyxl.load_workbook(tmp_path / "customers.xlsx").active
    header = [c.value for c in sheet[1]]
    names = {r[0]: r[header.index("customer_name")] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert names["C1"] == "长" * 32_742 + "…[truncated 7,258 chars]"
    assert names["C2"] == "C2 有限公司"
    csv = runner.invoke(
        app,
        [
            "export",
            "--db",
            str(long_value_db),
            "--out",
            str(tmp_path / "csv"),
            "-f",
            "csv",
            "-t",
            "customers",
        ],
    )
    assert csv.exit_code == EXIT_OK and "cut" not in csv.output  # CSV has no cell limit: kept whole
    assert "长" * 40_000 in (tmp_path / "csv" / "customers.csv").read_text(encoding="utf-8-sig")


def test_a_view_named_with_separators_exports_under_a_safe_name(long_value_db, tmp_path):
    view = "客户/华东:[汇总]*?"
    result = runner.invoke(
        app, ["export", "--db", str(long_value_db), "--out", str(tmp_path), "-f", "xlsx", "-t", view]
    )
    assert result.exit_code == EXIT_OK, result.output
    (written,) = [p for p in tmp_path.iterdir() if p.name != "README.md"]
    assert written.name.startswith("客户_华东_汇总-") and written.suffix == ".xlsx"
    assert f"[{written.name}]({written.name})" in (tmp_path / "README.md").read_text(encoding="utf-8")
    book = openpyxl.load_workbook(written)
    assert book.sheetnames == ["客户_华东__汇总___"]
    assert book.active.max_row == 3


@pytest.mark.slow
def test_a_step_after_publishing_that_fails_exits_4_with_the_database_published(prefect_harness, tmp_path):
    from prefect.settings import PREFECT_API_URL

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_ledger(inbox / "a.xlsx", [["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"]])
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "latest").write_text("a file where reports/latest/ must be", encoding="utf-8")
    # The console script in its own process: what a user (or a scheduler) sees, exit code included.
    cli = start_cli(_args(inbox, tmp_path), tmp_path / "cli", str(PREFECT_API_URL.value()))
    assert cli.wait() == EXIT_PUBLISHED_WITH_ERRORS, cli.output()
    latest = tmp_path / "reports" / "latest"
    assert _flat(f"published; latest report failed: {latest}: File exists") in _flat(cli.output())
    assert "Traceback" not in cli.output()
    with duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True) as con:
        ((run_id, status),) = con.execute("SELECT run_id, status FROM runs").fetchall()
        assert status == "published"
        assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
    assert (tmp_path / "reports" / run_id / "index.html").is_file()  # written before the publish
    assert latest.read_text(encoding="utf-8").startswith("a file")  # left as it was
