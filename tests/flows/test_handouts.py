"""Worklists and the audit sample as real xlsx files, and a filled-in worklist read back by the real flow."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from crm_etl.flows.handouts import audit_seed, worklist_file_name, write_audit_sample
from crm_etl.flows.migrate import migrate
from tests.flows.conftest import write_ledger

AS_OF = dt.date(2024, 6, 30)
HEADER = [
    "客户名称",
    "联系人",
    "职位",
    "手机",
    "所属行业",
    "客户类型",
    "首次接触时间",
    "客户来源",
    "负责人",
    "邮箱",
]
ROWS = [
    # complete
    [
        "上海甲精密机械有限公司",
        "张三",
        "经理",
        "13812345678",
        "制造业",
        "意向客户",
        dt.date(2024, 5, 1),
        "展会",
        "张伟",
    ],
    # no industry: the rep is asked for it
    [
        "杭州乙软件有限公司",
        "李四",
        "@SUM(A1)",
        "13900139000",
        None,
        "潜在客户",
        dt.date(2024, 5, 2),
        "Web",
        "张伟",
    ],
    # no phone at all and no source: mobile and landline are both offered
    ["苏州丙贸易有限公司", "王五", "=2+3", None, "批发业", "成交客户", dt.date(2024, 4, 2), None, "李娜"],
    # complete, but a mobile one digit short (nulled) and a typo in the e-mail domain (kept, flagged)
    [
        "南京丁电子有限公司",
        "赵六",
        "主管",
        "1391234567",
        "制造业",
        "意向客户",
        dt.date(2024, 5, 3),
        "展会",
        "李娜",
        "zhaoliu@qq.con",
    ],
]


@pytest.fixture(scope="module")
def first_run(prefect_harness, tmp_path_factory):
    root = tmp_path_factory.mktemp("worklists")
    inbox = root / "inbox"
    inbox.mkdir()
    ledger = write_ledger(inbox / "台账.xlsx", ROWS, header=HEADER)
    # A rep typed `=2+3` as text (openpyxl would otherwise store it as a formula).
    workbook = openpyxl.load_workbook(ledger)
    cell = workbook.active.cell(5, HEADER.index("职位") + 1)
    cell.value, cell.data_type = "=2+3", "s"
    workbook.save(ledger)
    summary = migrate(inbox=inbox, db=root / "crm.duckdb", reports=root / "reports", as_of=AS_OF)
    return summary, root


def _sheet_rows(path):
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[2]]
    return ws, header, {ws.cell(r, 1).value: r for r in range(3, ws.max_row + 1)}


def _customer_id(db, name):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT customer_id FROM customers WHERE customer_name = ?", [name]).fetchone()[0]


def test_one_worklist_per_owner_with_their_incomplete_customers(first_run):
    summary, root = first_run
    folder = root / "reports" / summary.run_id / "worklists"
    assert sorted(p.name for p in folder.iterdir()) == sorted(map(worklist_file_name, ["张伟", "李娜"]))
    assert worklist_file_name("张伟").startswith("张伟-")  # the rep's name first, then a short hash
    _, header, rows = _sheet_rows(folder / worklist_file_name("张伟"))
    assert header[0] == "系统客户编号" and "待补录字段" in header
    assert list(rows) == [_customer_id(root / "crm.duckdb", "杭州乙软件有限公司")]


def test_missing_cells_are_highlighted_and_the_rest_is_read_only(first_run):
    summary, root = first_run
    ws, header, rows = _sheet_rows(
        root / "reports" / summary.run_id / "worklists" / worklist_file_name("李娜")
    )
    row = rows[_customer_id(root / "crm.duckdb", "苏州丙贸易有限公司")]
    editable = {header[c - 1] for c in range(1, len(header) + 1) if not ws.cell(row, c).protection.locked}
    assert editable == {"手机", "联系电话", "客户来源"}
    for column in range(1, len(header) + 1):
        cell = ws.cell(row, column)
        highlighted = cell.fill.fgColor.rgb.endswith("FFF2CC")
        assert highlighted == (header[column - 1] in editable)
    assert ws.protection.sheet


def test_formula_like_values_are_written_as_text(first_run):
    summary, root = first_run
    ws, header, rows = _sheet_rows(
        root / "reports" / summary.run_id / "worklists" / worklist_file_name("张伟")
    )
    row = rows[_customer_id(root / "crm.duckdb", "杭州乙软件有限公司")]
    cells = {h: ws.cell(row, i + 1) for i, h in enumerate(header)}
    assert cells["职位"].value == "@SUM(A1)" and cells["职位"].data_type == "s"
    assert cells["手机"].value == "+8613900139000" and cells["手机"].data_type == "s"
    # 客户来源 only holds a channel of lead_sources.yaml: a free-text column carries the formula.
    ws, header, rows = _sheet_rows(
        root / "reports" / summary.run_id / "worklists" / worklist_file_name("李娜")
    )
    cell = ws.cell(rows[_customer_id(root / "crm.duckdb", "苏州丙贸易有限公司")], header.index("职位") + 1)
    assert cell.value == "=2+3" and cell.data_type == "s" and cell.quotePrefix


def test_a_filled_worklist_updates_the_customer_with_the_worklist_as_lineage(first_run, tmp_path):
    summary, root = first_run
    db = tmp_path / "crm.duckdb"
    shutil.copy2(root / "crm.duckdb", db)
    inbox = tmp_path / "inbox"
    shutil.copytree(root / "inbox", inbox)
    customer_id = _customer_id(db, "杭州乙软件有限公司")
    source = root / "reports" / summary.run_id / "worklists" / worklist_file_name("张伟")
    workbook = openpyxl.load_workbook(source)
    ws = workbook.active
    header = [c.value for c in ws[2]]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value == customer_id)
    ws.cell(row, header.index("所属行业") + 1).value = "软件开发"
    workbook.save(inbox / "补录_张伟.xlsx")

    second = migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=AS_OF)
    assert second.customers == summary.customers
    with duckdb.connect(str(db), read_only=True) as con:
        industry, code, sources, missing = con.execute(
            "SELECT industry, industry_code, field_sources, missing_fields FROM customers WHERE customer_id = ?",
            [customer_id],
        ).fetchone()
        lineage = con.execute(
            """SELECT source_system, source_spec, source_row, source_key FROM customer_sources
               WHERE customer_id = ? AND source_file = '补录_张伟.xlsx'""",
            [customer_id],
        ).fetchall()
        merged = dict(
            con.execute(
                "SELECT run_id, value FROM run_kpis WHERE kpi = 'duplicates_merged' AND dimension = ''"
            ).fetchall()
        )
        kinds = dict(
            con.execute(
                "SELECT source_file, source_spec FROM run_files WHERE run_id = ?", [second.run_id]
            ).fetchall()
        )
        note_column = con.execute(
            "SELECT method FROM column_mappings WHERE source_file = '补录_张伟.xlsx' AND header = '待更正内容'"
        ).fetchall()
    assert code == "I" and industry is not None
    assert json.loads(sources)["industry"]["record"] == f"补录_张伟.xlsx#补录清单!{row}"
    assert "industry" not in missing
    assert lineage == [("worklist", "worklist", row, customer_id)]
    assert kinds["补录_张伟.xlsx"] == "worklist" and kinds["台账.xlsx"] == "excel_ledger"
    assert note_column == [("ignored",)]  # the note beside cells to correct is no data
    # The returned row restates its customer: it is not counted as a merged duplicate.
    assert merged[second.run_id] == merged[summary.run_id]
    # The second run's report draws the trend over both runs.
    html = Path(second.report).read_text(encoding="utf-8")
    completeness_trend = re.search(r'<svg class="chart lines".*?</svg>', html, re.S).group(0)
    assert completeness_trend.count('class="point"') == 2 and 'class="series"' in completeness_trend


def test_audit_sample_is_a_seeded_tenth_of_each_owner(sample_run, tmp_path):
    summary, con, out = sample_run
    path = out / "reports" / summary.run_id / "audit-sample.xlsx"
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[2]]
    sampled = [{h: ws.cell(r, i + 1).value for i, h in enumerate(header)} for r in range(3, ws.max_row + 1)]
    per_owner = dict(
        con.execute("SELECT coalesce(owner, ''), count(*) FROM customers GROUP BY ALL").fetchall()
    )
    taken: dict[str, int] = {}
    for row in sampled:
        taken[row["负责人"] or ""] = taken.get(row["负责人"] or "", 0) + 1
    assert taken == {owner: math.ceil(n * 0.10) for owner, n in per_owner.items()}
    assert str(audit_seed(summary.run_id)) in ws.cell(1, 1).value
    assert "核对结果（正确/有误）" in header
    again = write_audit_sample(con, tmp_path / "again.xlsx", summary.run_id, 0.10)
    ids = [ws.cell(r, 1).value for r in range(3, ws.max_row + 1)]
    again_ws = openpyxl.load_workbook(again.path).active
    assert [again_ws.cell(r, 1).value for r in range(3, again_ws.max_row + 1)] == ids


def test_missing_fields_are_named_in_the_reps_words(first_run):
    summary, root = first_run
    ws, header, rows = _sheet_rows(
        root / "reports" / summary.run_id / "worklists" / worklist_file_name("李娜")
    )
    row = rows[_customer_id(root / "crm.duckdb", "苏州丙贸易有限公司")]
    assert ws.cell(row, header.index("待补录字段") + 1).value == "联系方式、客户来源"


def test_invalid_values_are_listed_with_the_cell_as_typed_and_the_problem_in_the_reps_words(first_run):
    summary, root = first_run
    ws, header, rows = _sheet_rows(
        root / "reports" / summary.run_id / "worklists" / worklist_file_name("李娜")
    )
    row = rows[_customer_id(root / "crm.duckdb", "南京丁电子有限公司")]
    cells = {h: ws.cell(row, i + 1) for i, h in enumerate(header)}
    # The short mobile was nulled, so a phone is also missing; the typo e-mail is kept and flagged.
    assert cells["待补录字段"].value == "联系方式"
    assert cells["待更正内容"].value == (
        "手机「1391234567」：号码位数不对；邮箱「zhaoliu@qq.con」：邮箱域名疑似写错（如 qq.con 应为 qq.com）"
    )
    assert not re.search(r"[a-z]+_[a-z_]+", cells["待更正内容"].value)  # words, never a reason code
    editable = {h for h, c in cells.items() if not c.protection.locked}
    assert editable == {"手机", "联系电话", "邮箱"}
    assert cells["邮箱"].value == "zhaoliu@qq.con" and cells["手机"].value is None
    # 张伟's complete customer has nothing to fix and is not listed.
    _, _, zhang = _sheet_rows(root / "reports" / summary.run_id / "worklists" / worklist_file_name("张伟"))
    assert _customer_id(root / "crm.duckdb", "上海甲精密机械有限公司") not in zhang


@pytest.mark.slow
def test_a_run_configured_for_per_owner_folders_writes_one_per_owner(prefect_harness, tmp_path):
    from crm_etl.flows.export import OWNERS, owner_folder_name
    from crm_etl.schemas import SCHEMAS_DIR

    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    settings = schemas / "report.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("per_owner_folders: false", "per_owner_folders: true"), encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_ledger(inbox / "台账.xlsx", ROWS, header=HEADER)
    summary = migrate(
        inbox=inbox,
        db=tmp_path / "crm.duckdb",
        reports=tmp_path / "reports",
        as_of=AS_OF,
        schemas_dir=schemas,
    )
    folder = tmp_path / "reports" / summary.run_id / OWNERS
    assert sorted(p.name for p in folder.iterdir()) == sorted(map(owner_folder_name, ["张伟", "李娜"]))
    li_na = folder / owner_folder_name("李娜")
    assert (li_na / worklist_file_name("李娜")).is_file() and (li_na / "README.md").is_file()
    names = {
        row[1]
        for row in openpyxl.load_workbook(li_na / "customers.xlsx").active.iter_rows(
            min_row=2, values_only=True
        )
    }
    assert names == {"苏州丙贸易有限公司", "南京丁电子有限公司"}
    assert not summary.after_publish_failures


def test_corrected_values_sent_back_leave_the_next_worklist(first_run, tmp_path):
    summary, root = first_run
    db = tmp_path / "crm.duckdb"
    shutil.copy2(root / "crm.duckdb", db)
    inbox = tmp_path / "inbox"
    shutil.copytree(root / "inbox", inbox)
    source = root / "reports" / summary.run_id / "worklists" / worklist_file_name("李娜")
    workbook = openpyxl.load_workbook(source)
    ws = workbook.active
    header = [c.value for c in ws[2]]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 2).value == "南京丁电子有限公司")
    ws.cell(row, header.index("手机") + 1).value = "13912345678"
    ws.cell(row, header.index("邮箱") + 1).value = "zhaoliu@qq.com"
    workbook.save(inbox / "补录_李娜.xlsx")
    second = migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=AS_OF)
    with duckdb.connect(str(db), read_only=True) as con:
        mobile, email = con.execute(
            "SELECT mobile, email FROM customers WHERE customer_name = '南京丁电子有限公司'"
        ).fetchone()
    assert (mobile, email) == ("+8613912345678", "zhaoliu@qq.com")
    _, _, rows = _sheet_rows(tmp_path / "reports" / second.run_id / "worklists" / worklist_file_name("李娜"))
    assert _customer_id(db, "南京丁电子有限公司") not in rows
