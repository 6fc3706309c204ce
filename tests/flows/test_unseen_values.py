"""Values that wrap or unit-mark the data, in real files written by a library, read and cleaned as a run does."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from crm_etl.cleaners.records import clean_customers, clean_orders
from crm_etl.flows.extract import extract_file
from crm_etl.flows.tasks import cleaning_tables
from crm_etl.schemas import load_config

CONFIG = load_config()
TABLES = cleaning_tables(CONFIG, dt.date(2024, 6, 30))
HEADER = ["单据编号", "客户代号", "购货单位", "下单日期（日/月/年）", "成交金额(万元)", "经手业务员"]


@pytest.fixture
def erp_orders(tmp_path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "2024订单"
    sheet.append(["华东区2024年订单汇总（内部资料）"])
    sheet.append([])
    sheet.append(HEADER)
    sheet.append(["SO-1", "C001", "上海宏达机械有限公司", "03/04/2024", "12.5", "张伟"])
    sheet.append(["SO-2", "C002", "杭州天目山茶业有限公司", "15/05/2024", 3, "王芳"])
    sheet.append(HEADER)  # the header again, as a sheet pasted together from two exports has it
    sheet.append(["SO-3", "C001", "上海宏达机械有限公司", "28/06/2024", "￥8,000元", "张伟"])
    sheet.append(["合计", None, None, None, "23.5", None])
    path = tmp_path / "orders_erp.xlsx"
    book.save(path)
    return path


def test_header_hints_order_the_dates_and_scale_the_amounts(erp_orders: Path) -> None:
    extract = extract_file(erp_orders, "orders_erp.xlsx", CONFIG)
    sheet = extract.outcome.sheets[0]
    assert (sheet.status, sheet.kind, sheet.header_row) == ("loaded", "orders", 3)
    cleaned = clean_orders(extract.records["orders"], TABLES)
    loaded = cleaned.filter(cleaned["reject_reason"].is_null())
    assert loaded["order_date"].to_list() == [dt.date(2024, 4, 3), dt.date(2024, 5, 15), dt.date(2024, 6, 28)]
    # 万元 multiplies plain numbers; a cell that names its own unit (元) keeps it.
    assert loaded["amount_cny"].to_list() == [125_000.0, 30_000.0, 8_000.0]
    rejected = dict(zip(cleaned["source_row"], cleaned["reject_reason"], strict=True))
    assert rejected[6] == "repeated_header"
    assert rejected[8] == "totals_row"


def test_a_crm_contacts_export_unwraps_emails_and_composes_names(tmp_path: Path) -> None:
    path = tmp_path / "zoho_contacts.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["First Name", "Last Name", "Account Name", "Email", "Mobile", "Lead Source"])
        writer.writerow(
            [
                "Wei",
                "Zhang",
                "Acme Trading Co., Ltd",
                "mailto:wei.zhang@acme.cn",
                "139 1234 5678",
                "2024 Canton Fair",
            ]
        )
        writer.writerow(
            ["Li", "Wang", "Acme Trading Co., Ltd", "Li Wang <li.wang@acme.cn>", "186-1234-5678", "官网表单"]
        )
        writer.writerow(["Test", "Test", "测试公司", "test@test.com", "13800138000", "Web"])
    extract = extract_file(path, "zoho_contacts.csv", CONFIG)
    assert extract.outcome.sheets[0].kind == "contacts"
    cleaned = clean_customers(extract.records["customers"], TABLES)
    assert cleaned["contact_name"].to_list()[:2] == ["Wei Zhang", "Li Wang"]
    assert cleaned["email"].to_list()[:2] == ["wei.zhang@acme.cn", "li.wang@acme.cn"]
    assert cleaned["source_channel"].to_list()[:2] == ["展会", "官网"]
    assert cleaned["reject_reason"].to_list() == [None, None, "test_record"]
