"""Deduplication through the real flow: survivorship between sources, and customer IDs across runs."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import yaml

from crm_etl.flows.migrate import migrate
from crm_etl.schemas.config import SCHEMAS_DIR
from tests.flows.conftest import write_ledger

AS_OF = dt.date(2024, 6, 30)
CRM_HEADER = ["Record Id", "Account Name", "Contact Name", "Title", "Mobile", "Phone", "Email", "Industry",
              "Account Type", "Created Time", "Lead Source", "Account Owner", "City", "Employees"]  # fmt: skip
LEDGER_HEADER = ["客户名称", "联系人", "职位", "手机", "所属行业", "首次接触时间", "负责人"]


def _write_crm(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CRM_HEADER)
        writer.writerows(rows)


def _disagreeing_inbox(inbox: Path) -> None:
    """One company in the ledger and in the legacy CRM, which disagree on industry and owner."""
    write_ledger(
        inbox / "ledger.xlsx",
        [
            [
                "上海宏达机械制造有限公司",
                "陈建国",
                "总经理",
                "13816881234",
                "贸易",
                dt.date(2024, 3, 1),
                "张伟",
            ]
        ],
        header=LEDGER_HEADER,
    )
    _write_crm(
        inbox / "legacy_crm" / "accounts.csv",
        [["ACC-1", "宏达机械制造（上海）有限公司", "陈建国", "总经理", "+86 138 1688 1234", "", "",
          "Manufacturing", "Customer", "2023-08-15 10:00:00", "Trade Show", "王芳", "上海", "50"]],
    )  # fmt: skip


def _golden(db: Path) -> tuple[dict, dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT industry_code, owner, field_sources FROM customers").fetchall()
    assert len(rows) == 1, rows
    industry, owner, sources = rows[0]
    return {"industry_code": industry, "owner": owner}, json.loads(sources)


def test_trusted_source_wins_and_the_winner_is_recorded(prefect_harness, tmp_path, inbox):
    _disagreeing_inbox(inbox)
    db = tmp_path / "crm.duckdb"
    migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=AS_OF)
    values, sources = _golden(db)
    # pipeline.yaml trusts the legacy CRM first: its industry (制造业 → C) and owner survive.
    assert values == {"industry_code": "C", "owner": "王芳"}
    assert sources["industry_code"]["record"].startswith("legacy_crm/accounts.csv")
    assert sources["industry_code"]["why"] == "from the record chosen for industry"
    assert sources["industry"] == {
        "record": sources["industry_code"]["record"],
        "why": "most trusted source legacy_crm",
    }
    assert sources["owner"]["record"].startswith("legacy_crm/accounts.csv")


def test_survivorship_order_is_configured_in_schemas(prefect_harness, tmp_path, inbox):
    _disagreeing_inbox(inbox)
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas)
    settings = yaml.safe_load((schemas / "pipeline.yaml").read_text(encoding="utf-8"))
    # The owner is whoever entered the customer last: the ledger row (2024) beats the CRM (2023).
    settings["survivorship"]["fields"] = {"owner": ["recency", "trust"]}
    (schemas / "pipeline.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    db = tmp_path / "crm.duckdb"
    migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=AS_OF, schemas_dir=schemas)
    values, sources = _golden(db)
    assert values == {"industry_code": "C", "owner": "张伟"}
    assert sources["owner"] == {"record": "ledger.xlsx#客户台账!3", "why": "most recent record"}


def test_customer_ids_survive_a_rerun_with_more_records(prefect_harness, tmp_path, inbox):
    write_ledger(
        inbox / "a.xlsx",
        [["上海宏达机械制造有限公司", "陈建国", "13816881234", dt.date(2024, 3, 1), "张伟"],
         ["杭州明远五金工具有限公司", "钱坤", "13857172468", dt.date(2024, 3, 2), "张伟"]],
    )  # fmt: skip
    db = tmp_path / "crm.duckdb"
    migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=AS_OF)
    with duckdb.connect(str(db), read_only=True) as con:
        before = dict(con.execute("SELECT mobile, customer_id FROM customers").fetchall())
    # A second export: the same company again (new contact, same mobile) and a brand-new one
    # whose first contact is earlier than every existing customer's.
    write_ledger(
        inbox / "b.xlsx",
        [["宏达机械制造(上海)有限公司", "王强", "138-1688-1234", dt.date(2024, 4, 1), "李娜"],
         ["宁波精工轴承有限公司", "叶斌", "15888451234", dt.date(2024, 1, 5), "李娜"]],
    )  # fmt: skip
    migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=AS_OF)
    with duckdb.connect(str(db), read_only=True) as con:
        after = dict(con.execute("SELECT mobile, customer_id FROM customers").fetchall())
        merged = con.execute(
            "SELECT count(DISTINCT customer_id) FROM customer_sources WHERE source_file = 'b.xlsx'"
        ).fetchone()[0]
    assert len(after) == 3 and merged == 2
    for mobile, customer_id in before.items():
        assert after[mobile] == customer_id
    new_id = after["+8615888451234"]
    assert new_id not in before.values() and new_id.startswith("C20240105")
