"""Hostile case: long numbers a spreadsheet stored as floats and wrote with digits lost.

Excel's General format writes a mobile in a CSV as `1.39123E+10` (6 digits kept), and an 18-digit
ID typed into a number cell keeps 15 digits (`110105199001011000`). Neither may be loaded as a
number the customer never had: each is a flagged doubt, shown in the database and the report.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import openpyxl
import pytest

from crm_etl.flows.migrate import migrate

pytestmark = pytest.mark.slow
AS_OF = dt.date(2024, 6, 30)

ACCOUNTS_HEADER = ["Record Id", "Account Name", "Contact Name", "Title", "Mobile", "Industry", "Account Type",
                   "Created Time", "Account Owner"]  # fmt: skip
ACCOUNTS = [
    ["ACC-1", "杭州云帆网络科技有限公司", "周敏", "总经理", "1.39123E+10", "Software", "Customer", "2023-01-10 09:00:00", "王芳"],
    ["1.10105E+17", "宁波海通国际贸易有限公司", "陈静", "经理", "1.3800138E+10", "Trading", "Customer", "2023-02-11 09:00:00", "王芳"],
    ["ACC-3", "上海宏达机械制造有限公司", "陈建国", "厂长", "13816881234", "Manufacturing", "Customer", "2023-03-12 09:00:00", "张伟"],
]  # fmt: skip
ORDERS_HEADER = ["Order Id", "Account Id", "Order Date", "Amount (CNY)", "Owner"]
ORDERS = [
    ["SO-1", "ACC-1", "2024-03-25", "9000", "王芳"],
    ["SO-2", "ACC-3", "2024-03-26", "12000", "张伟"],
    ["SO-3", "1.10105E+17", "2024-03-27", "5000", "王芳"],
]
LEDGER_HEADER = ["客户编号", "客户名称", "联系人", "手机", "负责人"]
LEDGER = [
    # What Excel stores for an 18-digit ID typed as a number: 15 digits, the rest zeros.
    [110105199001011000.0, "苏州新界环保科技有限公司", "王婷", 13912300000.0, "张伟"],
    # The CSV rendering pasted into the sheet as text.
    ["KH-0002", "深圳华瑞电子有限公司", "黄海", "1.39123e10", "张伟"],
]


def _write_inbox(inbox: Path) -> None:
    (inbox / "crm").mkdir()
    for name, header, rows in (
        ("accounts.csv", ACCOUNTS_HEADER, ACCOUNTS),
        ("orders.csv", ORDERS_HEADER, ORDERS),
    ):
        with (inbox / "crm" / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "客户台账"
    sheet.append(LEDGER_HEADER)
    for row in LEDGER:
        sheet.append(row)
    workbook.save(inbox / "销售台账_华东_张伟.xlsx")


def test_lossy_numbers_are_flagged_in_the_database_and_the_report(prefect_harness, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _write_inbox(inbox)
    db = tmp_path / "crm.duckdb"
    summary = migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=AS_OF, lang="en")
    assert summary.status == "published"
    with duckdb.connect(str(db), read_only=True) as con:
        sources = {
            name: (key, issues, raw)
            for name, key, issues, raw in con.execute(
                "SELECT record->>'customer_name', source_key, issues, raw FROM customer_sources"
            ).fetchall()
        }
        mobiles = dict(con.execute("SELECT customer_name, mobile FROM customers").fetchall())
        quarantined = con.execute(
            "SELECT source_row, reason FROM quarantine WHERE source_file LIKE '%orders.csv'"
        ).fetchall()
        orders = con.execute(
            "SELECT order_id, customer_id IS NOT NULL FROM orders ORDER BY order_id"
        ).fetchall()

    # CSV text in Excel's General form: no mobile, a doubt, the cell kept as written.
    key, issues, raw = sources["杭州云帆网络科技有限公司"]
    assert mobiles["杭州云帆网络科技有限公司"] is None
    assert issues == ["mobile:phone_lossy_number"]
    assert json.loads(raw)["Mobile"] == "1.39123E+10"
    # A lossy ID keys nothing (the record's place is its key); an exact exponent mobile is kept.
    key, issues, raw = sources["宁波海通国际贸易有限公司"]
    assert issues == ["legacy_id:id_lossy_number"]
    assert key == "crm/accounts.csv#!3"
    assert mobiles["宁波海通国际贸易有限公司"] == "+8613800138000"
    # xlsx number cells: the 18-digit ID lost its tail, the 11-digit mobile is exact.
    key, issues, raw = sources["苏州新界环保科技有限公司"]
    assert issues == ["legacy_id:id_lossy_number"]
    assert key.startswith("销售台账_华东_张伟.xlsx#")
    assert mobiles["苏州新界环保科技有限公司"] == "+8613912300000"
    # The CSV rendering typed into a workbook as text is just as lossy.
    assert sources["深圳华瑞电子有限公司"][1] == ["mobile:phone_lossy_number"]
    assert mobiles["深圳华瑞电子有限公司"] is None
    # An order whose only link is a lossy ID says so, instead of "references no loaded customer".
    assert quarantined == [(4, "id_lossy_number")]
    assert orders == [("SO-1", True), ("SO-2", True)]

    report = Path(summary.report or "").read_text(encoding="utf-8")
    assert "phone_lossy_number" in report
    assert "its last digits lost" in report
    assert "id_lossy_number" in report
