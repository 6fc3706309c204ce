"""review.xlsx as a real file: written from a DuckDB file, recognised by its sheet and columns, read back."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import openpyxl
import pytest

from crm_etl.cleaners.match_review import ANSWER, PAIR_ID, REVIEW_SHEET, parse_answer
from crm_etl.flows.review import is_review_file, read_review_file, write_review_file
from crm_etl.schemas import SCHEMAS_DIR, load_config
from tests.flows.conftest import write_ledger

CONFIG = load_config()


def _record(name: str, contact: str, mobile: str, row: int) -> dict:
    return {"customer_name": name, "contact_name": contact, "mobile": mobile, "email": "zhang@hw.com"}


@pytest.fixture
def review_file(tmp_path: Path) -> Path:
    con = duckdb.connect(str(tmp_path / "crm.duckdb"))
    con.execute((SCHEMAS_DIR / "tables.sql").read_text(encoding="utf-8"))
    for row, (name, contact, mobile, customer) in enumerate(
        [
            ("华为技术有限公司", "张伟", "+8613800138000", "C1"),
            ("华伟技术有限公司", "=1+1", "+8613900139000", "C2"),
        ],
        start=3,
    ):
        con.execute(
            "INSERT INTO customer_sources (source_system, source_file, source_sheet, source_row, source_key, customer_id, record)"
            " VALUES ('excel_ledger', '台账.xlsx', '客户台账', ?, ?, ?, ?)",
            [row, f"台账.xlsx#客户台账!{row}", customer, json.dumps(_record(name, contact, mobile, row))],
        )
    con.execute(
        """INSERT INTO match_review (run_id, pair_id, status, queue_rank, match_probability, uncertainty, decided_by,
               same_customer, evidence, left_source_system, left_source_key, left_source_file, left_source_sheet,
               left_source_row, left_customer_id, right_source_system, right_source_key, right_source_file,
               right_source_sheet, right_source_row, right_customer_id)
           VALUES ('R1', 'abc123', 'queued', 1, 0.62, 0.76, 'band', false, '公司名称 相似 0.93；手机 不同',
               'excel_ledger', '台账.xlsx#客户台账!3', '台账.xlsx', '客户台账', 3, 'C1',
               'excel_ledger', '台账.xlsx#客户台账!4', '台账.xlsx', '客户台账', 4, 'C2')"""
    )
    path = write_review_file(con, tmp_path / "review.xlsx", "R1", CONFIG)
    con.close()
    assert path is not None
    return path


def test_the_review_file_shows_both_records_masked_and_only_the_answer_is_editable(review_file: Path) -> None:
    book = openpyxl.load_workbook(review_file)
    assert book.sheetnames == [REVIEW_SHEET, "说明"]
    ws = book[REVIEW_SHEET]
    header = [c.value for c in ws[2]]
    cells = {h: ws.cell(3, i + 1) for i, h in enumerate(header)}
    assert cells["A客户名称"].value == "华为技术有限公司" and cells["B客户名称"].value == "华伟技术有限公司"
    assert cells["A手机"].value == "+86138****8000" and cells["A邮箱"].value == "z***@hw.com"
    assert cells["B联系人"].value == "=1+1" and cells["B联系人"].data_type == "s"
    assert cells["A来源"].value == "台账.xlsx · 客户台账 · 第3行"
    assert cells["逐项比对"].value == "公司名称 相似 0.93；手机 不同"
    assert ws.protection.sheet
    assert [h for h, c in cells.items() if not c.protection.locked] == [ANSWER]
    # openpyxl keeps one dimension per run of columns alike (min..max).
    hidden_columns = {c for d in ws.column_dimensions.values() if d.hidden for c in range(d.min, d.max + 1)}
    hidden = {header[c - 1] for c in hidden_columns if c <= len(header)}
    assert hidden == {PAIR_ID, "A来源系统", "A记录键", "B来源系统", "B记录键"}


@pytest.mark.parametrize(
    ("answer", "decision"),
    [
        ("是", "must_link"),
        (" 否 ", "cannot_link"),
        ("yes", "must_link"),
        (None, None),
        ("", None),
        ("也许", "invalid"),
    ],
)
def test_answers(answer: str | None, decision: str | None) -> None:
    assert parse_answer(answer) == decision


def test_a_returned_file_is_recognised_by_its_sheet_and_columns_not_its_name(
    review_file: Path, tmp_path: Path
) -> None:
    book = openpyxl.load_workbook(review_file)
    ws = book[REVIEW_SHEET]
    header = [c.value for c in ws[2]]
    ws.cell(3, header.index(ANSWER) + 1).value = "是"
    returned = tmp_path / "我的答复.xlsx"
    book.save(returned)
    assert is_review_file(returned)
    ledger = write_ledger(
        tmp_path / "review.xlsx.xlsx",
        [["华为技术有限公司", "张伟", "13800138000", None, "张伟"]],
        sheet=REVIEW_SHEET,
    )
    assert not is_review_file(ledger)
    answered, _, counts = read_review_file(returned, "我的答复.xlsx")
    assert answered.select(
        "pair_id", "decision", "reviewer_file", "reviewer_row", "left_source_key"
    ).rows() == [("abc123", "must_link", "我的答复.xlsx", 3, "台账.xlsx#客户台账!3")]
    assert counts["rows"] == 1 and counts["answered"] == 1 and counts["invalid"] == 0


@pytest.mark.parametrize(
    ("answer", "emptied", "reason"),
    [("也许", None, "review_answer_invalid"), ("是", "B记录键", "review_row_damaged")],
)
def test_a_returned_row_that_cannot_be_read_is_quarantined_with_its_cells(
    review_file: Path, tmp_path: Path, answer: str, emptied: str | None, reason: str
) -> None:
    book = openpyxl.load_workbook(review_file)
    ws = book[REVIEW_SHEET]
    header = [c.value for c in ws[2]]
    ws.cell(3, header.index(ANSWER) + 1).value = answer
    if emptied:
        ws.cell(3, header.index(emptied) + 1).value = None
    returned = tmp_path / "答复.xlsx"
    book.save(returned)
    answered, rejected, counts = read_review_file(returned, "答复.xlsx")
    assert answered.is_empty()
    assert rejected.select("reject_reason", "reviewer_file", "reviewer_row").rows() == [
        (reason, "答复.xlsx", 3)
    ]
    assert json.loads(rejected["raw"][0])[ANSWER] == answer
    assert counts["rows"] == 1 and counts["invalid"] == 1
