"""The steward review round trip over real files: review.xlsx written by a run, answered, read back by the next."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from crm_etl.cleaners.match_review import ANSWER, PAIR_ID, REVIEW_SHEET
from crm_etl.flows.migrate import migrate
from crm_etl.flows.review import is_review_file
from tests.flows.conftest import write_ledger

AS_OF = dt.date(2024, 6, 30)
HEADER = ["客户名称", "联系人", "手机", "所属行业", "首次接触时间", "负责人"]
# Two pairs of look-alike names with nothing to back them: the model cannot decide either.
ROWS = [
    ["华为技术有限公司", "张伟", "13800138000", "信息技术", dt.date(2024, 5, 1), "张伟"],
    ["华伟技术有限公司", "李强", "13900139000", "信息技术", dt.date(2024, 5, 2), "张伟"],
    ["金桥物流有限公司", "王芳", "13700137000", "物流", dt.date(2024, 5, 3), "李娜"],
    ["金侨物流有限公司", "赵敏", "13600136000", "物流", dt.date(2024, 5, 4), "李娜"],
]


def _customers(db: Path) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(
            con.execute("SELECT record->>'customer_name', customer_id FROM customer_sources").fetchall()
        )


def _table(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _answer(review: Path, answers: dict[str, str], target: Path) -> dict[str, str]:
    """Fill 是/否 like a steward, by the A/B company names; returns pair_id -> answer."""
    book = openpyxl.load_workbook(review)
    ws = book[REVIEW_SHEET]
    header = [c.value for c in ws[2]]
    answered = {}
    for row in range(3, ws.max_row + 1):
        name = ws.cell(row, header.index("A客户名称") + 1).value
        if name in answers:
            ws.cell(row, header.index(ANSWER) + 1).value = answers[name]
            answered[ws.cell(row, header.index(PAIR_ID) + 1).value] = answers[name]
    book.save(target)
    return answered


@pytest.mark.slow
def test_review_round_trip(prefect_harness, tmp_path):
    inbox, reports, db = tmp_path / "inbox", tmp_path / "reports", tmp_path / "crm.duckdb"
    inbox.mkdir()
    write_ledger(inbox / "台账.xlsx", ROWS, header=HEADER)

    first = migrate(inbox=inbox, db=db, reports=reports, as_of=AS_OF)
    review = reports / first.run_id / "review.xlsx"
    assert first.review["review_file"] == str(review) and first.review["pairs_queued"] >= 2
    assert len(set(_customers(db).values())) == 4
    book = openpyxl.load_workbook(review)
    ws = book[REVIEW_SHEET]
    header = [c.value for c in ws[2]]
    assert ws.protection.sheet
    assert not ws.cell(3, header.index(ANSWER) + 1).protection.locked
    assert ws.cell(3, header.index("A客户名称") + 1).protection.locked
    assert "+86138****8000" in {
        ws.cell(r, header.index("A手机") + 1).value for r in range(3, ws.max_row + 1)
    } | {ws.cell(r, header.index("B手机") + 1).value for r in range(3, ws.max_row + 1)}
    assert any(dv.formula1 == '"是,否"' for dv in ws.data_validations.dataValidation)

    # The steward answers and drops the file back under another name: it is read as answers, not data.
    returned = inbox / "审核结果.xlsx"
    answered = _answer(review, {"华为技术有限公司": "是", "金桥物流有限公司": "否"}, returned)
    assert sorted(answered.values()) == ["否", "是"] and is_review_file(returned)
    second = migrate(inbox=inbox, db=db, reports=reports, as_of=AS_OF)
    customers = _customers(db)
    assert customers["华为技术有限公司"] == customers["华伟技术有限公司"]
    assert customers["金桥物流有限公司"] != customers["金侨物流有限公司"]
    assert second.review["decisions_read"] == 2 and second.review["decisions_applied"] == 2
    # The accounting check covers the answered rows: each landed once, in match_decisions.
    run_checks = [c for c in second.checks if c["suite"] == "run"]
    assert second.status == "published" and run_checks and all(c["success"] for c in run_checks)
    decisions = _table(
        db, "SELECT pair_id, decision, reviewer_file, reviewer_row, run_id FROM match_decisions"
    )
    assert {(p, d) for p, d, *_ in decisions} == {
        (p, "must_link" if a == "是" else "cannot_link") for p, a in answered.items()
    }
    assert {(f, r) for _, _, f, r, _ in decisions} <= {("审核结果.xlsx", r) for r in range(3, 20)}
    assert _table(db, "SELECT count(*) FROM customer_sources WHERE source_file = '审核结果.xlsx'") == [(0,)]
    assert _table(
        db, f"SELECT status FROM run_files WHERE run_id = '{second.run_id}' AND source_file = '审核结果.xlsx'"
    ) == [("review",)]
    queued = {p for (p,) in _table(db, "SELECT pair_id FROM match_review WHERE status = 'queued'")}
    assert not queued & set(answered)
    reason = _table(
        db, "SELECT match_reason FROM customer_sources WHERE record->>'customer_name' = '华伟技术有限公司'"
    )
    assert "steward: 审核结果.xlsx row" in reason[0][0]

    # Run 3: the file has left the inbox; the stored decisions still hold and are not asked again.
    os.remove(returned)
    third = migrate(inbox=inbox, db=db, reports=reports, as_of=AS_OF)
    customers = _customers(db)
    assert customers["华为技术有限公司"] == customers["华伟技术有限公司"]
    assert customers["金桥物流有限公司"] != customers["金侨物流有限公司"]
    assert third.review["decisions_read"] == 0 and third.review["decisions_applied"] == 2
    decided = _table(db, "SELECT pair_id, status, decision FROM match_review WHERE status = 'decided'")
    assert {p for p, *_ in decided} == set(answered)
    queued = {p for (p,) in _table(db, "SELECT pair_id FROM match_review WHERE status = 'queued'")}
    assert not queued & set(answered)
    assert len(_table(db, "SELECT * FROM match_decisions")) == 2
    later = reports / third.run_id / "review.xlsx"
    if later.exists():
        ws = openpyxl.load_workbook(later)[REVIEW_SHEET]
        header = [c.value for c in ws[2]]
        assert not {ws.cell(r, header.index(PAIR_ID) + 1).value for r in range(3, ws.max_row + 1)} & set(
            answered
        )
    shutil.rmtree(reports)
